/* tls_stream_test.c - TLS on skt_stream (stream.h), on both backends: a
 * loop client and a loop server in one loop, the loop against python3's
 * ssl module and the openssl command from outside, bulk with small socket
 * buffers (so writes meet WANT_WRITE mid-record), read-exact / read-line /
 * read-frame over TLS, the ends of a stream (close_notify, a cut without
 * it, close and shutdown), peers that do not speak TLS, the handshake
 * deadline beside the idle timeout, renegotiation, and accepted streams
 * of skt_workers. The identity is ephemeral (skt_tls_selfsigned for
 * "localhost"); clients pin it or trust it as a CA file. */
#define LOOP_SUITE tls_stream
#include "looptest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

#define WAIT_MS 5000
#define BULK    ((size_t)1 << 20)

/* ---- One world per test: a loop, an identity, two contexts ---- */

enum srv_mode {
	SRV_ECHO,     /* lines back until the client's end, then close */
	SRV_ONE,      /* one line back, then skt_stream_close */
	SRV_BULK,     /* BULK in, then its own BULK out */
	SRV_REQUESTS, /* a line, 5 exact bytes, a frame; answers "ok\n" */
	SRV_HALF,     /* a line, the client's end, then an answer */
	SRV_PLAIN,    /* no TLS: a plaintext greeting, then close */
	SRV_SILENT,   /* no TLS: reads and says nothing */
	SRV_HANDSHAKE /* only the handshake, then waits for the end */
};

static struct world {
	skt_loop *l;
	skt_tls_id *id;
	skt_tls_ctx *sctx, *cctx;
	char pin[SKT_TLS_PIN_STRLEN];
	char pem[64]; /* the identity's certificate and key, for peers */
	skt_listener *ls;
	skt_addr addr;
	uint16_t port;
	/* The server side. */
	enum srv_mode mode;
	int srv_hs_ms, srv_idle_ms;
	bool srv_small; /* 4 KiB socket buffers */
	int srv_hs, srv_end, srv_close;
	uint8_t *srv_out;
	uint8_t srv_md[32]; /* of what it received */
	char srv_last[64];  /* the bytes shown with its last read status */
	size_t srv_lines;
	int64_t srv_hs_at; /* when its handshake ended */
	/* The client side. */
	skt_stream *cs;
	int cli_hs, cli_close, cli_end;
	int64_t cli_hs_at, cli_close_at;
	skt_tls_info cli_info;
	char got[256];
	size_t ngot;
} W;

static void md_of(const uint8_t *p, size_t n, uint8_t md[32])
{
	unsigned len = 32;
	cr_assert_eq(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
}

/* n bytes of xorshift32 from seed: incompressible. */
static uint8_t *random_bytes(size_t n, uint32_t x)
{
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* A send buffer smaller than a record (the kernel doubles it: 8 KiB), so
 * a record goes out in pieces between WANT_WRITEs, and a receive buffer
 * that takes part of one, so reads meet WANT_READ mid-record. Smaller
 * receive buffers make loopback TCP crawl (a window of a few segments
 * and delayed ACKs), not OpenSSL. */
static void small_buffers(int fd)
{
	int snd = 4096, rcv = 16384;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

static void world_new(skt_backend be)
{
	memset(&W, 0, sizeof(W));
	W.srv_hs = W.srv_end = W.srv_close = 1; /* 1: not called */
	W.cli_hs = W.cli_close = W.cli_end = 1;
	W.srv_hs_ms = WAIT_MS;
	W.l = looptest_new(be);
	const char *names[] = {"localhost", "127.0.0.1"};
	skt_assert_err(skt_tls_selfsigned(&W.id, names, 2, 0), 0);
	skt_tls_id_fingerprint(W.id, W.pin);
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = W.id};
	skt_assert_err(skt_tls_ctx_new(&W.sctx, &so), 0);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .npins = 1};
	co.pins[0] = W.pin;
	skt_assert_err(skt_tls_ctx_new(&W.cctx, &co), 0);
	snprintf(W.pem, sizeof(W.pem), "/tmp/sockit-tls-stream-%d.pem",
		 (int)getpid());
	char pem[8192];
	ssize_t n = skt_tls_id_pem(W.id, true, pem, sizeof(pem));
	cr_assert_gt(n, 0);
	FILE *f = fopen(W.pem, "w");
	cr_assert_not_null(f);
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
}

static void world_free(void)
{
	skt_listener_free(W.ls);
	skt_loop_free(W.l);
	skt_tls_ctx_free(W.sctx);
	skt_tls_ctx_free(W.cctx);
	skt_tls_id_free(W.id);
	free(W.srv_out);
	unlink(W.pem);
}

/* ---- The loop server ---- */

static void srv_closed(skt_stream *s, int status)
{
	W.srv_close = status;
	skt_stream_free(s);
}

/* Note how a read ended, with the bytes shown. */
static void srv_ended(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	W.srv_end = status;
	snprintf(W.srv_last, sizeof(W.srv_last), "%.*s", (int)n,
		 d != NULL ? (const char *)d : "");
}

static void srv_echo(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status != 0) {
		srv_ended(s, status, d, n);
		if (status == SKT_EOF || status == SKT_EPARTIAL)
			skt_stream_close(s);
		return;
	}
	W.srv_lines++;
	cr_assert_geq(skt_stream_write(s, d, n), 0);
	if (W.mode == SRV_ONE) {
		skt_stream_close(s);
		return;
	}
	skt_assert_err(skt_stream_read_line(s, 0, srv_echo), 0);
}

static void srv_end_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status == 0)
		return; /* SRV_SILENT's and SRV_HANDSHAKE's bytes */
	srv_ended(s, status, d, n);
	if (status == SKT_EOF)
		skt_stream_close(s);
}

static void srv_bulk(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "bulk read: %s", skt_errname(status));
	cr_assert_eq(n, BULK);
	md_of(d, n, W.srv_md);
	W.srv_out = random_bytes(BULK, 88172645u);
	cr_assert_geq(skt_stream_write(s, W.srv_out, BULK), 0);
	skt_assert_err(skt_stream_read_start(s, srv_end_read), 0);
}

static void srv_frame(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "frame: %s", skt_errname(status));
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(d, "framed", 6), 0);
	cr_assert_geq(skt_stream_write(s, "ok\n", 3), 0);
	skt_assert_err(skt_stream_read_start(s, srv_end_read), 0);
}

static void srv_exact(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "exact: %s", skt_errname(status));
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(d, "12345", 5), 0);
	skt_assert_err(skt_stream_read_frame(s, 64, srv_frame), 0);
}

static void srv_request(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "line: %s", skt_errname(status));
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(d, "line1\n", 6), 0);
	skt_assert_err(skt_stream_read_exact(s, 5, srv_exact), 0);
}

static void srv_half_end(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	srv_ended(s, status, d, n);
	cr_assert_geq(skt_stream_write(s, "answer\n", 7), 0);
	skt_stream_close(s);
}

static void srv_half(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "half: %s", skt_errname(status));
	W.srv_lines++;
	skt_assert_err(skt_stream_read_line(s, 0, srv_half_end), 0);
}

static void srv_handshake(skt_stream *s, int status)
{
	W.srv_hs = status;
	W.srv_hs_at = sktest_now_ms();
	if (status == 0) {
		skt_tls_info info;
		skt_assert_err(skt_tls_get_info(skt_stream_tls(s), &info), 0);
		cr_assert_str_eq(info.sni, "localhost");
	}
}

static void srv_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	cr_assert_eq(status, 0, "accept: %s", skt_strerror(status));
	skt_listener_free(W.ls); /* one connection per test */
	W.ls = NULL;
	skt_stream_on_close(s, srv_closed);
	if (W.srv_small)
		small_buffers(skt_stream_fd(s));
	if (W.mode == SRV_PLAIN) {
		cr_assert_geq(
			skt_stream_write(s, "220 plain text here\r\n", 21), 0);
		skt_stream_close(s);
		return;
	}
	if (W.mode != SRV_SILENT)
		skt_assert_err(skt_stream_start_tls(s, W.sctx, NULL, NULL,
						    W.srv_hs_ms, srv_handshake),
			       0);
	if (W.srv_idle_ms > 0)
		skt_assert_err(skt_stream_set_timeouts(s, W.srv_idle_ms, 0), 0);
	/* Reads asked for now are served once the handshake is done. */
	switch (W.mode) {
	case SRV_ECHO:
	case SRV_ONE:
		skt_assert_err(skt_stream_read_line(s, 0, srv_echo), 0);
		break;
	case SRV_BULK:
		skt_assert_err(skt_stream_read_exact(s, BULK, srv_bulk), 0);
		break;
	case SRV_REQUESTS:
		skt_assert_err(skt_stream_read_line(s, 0, srv_request), 0);
		break;
	case SRV_HALF:
		skt_assert_err(skt_stream_read_line(s, 0, srv_half), 0);
		break;
	default:
		skt_assert_err(skt_stream_read_start(s, srv_end_read), 0);
	}
}

static void server_listen(enum srv_mode mode)
{
	W.mode = mode;
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	W.port = port;
	cr_assert_eq(skt_sock_local(lfd, &W.addr), 0);
	skt_assert_err(skt_listener_new(W.l, &W.ls, lfd, srv_accept, NULL), 0);
}

/* ---- The loop client ---- */

static void cli_closed(skt_stream *s, int status)
{
	W.cli_close = status;
	W.cli_close_at = sktest_now_ms();
	skt_stream_free(s);
	W.cs = NULL;
}

static void cli_handshake(skt_stream *s, int status)
{
	W.cli_hs = status;
	W.cli_hs_at = sktest_now_ms();
	if (status == 0)
		skt_assert_err(skt_tls_get_info(skt_stream_tls(s), &W.cli_info),
			       0);
}

/* Collect what arrives; at the end note it and close. */
static void cli_collect(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status == 0) {
		cr_assert_leq(W.ngot + n, sizeof(W.got) - 1);
		memcpy(W.got + W.ngot, d, n);
		W.ngot += n;
		return;
	}
	W.cli_end = status;
	if (status == SKT_ETRUNCATED && n > 0) { /* what was buffered */
		memcpy(W.got + W.ngot, d, n);
		W.ngot += n;
	}
	if (status == SKT_EOF)
		skt_stream_close(s);
}

/* Connect to addr, start TLS as host, and collect what comes. */
static void client_start(const skt_addr *a, skt_tls_ctx *ctx, const char *host,
			 int hs_ms)
{
	skt_assert_err(skt_stream_connect(W.l, &W.cs, a, NULL), 0);
	skt_assert_err(skt_stream_start_tls(W.cs, ctx, host, NULL, hs_ms,
					    cli_handshake),
		       0);
	skt_stream_on_close(W.cs, cli_closed);
}

/* ---- In one loop ---- */

static void close_after_line(skt_stream *s, int status, const uint8_t *d,
			     size_t n)
{
	cli_collect(s, status, d, n);
	if (status == 0)
		skt_stream_close(s); /* close_notify: the server's EOF */
}

LOOP_TEST(client_and_server_in_one_loop)
{
	world_new(be);
	server_listen(SRV_ECHO);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	/* Written while still connecting: sent encrypted after the
	 * handshake, and in one record with the line after it. */
	cr_assert_eq(skt_stream_write(W.cs, "hello ", 6), 0);
	cr_assert_eq(skt_stream_write(W.cs, "tls\n", 4), 0);
	skt_assert_err(skt_stream_read_line(W.cs, 0, close_after_line), 0);
	/* The echo arrives as one line; then the client ends cleanly. */
	looptest_run(W.l);
	skt_assert_err(W.cli_hs, 0);
	skt_assert_err(W.srv_hs, 0);
	cr_assert_eq(W.ngot, 10);
	cr_assert_eq(memcmp(W.got, "hello tls\n", 10), 0);
	cr_assert(W.cli_info.pinned);
	cr_assert_str_eq(W.cli_info.version_name, "TLSv1.3");
	cr_assert_eq(W.cli_info.version, SKT_TLS_1_3);
	world_free();
}

LOOP_TEST(close_sends_close_notify_the_peer_reads_a_clean_end)
{
	world_new(be);
	server_listen(SRV_ECHO);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	cr_assert_eq(skt_stream_write(W.cs, "one\n", 4), 0);
	skt_assert_err(skt_stream_read_line(W.cs, 0, close_after_line), 0);
	looptest_run(W.l);
	cr_assert_eq(W.ngot, 4);
	skt_assert_err(W.cli_close, 0);
	skt_assert_err(W.srv_end, SKT_EOF); /* never ETRUNCATED */
	skt_assert_err(W.srv_close, 0);
	world_free();
}

/* ---- Bulk, with writes that meet a full socket mid-record ---- */

static uint8_t *cli_out;
static uint8_t cli_md[32];

static void cli_bulk(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cr_assert_eq(status, 0, "bulk back: %s", skt_errname(status));
	cr_assert_eq(n, BULK);
	md_of(d, n, cli_md);
	skt_stream_close(s);
}

LOOP_TEST(mebibyte_both_ways_through_small_socket_buffers)
{
	world_new(be);
	W.srv_small = true;
	server_listen(SRV_BULK);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	small_buffers(skt_stream_fd(W.cs));
	cli_out = random_bytes(BULK, 2463534242u);
	cr_assert_geq(skt_stream_write(W.cs, cli_out, BULK), 0);
	cr_assert_eq(skt_stream_queued(W.cs), BULK, "TLS writes are queued");
	skt_assert_err(skt_stream_read_exact(W.cs, BULK, cli_bulk), 0);
	looptest_run(W.l);
	uint8_t want[32];
	md_of(cli_out, BULK, want);
	cr_assert_eq(memcmp(W.srv_md, want, 32), 0, "client to server");
	md_of(W.srv_out, BULK, want);
	cr_assert_eq(memcmp(cli_md, want, 32), 0, "server to client");
	skt_assert_err(W.srv_end, SKT_EOF);
	skt_assert_err(W.cli_close, 0);
	free(cli_out);
	world_free();
}

/* ---- The read modes over TLS ---- */

static void cli_flushed(skt_stream *s, int status)
{
	skt_assert_err(status, 0);
	cr_assert_eq(skt_stream_queued(s), 0);
}

LOOP_TEST(read_line_exact_and_frame_over_tls)
{
	world_new(be);
	server_listen(SRV_REQUESTS);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	cr_assert_eq(skt_stream_write(W.cs, "line1\n", 6), 0);
	cr_assert_eq(skt_stream_write(W.cs, "12345", 5), 0);
	cr_assert_eq(skt_stream_write_frame(W.cs, "framed", 6, 0), 0);
	skt_assert_err(skt_stream_flush(W.cs, cli_flushed), 0);
	skt_assert_err(skt_stream_read_line(W.cs, 0, close_after_line), 0);
	looptest_run(W.l);
	cr_assert_eq(W.ngot, 3);
	cr_assert_eq(memcmp(W.got, "ok\n", 3), 0);
	skt_assert_err(W.srv_end, SKT_EOF);
	world_free();
}

/* ---- Half-close ---- */

static void cli_shut_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cli_collect(s, status, d, n);
	if (status == 0)
		skt_assert_err(skt_stream_read_start(s, cli_collect), 0);
}

LOOP_TEST(shutdown_is_close_notify_and_reading_goes_on)
{
	world_new(be);
	server_listen(SRV_HALF);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	cr_assert_eq(skt_stream_write(W.cs, "one\n", 4), 0);
	skt_assert_err(skt_stream_shutdown(W.cs), 0);
	skt_assert_err(skt_stream_write(W.cs, "x", 1), SKT_EPIPE);
	skt_assert_err(skt_stream_read_start(W.cs, cli_shut_read), 0);
	looptest_run(W.l);
	cr_assert_eq(W.srv_lines, 1);
	skt_assert_err(W.srv_end, SKT_EOF);
	cr_assert_eq(W.ngot, 7);
	cr_assert_eq(memcmp(W.got, "answer\n", 7), 0);
	skt_assert_err(W.cli_end, SKT_EOF);
	skt_assert_err(W.cli_close, 0);
	world_free();
}

/* ---- Misuse ---- */

LOOP_TEST(start_tls_refusals)
{
	world_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(W.l, &s);
	skt_assert_err(
		skt_stream_start_tls(s, W.cctx, "localhost", NULL, -1, NULL),
		SKT_EINVAL);
	skt_assert_err(skt_stream_start_tls(s, NULL, NULL, NULL, 0, NULL),
		       SKT_EINVAL);
	cr_assert_null(skt_stream_tls(s));
	skt_assert_err(
		skt_stream_start_tls(s, W.cctx, "localhost", NULL, 0, NULL), 0);
	cr_assert_not_null(skt_stream_tls(s));
	skt_assert_err(
		skt_stream_start_tls(s, W.cctx, "localhost", NULL, 0, NULL),
		SKT_EINVAL);
	skt_stream_free(s);
	skt_close(peer);
	looptest_run(W.l);
	world_free();
}

static void buffered_then_tls(skt_stream *s, int status, const uint8_t *d,
			      size_t n)
{
	cr_assert_eq(status, 0);
	/* "STARTTLS\n" delivered, "more" still buffered behind it. */
	skt_assert_err(skt_stream_start_tls(s, W.sctx, NULL, NULL, 0, NULL),
		       SKT_EINVAL);
	skt_stream_free(s);
}

LOOP_TEST(start_tls_with_bytes_buffered_is_einval)
{
	world_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(W.l, &s);
	skt_assert_err(skt_send_all(peer, "STARTTLS\nmore", 13, WAIT_MS, NULL),
		       0);
	skt_assert_err(skt_stream_read_line(s, 0, buffered_then_tls), 0);
	looptest_run(W.l);
	skt_close(peer);
	world_free();
}

/* ---- Peers that do not speak TLS ---- */

LOOP_TEST(plaintext_to_a_tls_server_is_an_error_not_a_hang)
{
	world_new(be);
	server_listen(SRV_HANDSHAKE);
	int fd = skt_connect_one(&W.addr, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	skt_assert_err(skt_send_all(fd, req, sizeof(req) - 1, WAIT_MS, NULL),
		       0);
	int64_t t0 = sktest_now_ms();
	looptest_run(W.l);
	cr_assert_lt(sktest_now_ms() - t0, WAIT_MS / 2, "it hung");
	cr_assert_lt(W.srv_hs, 0);
	cr_assert_eq(W.srv_close, W.srv_hs,
		     "closed with the handshake's error");
	cr_assert(W.srv_hs == SKT_ETLS || W.srv_hs == SKT_ETLSVERSION, "%s",
		  skt_errname(W.srv_hs));
	skt_close(fd);
	world_free();
}

static void plain_reason(skt_stream *s, int status)
{
	cli_handshake(s, status);
	cr_assert_neq(skt_tls_reason(skt_stream_tls(s))[0], '\0');
}

LOOP_TEST(tls_to_a_plaintext_server_is_an_error_not_a_hang)
{
	world_new(be);
	server_listen(SRV_PLAIN);
	skt_assert_err(skt_stream_connect(W.l, &W.cs, &W.addr, NULL), 0);
	skt_assert_err(skt_stream_start_tls(W.cs, W.cctx, "localhost", NULL,
					    WAIT_MS, plain_reason),
		       0);
	skt_stream_on_close(W.cs, cli_closed);
	skt_assert_err(skt_stream_read_line(W.cs, 0, cli_collect), 0);
	looptest_run(W.l);
	cr_assert(W.cli_hs == SKT_ETLS || W.cli_hs == SKT_ETLSVERSION, "%s",
		  skt_errname(W.cli_hs));
	/* The read asked for gets the error, and so does on_close. */
	skt_assert_err(W.cli_end, W.cli_hs);
	skt_assert_err(W.cli_close, W.cli_hs);
	cr_assert_eq(W.ngot, 0);
	world_free();
}

/* ---- The handshake deadline is not the idle timeout ---- */

/* A client whose server never answers; returns when it gave up. */
static int64_t silent_server(int hs_ms, int idle_ms)
{
	server_listen(SRV_SILENT);
	client_start(&W.addr, W.cctx, "localhost", hs_ms);
	skt_assert_err(skt_stream_set_timeouts(W.cs, idle_ms, 0), 0);
	int64_t t0 = sktest_now_ms();
	looptest_run(W.l);
	skt_assert_err(W.cli_hs, SKT_ETIMEDOUT);
	skt_assert_err(W.cli_close, SKT_ETIMEDOUT);
	return W.cli_close_at - t0;
}

LOOP_TEST(short_handshake_deadline_long_idle)
{
	world_new(be);
	int64_t took = silent_server(200, 10000);
	cr_assert(took >= 180 && took < 3000, "gave up after %lld ms",
		  (long long)took);
	world_free();
}

LOOP_TEST(short_idle_does_not_cut_the_handshake)
{
	world_new(be);
	int64_t took = silent_server(700, 100);
	cr_assert(took >= 650, "the idle timeout cut the handshake at %lld ms",
		  (long long)took);
	world_free();
}

LOOP_TEST(idle_timeout_starts_after_the_handshake)
{
	world_new(be);
	W.srv_idle_ms = 300;
	server_listen(SRV_HANDSHAKE);
	client_start(&W.addr, W.cctx, "localhost", WAIT_MS);
	skt_assert_err(skt_stream_read_start(W.cs, cli_collect), 0);
	looptest_run(W.l);
	skt_assert_err(W.srv_hs, 0);
	skt_assert_err(W.srv_close, SKT_ETIMEDOUT);
	/* The server's idle timer closed it; the client saw its end. */
	/* A timeout is not a close the user asked for: no close_notify. */
	skt_assert_err(W.cli_end, SKT_ETRUNCATED);
	int64_t idle = W.cli_close_at - W.srv_hs_at;
	cr_assert(idle >= 250, "idle for %lld ms only", (long long)idle);
	world_free();
}

/* ---- Peers from outside: python3's ssl, the openssl command ---- */

/* Run argv (a program found on PATH) with stdout (and stderr) into a
 * pipe whose read end goes to *out; stdin from /dev/null. */
static pid_t spawn(const char *const argv[], int *out)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			      environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Read fd up to the first line that starts with prefix; returns what
 * follows the prefix on that line (static). */
static const char *line_after(int fd, const char *prefix)
{
	static char line[256];
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "no '%s' line", prefix);
		char c;
		cr_assert_eq(read(fd, &c, 1), 1, "ended before '%s'", prefix);
		if (c != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return line + strlen(prefix);
		n = 0;
	}
}

/* clang-format off */
static const char py_client[] =
	"import socket, ssl, sys\n"
	"ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
	"raw = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"s = ctx.wrap_socket(raw, server_hostname='localhost',\n"
	"                    suppress_ragged_eofs=False)\n"
	"s.sendall(b'hello tls\\n')\n"
	"got = b''\n"
	"while not got.endswith(b'\\n'):\n"
	"    got += s.recv(100)\n"
	"print(got.decode().strip(), s.version(), flush=True)\n"
	"how = sys.argv[3]\n"
	"if how == 'notify':\n"
	"    s.unwrap().close()\n"
	"elif how == 'cut':\n"
	"    s.sendall(b'part')\n"
	"    s.shutdown(socket.SHUT_RDWR)  # the socket's: no close_notify\n"
	"    s.close()\n"
	"else:  # wait for the server's end\n"
	"    try:\n"
	"        print('clean' if s.recv(100) == b'' else 'data')\n"
	"    except ssl.SSLEOFError:\n"
	"        print('truncated')\n"
	"    s.unwrap().close()\n";

static const char py_server[] =
	"import socket, ssl, sys\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(sys.argv[1])\n"
	"ls = socket.create_server(('127.0.0.1', 0))\n"
	"print('PORT', ls.getsockname()[1], flush=True)\n"
	"c, _ = ls.accept()\n"
	"s = ctx.wrap_socket(c, server_side=True)\n"
	"line = b''\n"
	"while not line.endswith(b'\\n'):\n"
	"    line += s.recv(100)\n"
	"s.sendall(b'from python: ' + line)\n"
	"if sys.argv[2] == 'notify':\n"
	"    s.sendall(b'bye\\n')\n"
	"    s.unwrap().close()  # ours, then waits for the client's\n"
	"else:\n"
	"    s.sendall(b'bye\\npart')\n"
	"    s.shutdown(socket.SHUT_RDWR)  # the socket's: no close_notify\n"
	"    s.close()\n";
/* clang-format on */

static void python_client(const char *how, char *out, size_t cap)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", W.port);
	const char *argv[] = {port, W.pem, how, NULL};
	int fd;
	pid_t pid = sktest_python(py_client, argv, &fd);
	looptest_run(W.l);
	sktest_slurp(fd, out, cap);
	cr_assert_eq(sktest_wait(pid), 0, "python said: %s", out);
}

LOOP_TEST(python_client_against_a_loop_server)
{
	world_new(be);
	server_listen(SRV_ECHO);
	char out[256];
	python_client("notify", out, sizeof(out));
	cr_assert_str_eq(out, "hello tls TLSv1.3\n");
	skt_assert_err(W.srv_hs, 0);
	skt_assert_err(W.srv_end, SKT_EOF);
	world_free();
}

LOOP_TEST(python_client_cut_off_is_truncated_after_its_bytes)
{
	world_new(be);
	server_listen(SRV_ECHO);
	char out[256];
	python_client("cut", out, sizeof(out));
	cr_assert_eq(W.srv_lines, 1);
	/* "part" arrived before the cut: shown with the verdict. */
	skt_assert_err(W.srv_end, SKT_ETRUNCATED);
	cr_assert_str_eq(W.srv_last, "part");
	skt_assert_err(W.srv_close, SKT_ETRUNCATED);
	world_free();
}

LOOP_TEST(loop_close_gives_python_a_clean_end)
{
	world_new(be);
	server_listen(SRV_ONE);
	char out[256];
	python_client("wait", out, sizeof(out));
	cr_assert_str_eq(out, "hello tls TLSv1.3\nclean\n");
	skt_assert_err(W.srv_close, 0);
	world_free();
}

static void python_server(const char *how)
{
	const char *argv[] = {W.pem, how, NULL};
	int fd;
	pid_t pid = sktest_python(py_server, argv, &fd);
	skt_addr a;
	skt_assert_err(
		skt_addr_from_ip(&a, "127.0.0.1",
				 (uint16_t)atoi(line_after(fd, "PORT "))),
		0);
	/* Trust as a CA, checked by name. */
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .ca_file = W.pem};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), 0);
	client_start(&a, ctx, "localhost", WAIT_MS);
	skt_tls_ctx_free(ctx); /* the session keeps what it needs */
	cr_assert_eq(skt_stream_write(W.cs, "hello\n", 6), 0);
	skt_assert_err(skt_stream_read_start(W.cs, cli_collect), 0);
	looptest_run(W.l);
	cr_assert_eq(sktest_wait(pid), 0);
	skt_close(fd);
	skt_assert_err(W.cli_hs, 0);
	cr_assert(W.cli_info.verified);
}

LOOP_TEST(loop_client_against_python_clean_end)
{
	world_new(be);
	python_server("notify");
	const char want[] = "from python: hello\nbye\n";
	cr_assert_eq(W.ngot, strlen(want), "%.*s", (int)W.ngot, W.got);
	cr_assert_eq(memcmp(W.got, want, strlen(want)), 0);
	skt_assert_err(W.cli_end, SKT_EOF);
	skt_assert_err(W.cli_close, 0);
	world_free();
}

LOOP_TEST(loop_client_against_python_cut_off_is_truncated)
{
	world_new(be);
	python_server("cut");
	/* Every byte, "part" included, then the verdict. */
	const char want[] = "from python: hello\nbye\npart";
	cr_assert_eq(W.ngot, strlen(want), "%.*s", (int)W.ngot, W.got);
	cr_assert_eq(memcmp(W.got, want, strlen(want)), 0);
	skt_assert_err(W.cli_end, SKT_ETRUNCATED);
	skt_assert_err(W.cli_close, SKT_ETRUNCATED);
	world_free();
}

LOOP_TEST(openssl_s_client_against_a_loop_server)
{
	world_new(be);
	server_listen(SRV_ONE);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "echo hello | timeout 10 openssl s_client -quiet "
		 "-connect 127.0.0.1:%u -servername localhost "
		 "-verify_hostname localhost -verify_return_error -CAfile %s",
		 W.port, W.pem);
	const char *argv[] = {"sh", "-c", cmd, NULL};
	int fd;
	pid_t pid = spawn(argv, &fd);
	looptest_run(W.l);
	char out[4096];
	sktest_slurp(fd, out, sizeof(out));
	cr_assert_eq(sktest_wait(pid), 0, "s_client: %s", out);
	cr_assert(strstr(out, "hello\n") != NULL, "%s", out);
	skt_assert_err(W.srv_hs, 0);
	skt_assert_err(W.srv_close, 0);
	world_free();
}

static void rev_line(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	cli_collect(s, status, d, n);
	if (status != 0)
		return;
	/* s_server -rev closes cleanly on "CLOSE". */
	cr_assert_eq(skt_stream_write(s, "CLOSE\n", 6), 0);
	skt_assert_err(skt_stream_read_start(s, cli_collect), 0);
}

LOOP_TEST(loop_client_against_openssl_s_server)
{
	world_new(be);
	const char *argv[] = {"openssl", "s_server", "-accept",  "127.0.0.1:0",
			      "-cert",   W.pem,      "-naccept", "1",
			      "-rev",    NULL};
	int fd;
	pid_t pid = spawn(argv, &fd);
	skt_addr a;
	skt_assert_err(skt_addr_parse(&a, line_after(fd, "ACCEPT "), 0), 0);
	client_start(&a, W.cctx, "localhost", WAIT_MS);
	cr_assert_eq(skt_stream_write(W.cs, "hello\n", 6), 0);
	skt_assert_err(skt_stream_read_line(W.cs, 0, rev_line), 0);
	looptest_run(W.l);
	cr_assert_eq(sktest_wait(pid), 0);
	skt_close(fd);
	skt_assert_err(W.cli_hs, 0);
	cr_assert_eq(W.ngot, 6);
	cr_assert_eq(memcmp(W.got, "olleh\n", 6), 0);
	skt_assert_err(W.cli_end, SKT_EOF);
	world_free();
}

/* ---- Renegotiation ---- */

LOOP_TEST(renegotiation_is_refused_not_hung)
{
	world_new(be);
	server_listen(SRV_ECHO);
	/* "R" at the start of a line makes s_client renegotiate (TLS 1.2
	 * only); the sleep holds its stdin open meanwhile. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "(echo hello; sleep 1; echo R; sleep 3) | timeout 10 "
		 "openssl s_client -tls1_2 -connect 127.0.0.1:%u "
		 "-servername localhost",
		 W.port);
	const char *argv[] = {"sh", "-c", cmd, NULL};
	int fd;
	pid_t pid = spawn(argv, &fd);
	int64_t t0 = sktest_now_ms();
	looptest_run(W.l);
	int64_t took = sktest_now_ms() - t0;
	char out[16384];
	sktest_slurp(fd, out, sizeof(out));
	sktest_wait(pid);
	skt_assert_err(W.srv_hs, 0);
	cr_assert_eq(W.srv_lines, 1, "the line before: %s", out);
	/* The client's attempt ends the session with an error (its fatal
	 * alert), well before s_client's stdin ends. */
	cr_assert_lt(W.srv_close, 0, "%s", skt_errname(W.srv_close));
	cr_assert_neq(W.srv_close, SKT_EOF);
	cr_assert_lt(took, 3500, "took %lld ms", (long long)took);
	world_free();
}

/* ---- Accepted streams of skt_workers ---- */

static void wk_echo(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status != 0) {
		skt_stream_free(s);
		return;
	}
	skt_stream_write(s, d, n);
	skt_stream_read_line(s, 0, wk_echo);
}

static void wk_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	if (s == NULL)
		return;
	skt_stream_start_tls(s, arg, NULL, NULL, WAIT_MS, NULL);
	skt_stream_read_line(s, 0, wk_echo);
}

SKT_TEST(tls_stream, workers_serve_tls)
{
	world_new(SKT_BACKEND_DEFAULT);
	skt_workers *w;
	skt_assert_err(skt_workers_new(&w, 2, "127.0.0.1", "0", NULL, NULL,
				       wk_accept, W.sctx),
		       0);
	skt_addr a;
	skt_assert_err(skt_workers_local(w, &a), 0);
	skt_assert_err(skt_workers_start(w), 0);
	char port[8];
	snprintf(port, sizeof(port), "%u", skt_addr_port(&a));
	for (int i = 0; i < 8; i++) {
		skt_conn *c;
		skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
		o.timeout_ms = WAIT_MS;
		char why[256];
		int rc = skt_tls_conn_connect(&c, W.cctx, "127.0.0.1", port, &o,
					      why, sizeof(why));
		cr_assert_eq(rc, 0, "%s: %s", skt_errname(rc), why);
		skt_conn_set_timeout(c, WAIT_MS);
		char line[32];
		int n = snprintf(line, sizeof(line), "client %d\n", i);
		skt_assert_err(skt_conn_write_all(c, line, (size_t)n), 0);
		const uint8_t *back;
		cr_assert_eq(skt_conn_read_line(c, 0, &back), n);
		cr_assert_eq(memcmp(back, line, (size_t)n), 0);
		skt_conn_free(c);
	}
	skt_workers_free(w);
	world_free();
}

/* ---- A reset under a write: an error, never SIGPIPE ---- */

static uint8_t chunk[65536];

static void pump(skt_stream *s, int status)
{
	if (status != 0)
		return;
	if (skt_stream_write(s, chunk, sizeof(chunk)) >= 0)
		skt_stream_flush(s, pump);
}

static void pump_start(skt_stream *s, int status)
{
	W.srv_hs = status;
	pump(s, status);
}

static void reset_after_handshake(skt_stream *s, int status)
{
	cli_handshake(s, status);
	skt_stream_abort(s);
}

static void pump_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	skt_listener_free(W.ls);
	W.ls = NULL;
	skt_stream_on_close(s, srv_closed);
	skt_assert_err(skt_stream_start_tls(s, W.sctx, NULL, NULL, WAIT_MS,
					    pump_start),
		       0);
}

LOOP_TEST(peer_reset_mid_write_is_an_error_not_sigpipe)
{
	world_new(be);
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	cr_assert_eq(skt_sock_local(lfd, &W.addr), 0);
	skt_assert_err(skt_listener_new(W.l, &W.ls, lfd, pump_accept, NULL), 0);
	skt_assert_err(skt_stream_connect(W.l, &W.cs, &W.addr, NULL), 0);
	skt_assert_err(skt_stream_start_tls(W.cs, W.cctx, "localhost", NULL,
					    WAIT_MS, reset_after_handshake),
		       0);
	skt_stream_on_close(W.cs, cli_closed);
	looptest_run(W.l); /* SIGPIPE is SIG_DFL here: it would kill us */
	skt_assert_err(W.cli_hs, 0);
	cr_assert(W.srv_close == SKT_EPIPE || W.srv_close == SKT_ECONNRESET,
		  "%s", skt_errname(W.srv_close));
	/* The run gave the thread its mask back, with nothing pending. */
	sigset_t now, pending;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	cr_assert(!sigismember(&now, SIGPIPE));
	sigpending(&pending);
	cr_assert(!sigismember(&pending, SIGPIPE));
	world_free();
}
