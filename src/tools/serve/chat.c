/* chat.c - a line-based chat room, like `ncat --chat`: every line a
 * member sends goes to every other member as "<nick> line"; joins, leaves
 * and renames are announced as "* ..." lines. Commands: /nick NAME,
 * /who, /quit. The room itself (names, broadcasts, cut-offs, what may be
 * said and how fast) is chat_room.c; this file runs it on the server's
 * streams.
 *
 * One room per server, so the service runs on one loop (ONE_LOOP) and
 * needs no lock. A broadcast writes to each member's stream queue; a
 * member that does not read lets its queue grow, and once the queue
 * passes the output cap (--max-queue, the stream's high-water mark) that
 * member is cut off: reset, its queue freed, the others told (its kernel
 * send buffer is fixed at the cap too, so the kernel does not hide
 * megabytes of backlog first). The others never wait for it: a write
 * never blocks, and the cap bounds the memory one slow reader can hold.
 *
 * A member that talks too much is the opposite case: every line it sends
 * costs a write to every member. Its lines are read a share per loop turn
 * and within a budget (chat_charge); past either, its stream stops
 * reading and a timer resumes it, the next turn or once the budget is
 * back. The flooder's own TCP window closes; the others' lines go on.
 */
#include "tools/serve/chat_room.h"
#include "tools/serve/services.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

struct member {
	chat_member m; /* first: a chat_member is a struct member */
	skt_server_conn *c;
	skt_timer *resume; /* reading again after a pause */
};

struct room {
	chat_room room;
	size_t cap;
};

static void on_line(skt_stream *s, int status, const uint8_t *data, size_t len);

static skt_server_conn *conn_of(chat_member *m)
{
	return ((struct member *)m)->c;
}

static int hook_write(chat_room *r, chat_member *m, const char *buf, size_t len)
{
	return skt_server_conn_write(conn_of(m), buf, len);
}

static void hook_cut(chat_room *r, chat_member *m)
{
	const struct room *rm = r->arg;
	skt_server_conn_cut(conn_of(m), SKT_SERVER_END_CUTOFF, rm->cap);
}

static void hook_quit(chat_room *r, chat_member *m)
{
	skt_stream_close(conn_of(m)->s);
}

static void hook_named(chat_room *r, chat_member *m)
{
	skt_server_conn *c = conn_of(m);
	snprintf(c->who, sizeof(c->who), "%s", m->nick);
}

static const chat_hooks hooks = {
	.write = hook_write,
	.cut = hook_cut,
	.quit = hook_quit,
	.named = hook_named,
};

static int chat_worker_new(skt_server_worker *w, void **state)
{
	struct room *r = skt_calloc(1, sizeof(*r));
	if (r == NULL)
		return SKT_ENOMEM;
	chat_room_init(&r->room, &hooks, r);
	r->cap = skt_server_worker_opts(w)->max_queue;
	*state = r;
	return 0;
}

static void chat_worker_free(void *state)
{
	skt_free(state);
}

static chat_room *room_of(skt_server_conn *c)
{
	struct room *r = skt_server_worker_state(c->w);
	return &r->room;
}

static void read_on(skt_server_conn *c)
{
	/* An error means the stream is closing: chat_closed follows. */
	skt_stream_read_line(c->s, CHAT_LINE_MAX, on_line);
}

static void on_resume(skt_timer *t, void *arg)
{
	skt_server_conn *c = arg;
	struct member *m = skt_server_conn_state(c);
	if (m->m.in_room)
		read_on(c);
}

static void on_line(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct member *m = skt_server_conn_state(c);
	chat_room *r = room_of(c);
	if (status == SKT_ETOOBIG) {
		c->end = SKT_SERVER_END_TOOBIG;
		c->limit = CHAT_LINE_MAX;
		chat_tell(r, &m->m, "* line too long: bye\n");
	}
	if (status != 0) {
		/* The end, too long, or an error: chat_closed follows. */
		chat_leave(r, &m->m);
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	if (!chat_line(r, &m->m, (const char *)data, len))
		return;
	skt_loop *l = skt_stream_loop(s);
	int64_t wait = chat_charge(r, &m->m, len, skt_loop_now(l));
	if (wait == CHAT_GO_ON)
		read_on(c);
	else
		skt_timer_start(m->resume, wait, 0);
}

static int chat_open(skt_server_conn *c)
{
	struct room *rm = skt_server_worker_state(c->w);
	struct member *m = skt_server_conn_state(c);
	skt_loop *l = skt_stream_loop(c->s);
	int rc = skt_timer_new(l, &m->resume, on_resume, c);
	if (rc < 0)
		return rc;
	m->c = c;
	m->m.owner = c;
	/* The kernel's send buffer grows to megabytes by itself (tcp_wmem);
	 * fixed at the cap, a member can be at most about twice the cap
	 * behind before it is cut off. */
	skt_sock_set_opt(skt_stream_fd(c->s), SKT_OPT_SNDBUF,
			 (int)(rm->cap < INT_MAX / 2 ? rm->cap : INT_MAX / 2));
	rc = skt_stream_set_water(c->s, rm->cap / 4, rm->cap, NULL);
	if (rc == 0)
		rc = skt_stream_read_line(c->s, CHAT_LINE_MAX, on_line);
	if (rc < 0)
		return rc; /* chat_closed frees the timer */
	chat_join(&rm->room, &m->m, c->id, skt_loop_now(l));
	return 0;
}

/* Stopping: a last line, then the usual graceful close; nobody is told
 * of the others leaving (that would be n^2 lines for nothing). */
static void chat_stop(skt_server_conn *c)
{
	struct member *m = skt_server_conn_state(c);
	chat_unlink(room_of(c), &m->m);
	skt_timer_stop(m->resume);
	chat_tell(room_of(c), &m->m, "* server shutting down\n");
	skt_stream_close(c->s);
}

static void chat_closed(skt_server_conn *c)
{
	struct member *m = skt_server_conn_state(c);
	skt_timer_free(m->resume);
	m->resume = NULL;
	if (m->c != NULL) /* NULL: open() never got that far */
		chat_leave(room_of(c), &m->m);
}

const skt_service svc_chat = {
	.name = "chat",
	.what = "a line-based chat room, like ncat --chat",
	.port = 6667,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_ONE_LOOP,
	.idle_s = 3600,
	.conn_size = sizeof(struct member),
	.worker_new = chat_worker_new,
	.worker_free = chat_worker_free,
	.open = chat_open,
	.stop = chat_stop,
	.closed = chat_closed,
};
