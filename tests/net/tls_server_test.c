/* tls_server_test.c - the server framework (server.h) with opts.tls: the
 * echo service and a service of the test's own served over TLS in a
 * thread, talked to by real clients - python3's ssl module (blocking and
 * asyncio), the openssl s_client command and sockit's own blocking TLS
 * client - and by clients that fail the handshake (one that distrusts the
 * certificate, plain text, silence). Certificates come from
 * tests/lib/mkcerts.sh. */
#include "sktest.h"
#include "sockit/server.h"
#include "tools/serve/services.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define WAIT_MS 5000

/* ---- Certificates ---- */

static char certs[64];

/* The path of one of mkcerts.sh's files, in a slot of its own. */
static const char *cert(const char *name)
{
	static struct {
		char name[32];
		char path[128];
	} slot[16];
	size_t i = 0;
	while (i < 16 && slot[i].name[0] != '\0' &&
	       strcmp(slot[i].name, name) != 0)
		i++;
	cr_assert_lt(i, 16);
	snprintf(slot[i].name, sizeof(slot[i].name), "%s", name);
	snprintf(slot[i].path, sizeof(slot[i].path), "%s/%s", certs, name);
	return slot[i].path;
}

static void make_certs(void)
{
	snprintf(certs, sizeof(certs), "/tmp/sockit-tls-server-%d",
		 (int)getpid());
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh tests/lib/mkcerts.sh %s", certs);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void drop_certs(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
	cr_assert_eq(system(cmd), 0);
}

/* ---- A service of the test's own: what the handshake agreed on ---- */

/* One line - "plain" on a server without TLS, else the ALPN protocol,
 * the name the client asked for and the version - then a graceful end. */
static int info_open(skt_server_conn *c)
{
	char line[512];
	skt_tls *t = skt_server_conn_tls(c);
	skt_tls_info in;
	int n;
	if (t == NULL)
		n = snprintf(line, sizeof(line), "plain\n");
	else if (skt_tls_get_info(t, &in) < 0)
		n = snprintf(line, sizeof(line), "no info\n");
	else
		n = snprintf(line, sizeof(line), "alpn=%s sni=%s %s\n",
			     in.alpn[0] != '\0' ? in.alpn : "-",
			     in.sni[0] != '\0' ? in.sni : "-", in.version_name);
	return skt_server_conn_tell(c, line, (size_t)n);
}

static const skt_service svc_info = {
	.name = "tlsinfo",
	.flags = SKT_SERVICE_TCP,
	.open = info_open,
};

/* ---- A server in a thread, and what it reported ---- */

struct run {
	skt_server_opts o;
	skt_server *srv;
	skt_tls_ctx *ctx; /* the server's, freed after it */
	pthread_t thread;
	int rc;
	pthread_mutex_t mu;
	uint16_t port;
	unsigned opens, closes, hs_events, stopped;
	unsigned other_errors; /* ERROR events not about a handshake */
	int hs_err;            /* the last handshake ERROR's code, reason, */
	char hs_reason[256];   /* quiet count and peer */
	unsigned hs_quiet;
	bool hs_peer_loopback;
	int close_err;     /* the last CLOSE's */
	uint64_t open_now; /* stats.open of the last STATS event */
	uint64_t deadline_cuts;
	skt_server_stats last; /* STOPPED's */
};

static void on_event(const skt_server_event *ev, void *arg)
{
	struct run *r = arg;
	pthread_mutex_lock(&r->mu);
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		r->port = skt_addr_port(ev->addr);
		break;
	case SKT_SERVER_EV_OPEN:
		r->opens++;
		break;
	case SKT_SERVER_EV_CLOSE:
		r->closes++;
		r->close_err = ev->err;
		break;
	case SKT_SERVER_EV_ERROR:
		if (strcmp(ev->what, "handshake") != 0) {
			r->other_errors++;
			break;
		}
		r->hs_events++;
		r->hs_err = ev->err;
		r->hs_quiet = ev->quiet;
		snprintf(r->hs_reason, sizeof(r->hs_reason), "%s",
			 ev->reason != NULL ? ev->reason : "(null)");
		r->hs_peer_loopback =
			ev->addr != NULL && strncmp(sktest_addr_text(ev->addr),
						    "127.0.0.1:", 10) == 0;
		break;
	case SKT_SERVER_EV_STATS:
		r->open_now = ev->stats->open;
		break;
	case SKT_SERVER_EV_STOPPED:
		r->stopped++;
		r->last = *ev->stats;
		r->deadline_cuts = ev->deadline_cuts;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&r->mu);
}

static void *serve_main(void *arg)
{
	struct run *r = arg;
	r->rc = skt_server_serve(r->srv);
	return NULL;
}

/* The server context: mkcerts.sh's CA-signed localhost certificate. */
static skt_tls_ctx *server_ctx(const char *alpn)
{
	skt_tls_opts so = {.role = SKT_TLS_SERVER,
			   .cert_file = cert("server.pem"),
			   .key_file = cert("server.key"),
			   .alpn = alpn};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &so), 0);
	return ctx;
}

/* Options for svc on 127.0.0.1:0 over TLS (ctx NULL: plain), two
 * workers, verbose; the test may change them before start(). */
static void prepare(struct run *r, const skt_service *svc, skt_tls_ctx *ctx)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->ctx = ctx;
	r->o.svc = svc;
	r->o.naddrs = 1;
	strcpy(r->o.addrs[0].host, "127.0.0.1");
	strcpy(r->o.addrs[0].port, "0");
	r->o.tcp = true;
	r->o.workers = 2;
	r->o.verbose = true;
	r->o.tls = ctx;
	r->o.log = on_event;
	r->o.log_arg = r;
}

static void start(struct run *r)
{
	int rc = skt_server_new(&r->srv, &r->o);
	cr_assert_eq(rc, 0, "new: %s", skt_strerror(rc));
	cr_assert_neq(r->port, 0, "no LISTENING event");
	cr_assert_eq(pthread_create(&r->thread, NULL, serve_main, r), 0);
}

/* Wait for the thread (after a stop), free; the counters stay in
 * r->last. */
static void finish(struct run *r)
{
	cr_assert_eq(pthread_join(r->thread, NULL), 0);
	skt_server_free(r->srv);
	skt_tls_ctx_free(r->ctx);
	cr_assert_eq(r->rc, 0, "serve: %s", skt_strerror(r->rc));
	cr_assert_eq(r->stopped, 1, "no STOPPED event");
	cr_assert_eq(r->last.open, 0);
	pthread_mutex_destroy(&r->mu);
}

static void stop(struct run *r)
{
	skt_server_stop(r->srv);
	finish(r);
}

/* Wait until *field (read under r's lock) is at least want. */
static void wait_for(struct run *r, const unsigned *field, unsigned want)
{
	int64_t end = sktest_now_ms() + WAIT_MS;
	unsigned got;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		got = *field;
		pthread_mutex_unlock(&r->mu);
		if (got >= want || sktest_now_ms() >= end)
			break;
		usleep(2000);
	}
	cr_assert_geq(got, want, "waited for %u, got %u", want, got);
}

/* ---- Clients ---- */

/* A plain TCP connection to the server. */
static int dial(const struct run *r)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "127.0.0.1", r->port), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	return fd;
}

/* Read fd until the server ends the connection: returns 0 (its FIN) or
 * the error (a reset); fails the test on a hang. */
static int read_to_end(int fd)
{
	char buf[512];
	ssize_t n;
	while ((n = skt_recv(fd, buf, sizeof(buf), WAIT_MS)) > 0)
		;
	cr_assert_neq(n, SKT_ETIMEDOUT, "the server never ended it");
	return (int)n;
}

/* sockit's blocking TLS client, trusting mkcerts.sh's CA. */
static skt_tls_ctx *client_ctx(const char *alpn)
{
	skt_tls_opts co = {.role = SKT_TLS_CLIENT,
			   .ca_file = cert("ca.pem"),
			   .alpn = alpn};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &co), 0);
	return ctx;
}

static skt_conn *tls_dial(const struct run *r, skt_tls_ctx *ctx,
			  const char *host)
{
	char port[8], reason[256];
	snprintf(port, sizeof(port), "%u", r->port);
	skt_tls_connect_opts o = SKT_TLS_CONNECT_OPTS_INIT;
	o.timeout_ms = WAIT_MS;
	o.family = AF_INET;
	skt_conn *c;
	int rc = skt_tls_conn_connect(&c, ctx, host, port, &o, reason,
				      sizeof(reason));
	cr_assert_eq(rc, 0, "connect: %s: %s", skt_errname(rc), reason);
	skt_conn_set_timeout(c, WAIT_MS);
	return c;
}

static void tls_echo(skt_conn *c, const char *line)
{
	size_t n = strlen(line);
	cr_assert_eq(skt_conn_write_all(c, line, n), 0);
	const uint8_t *got;
	ssize_t k = skt_conn_read_line(c, 0, &got);
	cr_assert_eq(k, (ssize_t)n, "%s", skt_errname((int)k));
	cr_assert_eq(memcmp(got, line, n), 0);
}

/* Run argv (found on PATH) with stdin and stdout/stderr on pipes: *in is
 * the child's stdin (may be NULL: /dev/null), *out its output. */
static pid_t spawn(const char *const argv[], int *in, int *out)
{
	int po[2], pi[2] = {-1, -1};
	cr_assert_eq(pipe2(po, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (in != NULL) {
		cr_assert_eq(pipe2(pi, O_CLOEXEC), 0);
		posix_spawn_file_actions_adddup2(&fa, pi[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
						 0);
	}
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, po[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			      environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));
	close(po[1]);
	*out = po[0];
	if (in != NULL) {
		close(pi[0]);
		*in = pi[1];
	}
	return pid;
}

/* Read fd up to a line that starts with prefix; returns the whole line
 * (static). */
static const char *line_starting(int fd, const char *prefix)
{
	static char line[512];
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 2 * WAIT_MS), 1, "no '%s' line",
			     prefix);
		char c;
		cr_assert_eq(read(fd, &c, 1), 1, "ended before '%s'", prefix);
		if (c != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return line;
		n = 0;
	}
}

/* python3: connect, verify (CA file, or "-" for the system store) by
 * name, say a line, print the first line back and the version; then
 * either close with close_notify at once ("close") or wait for the
 * server's end and say whether it was clean ("wait"). Exit 3 when the
 * handshake fails. */
/* clang-format off */
static const char py_client[] =
	"import socket, ssl, sys\n"
	"port, ca, name, how = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n"
	"ctx = ssl.create_default_context(cafile=None if ca == '-' else ca)\n"
	"if len(sys.argv) > 5:\n"
	"    ctx.set_alpn_protocols(sys.argv[5].split(','))\n"
	"raw = socket.create_connection(('127.0.0.1', port))\n"
	"try:\n"
	"    s = ctx.wrap_socket(raw, server_hostname=name,\n"
	"                        suppress_ragged_eofs=False)\n"
	"except ssl.SSLError as e:\n"
	"    print('refused', e.reason, flush=True)\n"
	"    sys.exit(3)\n"
	"s.sendall(b'hello over tls\\n')\n"
	"got = b''\n"
	"while not got.endswith(b'\\n'):\n"
	"    b = s.recv(100)\n"
	"    if not b:\n"
	"        break\n"
	"    got += b\n"
	"print(got.decode().strip(), s.version(), flush=True)\n"
	"if how == 'wait':\n"
	"    try:\n"
	"        print('clean' if s.recv(100) == b'' else 'data', flush=True)\n"
	"    except ssl.SSLEOFError:\n"
	"        print('truncated', flush=True)\n"
	"s.unwrap()  # ours, then the server's close_notify\n"
	"s.close()\n"
	"print('unwrapped', flush=True)\n";

/* asyncio: n TLS clients at once; each waits until all n are connected
 * (handshakes done), then echoes a line of its own and closes with
 * close_notify. Prints "ok n bytes". */
static const char py_many[] =
	"import asyncio, ssl, sys\n"
	"port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
	"ctx = ssl.create_default_context(cafile=ca)\n"
	"async def main():\n"
	"    opened = 0\n"
	"    all_open = asyncio.Event()\n"
	"    async def one(i):\n"
	"        nonlocal opened\n"
	"        r, w = await asyncio.open_connection('127.0.0.1', port, ssl=ctx,\n"
	"                                             server_hostname='localhost')\n"
	"        opened += 1\n"
	"        if opened == n:\n"
	"            all_open.set()\n"
	"        await all_open.wait()\n"
	"        msg = b'client %d of %d\\n' % (i, n)\n"
	"        w.write(msg)\n"
	"        got = await r.readline()\n"
	"        if got != msg:\n"
	"            raise SystemExit('client %d got %r' % (i, got))\n"
	"        w.close()\n"
	"        await w.wait_closed()\n"
	"        return len(msg)\n"
	"    sizes = await asyncio.wait_for(\n"
	"        asyncio.gather(*(one(i) for i in range(n))), 25)\n"
	"    print('ok', len(sizes), sum(sizes), flush=True)\n"
	"asyncio.run(main())\n";
/* clang-format on */

/* Run py_client against r; out gets what it printed. Returns its exit
 * status. */
static int python_client(const struct run *r, const char *ca, const char *name,
			 const char *alpn, char *out, size_t cap)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", r->port);
	const char *argv[] = {port, ca, name, "close", alpn, NULL};
	int fd;
	pid_t pid = sktest_python(py_client, argv, &fd);
	sktest_slurp(fd, out, cap);
	return sktest_wait(pid);
}

/* ---- Echo over TLS, three kinds of client ---- */

SKT_TEST(tls_server, echo_for_a_python_client)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	char out[512];
	int st = python_client(&r, cert("ca.pem"), "localhost", NULL, out,
			       sizeof(out));
	cr_assert_eq(st, 0, "python: %s", out);
	cr_assert_str_eq(out, "hello over tls TLSv1.3\nunwrapped\n");
	wait_for(&r, &r.closes, 1);
	stop(&r);
	/* python's close_notify was the echo's end of stream: a clean
	 * close, answered with the server's (unwrap() waited for it). */
	skt_assert_err(r.close_err, 0);
	cr_assert_eq(r.opens, 1);
	cr_assert_eq(r.last.accepted, 1);
	cr_assert_eq(r.last.handshakes, 1);
	cr_assert_eq(r.last.handshakes_failed, 0);
	cr_assert_eq(r.last.errors, 0);
	cr_assert_eq(r.last.bytes_in, 15);
	cr_assert_eq(r.last.bytes_out, 15);
	drop_certs();
}

SKT_TEST(tls_server, echo_for_openssl_s_client)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	char connect[32];
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", r.port);
	/* -no_ign_eof: the end of its stdin ends the session with a
	 * close_notify (-quiet alone would ignore it). */
	const char *argv[] = {"openssl",
			      "s_client",
			      "-quiet",
			      "-no_ign_eof",
			      "-connect",
			      connect,
			      "-servername",
			      "localhost",
			      "-verify_hostname",
			      "localhost",
			      "-verify_return_error",
			      "-CAfile",
			      cert("ca.pem"),
			      NULL};
	int in, out;
	pid_t pid = spawn(argv, &in, &out);
	const char line[] = "hello from s_client\n";
	cr_assert_eq(write(in, line, sizeof(line) - 1),
		     (ssize_t)sizeof(line) - 1);
	line_starting(out, "hello from s_client");
	close(in);
	char rest[4096];
	sktest_slurp(out, rest, sizeof(rest));
	cr_assert_eq(sktest_wait(pid), 0, "s_client: %s", rest);
	wait_for(&r, &r.closes, 1);
	stop(&r);
	skt_assert_err(r.close_err, 0);
	cr_assert_eq(r.last.handshakes, 1);
	cr_assert_eq(r.last.handshakes_failed, 0);
	cr_assert_eq(r.last.bytes_out, sizeof(line) - 1);
	drop_certs();
}

SKT_TEST(tls_server, echo_for_the_sockit_client)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	skt_tls_ctx *cctx = client_ctx(NULL);
	skt_conn *c = tls_dial(&r, cctx, "127.0.0.1"); /* by its IP SAN */
	skt_tls_info info;
	cr_assert_eq(skt_tls_get_info(skt_conn_tls(c), &info), 0);
	cr_assert(info.verified);
	for (int i = 0; i < 10; i++) {
		char msg[32];
		snprintf(msg, sizeof(msg), "line %d\n", i);
		tls_echo(c, msg);
	}
	skt_conn_free(c); /* close_notify */
	skt_tls_ctx_free(cctx);
	wait_for(&r, &r.closes, 1);
	stop(&r);
	skt_assert_err(r.close_err, 0);
	cr_assert_eq(r.last.handshakes, 1);
	cr_assert_eq(r.last.bytes_in, 70);
	drop_certs();
}

/* ---- Handshakes that fail ---- */

SKT_TEST(tls_server, a_client_that_distrusts_the_certificate_is_counted)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	/* The system store does not know mkcerts.sh's CA. */
	char out[512];
	int st = python_client(&r, "-", "localhost", NULL, out, sizeof(out));
	cr_assert_eq(st, 3, "python: %s", out);
	cr_assert_str_eq(out, "refused CERTIFICATE_VERIFY_FAILED\n");
	wait_for(&r, &r.hs_events, 1);
	stop(&r);
	/* The client's alert, in the server's words. */
	skt_assert_err(r.hs_err, SKT_ETLSUNTRUSTED);
	cr_assert(strstr(r.hs_reason, "unknown ca") != NULL, "reason '%s'",
		  r.hs_reason);
	cr_assert(r.hs_peer_loopback);
	/* Never served: no OPEN, no CLOSE, nothing in errors. */
	cr_assert_eq(r.opens, 0);
	cr_assert_eq(r.closes, 0);
	cr_assert_eq(r.last.accepted, 1);
	cr_assert_eq(r.last.handshakes, 0);
	cr_assert_eq(r.last.handshakes_failed, 1);
	cr_assert_eq(r.last.errors, 0);
	cr_assert_eq(r.last.timeouts, 0);
	drop_certs();
}

SKT_TEST(tls_server, plain_text_to_the_tls_port_is_a_failed_handshake)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	int fd = dial(&r);
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	cr_assert_eq(skt_send_all(fd, req, sizeof(req) - 1, WAIT_MS, NULL), 0);
	int end = read_to_end(fd); /* an alert, then the end: no hang */
	cr_assert(end == 0 || end == SKT_ECONNRESET, "%s", skt_errname(end));
	skt_close(fd);
	wait_for(&r, &r.hs_events, 1);
	stop(&r);
	skt_assert_err(r.hs_err, SKT_ETLS);
	cr_assert(strstr(r.hs_reason, "http request") != NULL, "reason '%s'",
		  r.hs_reason);
	cr_assert_eq(r.opens, 0);
	cr_assert_eq(r.last.handshakes_failed, 1);
	cr_assert_eq(r.last.errors, 0);
	drop_certs();
}

/* Without verbose a flood of failures costs a line a second per worker,
 * every one counted. */
SKT_TEST(tls_server, failed_handshakes_are_reported_once_a_second)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	r.o.workers = 1;
	r.o.verbose = false;
	start(&r);
	for (int i = 0; i < 4; i++) {
		int fd = dial(&r);
		cr_assert_eq(skt_send_all(fd, "hello\n", 6, WAIT_MS, NULL), 0);
		read_to_end(fd);
		skt_close(fd);
	}
	/* Each failure was reported or counted before its close. */
	wait_for(&r, &r.hs_events, 1);
	pthread_mutex_lock(&r.mu);
	unsigned first = r.hs_events;
	pthread_mutex_unlock(&r.mu);
	cr_assert_eq(first, 1, "%u events in a second", first);
	usleep(1100 * 1000);
	int fd = dial(&r);
	cr_assert_eq(skt_send_all(fd, "hello\n", 6, WAIT_MS, NULL), 0);
	read_to_end(fd);
	skt_close(fd);
	wait_for(&r, &r.hs_events, 2);
	stop(&r);
	cr_assert_eq(r.hs_events, 2);
	cr_assert_eq(r.hs_quiet, 3, "the three not reported, counted");
	skt_assert_err(r.hs_err, SKT_ETLS); /* "wrong version number" */
	cr_assert_eq(r.last.handshakes_failed, 5);
	drop_certs();
}

/* ---- The handshake deadline, apart from the idle timeout ---- */

SKT_TEST(tls_server, a_silent_client_meets_the_handshake_deadline)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	r.o.handshake_timeout_ms = 300;
	r.o.idle_ms = 10000;
	start(&r);
	int64_t t0 = sktest_now_ms();
	int fd = dial(&r);
	read_to_end(fd);
	int64_t took = sktest_now_ms() - t0;
	skt_close(fd);
	cr_assert(took >= 250 && took < 3000, "ended after %lld ms",
		  (long long)took);
	wait_for(&r, &r.hs_events, 1);
	stop(&r);
	skt_assert_err(r.hs_err, SKT_ETIMEDOUT);
	cr_assert_str_eq(r.hs_reason, "");
	cr_assert_eq(r.last.handshakes_failed, 1);
	cr_assert_eq(r.last.timeouts, 0, "not an idle timeout");
	drop_certs();
}

SKT_TEST(tls_server, idle_timeout_runs_from_the_handshake_end_only)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	r.o.handshake_timeout_ms = 1200;
	r.o.idle_ms = 150;
	start(&r);
	/* Silent: the short idle timeout does not cut the handshake. */
	int64_t t0 = sktest_now_ms();
	int fd = dial(&r);
	read_to_end(fd);
	int64_t took = sktest_now_ms() - t0;
	skt_close(fd);
	cr_assert(took >= 1100, "cut after %lld ms", (long long)took);
	/* Shakes hands, echoes, then idles: the idle timeout ends it. */
	skt_tls_ctx *cctx = client_ctx(NULL);
	skt_conn *c = tls_dial(&r, cctx, "localhost");
	tls_echo(c, "before idling\n");
	t0 = sktest_now_ms();
	char b;
	ssize_t n = skt_conn_read(c, &b, 1);
	took = sktest_now_ms() - t0;
	/* A timeout is not a close the service asked for: no close_notify
	 * (stream.h). */
	skt_assert_err(n, SKT_ETRUNCATED);
	cr_assert(took >= 100 && took < 1100, "idle end after %lld ms",
		  (long long)took);
	skt_conn_free(c);
	skt_tls_ctx_free(cctx);
	wait_for(&r, &r.closes, 1);
	stop(&r);
	skt_assert_err(r.close_err, SKT_ETIMEDOUT);
	cr_assert_eq(r.last.handshakes, 1);
	cr_assert_eq(r.last.handshakes_failed, 1);
	cr_assert_eq(r.last.timeouts, 1);
	drop_certs();
}

/* ---- Stopping ---- */

SKT_TEST(tls_server, graceful_stop_sends_close_notify)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	start(&r);
	skt_tls_ctx *cctx = client_ctx(NULL);
	skt_conn *c = tls_dial(&r, cctx, "localhost");
	tls_echo(c, "still here\n");
	/* python waits for the server's end after its echo. */
	char port[8];
	snprintf(port, sizeof(port), "%u", r.port);
	const char *argv[] = {port, cert("ca.pem"), "localhost", "wait", NULL};
	int out;
	pid_t pid = sktest_python(py_client, argv, &out);
	line_starting(out, "hello over tls");
	skt_server_stop(r.srv);
	char b;
	skt_assert_err(skt_conn_read(c, &b, 1), 0); /* not SKT_ETRUNCATED */
	char rest[512];
	sktest_slurp(out, rest, sizeof(rest));
	cr_assert_eq(sktest_wait(pid), 0, "python: %s", rest);
	cr_assert_str_eq(rest, "clean\nunwrapped\n");
	skt_conn_free(c);
	skt_tls_ctx_free(cctx);
	finish(&r);
	cr_assert_eq(r.last.handshakes, 2);
	cr_assert_eq(r.deadline_cuts, 0, "both ended within the drain");
	drop_certs();
}

SKT_TEST(tls_server, stop_drops_a_connection_mid_handshake)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	r.o.stats_ms = 20; /* to see the connection admitted */
	start(&r);
	int fd = dial(&r);
	int64_t end = sktest_now_ms() + WAIT_MS;
	for (;;) {
		pthread_mutex_lock(&r.mu);
		uint64_t open = r.open_now;
		pthread_mutex_unlock(&r.mu);
		if (open == 1)
			break;
		cr_assert_lt(sktest_now_ms(), end, "never admitted");
		usleep(5000);
	}
	int64_t t0 = sktest_now_ms();
	stop(&r);
	int64_t took = sktest_now_ms() - t0;
	/* Dropped at once, not left to the drain's deadline. */
	cr_assert_lt(took, SKT_SERVER_DRAIN_MS / 2, "stopped in %lld ms",
		     (long long)took);
	cr_assert_eq(read_to_end(fd), 0);
	skt_close(fd);
	cr_assert_eq(r.deadline_cuts, 0);
	cr_assert_eq(r.last.accepted, 1);
	cr_assert_eq(r.last.handshakes_failed, 0, "the stop's doing");
	cr_assert_eq(r.hs_events, 0);
	drop_certs();
}

/* ---- What the service can see of the handshake ---- */

SKT_TEST(tls_server, conn_tls_gives_alpn_and_sni)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_info, server_ctx("h2,http/1.1"));
	skt_assert_err(skt_tls_ctx_add_sni(r.ctx, "other.invalid",
					   cert("other.pem"),
					   cert("server.key")),
		       0);
	start(&r);
	skt_tls_ctx *cctx = client_ctx("http/1.1");
	skt_conn *c = tls_dial(&r, cctx, "localhost");
	const uint8_t *line;
	ssize_t n = skt_conn_read_line(c, 0, &line);
	cr_assert_gt(n, 0, "%s", skt_errname((int)n));
	cr_assert_eq(strncmp((const char *)line,
			     "alpn=http/1.1 sni=localhost TLSv1.3\n",
			     (size_t)n),
		     0, "%.*s", (int)n, line);
	/* tell: close_notify after the line. */
	skt_assert_err(skt_conn_read_line(c, 0, &line), SKT_EOF);
	skt_conn_free(c);
	skt_tls_ctx_free(cctx);
	/* python asks for other.invalid: verified by that name, so it got
	 * the SNI certificate. */
	char out[512];
	int st = python_client(&r, cert("ca.pem"), "other.invalid", "h2", out,
			       sizeof(out));
	cr_assert_eq(st, 0, "python: %s", out);
	cr_assert_str_eq(out, "alpn=h2 sni=other.invalid TLSv1.3 TLSv1.3\n"
			      "unwrapped\n");
	wait_for(&r, &r.closes, 2);
	stop(&r);
	cr_assert_eq(r.last.handshakes, 2);
	drop_certs();
}

SKT_TEST(tls_server, conn_tls_is_null_without_tls)
{
	make_certs(); /* for cert()'s paths; unused */
	struct run r;
	prepare(&r, &svc_info, NULL);
	start(&r);
	int fd = dial(&r);
	char buf[64];
	cr_assert_eq(skt_read_exact(fd, buf, 6, WAIT_MS, NULL), 6);
	cr_assert_eq(memcmp(buf, "plain\n", 6), 0);
	skt_shutdown_write(fd);
	cr_assert_eq(read_to_end(fd), 0);
	skt_close(fd);
	wait_for(&r, &r.closes, 1);
	stop(&r);
	cr_assert_eq(r.last.handshakes, 0);
	drop_certs();
}

/* ---- Options ---- */

SKT_TEST(tls_server, new_refuses_tls_with_udp_a_client_context_or_bad_ms)
{
	make_certs();
	skt_tls_ctx *sctx = server_ctx(NULL), *cctx = client_ctx(NULL);
	struct run r;
	prepare(&r, &svc_echo, sctx);
	r.o.udp = true;
	skt_assert_err(skt_server_new(&r.srv, &r.o), SKT_EINVAL);
	prepare(&r, &svc_echo, sctx);
	r.o.handshake_timeout_ms = -1;
	skt_assert_err(skt_server_new(&r.srv, &r.o), SKT_EINVAL);
	prepare(&r, &svc_echo, cctx);
	skt_assert_err(skt_server_new(&r.srv, &r.o), SKT_EINVAL);
	prepare(&r, &svc_echo, NULL);
	r.o.handshake_timeout_ms = -1;
	skt_assert_err(skt_server_new(&r.srv, &r.o), SKT_EINVAL);
	cr_assert_eq(r.port, 0, "nothing listened");
	pthread_mutex_destroy(&r.mu);
	skt_tls_ctx_free(sctx);
	skt_tls_ctx_free(cctx);
	drop_certs();
}

/* ---- Many at once ---- */

SKT_TEST(tls_server, thousand_concurrent_tls_echo_clients)
{
	make_certs();
	struct run r;
	prepare(&r, &svc_echo, server_ctx(NULL));
	r.o.verbose = false;
	r.o.handshake_timeout_ms = 20000; /* a loaded machine, ASan */
	start(&r);
	char port[8];
	snprintf(port, sizeof(port), "%u", r.port);
	const char *argv[] = {port, cert("ca.pem"), "1000", NULL};
	int out;
	pid_t pid = sktest_python(py_many, argv, &out);
	char got[4096];
	sktest_slurp(out, got, sizeof(got));
	cr_assert_eq(sktest_wait(pid), 0, "python: %s", got);
	unsigned n = 0, bytes = 0;
	cr_assert_eq(sscanf(got, "ok %u %u", &n, &bytes), 2, "%s", got);
	cr_assert_eq(n, 1000);
	stop(&r);
	cr_assert_eq(r.last.accepted, 1000);
	cr_assert_eq(r.last.handshakes, 1000);
	cr_assert_eq(r.last.handshakes_failed, 0);
	cr_assert_eq(r.last.errors, 0);
	cr_assert_eq(r.last.bytes_in, bytes);
	cr_assert_eq(r.last.bytes_out, bytes);
	cr_assert_eq(r.other_errors, 0);
	drop_certs();
}
