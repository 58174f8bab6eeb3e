/* service_run_test.c - the machinery behind `sockit serve`, in-process:
 * the per-address connection table, quote files, and whole servers (echo,
 * hello, chat) made by skt_server_new, served in a thread of the test and
 * stopped by skt_server_stop or a real SIGTERM, which must leave no fd and
 * no allocation behind (the teardown checks both). The command's own
 * behaviour is tested from the outside in tests/cli/test_serve.py. */
#include "server/server_int.h"
#include "sktest.h"
#include "tools/serve/services.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000

/* ---- The per-address table ---- */

static skt_addr addr_of(const char *text)
{
	skt_addr a;
	int r = skt_addr_parse(&a, text, 0);
	cr_assert_eq(r, 0, "%s: %s", text, skt_strerror(r));
	return a;
}

SKT_TEST(service_peers, per_host_limit_ignores_ports_and_v4_mapping)
{
	skt__peers *p;
	cr_assert_eq(skt__peers_new(&p), 0);
	skt_addr a1 = addr_of("10.0.0.1:1"), a2 = addr_of("10.0.0.1:2");
	skt_addr mapped = addr_of("[::ffff:10.0.0.1]:3");
	skt_addr b = addr_of("[2001:db8::1]:1");
	cr_assert_eq(skt__peers_take(p, &a1, 2), 1);
	cr_assert_eq(skt__peers_take(p, &a2, 2), 1);
	cr_assert_eq(skt__peers_take(p, &mapped, 2), 0, "mapped is 10.0.0.1");
	cr_assert_eq(skt__peers_take(p, &b, 2), 1);
	skt__peers_put(p, &a1);
	cr_assert_eq(skt__peers_take(p, &mapped, 2), 1);
	skt__peers_put(p, &mapped);
	skt__peers_put(p, &a2);
	skt__peers_put(p, &b);
	skt__peers_free(p);
}

SKT_TEST(service_peers, table_grows_and_empties)
{
	skt__peers *p;
	cr_assert_eq(skt__peers_new(&p), 0);
	char text[64];
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 500; i++) {
			snprintf(text, sizeof(text), "10.1.%d.%d:80", i / 250,
				 i % 250);
			skt_addr a = addr_of(text);
			int want = pass == 0
					   ? 1
					   : 0; /* pass 1: each at its limit */
			cr_assert_eq(skt__peers_take(p, &a, 1), want, "%s",
				     text);
		}
	}
	for (int i = 0; i < 500; i++) {
		snprintf(text, sizeof(text), "10.1.%d.%d:80", i / 250, i % 250);
		skt_addr a = addr_of(text);
		skt__peers_put(p, &a);
	}
	skt__peers_free(p);
}

SKT_TEST(service_peers, out_of_memory_refuses)
{
	skt__peers *p;
	cr_assert_eq(skt__peers_new(&p), 0);
	skt_addr a = addr_of("10.0.0.1:1");
	sktest_fail_alloc_at(1);
	skt_assert_err(skt__peers_take(p, &a, 5), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	skt__peers_free(p);
}

/* ---- Quote files ---- */

static int load(const char *text, size_t len, svc_quotes *q,
		svc_quotes_fault *f)
{
	char path[64];
	strcpy(path, "/tmp/sockit-quotes-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	int r = quotes_load(q, path, f);
	unlink(path);
	return r;
}

#define LOAD(text, q, f) load(text, sizeof(text) - 1, q, f)

SKT_TEST(service_quotes, fortune_format_and_one_per_line)
{
	svc_quotes q;
	svc_quotes_fault f;
	cr_assert_eq(LOAD("\n one\r\ntwo\n\n%\n%\nthree\n%", &q, &f), 0);
	cr_assert_eq(q.n, 2);
	cr_assert_str_eq(q.v[0], " one\r\ntwo\r\n");
	cr_assert_str_eq(q.v[1], "three\r\n");
	quotes_free(&q);
	cr_assert_eq(LOAD("a\n\nb\r\nc", &q, &f), 0);
	cr_assert_eq(q.n, 3);
	cr_assert_str_eq(q.v[2], "c\r\n");
	quotes_free(&q);
}

SKT_TEST(service_quotes, refuses_long_empty_and_missing)
{
	svc_quotes q;
	svc_quotes_fault f;
	char big[700];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char text[800];
	int n = snprintf(text, sizeof(text), "ok\n%s\n", big);
	skt_assert_err(load(text, (size_t)n, &q, &f), SKT_ETOOBIG);
	cr_assert_eq(f.line, 2);
	skt_assert_err(LOAD("\n\n", &q, &f), SKT_EINVAL);
	cr_assert_null(f.kind);
	skt_assert_err(quotes_load(&q, "/nonexistent/q", &f), SKT_ENOENT);
	cr_assert_eq(q.n, 0);
}

/* RFC 865: printable ASCII, spaces, CR LF. A NUL, an escape, a bare CR
 * or UTF-8 is refused at its line; a tab is served as spaces. */
SKT_TEST(service_quotes, refuses_what_is_not_printable_text)
{
	svc_quotes q;
	svc_quotes_fault f;
	skt_assert_err(LOAD("ok\n%\n\x7f"
			    "ELF\x02\x01\x00\n",
			    &q, &f),
		       SKT_EMALFORMED);
	cr_assert_eq(f.line, 3);
	skt_assert_err(LOAD("a\nb\nnul \0 here\n", &q, &f), SKT_EMALFORMED);
	cr_assert_eq(f.line, 3);
	skt_assert_err(LOAD("\x1b]0;owned\x07\n", &q, &f), SKT_EMALFORMED);
	cr_assert_eq(f.line, 1);
	skt_assert_err(LOAD("fine\r\nforged\r* line\n", &q, &f),
		       SKT_EMALFORMED);
	cr_assert_eq(f.line, 2);
	skt_assert_err(LOAD("caf\xc3\xa9\n", &q, &f), SKT_EMALFORMED);
	cr_assert_eq(q.n, 0);
	cr_assert_eq(LOAD("a\tb\r\n\t-- c\n", &q, &f), 0);
	cr_assert_eq(q.n, 2);
	cr_assert_str_eq(q.v[0], "a       b\r\n");
	cr_assert_str_eq(q.v[1], "        -- c\r\n");
	quotes_free(&q);
}

/* A quote of 510 characters and its CRLF fits; tabs count as the spaces
 * they become. */
SKT_TEST(service_quotes, tabs_count_as_their_spaces)
{
	svc_quotes q;
	svc_quotes_fault f;
	char text[600];
	memset(text, 'x', 510);
	memcpy(text + 510, "\n", 2);
	cr_assert_eq(load(text, 511, &q, &f), 0);
	quotes_free(&q);
	/* 64 tabs: 512 spaces, over the limit with the CRLF. */
	memset(text, '\t', 64);
	memcpy(text + 64, "\n", 2);
	skt_assert_err(load(text, 65, &q, &f), SKT_ETOOBIG);
	cr_assert_eq(f.line, 1);
}

/* Not a regular file: refused by what it is, a FIFO without blocking
 * (the test's timeout would end a read that waited for a writer). */
SKT_TEST(service_quotes, refuses_fifo_directory_and_device)
{
	svc_quotes q;
	svc_quotes_fault f;
	char dir[] = "/tmp/sockit-quotes-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	skt_assert_err(quotes_load(&q, fifo, &f), SKT_EINVAL);
	cr_assert_str_eq(f.kind, "a FIFO");
	skt_assert_err(quotes_load(&q, dir, &f), SKT_EINVAL);
	cr_assert_str_eq(f.kind, "a directory");
	skt_assert_err(quotes_load(&q, "/dev/null", &f), SKT_EINVAL);
	cr_assert_str_eq(f.kind, "a character device");
	cr_assert_eq(q.n, 0);
	unlink(fifo);
	rmdir(dir);
}

/* ---- Whole servers ---- */

struct run {
	skt_server_opts o;
	skt_server *srv;
	pthread_t thread;
	int rc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint16_t port;
	bool stopped;
	unsigned refused;
	unsigned closes;
};

static void on_event(const skt_server_event *ev, void *arg)
{
	struct run *r = arg;
	pthread_mutex_lock(&r->mu);
	if (ev->kind == SKT_SERVER_EV_LISTENING)
		r->port = skt_addr_port(ev->addr);
	else if (ev->kind == SKT_SERVER_EV_STOPPED)
		r->stopped = true;
	else if (ev->kind == SKT_SERVER_EV_REFUSED)
		r->refused++;
	else if (ev->kind == SKT_SERVER_EV_CLOSE)
		r->closes++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void *runner(void *arg)
{
	struct run *r = arg;
	r->rc = skt_server_serve(r->srv);
	return NULL;
}

/* Wait until *field (under r's lock) is at least want. */
static void wait_count(struct run *r, const unsigned *field, unsigned want)
{
	int64_t end = sktest_now_ms() + WAIT_MS;
	pthread_mutex_lock(&r->mu);
	while (*field < want && sktest_now_ms() < end) {
		pthread_mutex_unlock(&r->mu);
		usleep(2000);
		pthread_mutex_lock(&r->mu);
	}
	unsigned got = *field;
	pthread_mutex_unlock(&r->mu);
	cr_assert_geq(got, want, "waited for %u, got %u", want, got);
}

/* The head deadline of the next server started (0: none). */
static int next_header_ms;

static void start_with(struct run *r, const skt_service *svc, size_t max_per_ip,
		       bool signals)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->o.svc = svc;
	r->o.naddrs = 1;
	strcpy(r->o.addrs[0].host, "127.0.0.1");
	strcpy(r->o.addrs[0].port, "0");
	r->o.tcp = true;
	r->o.workers = (svc->flags & SKT_SERVICE_ONE_LOOP) ? 1 : 2;
	r->o.max_per_ip = max_per_ip;
	r->o.max_queue = svc == &svc_chat ? 65536 : 0; /* chat: a small cap */
	r->o.verbose = true;
	r->o.signals = signals;
	r->o.header_timeout_ms = next_header_ms;
	r->o.log = on_event;
	r->o.log_arg = r;
	int rc = skt_server_new(&r->srv, &r->o);
	cr_assert_eq(rc, 0, "new: %s", skt_strerror(rc));
	/* LISTENING came before skt_server_new returned. */
	cr_assert_neq(r->port, 0, "no LISTENING event");
	cr_assert_eq(pthread_create(&r->thread, NULL, runner, r), 0);
}

static void start(struct run *r, const skt_service *svc, size_t max_per_ip)
{
	start_with(r, svc, max_per_ip, false);
}

static void finish_run(struct run *r)
{
	pthread_join(r->thread, NULL);
	skt_server_free(r->srv);
	cr_assert_eq(r->rc, 0, "serve: %s", skt_strerror(r->rc));
	cr_assert(r->stopped, "no STOPPED event");
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

static void stop(struct run *r)
{
	skt_server_stop(r->srv);
	finish_run(r);
}

static int dial(const struct run *r)
{
	skt_addr a = addr_of("127.0.0.1:1");
	skt_addr_set_port(&a, r->port);
	int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	return fd;
}

/* Read until text has been seen; returns what was read. */
static size_t read_until(int fd, char *buf, size_t cap, const char *text)
{
	size_t n = 0;
	buf[0] = '\0';
	while (strstr(buf, text) == NULL && n + 1 < cap) {
		ssize_t got = skt_recv(fd, buf + n, cap - 1 - n, WAIT_MS);
		cr_assert_gt(got, 0, "waiting for '%s': %s, have '%s'", text,
			     skt_strerror((int)got), buf);
		n += (size_t)got;
		buf[n] = '\0';
	}
	return n;
}

SKT_TEST(service_run, echo_serves_then_stops_on_sigterm)
{
	struct run r;
	start_with(&r, &svc_echo, 0, true);
	int fds[20];
	for (int i = 0; i < 20; i++)
		fds[i] = dial(&r);
	for (int i = 0; i < 20; i++) {
		char msg[32], back[32];
		int n = snprintf(msg, sizeof(msg), "client %d\n", i);
		cr_assert_eq(
			skt_send_all(fds[i], msg, (size_t)n, WAIT_MS, NULL), 0);
		cr_assert_eq(
			skt_read_exact(fds[i], back, (size_t)n, WAIT_MS, NULL),
			n);
		cr_assert_eq(memcmp(msg, back, (size_t)n), 0);
	}
	for (int i = 0; i < 10; i++)
		skt_close(fds[i]);
	kill(getpid(), SIGTERM); /* the server's signal watcher takes it */
	finish_run(&r);          /* ten still open: drained, not leaked */
	for (int i = 10; i < 20; i++) {
		char c;
		skt_assert_err(skt_recv(fds[i], &c, 1, WAIT_MS), 0);
		skt_close(fds[i]);
	}
}

SKT_TEST(service_run, hello_answers_pipelined_requests_in_order)
{
	struct run r;
	start(&r, &svc_hello, 0);
	int fd = dial(&r);
	const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
			   "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /c HTTP/1.0\r\n\r\n";
	cr_assert_eq(skt_send_all(fd, req, sizeof(req) - 1, WAIT_MS, NULL), 0);
	char buf[4096];
	size_t n = 0;
	for (;;) {
		ssize_t got =
			skt_recv(fd, buf + n, sizeof(buf) - 1 - n, WAIT_MS);
		cr_assert_geq(got, 0, "%s", skt_strerror((int)got));
		if (got == 0)
			break; /* HTTP/1.0: closed after the third */
		n += (size_t)got;
	}
	buf[n] = '\0';
	int answers = 0, bodies = 0;
	for (const char *p = buf; (p = strstr(p, "HTTP/1.1 200 OK")); p++)
		answers++;
	for (const char *p = buf; (p = strstr(p, "Hello, world!\n")); p++)
		bodies++;
	cr_assert_eq(answers, 3, "%s", buf);
	cr_assert_eq(bodies, 2, "HEAD has none: %s", buf);
	cr_assert(strstr(buf, "Connection: close\r\n") != NULL);
	skt_close(fd);
	stop(&r);
}

SKT_TEST(service_run, chat_member_hears_the_other)
{
	struct run r;
	start(&r, &svc_chat, 0);
	char buf[2048];
	int a = dial(&r);
	read_until(a, buf, sizeof(buf), "/quit\n");
	int b = dial(&r);
	read_until(b, buf, sizeof(buf), "/quit\n");
	read_until(a, buf, sizeof(buf), "joined\n");
	cr_assert_eq(skt_send_all(a, "/nick ann\nhi\n", 13, WAIT_MS, NULL), 0);
	read_until(b, buf, sizeof(buf), "<ann> hi\n");
	cr_assert(strstr(buf, "is now ann\n") != NULL, "%s", buf);
	skt_close(a);
	read_until(b, buf, sizeof(buf), "* ann left\n");
	skt_close(b);
	stop(&r);
}

SKT_TEST(service_run, max_per_ip_refusal_is_reported)
{
	struct run r;
	start(&r, &svc_echo, 1);
	int a = dial(&r);
	char c;
	cr_assert_eq(skt_send_all(a, "x", 1, WAIT_MS, NULL), 0);
	cr_assert_eq(skt_read_exact(a, &c, 1, WAIT_MS, NULL), 1);
	/* Accepted by the kernel, then reset: maybe before connect returns. */
	skt_addr at = addr_of("127.0.0.1:1");
	skt_addr_set_port(&at, r.port);
	int b = skt_connect_one(&at, SOCK_STREAM, WAIT_MS);
	cr_assert(b >= 0 || b == SKT_ECONNRESET, "%s", skt_strerror(b));
	wait_count(&r, &r.refused, 1);
	if (b >= 0)
		skt_close(b);
	skt_close(a);
	wait_count(&r, &r.closes, 1);
	stop(&r);
}

SKT_TEST(service_run,
	 hello_pipeliner_slower_than_the_head_deadline_keeps_answers)
{
	/* A client that pipelines and reads its answers later: while hello
	 * waits for the queue to go out it waits for no head, so the head
	 * deadline must not reset it. */
	next_header_ms = 200;
	struct run r;
	start(&r, &svc_hello, 0);
	int fd = dial(&r);
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	enum { N = 2000 };
	static char reqs[N * (sizeof(req) - 1)];
	for (int i = 0; i < N; i++)
		memcpy(reqs + i * (sizeof(req) - 1), req, sizeof(req) - 1);
	cr_assert_eq(skt_send_all(fd, reqs, sizeof(reqs), WAIT_MS, NULL), 0);
	usleep(600000); /* three deadlines without reading */
	static char buf[1 << 20];
	size_t n = 0;
	int answers = 0;
	while (answers < N) {
		ssize_t got = skt_recv(fd, buf + n, sizeof(buf) - n, WAIT_MS);
		cr_assert_gt(got, 0, "after %d answers: %s", answers,
			     got < 0 ? skt_strerror((int)got) : "end");
		n += (size_t)got;
		answers = 0;
		for (const char *p = buf;
		     p < buf + n &&
		     (p = memmem(p, (size_t)(buf + n - p), "HTTP/1.1 200", 12));
		     p++)
			answers++;
		cr_assert_lt(n, sizeof(buf) - 4096);
	}
	skt_close(fd);
	stop(&r);
}
