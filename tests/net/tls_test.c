/* tls_test.c - sockit/tls.h over real sockets on loopback: a sockit
 * server in a thread, sockit clients, and python3's ssl module as the
 * peer from outside. Certificates come from tests/lib/mkcerts.sh (the
 * openssl command) or skt_tls_selfsigned. */
#include "sktest.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char certs[64];

/* The path of one of mkcerts.sh's files; each name keeps its own slot,
 * so options can hold the pointers for the whole test. */
static const char *cert(const char *name)
{
	static struct {
		char name[32];
		char path[128];
	} slot[24];
	size_t i = 0;
	while (i < 24 && slot[i].name[0] != '\0' &&
	       strcmp(slot[i].name, name) != 0)
		i++;
	cr_assert_lt(i, 24);
	snprintf(slot[i].name, sizeof(slot[i].name), "%s", name);
	snprintf(slot[i].path, sizeof(slot[i].path), "%s/%s", certs, name);
	return slot[i].path;
}

static void make_certs(void)
{
	snprintf(certs, sizeof(certs), "/tmp/sockit-tls-%d", (int)getpid());
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh tests/lib/mkcerts.sh %s", certs);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void drop_certs(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
	system(cmd);
}

/* ---- A one-connection server in a thread ---- */

#define BULK ((size_t)1 << 20)

enum act { ECHO_LINE, ECHO_BULK, TRUNCATE, CLEAN_CLOSE, SILENT };

typedef struct server {
	skt_tls_ctx *ctx;
	int lfd;
	uint16_t port;
	enum act act;
	bool own_ctx;
	int rc; /* of the accept's handshake */
	char reason[256];
	char sni[256];
	pthread_t t;
} server;

static void serve_one(server *s, skt_conn *c)
{
	const uint8_t *line;
	skt_tls_info info;
	if (skt_tls_get_info(skt_conn_tls(c), &info) == 0)
		snprintf(s->sni, sizeof(s->sni), "%s", info.sni);
	if (s->act == ECHO_LINE) {
		ssize_t n;
		while ((n = skt_conn_read_line(c, 0, &line)) > 0)
			skt_conn_write_all(c, line, (size_t)n);
	} else if (s->act == ECHO_BULK) {
		uint8_t *buf = malloc(BULK);
		if (skt_conn_read_exact(c, buf, BULK, NULL) == (ssize_t)BULK)
			skt_conn_write_all(c, buf, BULK);
		free(buf);
		skt_conn_read_line(c, 0, &line); /* the client's close */
	} else if (s->act == TRUNCATE) {
		skt_conn_write_all(c, "partial\n", 8);
		/* Close the socket under TLS: no close_notify goes out. */
		shutdown(skt_conn_fd(c), SHUT_RDWR);
	}
	/* CLEAN_CLOSE: skt_conn_free sends close_notify. */
}

static void *server_main(void *arg)
{
	server *s = arg;
	int fd = skt_accept(s->lfd, NULL, 5000);
	if (fd < 0) {
		s->rc = fd;
		return NULL;
	}
	if (s->act == SILENT) {
		char b[512]; /* take the ClientHello, answer nothing */
		while (skt_recv(fd, b, sizeof(b), 5000) > 0)
			;
		skt_close(fd);
		return NULL;
	}
	skt_conn *c;
	s->rc = skt_tls_conn_accept(&c, s->ctx, fd, 5000, s->reason,
				    sizeof(s->reason));
	if (s->rc == 0) {
		skt_conn_set_timeout(c, 5000);
		serve_one(s, c);
		skt_conn_free(c);
	}
	return NULL;
}

/* Serve one connection with ctx (not taken over). */
static void server_run(server *s, skt_tls_ctx *ctx, enum act act)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->lfd = sktest_listen_tcp(false, &s->port);
	s->act = act;
	cr_assert_eq(pthread_create(&s->t, NULL, server_main, s), 0);
}

static void server_start(server *s, const skt_tls_opts *o, enum act act)
{
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, o), 0);
	server_run(s, ctx, act);
	s->own_ctx = true;
}

static void server_stop(server *s)
{
	pthread_join(s->t, NULL);
	skt_close(s->lfd);
	if (s->own_ctx)
		skt_tls_ctx_free(s->ctx);
}

static skt_tls_opts server_opts(const char *pem, const char *key)
{
	skt_tls_opts o = {.role = SKT_TLS_SERVER};
	o.cert_file = cert(pem);
	o.key_file = cert(key);
	return o;
}

static skt_tls_opts client_opts(void)
{
	skt_tls_opts o = {.role = SKT_TLS_CLIENT};
	o.ca_file = cert("ca.pem");
	return o;
}

/* Connect to the server as host; returns the rc; *out the connection. */
static int dial(server *s, const skt_tls_opts *co, const char *host,
		skt_conn **out, char *reason)
{
	skt_tls_ctx *ctx;
	int made = skt_tls_ctx_new(&ctx, co);
	cr_assert_eq(made, 0, "client context: %s: %s", skt_errname(made),
		     skt_tls_ctx_error());
	char port[8];
	snprintf(port, sizeof(port), "%u", s->port);
	skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.family = AF_INET;
	int rc = skt_tls_conn_connect(out, ctx, host, port, &o, reason, 256);
	skt_tls_ctx_free(ctx); /* the connection keeps what it needs */
	return rc;
}

/* A line there and back over c. */
static void echo_check(skt_conn *c)
{
	skt_conn_set_timeout(c, 5000);
	skt_assert_err(skt_conn_write_all(c, "hello tls\n", 10), 0);
	const uint8_t *line;
	cr_assert_eq(skt_conn_read_line(c, 0, &line), 10);
	cr_assert_eq(memcmp(line, "hello tls\n", 10), 0);
}

/* An ephemeral identity for "localhost". */
static skt_tls_id *localhost_id(void)
{
	const char *names[] = {"localhost"};
	skt_tls_id *id;
	skt_assert_err(skt_tls_selfsigned(&id, names, 1, 0), 0);
	return id;
}

/* ---- Verification ---- */

static int expect_fail(const char *pem, const skt_tls_opts *co,
		       const char *host, char *reason)
{
	server s;
	skt_tls_opts so = server_opts(pem, "server.key");
	server_start(&s, &so, ECHO_LINE);
	skt_conn *c = NULL;
	int rc = dial(&s, co, host, &c, reason);
	cr_assert_null(c);
	server_stop(&s);
	return rc;
}

SKT_TEST(tls, ca_signed_verified_by_name_and_by_ip)
{
	make_certs();
	const char *hosts[] = {"localhost", "127.0.0.1"};
	for (size_t i = 0; i < 2; i++) {
		server s;
		skt_tls_opts so = server_opts("server.pem", "server.key");
		server_start(&s, &so, ECHO_LINE);
		skt_tls_opts co = client_opts();
		skt_conn *c;
		char why[256];
		skt_assert_err(dial(&s, &co, hosts[i], &c, why), 0);
		echo_check(c);
		skt_tls_info info;
		skt_assert_err(skt_tls_get_info(skt_conn_tls(c), &info), 0);
		cr_assert(info.verified, "%s", hosts[i]);
		cr_assert_str_eq(info.version_name, "TLSv1.3");
		cr_assert(strstr(info.san, "IP:127.0.0.1") != NULL, "%s",
			  info.san);
		cr_assert(strstr(info.subject, "CN=localhost") != NULL);
		/* SNI goes with a name, never with an IP literal. */
		skt_conn_free(c);
		server_stop(&s);
		cr_assert_str_eq(s.sni, i == 0 ? "localhost" : "");
	}
	drop_certs();
}

SKT_TEST(tls, refusals_name_expiry_and_trust)
{
	make_certs();
	char why[256];
	skt_tls_opts co = client_opts();
	skt_assert_err(expect_fail("other.pem", &co, "localhost", why),
		       SKT_ETLSNAME);
	cr_assert(strstr(why, "mismatch") != NULL, "%s", why);
	skt_assert_err(expect_fail("expired.pem", &co, "localhost", why),
		       SKT_ETLSEXPIRED);
	cr_assert(strstr(why, "expired") != NULL, "%s", why);
	skt_assert_err(expect_fail("future.pem", &co, "localhost", why),
		       SKT_ETLSNOTYET);
	/* The system store does not know the test CA. */
	skt_tls_opts sys = {.role = SKT_TLS_CLIENT};
	skt_assert_err(expect_fail("server.pem", &sys, "localhost", why),
		       SKT_ETLSUNTRUSTED);
	drop_certs();
}

/* ---- Self-signed identities and pins ---- */

SKT_TEST(tls, selfsigned_needs_a_pin_or_insecure)
{
	const char *names[] = {"localhost", "127.0.0.1", "::1"};
	skt_tls_id *id;
	skt_assert_err(skt_tls_selfsigned(&id, names, 3, 0), 0);
	char pin[SKT_TLS_PIN_STRLEN];
	skt_tls_id_fingerprint(id, pin);
	cr_assert_eq(strlen(pin), 7 + 64);

	struct {
		const char *pin;
		bool insecure;
		int want;
	} cases[] = {
		{NULL, false, SKT_ETLSUNTRUSTED},
		{pin, false, 0},
		{"sha256:"
		 "00112233445566778899aabbccddeeff00112233445566778899aabbccdde"
		 "eff",
		 false, SKT_ETLSPIN},
		{NULL, true, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		server s;
		skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
		server_start(&s, &so, ECHO_LINE);
		skt_tls_opts co = {.role = SKT_TLS_CLIENT,
				   .insecure = cases[i].insecure};
		if (cases[i].pin != NULL) {
			co.pins[0] = cases[i].pin;
			co.npins = 1;
		}
		skt_conn *c = NULL;
		char why[256];
		int rc = dial(&s, &co, "localhost", &c, why);
		cr_assert_eq(rc, cases[i].want, "case %zu: %s (%s)", i,
			     skt_errname(rc), why);
		if (rc == 0) {
			echo_check(c);
			skt_tls_info info;
			skt_tls_get_info(skt_conn_tls(c), &info);
			cr_assert_eq(info.pinned, cases[i].pin != NULL);
			cr_assert_str_eq(info.fingerprint, pin);
			skt_conn_free(c);
		}
		server_stop(&s);
	}
	skt_tls_id_free(id);
}

SKT_TEST(tls, bad_pins_and_options_are_einval)
{
	skt_tls_ctx *ctx;
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .npins = 1};
	co.pins[0] = "sha256:abcd";
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), SKT_EINVAL);
	co.pins[0] = "md5:00";
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), SKT_EINVAL);
	skt_tls_opts so = {.role = SKT_TLS_SERVER}; /* no identity */
	skt_assert_err(skt_tls_ctx_new(&ctx, &so), SKT_EINVAL);
	skt_tls_opts v = {.role = SKT_TLS_CLIENT, .min_version = 0x0301};
	skt_assert_err(skt_tls_ctx_new(&ctx, &v), SKT_EINVAL);
	skt_tls_opts a = {.role = SKT_TLS_CLIENT, .alpn = "h2,,x"};
	skt_assert_err(skt_tls_ctx_new(&ctx, &a), SKT_EINVAL);
	skt_tls_id *id;
	skt_assert_err(skt_tls_selfsigned(&id, NULL, 0, 0), SKT_EINVAL);
}

/* ---- Negotiation ---- */

SKT_TEST(tls, alpn_agreed_and_refused)
{
	skt_tls_id *id = localhost_id();
	struct {
		const char *srv, *cli, *want;
		int rc;
	} cases[] = {
		{"h2,http/1.1", "http/1.1", "http/1.1", 0},
		{"h2", "http/1.1", NULL, SKT_ETLSNOSHARED},
	};
	for (size_t i = 0; i < 2; i++) {
		server s;
		skt_tls_opts so = {
			.role = SKT_TLS_SERVER, .id = id, .alpn = cases[i].srv};
		server_start(&s, &so, ECHO_LINE);
		skt_tls_opts co = {.role = SKT_TLS_CLIENT,
				   .insecure = true,
				   .alpn = cases[i].cli};
		skt_conn *c = NULL;
		char why[256];
		skt_assert_err(dial(&s, &co, "localhost", &c, why),
			       cases[i].rc);
		if (c != NULL) {
			skt_tls_info info;
			skt_tls_get_info(skt_conn_tls(c), &info);
			cr_assert_str_eq(info.alpn, cases[i].want);
			echo_check(c);
			skt_conn_free(c);
		}
		server_stop(&s);
		if (cases[i].rc != 0)
			skt_assert_err(s.rc, SKT_ETLSNOSHARED);
	}
	skt_tls_id_free(id);
}

SKT_TEST(tls, version_floor_above_peer_ceiling)
{
	skt_tls_id *id = localhost_id();
	server s;
	skt_tls_opts so = {
		.role = SKT_TLS_SERVER, .id = id, .max_version = SKT_TLS_1_2};
	server_start(&s, &so, ECHO_LINE);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT,
			   .insecure = true,
			   .min_version = SKT_TLS_1_3};
	skt_conn *c = NULL;
	char why[256];
	skt_assert_err(dial(&s, &co, "localhost", &c, why), SKT_ETLSVERSION);
	server_stop(&s);
	skt_assert_err(s.rc, SKT_ETLSVERSION);
	skt_tls_id_free(id);
}

SKT_TEST(tls, client_certificate_required)
{
	make_certs();
	for (int with = 0; with < 2; with++) {
		server s;
		skt_tls_opts so = server_opts("server.pem", "server.key");
		so.client_auth = SKT_TLS_CLIENT_AUTH_REQUIRE;
		so.ca_file = cert("ca.pem");
		server_start(&s, &so, ECHO_LINE);
		skt_tls_opts co = client_opts();
		if (with) {
			co.cert_file = cert("client.pem");
			co.key_file = cert("client.key");
		}
		skt_conn *c = NULL;
		char why[256];
		int rc = dial(&s, &co, "localhost", &c, why);
		if (with) {
			skt_assert_err(rc, 0);
			echo_check(c);
			skt_conn_free(c);
		} else if (rc == 0) {
			/* TLS 1.3: the client's handshake ends before the
			 * server has looked at its certificate; the refusal
			 * arrives with the first read. */
			skt_conn_set_timeout(c, 5000);
			const uint8_t *line;
			skt_conn_write_all(c, "x\n", 2);
			skt_assert_err(skt_conn_read_line(c, 0, &line),
				       SKT_ETLSNOCERT);
			skt_conn_free(c);
		} else {
			skt_assert_err(rc, SKT_ETLSNOCERT);
		}
		server_stop(&s);
		skt_assert_err(s.rc, with ? 0 : SKT_ETLSNOCERT);
	}
	drop_certs();
}

SKT_TEST(tls, sni_selects_the_certificate)
{
	make_certs();
	server s;
	skt_tls_opts so = server_opts("server.pem", "server.key");
	server_start(&s, &so, ECHO_LINE);
	skt_assert_err(skt_tls_ctx_add_sni(s.ctx, "other.invalid",
					   cert("other.pem"),
					   cert("server.key")),
		       0);
	skt_tls_opts co = client_opts();
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), 0);
	skt_addr a;
	skt_assert_err(skt_addr_from_ip(&a, "127.0.0.1", s.port), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, 5000);
	skt_assert_fd(fd);
	/* The name is never resolved: the socket is already connected. */
	skt_tls *t;
	skt_assert_err(skt_tls_new(&t, ctx, fd, "other.invalid", NULL), 0);
	skt_assert_err(skt_tls_handshake(t, 5000), 0);
	skt_tls_info info;
	skt_tls_get_info(t, &info);
	cr_assert(strstr(info.san, "DNS:other.invalid") != NULL, "%s",
		  info.san);
	skt_assert_err(skt_tls_shutdown(t, 5000), 0);
	skt_tls_free(t);
	skt_close(fd);
	skt_tls_ctx_free(ctx);
	server_stop(&s);
	cr_assert_str_eq(s.sni, "other.invalid");
	drop_certs();
}

SKT_TEST(tls, second_handshake_resumes)
{
	skt_tls_id *id = localhost_id();
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
	skt_tls_ctx *sctx;
	skt_assert_err(skt_tls_ctx_new(&sctx, &so), 0);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .insecure = true};
	skt_tls_ctx *cctx;
	skt_assert_err(skt_tls_ctx_new(&cctx, &co), 0);
	for (int round = 0; round < 2; round++) {
		/* Both rounds share one server context: its ticket keys. */
		server s;
		server_run(&s, sctx, ECHO_LINE);
		char port[8];
		snprintf(port, sizeof(port), "%u", s.port);
		skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
		o.timeout_ms = 5000;
		skt_conn *c;
		skt_assert_err(skt_tls_conn_connect(&c, cctx, "localhost", port,
						    &o, NULL, 0),
			       0);
		echo_check(c); /* the read takes in the server's tickets */
		skt_tls_info info;
		skt_tls_get_info(skt_conn_tls(c), &info);
		cr_assert_eq(info.resumed, round == 1, "round %d", round);
		skt_conn_free(c);
		server_stop(&s);
	}
	skt_tls_ctx_free(cctx);
	skt_tls_ctx_free(sctx);
	skt_tls_id_free(id);
}

/* ---- Ends of stream ---- */

/* A server doing act as id, and a connection to it from a client that
 * verifies nothing (these tests are about the stream, not trust). */
static skt_conn *insecure_pair(server *s, const skt_tls_id *id, enum act act)
{
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
	server_start(s, &so, act);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .insecure = true};
	skt_conn *c;
	char why[256];
	int rc = dial(s, &co, "localhost", &c, why);
	cr_assert_eq(rc, 0, "%s: %s", skt_errname(rc), why);
	skt_conn_set_timeout(c, 5000);
	return c;
}

static void end_case(enum act act, int want)
{
	skt_tls_id *id = localhost_id();
	server s;
	skt_conn *c = insecure_pair(&s, id, act);
	const uint8_t *line;
	if (act == TRUNCATE) {
		/* Every byte that arrived is delivered before the verdict. */
		cr_assert_eq(skt_conn_read_line(c, 0, &line), 8);
		cr_assert_eq(memcmp(line, "partial\n", 8), 0);
	}
	skt_assert_err(skt_conn_read_line(c, 0, &line), want);
	skt_conn_free(c);
	server_stop(&s);
	skt_tls_id_free(id);
}

SKT_TEST(tls, close_without_close_notify_is_truncated)
{
	end_case(TRUNCATE, SKT_ETRUNCATED);
}

SKT_TEST(tls, close_notify_is_a_clean_end)
{
	end_case(CLEAN_CLOSE, SKT_EOF);
}

SKT_TEST(tls, half_close_then_answer)
{
	/* TLS 1.3 half-close: the client's close_notify ends what it sends;
	 * the server still answers and the client still reads. */
	skt_tls_id *id = localhost_id();
	server s;
	skt_conn *c = insecure_pair(&s, id, ECHO_LINE);
	skt_assert_err(skt_conn_write_all(c, "one\n", 4), 0);
	skt_assert_err(skt_conn_shutdown_write(c), 0);
	const uint8_t *line;
	cr_assert_eq(skt_conn_read_line(c, 0, &line), 4);
	skt_assert_err(skt_conn_read_line(c, 0, &line), SKT_EOF);
	skt_conn_free(c);
	server_stop(&s);
	skt_tls_id_free(id);
}

/* ---- Peers that do not speak TLS ---- */

SKT_TEST(tls, plaintext_to_a_tls_listener_is_refused)
{
	skt_tls_id *id = localhost_id();
	server s;
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
	server_start(&s, &so, ECHO_LINE);
	skt_addr a;
	skt_assert_err(skt_addr_from_ip(&a, "127.0.0.1", s.port), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, 5000);
	skt_assert_fd(fd);
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	skt_assert_err(skt_send_all(fd, req, sizeof(req) - 1, 5000, NULL), 0);
	server_stop(&s); /* the server's handshake ended, it did not hang */
	skt_assert_err(s.rc, SKT_ETLS);
	cr_assert(s.reason[0] != '\0');
	skt_close(fd);
	skt_tls_id_free(id);
}

static void *plain_hello(void *arg)
{
	int *lfd = arg;
	int fd = skt_accept(*lfd, NULL, 5000);
	if (fd >= 0) {
		char b[512];
		skt_recv(fd, b, sizeof(b), 5000); /* the ClientHello */
		skt_send_all(fd, "220 plain text here\r\n", 21, 5000, NULL);
		skt_close(fd);
	}
	return NULL;
}

SKT_TEST(tls, tls_to_a_plaintext_server_is_refused)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, plain_hello, &lfd), 0);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .insecure = true};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), 0);
	char p[8], why[256];
	snprintf(p, sizeof(p), "%u", port);
	skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	skt_conn *c = NULL;
	int rc = skt_tls_conn_connect(&c, ctx, "127.0.0.1", p, &o, why,
				      sizeof(why));
	cr_assert(rc == SKT_ETLS || rc == SKT_ETLSVERSION, "%s: %s",
		  skt_errname(rc), why);
	cr_assert_null(c);
	pthread_join(t, NULL);
	skt_close(lfd);
	skt_tls_ctx_free(ctx);
}

SKT_TEST(tls, stalled_handshake_times_out)
{
	skt_tls_id *id = localhost_id();
	server s;
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
	server_start(&s, &so, SILENT);
	skt_tls_opts co = {.role = SKT_TLS_CLIENT, .insecure = true};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), 0);
	char p[8];
	snprintf(p, sizeof(p), "%u", s.port);
	skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
	o.timeout_ms = 300;
	skt_conn *c = NULL;
	int64_t t0 = sktest_now_ms();
	skt_assert_err(
		skt_tls_conn_connect(&c, ctx, "127.0.0.1", p, &o, NULL, 0),
		SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 250, "gave up after %lld ms", (long long)took);
	server_stop(&s);
	skt_tls_ctx_free(ctx);
	skt_tls_id_free(id);
}

/* ---- Bulk ---- */

SKT_TEST(tls, one_mebibyte_there_and_back)
{
	skt_tls_id *id = localhost_id();
	server s;
	skt_conn *c = insecure_pair(&s, id, ECHO_BULK);
	skt_conn_set_timeout(c, 10000);
	size_t n = BULK;
	uint8_t *out = malloc(n), *back = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) { /* xorshift32: incompressible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (uint8_t)x;
	}
	skt_assert_err(skt_conn_write_all(c, out, n), 0);
	cr_assert_eq(skt_conn_read_exact(c, back, n, NULL), (ssize_t)n);
	cr_assert_eq(memcmp(out, back, n), 0);
	skt_conn_free(c);
	server_stop(&s);
	free(out);
	free(back);
	skt_tls_id_free(id);
}

/* ---- Real peers: python3's ssl module and the openssl command ---- */

/* clang-format off */
static const char py_client[] =
	"import socket, ssl, sys\n"
	"ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
	"raw = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"s = ctx.wrap_socket(raw, server_hostname='localhost')\n"
	"s.sendall(b'hello tls\\n')\n"
	"got = b''\n"
	"while not got.endswith(b'\\n'):\n"
	"    got += s.recv(100)\n"
	"print(got.decode().strip(), s.version())\n"
	"s.unwrap().close()\n";

static const char py_server[] =
	"import socket, ssl, sys\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	"ls = socket.create_server(('127.0.0.1', 0))\n"
	"print(ls.getsockname()[1], flush=True)\n"
	"c, _ = ls.accept()\n"
	"s = ctx.wrap_socket(c, server_side=True)\n"
	"s.sendall(b'from python\\n')\n"
	"if sys.argv[3] == 'notify':\n"
	"    s.unwrap().close()\n"
	"else:\n"
	"    s.shutdown(socket.SHUT_RDWR)  # no close_notify\n"
	"    s.close()\n";
/* clang-format on */

/* Write id's certificate to path. */
static void write_pem(const skt_tls_id *id, const char *path)
{
	char pem[4096];
	ssize_t n = skt_tls_id_pem(id, false, pem, sizeof(pem));
	cr_assert_gt(n, 0);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
}

SKT_TEST(tls, python_trusts_the_ephemeral_identity)
{
	const char *names[] = {"localhost", "127.0.0.1"};
	skt_tls_id *id;
	skt_assert_err(skt_tls_selfsigned(&id, names, 2, 0), 0);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/sockit-eph-%d.pem", (int)getpid());
	write_pem(id, path);
	/* openssl verify at the default security level (2 on Debian). */
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -CAfile %s %s >/dev/null 2>&1", path, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);

	server s;
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id};
	server_start(&s, &so, ECHO_LINE);
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", s.port);
	const char *argv[] = {ps, path, NULL};
	int out;
	pid_t pid = sktest_python(py_client, argv, &out);
	char buf[256];
	sktest_slurp(out, buf, sizeof(buf));
	cr_assert_eq(sktest_wait(pid), 0, "python said: %s", buf);
	cr_assert_str_eq(buf, "hello tls TLSv1.3\n");
	server_stop(&s);
	skt_assert_err(s.rc, 0);
	unlink(path);
	skt_tls_id_free(id);
}

/* The port a python3 server printed on its first line. */
static uint16_t read_port(int fd)
{
	char line[16] = {0};
	size_t n = 0;
	while (n < sizeof(line) - 1 && (n == 0 || line[n - 1] != '\n')) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 5000), 1, "no port from python");
		cr_assert_eq(read(fd, line + n, 1), 1, "python ended");
		n++;
	}
	return (uint16_t)atoi(line);
}

static void from_python(const char *how, int want)
{
	make_certs();
	const char *argv[] = {cert("server.pem"), cert("server.key"), how,
			      NULL};
	int out;
	pid_t pid = sktest_python(py_server, argv, &out);
	server s = {.port = read_port(out)};
	skt_tls_opts co = client_opts();
	skt_conn *c;
	char why[256];
	skt_assert_err(dial(&s, &co, "localhost", &c, why), 0);
	skt_conn_set_timeout(c, 5000);
	const uint8_t *line;
	cr_assert_eq(skt_conn_read_line(c, 0, &line), 12);
	cr_assert_eq(memcmp(line, "from python\n", 12), 0);
	skt_assert_err(skt_conn_read_line(c, 0, &line), want);
	skt_conn_free(c);
	cr_assert_eq(sktest_wait(pid), 0);
	skt_close(out);
	drop_certs();
}

SKT_TEST(tls, python_server_verified_clean_end)
{
	from_python("notify", SKT_EOF);
}

SKT_TEST(tls, python_server_cut_off_is_truncated)
{
	from_python("cut", SKT_ETRUNCATED);
}

SKT_TEST(tls, openssl_s_client_verifies_the_ephemeral_identity)
{
	skt_tls_id *id = localhost_id();
	char path[64];
	snprintf(path, sizeof(path), "/tmp/sockit-eph-%d.pem", (int)getpid());
	write_pem(id, path);
	server s;
	skt_tls_opts so = {.role = SKT_TLS_SERVER, .id = id, .alpn = "x-test"};
	server_start(&s, &so, ECHO_LINE);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "echo hello | timeout 10 openssl s_client -quiet "
		 "-connect 127.0.0.1:%u -servername localhost "
		 "-verify_hostname localhost -verify_return_error -CAfile %s "
		 "-alpn x-test >/dev/null 2>&1",
		 s.port, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	server_stop(&s);
	skt_assert_err(s.rc, 0);
	cr_assert_str_eq(s.sni, "localhost");
	unlink(path);
	skt_tls_id_free(id);
}
