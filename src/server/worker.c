/* worker.c - one loop of the server: accepting and admitting connections,
 * their life until they close, datagrams, and the drain when the server
 * stops.
 *
 * A connection's states (the stream's own, seen from here):
 *   ADMITTING  accepted; checked against --allow/--deny, --max-conns and
 *              --max-per-ip in that order (cheapest first, and the shared
 *              counters are only touched for a peer the lists admit); a
 *              refusal resets it at once, so a client learns it was turned
 *              away instead of reading a silent end of stream;
 *   HANDSHAKE  with opts.tls: admitted and counted (an skt_server_conn on
 *              the worker's list, so a stop or the deadline ends it), the
 *              TLS handshake under its own deadline; the service knows
 *              nothing of it yet (opened_ false). A failure is reported
 *              and counted here, and the stream closes by itself;
 *   SERVING    the service's open() has it (opened_): under the idle
 *              timeout;
 *   CLOSED     on_close ran: the service forgets it, the counts go down,
 *              the memory goes.
 * The worker's own states: RUNNING -> DRAINING (listeners and UDP gone;
 * every connection told to finish; a deadline timer) -> FINISHED (nothing
 * open: the control loop is told and this loop stops).
 */
#include "server/server_int.h"

#include <stddef.h>
#include <string.h>
#include <sys/un.h>

/* Accept and UDP errors repeat while their cause lasts (out of fds: ten
 * times a second per worker): report one, then count, once a second. */
#define ERROR_REPORT_MS 1000

/* ---- What services call ---- */

int skt_server_conn_writev(skt_server_conn *c, const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	int r = skt_stream_writev(c->s, iov, cnt);
	if (r < 0)
		return r;
	c->out += n;
	skt__bump(&c->w->st.bytes_out, n);
	size_t cap = c->w->srv->o->max_queue;
	if (cap > 0 && skt_stream_queued(c->s) > cap) {
		skt_server_conn_cut(c, SKT_SERVER_END_CUTOFF, cap);
		return 1;
	}
	return r;
}

int skt_server_conn_write(skt_server_conn *c, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};
	return skt_server_conn_writev(c, &iov, 1);
}

int skt_server_conn_sendfile(skt_server_conn *c, const void *head, size_t hlen,
			     int fd, int64_t off, uint64_t len)
{
	int r = skt_stream_sendfile(c->s, head, hlen, fd, off, len, 0);
	if (r < 0)
		return r;
	c->out += hlen + len;
	skt__bump(&c->w->st.bytes_out, hlen + len);
	return 0;
}

void skt_server_conn_got(skt_server_conn *c, size_t len)
{
	c->in += len;
	skt__bump(&c->w->st.bytes_in, len);
}

void skt_server_conn_sent(skt_server_conn *c, size_t len)
{
	c->out += len;
	skt__bump(&c->w->st.bytes_out, len);
}

static void linger_data(skt_stream *s, int status, const uint8_t *data,
			size_t len)
{
	if (status == 0)
		skt_server_conn_got(skt_stream_udata(s), len);
	else if (status == SKT_EOF || status == SKT_EPARTIAL)
		skt_stream_close(s);
}

int skt_server_conn_tell(skt_server_conn *c, const void *msg, size_t len)
{
	int r = skt_server_conn_write(c, msg, len);
	if (r >= 0)
		r = skt_stream_shutdown(c->s);
	if (r >= 0)
		r = skt_stream_read_start(c->s, linger_data);
	return r < 0 ? r : 0;
}

void skt_server_conn_cut(skt_server_conn *c, int end, size_t limit)
{
	if (c->end == SKT_SERVER_END_NONE) {
		c->end = end;
		c->limit = limit;
	}
	skt__heads_forget(c);
	skt_stream_abort(c->s);
}

skt_tls *skt_server_conn_tls(const skt_server_conn *c)
{
	return skt_stream_tls(c->s);
}

void *skt_server_worker_state(const skt_server_worker *w)
{
	return w->state;
}

const skt_server_opts *skt_server_worker_opts(const skt_server_worker *w)
{
	return w->srv->o;
}

skt_loop *skt_server_worker_loop(const skt_server_worker *w)
{
	return w->loop;
}

bool skt_server_worker_stopping(const skt_server_worker *w)
{
	return w->stopping;
}

/* ---- Reporting ---- */

static void report_error(skt_server_worker *w, const char *what, int err)
{
	skt__bump(&w->st.errors, 1);
	int64_t now = skt_loop_now(w->loop);
	if (w->err_logged != 0 && now - w->err_logged < ERROR_REPORT_MS) {
		w->err_quiet++;
		return;
	}
	skt_server_event ev = {.kind = SKT_SERVER_EV_ERROR,
			       .what = what,
			       .reason = "",
			       .err = err,
			       .quiet = w->err_quiet,
			       .transport = SOCK_STREAM};
	w->err_quiet = 0;
	w->err_logged = now > 0 ? now : 1;
	skt__server_emit(w->srv, &ev);
}

/* A failed handshake: counted, and reported at most once a second per
 * worker (a scanner or a client that distrusts the certificate can fail
 * thousands a second), or each one when verbose. */
static void report_handshake(skt_server_worker *w, skt_server_conn *c, int err)
{
	skt__bump(&w->st.handshakes_failed, 1);
	int64_t now = skt_loop_now(w->loop);
	if (!w->srv->o->verbose && w->hs_logged != 0 &&
	    now - w->hs_logged < ERROR_REPORT_MS) {
		w->hs_quiet++;
		return;
	}
	skt_tls *t = skt_stream_tls(c->s);
	skt_server_event ev = {.kind = SKT_SERVER_EV_ERROR,
			       .what = "handshake",
			       .reason = t != NULL ? skt_tls_reason(t) : "",
			       .addr = &c->peer,
			       .err = err,
			       .quiet = w->hs_quiet,
			       .transport = SOCK_STREAM};
	w->hs_quiet = 0;
	w->hs_logged = now > 0 ? now : 1;
	skt__server_emit(w->srv, &ev);
}

static void refuse(skt_server_worker *w, skt_stream *s, const skt_addr *peer,
		   int why, size_t limit)
{
	skt__bump(&w->st.refused, 1);
	skt_stream_abort(s);
	skt_stream_free(s);
	bool quiet = why == SKT_SERVER_REFUSE_DENIED ||
		     why == SKT_SERVER_REFUSE_STOPPING;
	if (quiet && !w->srv->o->verbose)
		return;
	int q = why == SKT_SERVER_REFUSE_MAX_CONNS ? SKT__Q_MAX_CONNS
						   : SKT__Q_MAX_PER_IP;
	if (!quiet &&
	    !skt__server_quiet(w->srv, q, skt_loop_now(w->loop), limit))
		return;
	skt_server_event ev = {.kind = SKT_SERVER_EV_REFUSED,
			       .addr = peer,
			       .transport = SOCK_STREAM,
			       .refusal = why,
			       .limit = limit};
	skt__server_emit(w->srv, &ev);
}

/* ---- Draining ---- */

static void finish(skt_server_worker *w)
{
	if (w->finished)
		return;
	w->finished = true;
	skt_timer_free(w->deadline);
	w->deadline = NULL;
	/* Should the post fail (no memory), the control loop's last-resort
	 * timer still ends the wait. */
	skt_loop_post(w->srv->ctl, skt__worker_done, w);
	skt_loop_stop(w->loop);
}

void skt__worker_force(void *worker)
{
	skt_server_worker *w = worker;
	/* Aborting runs no callback now (stream.h), so the list holds. */
	for (skt_server_conn *c = w->conns.next; c != &w->conns; c = c->next) {
		/* Already ended (on_close is due): not the deadline's doing. */
		if (c->end != SKT_SERVER_END_NONE || skt_stream_fd(c->s) < 0)
			continue;
		c->end = SKT_SERVER_END_DEADLINE;
		skt__bump(&w->st.deadline_cuts, 1);
		skt__heads_forget(c);
		skt_stream_abort(c->s);
	}
}

static void on_deadline(skt_timer *t, void *arg)
{
	skt__worker_force(arg);
}

void skt__worker_drain(void *worker)
{
	skt_server_worker *w = worker;
	if (w->stopping)
		return;
	w->stopping = true;
	for (size_t i = 0; i < SKT__SLOTS; i++) {
		skt_listener_free(w->ls[i]);
		skt_udp_free(w->udp[i]);
		w->ls[i] = NULL;
		w->udp[i] = NULL;
	}
	for (skt_server_conn *c = w->conns.next; c != &w->conns; c = c->next) {
		if (!c->opened_) /* mid-handshake: dropped */
			skt_stream_close(c->s);
		else if (w->svc->stop != NULL)
			w->svc->stop(c);
		else /* TLS: close_notify once the queue is sent */
			skt_stream_close(c->s);
	}
	if (w->nconns == 0) {
		finish(w);
		return;
	}
	if (skt_timer_new(w->loop, &w->deadline, on_deadline, w) < 0 ||
	    skt_timer_start(w->deadline, SKT_SERVER_DRAIN_MS, 0) < 0)
		skt__worker_force(w);
}

/* ---- Connections ---- */

static void count_close(skt_server_worker *w, skt_server_conn *c, int status)
{
	if (c->end == SKT_SERVER_END_CUTOFF || c->end == SKT_SERVER_END_TOOBIG)
		skt__bump(&w->st.cutoffs, 1);
	else if (c->end == SKT_SERVER_END_SHED)
		return; /* counted when shed */
	else if (status == SKT_ETIMEDOUT ||
		 c->end == SKT_SERVER_END_HEAD_TIMEOUT)
		skt__bump(&w->st.timeouts, 1);
	else if (status < 0 && status != SKT_ECANCELED)
		skt__bump(&w->st.errors, 1);
}

/* A close is reported without verbose when a limit caused it: the first
 * of each kind in a second. */
static bool report_close(skt_server_worker *w, const skt_server_conn *c,
			 int status)
{
	static const int q_of[] = {
		[SKT_SERVER_END_CUTOFF] = SKT__Q_CUTOFF,
		[SKT_SERVER_END_DEADLINE] = SKT__Q_DEADLINE,
		[SKT_SERVER_END_TOOBIG] = SKT__Q_TOOBIG,
		[SKT_SERVER_END_HEAD_TIMEOUT] = SKT__Q_HEAD,
		[SKT_SERVER_END_SHED] = SKT__Q_SHED,
	};
	int q;
	if (c->end > SKT_SERVER_END_NONE &&
	    (size_t)c->end < SKT__ARRAY_SIZE(q_of))
		q = q_of[c->end];
	else if (status == SKT_ETIMEDOUT)
		q = SKT__Q_IDLE;
	else
		return false;
	return skt__server_quiet(w->srv, q, skt_loop_now(w->loop), c->limit);
}

static void on_close(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	skt_server_worker *w = c->w;
	skt_server *srv = w->srv;
	if (w->svc->closed != NULL && c->opened_)
		w->svc->closed(c);
	skt__heads_forget(c);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	w->nconns--;
	if (c->per_ip)
		skt__peers_put(srv->peers, &c->peer);
	atomic_fetch_sub(&srv->open, 1);
	/* A handshake that failed was counted and reported as it failed. */
	if (c->opened_)
		count_close(w, c, status);
	if (c->opened_ && (srv->o->verbose || report_close(w, c, status))) {
		skt_server_event ev = {.kind = SKT_SERVER_EV_CLOSE,
				       .conn = c,
				       .addr = &c->peer,
				       .err = status,
				       .transport = SOCK_STREAM,
				       .ms = skt_loop_now(w->loop) - c->since};
		skt__server_emit(srv, &ev);
	}
	skt_stream_free(s);
	skt_free(c);
	if (w->stopping && w->nconns == 0)
		finish(w);
}

/* The checks of ADMITTING. Returns 0 to admit (the per-address count,
 * when kept, already taken: *per_ip says so), or the refusal. */
static int admission(skt_server_worker *w, const skt_addr *peer, size_t *limit,
		     bool *per_ip)
{
	skt_server *srv = w->srv;
	const skt_server_opts *o = srv->o;
	*per_ip = false;
	if (w->stopping)
		return SKT_SERVER_REFUSE_STOPPING;
	if (o->admit != NULL && !o->admit(peer, o->admit_arg))
		return SKT_SERVER_REFUSE_DENIED;
	size_t n = atomic_fetch_add(&srv->open, 1) + 1;
	/* Full: room is made by shedding a connection that waits for a
	 * request head, once the newcomer is known to be admitted. The
	 * count is one over until the shed one's on_close. */
	bool full = o->max_conns > 0 && n > o->max_conns;
	skt_server_conn *victim = full ? skt__heads_victim(w) : NULL;
	if (full && victim == NULL) {
		atomic_fetch_sub(&srv->open, 1);
		*limit = o->max_conns;
		return SKT_SERVER_REFUSE_MAX_CONNS;
	}
	/* A Unix client has no address to count by: every one would share
	 * one key and --max-per-ip would become a cap on all of them. */
	if (srv->peers != NULL && skt_addr_family(peer) != AF_UNIX) {
		int r = skt__peers_take(srv->peers, peer, o->max_per_ip);
		if (r != 1) {
			atomic_fetch_sub(&srv->open, 1);
			*limit = o->max_per_ip;
			/* Out of memory for the table: refusing is the safe
			 * side. */
			return SKT_SERVER_REFUSE_MAX_PER_IP;
		}
		*per_ip = true;
	}
	if (victim != NULL)
		skt__heads_shed(victim, o->max_conns);
	return 0;
}

static skt_server_conn *conn_new(skt_server_worker *w, skt_stream *s,
				 const skt_addr *peer, bool per_ip)
{
	skt_server_conn *c = skt_calloc(1, sizeof(*c) + w->svc->conn_size);
	if (c == NULL)
		return NULL;
	c->w = w;
	c->s = s;
	c->peer = *peer;
	c->per_ip = per_ip;
	c->id = atomic_fetch_add(&w->srv->next_id, 1) + 1;
	c->since = skt_loop_now(w->loop);
	c->next = &w->conns;
	c->prev = w->conns.prev;
	c->prev->next = c;
	w->conns.prev = c;
	w->nconns++;
	skt_stream_set_udata(s, c);
	skt_stream_on_close(s, on_close);
	return c;
}

/* SERVING: the service takes c. */
static void serve_conn(skt_server_conn *c)
{
	skt_server_worker *w = c->w;
	if (w->srv->o->verbose) {
		skt_server_event ev = {.kind = SKT_SERVER_EV_OPEN,
				       .conn = c,
				       .addr = &c->peer,
				       .transport = SOCK_STREAM};
		skt__server_emit(w->srv, &ev);
	}
	c->opened_ = true;
	int r = w->svc->open(c);
	if (r < 0) {
		/* Not the client's doing (exec could not start its program,
		 * say): reported like an accept error, at most once a second.
		 */
		report_error(w, "open", r);
		skt_stream_abort(c->s); /* on_close cleans up */
	}
}

/* HANDSHAKE's end. On failure the stream closes by itself (on_close
 * follows); SKT_ECANCELED is a stop or an abort, not the client's doing. */
static void on_handshake(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	if (status == 0) {
		skt__bump(&c->w->st.handshakes, 1);
		serve_conn(c);
	} else if (status != SKT_ECANCELED) {
		report_handshake(c->w, c, status);
	}
}

static void on_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	skt_server_worker *w = arg;
	skt_server *srv = w->srv;
	if (s == NULL) {
		report_error(w, "accept", status);
		return;
	}
	skt_addr peer;
	if (skt_sock_peer(skt_stream_fd(s), &peer) < 0) {
		skt_stream_abort(s); /* already reset by the client */
		skt_stream_free(s);
		return;
	}
	/* A Unix client that never bound has no name (unix(7)): it is named
	 * by the socket it came in through, so logs say which one. */
	if (skt_addr_family(&peer) == AF_UNIX &&
	    peer.len <= offsetof(struct sockaddr_un, sun_path) &&
	    skt_sock_local(skt_stream_fd(s), &peer) < 0) {
		skt_stream_abort(s);
		skt_stream_free(s);
		return;
	}
	size_t limit = 0;
	bool per_ip;
	int why = admission(w, &peer, &limit, &per_ip);
	if (why != 0) {
		refuse(w, s, &peer, why, limit);
		return;
	}
	skt_server_conn *c = conn_new(w, s, &peer, per_ip);
	if (c == NULL) {
		if (per_ip)
			skt__peers_put(srv->peers, &peer);
		atomic_fetch_sub(&srv->open, 1);
		report_error(w, "accept", SKT_ENOMEM);
		skt_stream_abort(s);
		skt_stream_free(s);
		return;
	}
	skt__bump(&w->st.accepted, 1);
	/* Set now, running from the end of the handshake when there is
	 * one. */
	if (srv->o->idle_ms > 0)
		skt_stream_set_timeouts(s, srv->o->idle_ms, 0);
	if (srv->o->tls == NULL) {
		serve_conn(c);
		return;
	}
	int ms = srv->o->handshake_timeout_ms > 0 ? srv->o->handshake_timeout_ms
						  : SKT_SERVER_HANDSHAKE_MS;
	int r = skt_stream_start_tls(s, srv->o->tls, NULL, NULL, ms,
				     on_handshake);
	if (r < 0) {
		report_error(w, "handshake", r); /* out of memory */
		skt_stream_abort(s);             /* on_close cleans up */
	}
}

/* ---- Datagrams ---- */

static void one_dgram(skt_server_worker *w, skt_udp *u, const skt_dgram *d)
{
	const skt_server_opts *o = w->srv->o;
	skt__bump(&w->st.dgrams_in, 1);
	skt__bump(&w->st.bytes_in, d->len);
	long out = -1;
	int dropped = 0;
	if (d->truncated) {
		dropped = SKT_SERVER_DROP_TOOBIG;
		skt__bump(&w->st.dgrams_dropped, 1);
	} else if (o->admit != NULL && !o->admit(&d->from, o->admit_arg)) {
		skt__bump(&w->st.refused, 1);
	} else {
		out = w->svc->datagram(w, d->data, d->len, w->dgram_out,
				       SKT_SERVER_DGRAM_MAX);
		if (out >= 0 && w->srv->udprate != NULL &&
		    !skt__udprate_take(w->srv->udprate, &d->from,
				       skt_loop_now(w->loop))) {
			dropped = SKT_SERVER_DROP_RATE;
			skt__bump(&w->st.dgrams_dropped, 1);
			out = -1;
		} else if (out >= 0 &&
			   skt_udp_send(u, w->dgram_out, (size_t)out,
					&d->from) < 0) {
			skt__bump(&w->st.errors, 1);
			out = -1;
		} else if (out >= 0) {
			skt__bump(&w->st.dgrams_out, 1);
			skt__bump(&w->st.bytes_out, (uint64_t)out);
		}
	}
	size_t limit = dropped == SKT_SERVER_DROP_RATE ? o->udp_rate
		       : dropped == SKT_SERVER_DROP_TOOBIG
			       ? SKT_SERVER_DGRAM_MAX
			       : 0;
	int q = dropped == SKT_SERVER_DROP_RATE ? SKT__Q_RATE
						: SKT__Q_DGRAM_TOOBIG;
	if (o->verbose ||
	    (dropped != 0 &&
	     skt__server_quiet(w->srv, q, skt_loop_now(w->loop), limit))) {
		skt_server_event ev = {.kind = SKT_SERVER_EV_DATAGRAM,
				       .addr = &d->from,
				       .transport = SOCK_DGRAM,
				       .in = (long)d->len,
				       .out = out,
				       .dropped = dropped,
				       .limit = limit};
		skt__server_emit(w->srv, &ev);
	}
}

static void on_dgrams(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	skt_server_worker *w = skt_udp_udata(u);
	if (status < 0) {
		report_error(w, "udp", status);
		return;
	}
	for (size_t i = 0; i < n; i++)
		one_dgram(w, u, &d[i]);
}

/* ---- Making and freeing ---- */

int skt__worker_init(skt_server_worker *w)
{
	w->conns.next = w->conns.prev = &w->conns;
	w->heads.hnext_ = w->heads.hprev_ = &w->heads;
	int r = skt_loop_new(&w->loop, NULL);
	if (r == 0)
		r = skt__heads_init(w);
	if (r < 0)
		return r;
	if (w->srv->o->udp) {
		w->dgram_out = skt_malloc(SKT_SERVER_DGRAM_MAX);
		if (w->dgram_out == NULL)
			return SKT_ENOMEM;
	}
	if (w->svc->worker_new != NULL)
		return w->svc->worker_new(w, &w->state);
	return 0;
}

int skt__worker_serve(skt_server_worker *w, size_t i, int fd, bool udp)
{
	int r;
	if (!udp) {
		r = skt_listener_new(w->loop, &w->ls[i], fd, on_accept, w);
		if (r < 0)
			skt_close(fd);
		return r;
	}
	r = skt_udp_new(w->loop, &w->udp[i], fd, SKT_SERVER_DGRAM_MAX);
	if (r < 0) {
		skt_close(fd);
		return r;
	}
	skt_udp_set_udata(w->udp[i], w);
	r = skt_udp_recv_start(w->udp[i], on_dgrams);
	if (r < 0) {
		skt_udp_free(w->udp[i]); /* closes fd */
		w->udp[i] = NULL;
	}
	return r;
}

void skt__worker_fini(skt_server_worker *w)
{
	/* Open streams get on_close (SKT_ECANCELED) here, on this thread,
	 * after every worker thread has ended. */
	skt__heads_fini(w);
	skt_loop_free(w->loop);
	w->loop = NULL;
	if (w->svc->worker_free != NULL && w->state != NULL)
		w->svc->worker_free(w->state);
	w->state = NULL;
	skt_free(w->dgram_out);
	w->dgram_out = NULL;
}

void skt__worker_sum(skt_server_worker *w, skt_server_stats *sum)
{
	sum->accepted += skt__read(&w->st.accepted);
	sum->refused += skt__read(&w->st.refused);
	sum->timeouts += skt__read(&w->st.timeouts);
	sum->cutoffs += skt__read(&w->st.cutoffs);
	sum->errors += skt__read(&w->st.errors);
	sum->shed += skt__read(&w->st.shed);
	sum->handshakes += skt__read(&w->st.handshakes);
	sum->handshakes_failed += skt__read(&w->st.handshakes_failed);
	sum->bytes_in += skt__read(&w->st.bytes_in);
	sum->bytes_out += skt__read(&w->st.bytes_out);
	sum->dgrams_in += skt__read(&w->st.dgrams_in);
	sum->dgrams_out += skt__read(&w->st.dgrams_out);
	sum->dgrams_dropped += skt__read(&w->st.dgrams_dropped);
}
