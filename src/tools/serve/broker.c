/* broker.c - connection brokering, like `ncat --broker`: whatever one
 * client sends goes to every other client, byte for byte (no lines, no
 * names: chat.c is the room with nicks). `sockit listen -k --broker`
 * runs it on the server, so its limits (--allow/--deny, the queue cap)
 * hold as for serve.
 *
 * One set of clients per server: ONE_LOOP, no lock. As in chat.c, a
 * broadcast writes to each client's queue and never waits; a client whose
 * queue passes the cap (max_queue) is cut off (reset), so one slow reader
 * holds at most about twice the cap of memory and never slows the others.
 *
 * A client's states: IN (linked, hears the others), DEAD (passed the cap
 * during a broadcast: skipped, reaped after it, so the list never changes
 * under a walk), GONE (unlinked: its input ended, it was cut off, or its
 * stream closed). A client's end of input ends its membership: what was
 * queued for it is still sent, then the connection closes.
 */
#include "tools/serve/services.h"

#include <limits.h>

struct client {
	struct client *prev, *next;
	skt_server_conn *c;
	bool in;
	bool dead;
};

struct clients {
	struct client all; /* sentinel */
	size_t ndead;
	size_t cap;
};

static int broker_worker_new(skt_server_worker *w, void **state)
{
	struct clients *cs = skt_calloc(1, sizeof(*cs));
	if (cs == NULL)
		return SKT_ENOMEM;
	cs->all.next = cs->all.prev = &cs->all;
	cs->cap = skt_server_worker_opts(w)->max_queue;
	*state = cs;
	return 0;
}

static void broker_worker_free(void *state)
{
	skt_free(state);
}

static void unlink_client(struct clients *cs, struct client *k)
{
	if (!k->in)
		return;
	k->prev->next = k->next;
	k->next->prev = k->prev;
	k->in = false;
	if (k->dead)
		cs->ndead--;
}

static void reap(struct clients *cs)
{
	while (cs->ndead > 0) {
		struct client *k = cs->all.next;
		while (!k->dead)
			k = k->next;
		unlink_client(cs, k);
		skt_server_conn_cut(k->c, SKT_SERVER_END_CUTOFF, cs->cap);
	}
}

static void broadcast(struct clients *cs, const struct client *from,
		      const uint8_t *data, size_t len)
{
	for (struct client *k = cs->all.next; k != &cs->all; k = k->next) {
		if (k == from || k->dead)
			continue;
		if (skt_server_conn_write(k->c, data, len) == 1) {
			k->dead = true;
			cs->ndead++;
		}
	}
	reap(cs);
}

static void on_data(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct client *k = skt_server_conn_state(c);
	struct clients *cs = skt_server_worker_state(c->w);
	if (status != 0) {
		/* End of input or an error: on_close follows. */
		unlink_client(cs, k);
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	broadcast(cs, k, data, len);
}

static int broker_open(skt_server_conn *c)
{
	struct clients *cs = skt_server_worker_state(c->w);
	struct client *k = skt_server_conn_state(c);
	k->c = c;
	/* As chat.c: the kernel's send buffer fixed at the cap, so it does
	 * not hide megabytes of backlog before the queue shows it. */
	skt_sock_set_opt(skt_stream_fd(c->s), SKT_OPT_SNDBUF,
			 (int)(cs->cap < INT_MAX / 2 ? cs->cap : INT_MAX / 2));
	int rc = skt_stream_set_water(c->s, cs->cap / 4, cs->cap, NULL);
	if (rc == 0)
		rc = skt_stream_read_start(c->s, on_data);
	if (rc < 0)
		return rc;
	k->next = &cs->all;
	k->prev = cs->all.prev;
	k->prev->next = k;
	cs->all.prev = k;
	k->in = true;
	return 0;
}

static void broker_stop(skt_server_conn *c)
{
	unlink_client(skt_server_worker_state(c->w), skt_server_conn_state(c));
	skt_stream_close(c->s);
}

static void broker_closed(skt_server_conn *c)
{
	struct client *k = skt_server_conn_state(c);
	if (k->c != NULL) /* NULL: open() never ran */
		unlink_client(skt_server_worker_state(c->w), k);
}

const skt_service svc_broker = {
	.name = "broker",
	.what = "each client's bytes to every other client (ncat --broker)",
	.port = 0,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_ONE_LOOP,
	.idle_s = 0,
	.conn_size = sizeof(struct client),
	.worker_new = broker_worker_new,
	.worker_free = broker_worker_free,
	.open = broker_open,
	.stop = broker_stop,
	.closed = broker_closed,
};
