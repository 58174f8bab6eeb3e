/* relay_dgram.c - the datagram relay: each read of the input is one
 * datagram sent; each datagram received is written whole to the output,
 * before the next one is received.
 *
 * One poll() loop, as the stream relay. The input moves through
 *   OPEN    read one datagram's worth, send it; with reply_to_last, a
 *           read made before any datagram arrived is held until one does
 *           (a reply has nowhere to go before), and no more is read
 *           meanwhile, so the end of input is still seen;
 *   ENDED   the input ended and its last datagram went out (up_done):
 *           EOF_CLOSE closes at once; EOF_WAIT goes on receiving until the
 *           linger deadline; EOF_SHUTDOWN goes on receiving, since a
 *           datagram peer never closes, until the idle timeout if any.
 * Once closing, nothing more is read; the relay ends when what it holds
 * is delivered. Errors a connected UDP socket reports (ECONNREFUSED from
 * an ICMP port unreachable) end it like any other. */
#include "relay_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static void input_ended(relay *r)
{
	r->up_done = true;
	if (r->o->eof == SKT_RELAY_EOF_CLOSE)
		r->closing = true;
	else if (r->o->eof == SKT_RELAY_EOF_WAIT)
		r->linger_at = skt__now_ms() + r->o->eof_wait_ms;
}

/* Whether there is somewhere to send input to. */
static bool has_dest(const relay *r)
{
	return !r->o->reply_to_last || r->st->peer.len != 0;
}

static int send_dgram(relay *r)
{
	relay_buf *b = &r->ub;
	const skt_addr *to = r->o->reply_to_last ? &r->st->peer : NULL;
	ssize_t n;
	do
		n = sendto(r->sock, b->p, b->len, MSG_NOSIGNAL | MSG_DONTWAIT,
			   to != NULL ? &to->u.sa : NULL,
			   to != NULL ? to->len : 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		r->sock_wr = false;
		return 0;
	}
	if (n < 0)
		return skt__relay_fail(r, SKT_RELAY_SOCKET, -errno);
	r->st->sent += (uint64_t)n;
	r->st->dgrams_sent++;
	b->len = 0;
	return 1;
}

/* One step of the input side: act on its end, read one datagram's worth,
 * or send it. Returns 1 when something moved, 0 to wait, or an error. */
static int up_step(relay *r)
{
	if (r->up_done)
		return 0;
	if (r->ub.len > 0)
		return r->sock_wr && has_dest(r) ? send_dgram(r) : 0;
	if (r->in_eof) {
		input_ended(r);
		return 1;
	}
	if (!r->in_ready || r->closing)
		return 0;
	/* With crlf, at most half: the expansion must fit one datagram. */
	size_t max = r->o->crlf ? RELAY_DGRAM_MAX / 2 : RELAY_DGRAM_MAX;
	ssize_t n = skt__relay_fill(r, max);
	if (n == SKT_EAGAIN)
		return 0;
	if (n < 0)
		return (int)n;
	if (n == 0)
		r->in_eof = r->st->input_eof = true;
	return 1;
}

/* A datagram from from arrived: admit it or drop it. With reply_to_last
 * an admitted sender becomes the reply address. */
static bool admit(relay *r, const skt_addr *from)
{
	if (!r->o->reply_to_last || skt_addr_equal(from, &r->st->peer))
		return true;
	if (r->o->on_peer != NULL && !r->o->on_peer(from, r->o->peer_arg)) {
		r->st->dgrams_dropped++;
		return false;
	}
	r->st->peer = *from;
	return true;
}

static int recv_dgram(relay *r)
{
	relay_buf *b = &r->db;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n;
	do
		n = recvfrom(r->sock, b->p, b->cap, MSG_DONTWAIT,
			     (struct sockaddr *)&ss, &sl);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		r->sock_rd = false;
		return 0;
	}
	if (n < 0)
		return skt__relay_fail(r, SKT_RELAY_SOCKET, -errno);
	skt_addr from = {0};
	if (skt_addr_from_sockaddr(&from, (struct sockaddr *)&ss, sl) < 0)
		from.len = 0; /* an unnamed sender: never a reply address */
	if (!admit(r, &from))
		return 1;
	r->st->dgrams_received++;
	if (r->down == DOWN_DISCARD)
		r->st->received += (uint64_t)n;
	else
		b->len = (size_t)n;
	b->off = 0;
	return 1;
}

/* One step of the socket side: deliver the datagram held, or receive the
 * next one. */
static int down_step(relay *r)
{
	if (r->db.len > 0) {
		if (!r->out_ready)
			return 0;
		ssize_t n = skt__relay_write(r);
		if (n == SKT_EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		r->st->received += (uint64_t)n;
		return 1;
	}
	if (!r->sock_rd || r->closing)
		return 0;
	return recv_dgram(r);
}

int skt__relay_dgram(relay *r)
{
	for (;;) {
		int a = up_step(r);
		if (a < 0)
			return a;
		int b = down_step(r);
		if (b < 0)
			return b;
		if (a > 0 || b > 0)
			skt__relay_moved(r);
		int rc = skt__relay_deadlines(r);
		if (r->closing && r->ub.len == 0 && r->db.len == 0)
			return 0;
		if (rc < 0)
			return rc;
		if (a > 0 || b > 0)
			continue;
		bool in = !r->in_ready && !r->in_eof && !r->closing &&
			  r->in >= 0 && r->ub.len == 0;
		bool wr = !r->sock_wr && r->ub.len > 0 && has_dest(r);
		rc = skt__relay_wait(
			r, in, wr, !r->sock_rd && r->db.len == 0 && !r->closing,
			!r->out_ready && r->db.len > 0);
		if (rc < 0)
			return rc;
	}
}
