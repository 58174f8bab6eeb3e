/* heads.c - connections waiting for a request head: the head deadline and
 * shedding when full (skt_server_conn_set_head).
 *
 * A slowloris client opens connections and sends a byte now and then, so
 * an idle timer (restarted by every byte) never fires and the connections
 * fill max_conns. Two defences, both nginx's and Apache's: a head has a
 * total deadline, whatever trickles in (client_header_timeout,
 * mod_reqtimeout), and a full server makes room by resetting the
 * connection that has waited longest for a head instead of refusing the
 * newcomer (the oldest half-open head is the likeliest attacker, and a
 * keep-alive client idle between requests loses only its idle
 * connection).
 *
 * Each worker keeps its waiting connections in one list in the order
 * they began to wait: the deadlines then come in the same order, so one
 * timer set for the oldest serves them all, and the oldest to shed is the
 * list's head. Setting, clearing, expiring and shedding are O(1) each.
 * A worker sheds only its own connections (they live on its thread).
 */
#include "server/server_int.h"

static void unlink_head(skt_server_conn *c)
{
	c->hprev_->hnext_ = c->hnext_;
	c->hnext_->hprev_ = c->hprev_;
	c->hprev_ = c->hnext_ = NULL;
	c->in_head_ = false;
}

static void arm(skt_server_worker *w)
{
	skt_server_conn *oldest = w->heads.hnext_;
	if (w->head_t == NULL || oldest == &w->heads ||
	    skt_timer_active(w->head_t))
		return;
	int64_t due = oldest->head_since_ + w->srv->o->header_timeout_ms;
	int64_t now = skt_loop_now(w->loop);
	skt_timer_start(w->head_t, due > now ? due - now : 0, 0);
}

/* End c for its head: a close, not a reset. A keep-alive client may not
 * have read the answers it has (in its socket, beyond our sight), and a
 * reset would destroy them (RFC 1122 4.2.2.13); with nothing queued here
 * and the bytes it sent already read, close(2) sends a FIN and frees the
 * fd at once. Output still queued here would hold the fd: reset then. */
static void end_for_head(skt_server_conn *c)
{
	if (skt_stream_queued(c->s) == 0)
		skt_stream_close(c->s);
	else
		skt_stream_abort(c->s);
}

static void on_head_deadline(skt_timer *t, void *arg)
{
	skt_server_worker *w = arg;
	int64_t now = skt_loop_now(w->loop);
	int64_t ms = w->srv->o->header_timeout_ms;
	skt_server_conn *c;
	while ((c = w->heads.hnext_) != &w->heads &&
	       c->head_since_ + ms <= now) {
		unlink_head(c);
		if (c->end == SKT_SERVER_END_NONE) {
			c->end = SKT_SERVER_END_HEAD_TIMEOUT;
			c->limit = (size_t)ms;
		}
		end_for_head(c); /* on_close runs later */
	}
	arm(w);
}

void skt_server_conn_set_head(skt_server_conn *c, bool waiting)
{
	skt_server_worker *w = c->w;
	if (c->in_head_)
		unlink_head(c);
	if (!waiting || c->end != SKT_SERVER_END_NONE ||
	    skt_stream_fd(c->s) < 0)
		return;
	c->in_head_ = true;
	c->head_since_ = skt_loop_now(w->loop);
	c->hnext_ = &w->heads;
	c->hprev_ = w->heads.hprev_;
	c->hprev_->hnext_ = c;
	w->heads.hprev_ = c;
	arm(w);
}

int skt__heads_init(skt_server_worker *w)
{
	w->heads.hnext_ = w->heads.hprev_ = &w->heads;
	if (w->srv->o->header_timeout_ms <= 0)
		return 0;
	return skt_timer_new(w->loop, &w->head_t, on_head_deadline, w);
}

void skt__heads_fini(skt_server_worker *w)
{
	skt_timer_free(w->head_t);
	w->head_t = NULL;
}

void skt__heads_forget(skt_server_conn *c)
{
	if (c->in_head_)
		unlink_head(c);
}

/* An answer still queued is not idle: shedding would lose it. Looking at
 * a few only keeps admission O(1); past them the newcomer is refused. */
#define SHED_LOOK 16

skt_server_conn *skt__heads_victim(skt_server_worker *w)
{
	skt_server_conn *c = w->heads.hnext_;
	for (int i = 0; i < SHED_LOOK && c != &w->heads; i++, c = c->hnext_)
		if (skt_stream_queued(c->s) == 0)
			return c;
	return NULL;
}

void skt__heads_shed(skt_server_conn *c, size_t limit)
{
	skt_server_worker *w = c->w;
	unlink_head(c);
	c->end = SKT_SERVER_END_SHED;
	c->limit = limit;
	skt__bump(&w->st.shed, 1);
	end_for_head(c);
}
