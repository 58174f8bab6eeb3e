/* tls_session_test.c - sessions a client keeps per connection
 * (skt_tls_get_session, skt_tls_set_session) against python3's ssl
 * module as the server: a thread per connection, echoing, with the
 * certificates of tests/lib/mkcerts.sh. */
#include "sktest.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char certs[64];
static char ca[96], server_pem[96], server_key[96];

static void make_certs(void)
{
	snprintf(certs, sizeof(certs), "/tmp/sockit-tls-sess-%d",
		 (int)getpid());
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh tests/lib/mkcerts.sh %s", certs);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	snprintf(server_pem, sizeof(server_pem), "%s/server.pem", certs);
	snprintf(server_key, sizeof(server_key), "%s/server.key", certs);
}

static void drop_certs(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
	system(cmd);
}

/* clang-format off */
/* Echo on every connection, a thread each, for argv[3] connections;
 * argv: cert, key, count, and "cut" to close each after its first echo
 * without close_notify. */
static const char py_server[] =
	"import socket, ssl, sys, threading\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	"ls = socket.create_server(('127.0.0.1', 0))\n"
	"ls.settimeout(20)\n"
	"print(ls.getsockname()[1], flush=True)\n"
	"def echo(c):\n"
	"    try:\n"
	"        s = ctx.wrap_socket(c, server_side=True)\n"
	"        while True:\n"
	"            d = s.recv(4096)\n"
	"            if not d:\n"
	"                break\n"
	"            s.sendall(d)\n"
	"            if sys.argv[4] == 'cut':\n"
	"                c.shutdown(socket.SHUT_RDWR)\n"
	"                break\n"
	"    except (OSError, ssl.SSLError):\n"
	"        pass\n"
	"    c.close()\n"
	"n = int(sys.argv[3])\n"
	"for i in range(n):\n"
	"    c, _ = ls.accept()\n"
	"    threading.Thread(target=echo, args=(c,)).start()\n";
/* clang-format on */

typedef struct peer {
	pid_t pid;
	char port[8];
} peer;

static void peer_start_how(peer *p, int conns, const char *how)
{
	char n[8];
	snprintf(n, sizeof(n), "%d", conns);
	const char *argv[] = {server_pem, server_key, n, how, NULL};
	int out;
	p->pid = sktest_python(py_server, argv, &out);
	char line[16] = {0};
	size_t k = 0;
	while (k < sizeof(line) - 1 && (k == 0 || line[k - 1] != '\n')) {
		struct pollfd pf = {.fd = out, .events = POLLIN};
		cr_assert_eq(poll(&pf, 1, 5000), 1, "no port from python");
		cr_assert_eq(read(out, line + k, 1), 1, "python ended");
		k++;
	}
	close(out);
	snprintf(p->port, sizeof(p->port), "%d", atoi(line));
}

static void peer_start(peer *p, int conns)
{
	peer_start_how(p, conns, "echo");
}

/* A TLS session to the peer, handshake not yet begun. */
typedef struct client {
	int fd;
	skt_tls *t;
} client;

static void client_new(client *c, skt_tls_ctx *ctx, const peer *p)
{
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	c->fd = skt_connect("127.0.0.1", p->port, &o);
	skt_assert_fd(c->fd);
	skt_assert_err(skt_tls_new(&c->t, ctx, c->fd, "localhost", NULL), 0);
}

static bool handshake(client *c)
{
	skt_assert_err(skt_tls_handshake(c->t, 5000), 0);
	skt_tls_info info;
	skt_assert_err(skt_tls_get_info(c->t, &info), 0);
	return info.resumed;
}

/* A line there and back: the read takes in the server's tickets, which
 * come before it. */
static void echo(client *c)
{
	skt_assert_err(skt_tls_write_all(c->t, "ping\n", 5, 5000, NULL), 0);
	char buf[8];
	cr_assert_eq(skt_tls_read(c->t, buf, sizeof(buf), 5000), 5);
	cr_assert_eq(memcmp(buf, "ping\n", 5), 0);
}

static void client_close(client *c)
{
	skt_tls_shutdown(c->t, 1000);
	skt_tls_free(c->t);
	skt_close(c->fd);
}

static skt_tls_ctx *client_ctx(int max_version, bool no_tickets)
{
	skt_tls_opts o = {.role = SKT_TLS_CLIENT,
			  .ca_file = ca,
			  .max_version = max_version,
			  .no_tickets = no_tickets};
	skt_tls_ctx *ctx;
	skt_assert_err(skt_tls_ctx_new(&ctx, &o), 0);
	return ctx;
}

/* The bench's case: connections that start while another is still in the
 * host's session find it spent (TLS 1.3 uses a ticket once) and run full
 * handshakes; each keeping its own resumes every time. */
SKT_TEST(tls_session, each_connection_resumes_its_own)
{
	make_certs();
	peer p;
	peer_start(&p, 6);
	skt_tls_ctx *ctx = client_ctx(0, false);

	client c0;
	client_new(&c0, ctx, &p);
	cr_assert_null(skt_tls_get_session(c0.t), "none before a handshake");
	cr_assert_not(handshake(&c0));
	echo(&c0);
	skt_tls_session *s0 = skt_tls_get_session(c0.t);
	cr_assert_not_null(s0);
	client_close(&c0);

	/* a takes the context's session for localhost (s0's) and spends it;
	 * b, starting before a has read new tickets, finds none. */
	client a, b;
	client_new(&a, ctx, &p);
	cr_assert(handshake(&a));
	client_new(&b, ctx, &p);
	cr_assert_not(handshake(&b), "the host's one session was spent");
	echo(&a);
	echo(&b);
	skt_tls_session *sa = skt_tls_get_session(a.t);
	skt_tls_session *sb = skt_tls_get_session(b.t);
	cr_assert(sa != NULL && sb != NULL);
	client_close(&a);
	client_close(&b);

	/* Side by side, each with its own: both resume. */
	client c, d;
	client_new(&c, ctx, &p);
	client_new(&d, ctx, &p);
	skt_assert_err(skt_tls_set_session(c.t, sa), 0);
	skt_assert_err(skt_tls_set_session(d.t, sb), 0);
	cr_assert(handshake(&c));
	cr_assert(handshake(&d));
	skt_assert_err(skt_tls_set_session(c.t, sb), SKT_EINVAL); /* begun */

	/* Spent: sa by c (s0 is a copy of what a spent). */
	client e;
	client_new(&e, ctx, &p);
	skt_assert_err(skt_tls_set_session(e.t, sa), SKT_EINVAL);
	skt_assert_err(skt_tls_set_session(e.t, NULL), SKT_EINVAL);
	handshake(&e); /* with the context's session for localhost */
	echo(&e);
	client_close(&e);
	echo(&c);
	echo(&d);
	client_close(&c);
	client_close(&d);

	skt_tls_session_free(s0);
	skt_tls_session_free(sa);
	skt_tls_session_free(sb);
	skt_tls_session_free(NULL);
	skt_tls_ctx_free(ctx);
	cr_assert_eq(sktest_wait(p.pid), 0);
	drop_certs();
}

/* Under TLS 1.3 a session that has read nothing has no ticket yet. */
SKT_TEST(tls_session, none_before_the_tickets_are_read)
{
	make_certs();
	peer p;
	peer_start(&p, 1);
	skt_tls_ctx *ctx = client_ctx(SKT_TLS_1_3, false);
	client c;
	client_new(&c, ctx, &p);
	handshake(&c);
	cr_assert_null(skt_tls_get_session(c.t));
	echo(&c);
	skt_tls_session *s = skt_tls_get_session(c.t);
	cr_assert_not_null(s);
	skt_tls_session_free(s);
	client_close(&c);
	skt_tls_ctx_free(ctx);
	cr_assert_eq(sktest_wait(p.pid), 0);
	drop_certs();
}

/* A session taken before the server's close without close_notify still
 * resumes: OpenSSL marks the connection's own unresumable, not the copy. */
SKT_TEST(tls_session, survives_a_close_without_close_notify)
{
	make_certs();
	peer p;
	peer_start_how(&p, 2, "cut");
	skt_tls_ctx *ctx = client_ctx(0, false);
	client c;
	client_new(&c, ctx, &p);
	handshake(&c);
	echo(&c);
	skt_tls_session *s = skt_tls_get_session(c.t);
	cr_assert_not_null(s);
	char b[8];
	skt_assert_err(skt_tls_read(c.t, b, sizeof(b), 5000), SKT_ETRUNCATED);
	cr_assert_null(skt_tls_get_session(c.t), "its own is unresumable");
	skt_tls_free(c.t);
	skt_close(c.fd);
	client_new(&c, ctx, &p);
	skt_assert_err(skt_tls_set_session(c.t, s), 0);
	cr_assert(handshake(&c));
	echo(&c);
	client_close(&c);
	skt_tls_session_free(s);
	skt_tls_ctx_free(ctx);
	cr_assert_eq(sktest_wait(p.pid), 0);
	drop_certs();
}

/* Tickets off (--no-resume): nothing to keep, every handshake full. */
SKT_TEST(tls_session, none_without_tickets)
{
	make_certs();
	peer p;
	peer_start(&p, 2);
	skt_tls_ctx *ctx = client_ctx(0, true);
	for (int i = 0; i < 2; i++) {
		client c;
		client_new(&c, ctx, &p);
		cr_assert_not(handshake(&c), "round %d", i);
		echo(&c);
		cr_assert_null(skt_tls_get_session(c.t));
		client_close(&c);
	}
	skt_tls_ctx_free(ctx);
	cr_assert_eq(sktest_wait(p.pid), 0);
	drop_certs();
}

/* TLS 1.2 sessions are not spent: one resumes twice. */
SKT_TEST(tls_session, tls12_session_resumes_twice)
{
	make_certs();
	peer p;
	peer_start(&p, 3);
	skt_tls_ctx *ctx = client_ctx(SKT_TLS_1_2, false);
	client c;
	client_new(&c, ctx, &p);
	cr_assert_not(handshake(&c));
	skt_tls_session *s = skt_tls_get_session(c.t);
	cr_assert_not_null(s, "a TLS 1.2 session is whole at the handshake");
	echo(&c);
	client_close(&c);
	for (int i = 0; i < 2; i++) {
		client_new(&c, ctx, &p);
		skt_assert_err(skt_tls_set_session(c.t, s), 0);
		cr_assert(handshake(&c), "round %d", i);
		echo(&c);
		client_close(&c);
	}
	skt_tls_session_free(s);
	skt_tls_ctx_free(ctx);
	cr_assert_eq(sktest_wait(p.pid), 0);
	drop_certs();
}
