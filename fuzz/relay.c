/* relay.c - fuzz the relay's datagram mode and its --crlf path
 * (src/relay/: relay_dgram.c, skt__relay_fill's expansion) through
 * skt_relay_run, on local sockets only: the input is a SOCK_SEQPACKET
 * socket, so each read of it is one fuzzer-chosen piece; the relayed
 * socket a datagram or stream socketpair whose far end holds the peer's
 * replies; the output a pipe (or -1, discarded).
 *
 * Input: a flags byte (datagram or stream, crlf, output discarded), the
 * replies (a count 0-3, then each a byte length and its bytes), the split
 * sizes (fuzz_splits_take; at most 8 pieces), then the input (at most
 * 16 KiB).
 *
 * Properties: the relay ends without error; what reaches the peer is the
 * input, with each LF not after a CR made CRLF when crlf (the CR before a
 * piece's first LF remembered across pieces); in datagram mode one
 * datagram per piece, each that piece (expanded) and at most 65507
 * bytes; the output holds the replies whole and in order, and the
 * counters say what moved.
 */
#include "msgs.h"

#include "sockit/sockit.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t expand(uint8_t *dst, const uint8_t *src, size_t n, bool *cr)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\n' && !*cr)
			dst[w++] = '\r';
		dst[w++] = src[i];
		*cr = src[i] == '\r';
	}
	return w;
}

/* Everything waiting on fd, without blocking: one message per read for
 * a datagram socket. */
static void drain(int fd, fuzz_msgs *m)
{
	static uint8_t buf[1 << 17];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		fuzz_msgs_add(m, buf, (size_t)n);
	}
}

static void drain_pipe(int fd, fuzz_msgs *m)
{
	static uint8_t buf[1 << 16];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fuzz_msgs_add(m, buf, (size_t)n);
}

static void check(bool dgram, bool crlf, fuzz_msgs *want, fuzz_msgs *sent,
		  const fuzz_msgs *replies, const fuzz_msgs *out,
		  const skt_relay_stats *st, bool discard)
{
	if (dgram) {
		FUZZ_CHECK(fuzz_msgs_equal(sent, want));
		FUZZ_CHECK(st->dgrams_sent == want->n);
		for (size_t i = 0; i < sent->n; i++)
			FUZZ_CHECK(sent->len[i] <= 65507);
	} else {
		FUZZ_CHECK(sent->used == want->used);
		FUZZ_CHECK(want->used == 0 ||
			   memcmp(sent->data, want->data, want->used) == 0);
	}
	FUZZ_CHECK(st->sent == want->used);
	if (!discard) {
		FUZZ_CHECK(st->received == out->used);
		/* A prefix of the replies, whole (datagram: some may come
		 * after the input ended and be left unread). */
		FUZZ_CHECK(out->used <= replies->used);
		FUZZ_CHECK(out->used == 0 ||
			   memcmp(out->data, replies->data, out->used) == 0);
		if (!dgram)
			FUZZ_CHECK(out->used == replies->used);
	}
	(void)crlf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	bool dgram = flags & 1, crlf = flags & 2, discard = flags & 4;
	fuzz_msgs replies = {0}, want = {0}, sent = {0}, out = {0};
	unsigned nrep = fuzz_u8(&in) % 4;
	for (unsigned i = 0; i < nrep; i++) {
		size_t len = fuzz_u8(&in);
		const uint8_t *p = fuzz_bytes(&in, &len);
		if (len > 0) /* an empty datagram says nothing to a pipe */
			fuzz_msgs_add(&replies, p, len);
	}
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	int inp[2], sock[2], outp[2] = {-1, -1};
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, inp) ==
		   0);
	FUZZ_CHECK(socketpair(AF_UNIX,
			      (dgram ? SOCK_DGRAM : SOCK_STREAM) |
				      SOCK_CLOEXEC | SOCK_NONBLOCK,
			      0, sock) == 0);
	if (!discard)
		FUZZ_CHECK(pipe2(outp, O_CLOEXEC | O_NONBLOCK) == 0);

	/* The input, piece by piece (at most 8: a datagram socketpair
	 * queues 10), the reference alongside. */
	bool cr = false;
	size_t total = in.n < 16384 ? in.n : 16384;
	uint8_t *x = malloc(2 * total + 1);
	FUZZ_CHECK(x != NULL);
	for (size_t pos = 0, k = 0; pos < total; k++) {
		size_t chunk = k == 7 ? total - pos
				      : fuzz_splits_next(&sp, total - pos);
		FUZZ_CHECK(send(inp[1], in.p + pos, chunk, 0) ==
			   (ssize_t)chunk);
		if (crlf)
			fuzz_msgs_add(&want, x,
				      expand(x, in.p + pos, chunk, &cr));
		else
			fuzz_msgs_add(&want, in.p + pos, chunk);
		pos += chunk;
	}
	free(x);
	close(inp[1]);
	for (size_t i = 0, at = 0; i < replies.n; at += replies.len[i++]) {
		ssize_t w = send(sock[1], replies.data + at, replies.len[i], 0);
		FUZZ_CHECK(w == (ssize_t)replies.len[i]);
	}
	if (!dgram)
		shutdown(sock[1], SHUT_WR);

	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.crlf = crlf;
	o.idle_ms = 5000; /* a hang is a failure, not a stuck fuzzer */
	if (dgram) {
		o.eof = SKT_RELAY_EOF_WAIT;
		o.eof_wait_ms = 0;
	}
	skt_relay_stats st;
	int rc =
		skt_relay_run(inp[0], discard ? -1 : outp[1], sock[0], &o, &st);
	FUZZ_CHECK(rc == 0);
	drain(sock[1], &sent);
	if (!discard) {
		close(outp[1]);
		drain_pipe(outp[0], &out);
		close(outp[0]);
	}
	check(dgram, crlf, &want, &sent, &replies, &out, &st, discard);
	close(inp[0]);
	close(sock[0]);
	close(sock[1]);
	fuzz_msgs_free(&replies);
	fuzz_msgs_free(&want);
	fuzz_msgs_free(&sent);
	fuzz_msgs_free(&out);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
