/* tls_relay_test.c - skt_tls_relay_run over loopback TCP: a TLS server in
 * a thread (skt_conn over TLS) and the relay as the client, between files
 * and pipes. Each end of input, the idle timeout, --send data with crlf,
 * a mebibyte both ways through a file and through pipes, a peer that
 * closes without close_notify, and the refusals. */
#include "sktest.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BULK ((size_t)1 << 20)

enum act {
	ECHO_ALL,   /* echo until close_notify, then close with one */
	SEND_CLEAN, /* send "hello\n", close_notify, read until the end */
	TRUNCATE,   /* send "partial\n", then close without close_notify */
	SILENT,     /* say nothing until the client goes */
	TAKE_ALL,   /* read until close_notify; keep what came */
};

typedef struct server {
	skt_tls_ctx *ctx;
	int lfd;
	uint16_t port;
	enum act act;
	int rc;
	uint8_t *got; /* TAKE_ALL and ECHO_ALL: what the client sent */
	size_t ngot;
	pthread_t tid;
	bool joined;
} server;

static void take(server *s, const uint8_t *p, size_t n)
{
	s->got = realloc(s->got, s->ngot + n);
	memcpy(s->got + s->ngot, p, n);
	s->ngot += n;
}

static void serve(server *s, skt_conn *c)
{
	skt_tls *t = skt_conn_tls(c);
	uint8_t buf[65536];
	ssize_t n;
	switch (s->act) {
	case ECHO_ALL:
	case TAKE_ALL:
		while ((n = skt_tls_read(t, buf, sizeof(buf), 5000)) > 0) {
			take(s, buf, (size_t)n);
			if (s->act == ECHO_ALL &&
			    skt_tls_write_all(t, buf, (size_t)n, 5000, NULL) <
				    0)
				break;
		}
		s->rc = (int)n;
		break;
	case SEND_CLEAN:
		skt_tls_write_all(t, "hello\n", 6, 5000, NULL);
		skt_tls_shutdown(t, 5000);
		while ((n = skt_tls_read(t, buf, sizeof(buf), 5000)) > 0)
			;
		s->rc = (int)n;
		break;
	case TRUNCATE:
		skt_tls_write_all(t, "partial\n", 8, 5000, NULL);
		shutdown(skt_conn_fd(c), SHUT_RDWR); /* no close_notify */
		break;
	case SILENT:
		s->rc = (int)skt_tls_read(t, buf, sizeof(buf), 5000);
		break;
	}
}

static void *server_main(void *arg)
{
	server *s = arg;
	int fd = skt_accept(s->lfd, NULL, 5000);
	if (fd < 0) {
		s->rc = fd;
		return NULL;
	}
	skt_conn *c;
	s->rc = skt_tls_conn_accept(&c, s->ctx, fd, 5000, NULL, 0);
	if (s->rc == 0) {
		serve(s, c);
		skt_conn_free(c); /* close_notify, unless cut above */
	}
	return NULL;
}

static skt_tls_id *the_id;

static void server_start(server *s, enum act act)
{
	memset(s, 0, sizeof(*s));
	const char *names[] = {"localhost"};
	if (the_id == NULL)
		skt_assert_err(skt_tls_selfsigned(&the_id, names, 1, 0), 0);
	skt_tls_opts o = {.role = SKT_TLS_SERVER, .id = the_id};
	skt_assert_err(skt_tls_ctx_new(&s->ctx, &o), 0);
	s->lfd = sktest_listen_tcp(false, &s->port);
	s->act = act;
	cr_assert_eq(pthread_create(&s->tid, NULL, server_main, s), 0);
}

static void server_join(server *s)
{
	if (!s->joined)
		pthread_join(s->tid, NULL);
	s->joined = true;
}

static void server_stop(server *s)
{
	server_join(s);
	skt_close(s->lfd);
	skt_tls_ctx_free(s->ctx);
	free(s->got);
	skt_tls_id_free(the_id);
	the_id = NULL;
}

/* A client session to s, handshake done, pinned to the identity. */
typedef struct client {
	skt_tls_ctx *ctx;
	skt_tls *t;
	int fd;
} client;

static void client_open(client *c, const server *s)
{
	char pin[SKT_TLS_PIN_STRLEN];
	skt_tls_id_fingerprint(the_id, pin);
	skt_tls_opts o = {.role = SKT_TLS_CLIENT, .npins = 1};
	o.pins[0] = pin;
	skt_assert_err(skt_tls_ctx_new(&c->ctx, &o), 0);
	skt_addr a;
	skt_assert_err(skt_addr_from_ip(&a, "127.0.0.1", s->port), 0);
	c->fd = skt_connect_one(&a, SOCK_STREAM, 5000);
	skt_assert_fd(c->fd);
	skt_assert_err(skt_tls_new(&c->t, c->ctx, c->fd, "localhost", NULL), 0);
	skt_assert_err(skt_tls_handshake(c->t, 5000), 0);
}

static void client_close(client *c)
{
	skt_tls_free(c->t);
	skt_close(c->fd);
	skt_tls_ctx_free(c->ctx);
}

/* An unlinked temporary file holding n bytes of p, at offset 0. */
static int file_of(const void *p, size_t n)
{
	char path[] = "/tmp/sockit-tls-relay-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int empty_file(void)
{
	return file_of("", 0);
}

static size_t file_read(int fd, uint8_t *buf, size_t cap)
{
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

static uint8_t *random_bytes(size_t n)
{
	uint8_t *p = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

SKT_TEST(tls_relay, mebibyte_from_a_file_back_into_a_file)
{
	server s;
	server_start(&s, ECHO_ALL);
	client c;
	client_open(&c, &s);
	uint8_t *data = random_bytes(BULK);
	int in = file_of(data, BULK), out = empty_file();
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(in, out, c.t, NULL, &st), 0);
	cr_assert_eq(st.sent, BULK);
	cr_assert_eq(st.received, BULK);
	cr_assert(st.input_eof && st.peer_eof);
	uint8_t *back = malloc(BULK + 1);
	cr_assert_eq(file_read(out, back, BULK + 1), BULK);
	cr_assert_eq(memcmp(back, data, BULK), 0);
	client_close(&c);
	server_stop(&s);
	close(in);
	close(out);
	free(data);
	free(back);
}

/* Pipes both ways, fed and drained by threads: the splice paths of the
 * plain relay must stay off under TLS. */
typedef struct pipe_job {
	int fd;
	uint8_t *p;
	size_t n;
	pthread_t tid;
} pipe_job;

static void *feed(void *arg)
{
	pipe_job *j = arg;
	for (size_t off = 0; off < j->n;) {
		ssize_t w = write(j->fd, j->p + off, j->n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(j->fd);
	return NULL;
}

static void *sink(void *arg)
{
	pipe_job *j = arg;
	ssize_t r;
	while ((r = read(j->fd, j->p + j->n, BULK + 1 - j->n)) > 0)
		j->n += (size_t)r;
	close(j->fd);
	return NULL;
}

SKT_TEST(tls_relay, mebibyte_through_pipes)
{
	server s;
	server_start(&s, ECHO_ALL);
	client c;
	client_open(&c, &s);
	int pin[2], pout[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	pipe_job f = {.fd = pin[1], .p = random_bytes(BULK), .n = BULK};
	pipe_job k = {.fd = pout[0], .p = malloc(BULK + 1)};
	pthread_create(&f.tid, NULL, feed, &f);
	pthread_create(&k.tid, NULL, sink, &k);
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(pin[0], pout[1], c.t, NULL, &st), 0);
	close(pout[1]);
	pthread_join(f.tid, NULL);
	pthread_join(k.tid, NULL);
	close(pin[0]);
	cr_assert_eq(k.n, BULK);
	cr_assert_eq(memcmp(k.p, f.p, BULK), 0);
	cr_assert_eq(st.received, BULK);
	client_close(&c);
	server_stop(&s);
	free(f.p);
	free(k.p);
}

SKT_TEST(tls_relay, peer_close_without_close_notify_is_truncated)
{
	server s;
	server_start(&s, TRUNCATE);
	client c;
	client_open(&c, &s);
	int pin[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0); /* input that stays open */
	int out = empty_file();
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(pin[0], out, c.t, NULL, &st),
		       SKT_ETRUNCATED);
	cr_assert_eq(st.where, SKT_RELAY_SOCKET);
	cr_assert_eq(st.received, 8);
	uint8_t buf[16];
	cr_assert_eq(file_read(out, buf, sizeof(buf)), 8);
	cr_assert_eq(memcmp(buf, "partial\n", 8), 0);
	cr_assert(strlen(skt_tls_reason(c.t)) > 0);
	client_close(&c);
	server_stop(&s);
	close(pin[0]);
	close(pin[1]);
	close(out);
}

SKT_TEST(tls_relay, close_notify_then_input_end_is_clean)
{
	server s;
	server_start(&s, SEND_CLEAN);
	client c;
	client_open(&c, &s);
	int out = empty_file();
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(-1, out, c.t, NULL, &st), 0);
	cr_assert(st.peer_eof);
	uint8_t buf[16];
	cr_assert_eq(file_read(out, buf, sizeof(buf)), 6);
	client_close(&c);
	server_stop(&s);
	skt_assert_err(s.rc, 0); /* the server read our close_notify */
	close(out);
}

SKT_TEST(tls_relay, send_data_with_crlf)
{
	server s;
	server_start(&s, TAKE_ALL);
	client c;
	client_open(&c, &s);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.data = "a\nb\r\nc\n";
	o.data_len = 7;
	o.crlf = true;
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(-1, -1, c.t, &o, &st), 0);
	cr_assert_eq(st.sent, 9);
	server_join(&s);
	cr_assert_eq(s.ngot, 9);
	cr_assert_eq(memcmp(s.got, "a\r\nb\r\nc\r\n", 9), 0);
	skt_assert_err(s.rc, 0); /* ended by close_notify */
	client_close(&c);
	server_stop(&s);
}

SKT_TEST(tls_relay, idle_timeout)
{
	server s;
	server_start(&s, SILENT);
	client c;
	client_open(&c, &s);
	int pin[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.idle_ms = 200;
	int64_t t0 = sktest_now_ms();
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(pin[0], -1, c.t, &o, &st),
		       SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 190 && took < 3000, "%lld ms", (long long)took);
	skt_tls_shutdown(c.t, 1000); /* lets the silent server go */
	client_close(&c);
	server_stop(&s);
	close(pin[0]);
	close(pin[1]);
}

SKT_TEST(tls_relay, eof_close_sends_no_close_notify)
{
	server s;
	server_start(&s, SILENT);
	client c;
	client_open(&c, &s);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_CLOSE;
	o.data = "x";
	o.data_len = 1;
	skt_assert_err(skt_tls_relay_run(-1, -1, c.t, &o, NULL), 0);
	client_close(&c); /* the socket closes: the server sees a cut */
	server_stop(&s);
	skt_assert_err(s.rc, 1); /* it read "x" before */
}

SKT_TEST(tls_relay, refusals)
{
	server s;
	server_start(&s, SILENT);
	client c;
	client_open(&c, &s);
	/* A session whose handshake has not run. */
	skt_tls *fresh;
	skt_assert_err(skt_tls_new(&fresh, c.ctx, c.fd, "localhost", NULL), 0);
	skt_relay_stats st;
	skt_assert_err(skt_tls_relay_run(-1, -1, fresh, NULL, &st), SKT_EINVAL);
	skt_tls_free(fresh);
	skt_assert_err(skt_tls_relay_run(-1, -1, NULL, NULL, &st), SKT_EINVAL);
	skt_relay_opts bad = SKT_RELAY_OPTS_INIT;
	bad.eof_wait_ms = -1;
	skt_assert_err(skt_tls_relay_run(-1, -1, c.t, &bad, &st), SKT_EINVAL);
	skt_tls_shutdown(c.t, 1000);
	client_close(&c);
	server_stop(&s);
}
