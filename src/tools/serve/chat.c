/* chat.c - a line-based chat room, like `ncat --chat`: every line a
 * member sends goes to every other member as "<nick> line"; joins, leaves
 * and renames are announced as "* ..." lines. Commands: /nick NAME,
 * /who, /quit.
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
 * A member's states: IN_ROOM (linked, hears broadcasts), DEAD (a write in
 * the middle of a broadcast passed its cap: still linked, skipped, reaped
 * once the broadcast ends, so the list never changes under a walk) and
 * GONE (unlinked: left, cut off, or its stream closed).
 */
#include "tools/serve/services.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_CHAT 2048 /* a member's line, newline included */
#define NICK_MAX 32
#define WHO_MAX 50         /* names listed by /who */
#define MSG_MAX (LINE_MAX_CHAT + NICK_MAX + 8)

struct member {
	struct member *prev, *next;
	skt_server_conn *c;
	bool in_room;
	bool dead;
	char nick[NICK_MAX + 1];
};

struct room {
	struct member all; /* sentinel */
	size_t n;
	size_t ndead;
	size_t cap;
};

static int chat_worker_new(skt_server_worker *w, void **state)
{
	struct room *r = skt_calloc(1, sizeof(*r));
	if (r == NULL)
		return SKT_ENOMEM;
	r->all.next = r->all.prev = &r->all;
	r->cap = skt_server_worker_opts(w)->max_queue;
	*state = r;
	return 0;
}

static void chat_worker_free(void *state)
{
	skt_free(state);
}

static struct room *room_of(skt_server_conn *c)
{
	return skt_server_worker_state(c->w);
}

static void set_nick(struct member *m, const char *nick)
{
	snprintf(m->nick, sizeof(m->nick), "%s", nick);
	snprintf(m->c->who, sizeof(m->c->who), "%s", nick);
}

static void unlink_member(struct room *r, struct member *m)
{
	if (!m->in_room)
		return;
	m->prev->next = m->next;
	m->next->prev = m->prev;
	m->in_room = false;
	r->n--;
	if (m->dead)
		r->ndead--;
}

/* Write to every member but from (NULL: to all); a member whose queue
 * passes the cap turns DEAD. */
static void broadcast(struct room *r, const struct member *from,
		      const char *msg, size_t len)
{
	for (struct member *m = r->all.next; m != &r->all; m = m->next) {
		if (m == from || m->dead)
			continue;
		if (skt_server_conn_write(m->c, msg, len) == 1) {
			m->dead = true;
			r->ndead++;
		}
	}
}

static void announce(struct room *r, const struct member *from, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static void announce(struct room *r, const struct member *from,
		     const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	broadcast(r, from, msg, len);
}

/* Cut off the DEAD, telling the others; telling them may kill more. */
static void reap(struct room *r)
{
	while (r->ndead > 0) {
		struct member *m = r->all.next;
		while (!m->dead)
			m = m->next;
		unlink_member(r, m);
		skt_server_conn_cut(m->c, SKT_SERVER_END_CUTOFF, r->cap);
		announce(r, NULL, "* %s left (cut off: too slow)\n", m->nick);
	}
}

/* A member leaves the room by its own doing (end of stream, /quit, an
 * error): the others are told. */
static void leave(struct room *r, struct member *m)
{
	if (!m->in_room)
		return;
	unlink_member(r, m);
	announce(r, NULL, "* %s left\n", m->nick);
	reap(r);
}

static void tell(struct member *m, const char *text)
{
	skt_server_conn_write(m->c, text, strlen(text));
}

/* ---- Commands ---- */

/* s is not NUL-terminated: it points into the stream's buffer. */
static bool nick_ok(const char *s, size_t len)
{
	if (len == 0 || len > NICK_MAX)
		return false;
	size_t digits = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
		digits += i >= 4 && isdigit((unsigned char)s[i]);
	}
	/* "user<digits>" are the names given at join: keep them unique. */
	return !(len > 4 && strncasecmp(s, "user", 4) == 0 &&
		 digits == len - 4);
}

static void cmd_nick(struct room *r, struct member *m, const char *arg,
		     size_t len)
{
	char nick[NICK_MAX + 1];
	if (!nick_ok(arg, len)) {
		tell(m, "* nick: 1 to 32 letters, digits, _ or -, "
			"and not user<digits>\n");
		return;
	}
	memcpy(nick, arg, len);
	nick[len] = '\0';
	for (struct member *o = r->all.next; o != &r->all; o = o->next) {
		if (o != m && strcasecmp(o->nick, nick) == 0) {
			tell(m, "* nick: that name is taken\n");
			return;
		}
	}
	announce(r, NULL, "* %s is now %s\n", m->nick, nick);
	set_nick(m, nick);
	reap(r);
}

static void cmd_who(struct room *r, struct member *m)
{
	char msg[MSG_MAX];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "* here (%zu):", r->n);
	size_t shown = 0;
	/* WHO_MAX names of NICK_MAX fit in msg with room to spare. */
	for (struct member *o = r->all.next; o != &r->all && shown < WHO_MAX;
	     o = o->next, shown++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " %s", o->nick);
	if (r->n > shown)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " and %zu more",
				      r->n - shown);
	snprintf(msg + n, sizeof(msg) - n, "\n");
	tell(m, msg);
}

/* One line from m (without its line end). Returns false when m left. */
static bool command(struct room *r, struct member *m, const char *line,
		    size_t len)
{
	if (len >= 6 && strncmp(line, "/nick ", 6) == 0) {
		cmd_nick(r, m, line + 6, len - 6);
	} else if (len == 4 && strncmp(line, "/who", 4) == 0) {
		cmd_who(r, m);
	} else if (len == 5 && strncmp(line, "/quit", 5) == 0) {
		leave(r, m);
		skt_stream_close(m->c->s);
		return false;
	} else {
		tell(m, "* commands: /nick NAME, /who, /quit\n");
	}
	return true;
}

/* ---- Reading ---- */

static void on_line(skt_stream *s, int status, const uint8_t *data,
		    size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct member *m = skt_server_conn_state(c);
	struct room *r = room_of(c);
	if (status == SKT_ETOOBIG) {
		c->end = SKT_SERVER_END_TOOBIG;
		c->limit = LINE_MAX_CHAT;
		tell(m, "* line too long: bye\n");
	}
	if (status != 0) {
		/* The end, too long, or an error: on_close follows. */
		leave(r, m);
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	const char *line = (const char *)data;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	bool stay = true;
	if (len > 0 && line[0] == '/') {
		stay = command(r, m, line, len);
	} else if (len > 0) {
		announce(r, m, "<%s> %.*s\n", m->nick, (int)len, line);
		reap(r);
	}
	if (stay && m->in_room)
		skt_stream_read_line(s, LINE_MAX_CHAT, on_line);
}

static int chat_open(skt_server_conn *c)
{
	struct room *r = room_of(c);
	struct member *m = skt_server_conn_state(c);
	char nick[NICK_MAX + 1];
	m->c = c;
	snprintf(nick, sizeof(nick), "user%llu", (unsigned long long)c->id);
	set_nick(m, nick);
	/* The kernel's send buffer grows to megabytes by itself (tcp_wmem);
	 * fixed at the cap, a member can be at most about twice the cap
	 * behind before it is cut off. */
	skt_sock_set_opt(skt_stream_fd(c->s), SKT_OPT_SNDBUF,
			(int)(r->cap < INT_MAX / 2 ? r->cap : INT_MAX / 2));
	int rc = skt_stream_set_water(c->s, r->cap / 4, r->cap, NULL);
	if (rc == 0)
		rc = skt_stream_read_line(c->s, LINE_MAX_CHAT, on_line);
	if (rc < 0)
		return rc;
	char hello[128];
	snprintf(hello, sizeof(hello), "* you are %s, %zu other%s here; "
		 "/nick NAME, /who, /quit\n", m->nick, r->n,
		 r->n == 1 ? "" : "s");
	tell(m, hello);
	announce(r, NULL, "* %s joined\n", m->nick);
	m->next = &r->all;
	m->prev = r->all.prev;
	m->prev->next = m;
	r->all.prev = m;
	m->in_room = true;
	r->n++;
	reap(r);
	return 0;
}

/* Stopping: a last line, then the usual graceful close; nobody is told
 * of the others leaving (that would be n^2 lines for nothing). */
static void chat_stop(skt_server_conn *c)
{
	struct member *m = skt_server_conn_state(c);
	unlink_member(room_of(c), m);
	tell(m, "* server shutting down\n");
	skt_stream_close(c->s);
}

static void chat_closed(skt_server_conn *c)
{
	struct member *m = skt_server_conn_state(c);
	if (m->c != NULL) /* NULL: open() never ran */
		leave(room_of(c), m);
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
