/* relay_test.c - skt_relay_run over socketpairs, pipes, files and loopback
 * TCP/UDP: each end-of-input mode, the idle timeout, bulk binary transfers
 * with a checksum through each fast path, datagrams, errors. Peers are
 * threads, so every test is one process with no fd left behind. */
#include "sktest.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pipe_pair(int p[2])
{
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
}

static void stream_pair(int fds[2])
{
	int rc = skt_socketpair(SOCK_STREAM, fds);
	cr_assert_eq(rc, 0, "socketpair: %s", skt_strerror(rc));
}

/* A connected loopback TCP pair; the listener is closed again. */
static void tcp_pair(int *cli, int *srv)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "127.0.0.1", port), 0);
	*cli = skt_connect_one(&a, SOCK_STREAM, 5000);
	cr_assert_geq(*cli, 0, "connect: %s", skt_strerror(*cli));
	*srv = skt_accept(lfd, NULL, 5000);
	cr_assert_geq(*srv, 0, "accept: %s", skt_strerror(*srv));
	skt_close(lfd);
}

/* A pipe already holding s, its write end closed: input that ends. */
static int input_of(const char *s)
{
	int p[2];
	pipe_pair(p);
	cr_assert_eq(write(p[1], s, strlen(s)), (ssize_t)strlen(s));
	close(p[1]);
	return p[0];
}

static void put(int fd, const char *s)
{
	cr_assert_eq(skt_send_all(fd, s, strlen(s), 5000, NULL), 0);
}

/* Everything fd yields until end of stream (or 5 s of silence). */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = skt_recv(fd, buf + n, cap - 1 - n, 5000);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

/* ---- Peers: threads playing the remote end ---- */

typedef struct peer_job {
	pthread_t tid;
	int fd;
	const char *reply; /* sent after the peer read end of stream */
	bool close_after;  /* then close (else only shutdown, stay open) */
	char got[256];
	size_t n;
} peer_job;

/* Read to end of stream, then reply, like `wc` or a request/response
 * server: it answers only once the relay has half-closed. */
static void *peer_main(void *arg)
{
	peer_job *p = arg;
	p->n = drain(p->fd, p->got, sizeof(p->got));
	if (p->reply != NULL)
		skt_send_all(p->fd, p->reply, strlen(p->reply), 5000, NULL);
	if (p->close_after)
		shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void peer_start(peer_job *p, int fd, const char *reply, bool close_after)
{
	*p = (peer_job){.fd = fd, .reply = reply, .close_after = close_after};
	cr_assert_eq(pthread_create(&p->tid, NULL, peer_main, p), 0);
}

/* ---- End of input: the three modes ---- */

SKT_TEST(relay, shutdown_mode_half_closes_then_waits_for_peer)
{
	int s[2], out[2];
	stream_pair(s);
	pipe_pair(out);
	int in = input_of("question");
	peer_job p;
	peer_start(&p, s[1], "answer", true);
	skt_relay_stats st;
	int rc = skt_relay_run(in, out[1], s[0], NULL, &st);
	pthread_join(p.tid, NULL);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert_str_eq(p.got, "question");
	char buf[64];
	close(out[1]);
	sktest_slurp(out[0], buf, sizeof(buf));
	cr_assert_str_eq(buf, "answer");
	cr_assert_eq(st.sent, 8);
	cr_assert_eq(st.received, 6);
	cr_assert(st.input_eof && st.peer_eof);
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

/* shut_out: a socket output (a program's end of a socketpair) reads the
 * peer's end of stream once every byte before it has arrived. */
SKT_TEST(relay, shut_out_passes_the_peers_end_on)
{
	int s[2], out[2];
	stream_pair(s);
	stream_pair(out);
	int in = input_of("q");
	peer_job p;
	peer_start(&p, s[1], "reply", true);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.shut_out = true;
	int rc = skt_relay_run(in, out[0], s[0], &o, NULL);
	pthread_join(p.tid, NULL);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	char buf[16];
	cr_assert_eq(skt_recv(out[1], buf, sizeof(buf), 3000), 5);
	cr_assert_eq(memcmp(buf, "reply", 5), 0);
	/* The end of stream, not SKT_ETIMEDOUT. */
	skt_assert_err(skt_recv(out[1], buf, sizeof(buf), 3000), 0);
	close(in);
	for (int i = 0; i < 2; i++) {
		skt_close(s[i]);
		skt_close(out[i]);
	}
}

SKT_TEST(relay, close_mode_returns_at_input_end_without_the_peer)
{
	int s[2];
	stream_pair(s);
	int in = input_of("bye");
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_CLOSE;
	int64_t t0 = now_ms();
	int rc = skt_relay_run(in, -1, s[0], &o, NULL);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert_lt(now_ms() - t0, 5000);
	char buf[8];
	cr_assert_eq(skt_recv(s[1], buf, sizeof(buf), 1000), 3);
	/* Not shut down: the caller's close does that. */
	cr_assert_eq(skt_recv(s[1], buf, sizeof(buf), 0), SKT_EAGAIN);
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, wait_mode_gives_up_after_its_deadline)
{
	int s[2];
	stream_pair(s);
	int in = input_of("x");
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_WAIT;
	o.eof_wait_ms = 200;
	skt_relay_stats st;
	int64_t t0 = now_ms();
	int rc = skt_relay_run(in, -1, s[0], &o, &st);
	int64_t took = now_ms() - t0;
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert_geq(took, 150, "took %lld ms", (long long)took);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	cr_assert_not(st.peer_eof);
	char buf[8];
	cr_assert_eq(drain(s[1], buf, sizeof(buf)), 1); /* then EOF: shut */
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, wait_mode_ends_early_when_the_tcp_peer_closes)
{
	int s[2], out[2];
	tcp_pair(&s[0], &s[1]);
	pipe_pair(out);
	int in = input_of("ping");
	peer_job p;
	peer_start(&p, s[1], "pong", true);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_WAIT;
	o.eof_wait_ms = 20000;
	int64_t t0 = now_ms();
	int rc = skt_relay_run(in, out[1], s[0], &o, NULL);
	pthread_join(p.tid, NULL);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert_lt(now_ms() - t0, 10000);
	char buf[16];
	close(out[1]);
	sktest_slurp(out[0], buf, sizeof(buf));
	cr_assert_str_eq(buf, "pong");
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, input_goes_on_after_the_peer_half_closed)
{
	int s[2];
	stream_pair(s);
	put(s[1], "early");
	shutdown(s[1], SHUT_WR);
	int in = input_of("late data");
	skt_relay_stats st;
	int rc = skt_relay_run(in, -1, s[0], NULL, &st);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	char buf[64];
	drain(s[1], buf, sizeof(buf));
	cr_assert_str_eq(buf, "late data");
	cr_assert_eq(st.received, 5);
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, peer_eof_ends_even_while_input_is_open)
{
	int s[2], in[2];
	stream_pair(s);
	pipe_pair(in); /* its write end stays open: input never ends */
	put(s[1], "done");
	shutdown(s[1], SHUT_WR);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.peer_eof_ends = true;
	skt_relay_stats st;
	int rc = skt_relay_run(in[0], -1, s[0], &o, &st);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert(st.peer_eof);
	cr_assert_not(st.input_eof);
	close(in[0]);
	close(in[1]);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, idle_timeout_ends_a_silent_relay)
{
	int s[2], in[2];
	stream_pair(s);
	pipe_pair(in);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.idle_ms = 200;
	skt_relay_stats st;
	int64_t t0 = now_ms();
	int rc = skt_relay_run(in[0], -1, s[0], &o, &st);
	int64_t took = now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "got %s", skt_errname(rc));
	cr_assert_eq(st.where, SKT_RELAY_NOWHERE);
	cr_assert_geq(took, 150, "took %lld ms", (long long)took);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	close(in[0]);
	close(in[1]);
	skt_close(s[0]);
	skt_close(s[1]);
}

/* ---- Options ---- */

SKT_TEST(relay, crlf_turns_bare_lf_into_crlf_only)
{
	int s[2];
	stream_pair(s);
	int in = input_of("a\nb\r\nc\n");
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.crlf = true;
	o.eof = SKT_RELAY_EOF_CLOSE;
	skt_relay_stats st;
	cr_assert_eq(skt_relay_run(in, -1, s[0], &o, &st), 0);
	shutdown(s[0], SHUT_WR);
	char buf[32];
	drain(s[1], buf, sizeof(buf));
	cr_assert_str_eq(buf, "a\r\nb\r\nc\r\n");
	cr_assert_eq(st.sent, 9);
	close(in);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, data_option_is_sent_instead_of_input)
{
	int s[2];
	stream_pair(s);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.data = "HEAD / HTTP/1.0\n\n";
	o.data_len = strlen(o.data);
	o.crlf = true;
	o.eof = SKT_RELAY_EOF_CLOSE;
	cr_assert_eq(skt_relay_run(-1, -1, s[0], &o, NULL), 0);
	shutdown(s[0], SHUT_WR);
	char buf[64];
	drain(s[1], buf, sizeof(buf));
	cr_assert_str_eq(buf, "HEAD / HTTP/1.0\r\n\r\n");
	skt_close(s[0]);
	skt_close(s[1]);
}

/* ---- Errors ---- */

SKT_TEST(relay, output_reader_gone_is_epipe_on_the_output_side)
{
	int s[2], out[2], in[2];
	stream_pair(s);
	pipe_pair(out);
	pipe_pair(in);
	close(out[0]);
	put(s[1], "nobody reads this");
	skt_relay_stats st;
	int rc = skt_relay_run(in[0], out[1], s[0], NULL, &st);
	cr_assert_eq(rc, SKT_EPIPE, "got %s", skt_errname(rc));
	cr_assert_eq(st.where, SKT_RELAY_OUTPUT);
	cr_assert_str_eq(skt_relay_side_name(st.where), "output");
	close(out[1]);
	close(in[0]);
	close(in[1]);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, bad_arguments_are_refused)
{
	int p[2];
	pipe_pair(p);
	cr_assert_eq(skt_relay_run(-1, -1, p[0], NULL, NULL), SKT_ENOTSOCK);
	int s[2];
	stream_pair(s);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = (skt_relay_eof)42;
	cr_assert_eq(skt_relay_run(-1, -1, s[0], &o, NULL), SKT_EINVAL);
	o = (skt_relay_opts)SKT_RELAY_OPTS_INIT;
	o.idle_ms = -5;
	cr_assert_eq(skt_relay_run(-1, -1, s[0], &o, NULL), SKT_EINVAL);
	close(p[0]);
	close(p[1]);
	skt_close(s[0]);
	skt_close(s[1]);
}

SKT_TEST(relay, failed_allocation_leaves_nothing_behind)
{
	int s[2];
	stream_pair(s);
	sktest_fail_alloc_at(1);
	cr_assert_eq(skt_relay_run(-1, -1, s[0], NULL, NULL), SKT_ENOMEM);
	sktest_fail_alloc_at(2);
	cr_assert_eq(skt_relay_run(-1, -1, s[0], NULL, NULL), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	skt_close(s[0]);
	skt_close(s[1]);
}

/* ---- Datagrams ---- */

/* A UDP socket on 127.0.0.1:0; *where gets its address. */
static int udp_socket(skt_addr *where)
{
	skt_listen_opts lo = {.family = AF_INET};
	int fd = skt_udp_bind(NULL, "0", &lo);
	cr_assert_geq(fd, 0, "udp_bind: %s", skt_strerror(fd));
	cr_assert_eq(skt_sock_local(fd, where), 0);
	return fd;
}

/* Input whose every read is one record: a SOCK_SEQPACKET socketpair. The
 * records are queued and the writing end closed (end of input). */
static int records_of(const char *const *recs)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
		     0);
	for (size_t i = 0; recs[i] != NULL; i++)
		cr_assert_eq(send(sp[1], recs[i], strlen(recs[i]), 0),
			     (ssize_t)strlen(recs[i]));
	close(sp[1]);
	return sp[0];
}

static void expect_dgram(int fd, const char *want)
{
	char buf[64];
	ssize_t n = skt_recvfrom(fd, buf, sizeof(buf) - 1, NULL, 2000, NULL);
	cr_assert_geq(n, 0, "recvfrom: %s", skt_strerror((int)n));
	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

SKT_TEST(relay, datagram_each_input_read_is_one_datagram)
{
	skt_addr pa, ra;
	int peer_fd = udp_socket(&pa);
	int sock = skt_connect_one(&pa, SOCK_DGRAM, 1000);
	cr_assert_geq(sock, 0, "connect: %s", skt_strerror(sock));
	cr_assert_eq(skt_sock_local(sock, &ra), 0);
	cr_assert_eq(skt_sendto(peer_fd, "reply", 5, &ra, 1000), 5);
	int in = records_of((const char *const[]){"one", "two", NULL});
	int out[2];
	pipe_pair(out);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_WAIT;
	o.eof_wait_ms = 200;
	skt_relay_stats st;
	int rc = skt_relay_run(in, out[1], sock, &o, &st);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	expect_dgram(peer_fd, "one");
	expect_dgram(peer_fd, "two");
	cr_assert_eq(st.dgrams_sent, 2);
	cr_assert_eq(st.dgrams_received, 1);
	char buf[16];
	close(out[1]);
	sktest_slurp(out[0], buf, sizeof(buf));
	cr_assert_str_eq(buf, "reply");
	close(in);
	skt_close(sock);
	skt_close(peer_fd);
}

SKT_TEST(relay, datagram_port_unreachable_is_connection_refused)
{
	skt_addr gone;
	skt_close(udp_socket(&gone)); /* a port nobody listens on now */
	int sock = skt_connect_one(&gone, SOCK_DGRAM, 1000);
	cr_assert_geq(sock, 0);
	int in = records_of((const char *const[]){"anyone?", NULL});
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.eof = SKT_RELAY_EOF_WAIT;
	o.eof_wait_ms = 5000;
	skt_relay_stats st;
	int rc = skt_relay_run(in, -1, sock, &o, &st);
	cr_assert_eq(rc, SKT_ECONNREFUSED, "got %s", skt_errname(rc));
	cr_assert_eq(st.where, SKT_RELAY_SOCKET);
	close(in);
	skt_close(sock);
}

/* reply_to_last: on_peer sees each new sender; when the second one shows
 * up it releases the input, which must go to that second sender. */
typedef struct senders {
	int seen;
	int in_writer;   /* write end of the input records */
	skt_addr refuse; /* a sender to drop, len 0 for none */
} senders;

static bool on_sender(const skt_addr *peer, void *arg)
{
	senders *s = arg;
	if (s->refuse.len != 0 && skt_addr_equal(peer, &s->refuse))
		return false;
	if (++s->seen == 2) {
		cr_assert_eq(send(s->in_writer, "to-b", 4, 0), 4);
		close(s->in_writer);
	}
	return true;
}

static void run_listener(senders *s, int *a, int *b, skt_relay_stats *st,
			 char *out_text, size_t cap)
{
	skt_addr la, aa, ba;
	int lfd = udp_socket(&la);
	*a = udp_socket(&aa);
	*b = udp_socket(&ba);
	int sp[2], out[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
		     0);
	pipe_pair(out);
	s->in_writer = sp[1];
	if (s->refuse.len != 0)
		s->refuse = ba;
	cr_assert_eq(skt_sendto(*a, "from-a", 6, &la, 1000), 6);
	cr_assert_eq(skt_sendto(*b, "from-b", 6, &la, 1000), 6);
	cr_assert_eq(skt_sendto(*a, "again-a", 7, &la, 1000), 7);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.reply_to_last = true;
	o.on_peer = on_sender;
	o.peer_arg = s;
	o.eof = SKT_RELAY_EOF_WAIT;
	o.eof_wait_ms = 200;
	o.idle_ms = 1000; /* when the input is never released */
	skt_relay_run(sp[0], out[1], lfd, &o, st);
	close(out[1]);
	sktest_slurp(out[0], out_text, cap);
	close(sp[0]);
	if (s->seen < 2)
		close(sp[1]);
	skt_close(lfd);
}

SKT_TEST(relay, datagram_replies_go_to_the_last_sender)
{
	senders s = {0};
	int a, b;
	skt_relay_stats st;
	char out[64];
	run_listener(&s, &a, &b, &st, out, sizeof(out));
	cr_assert_str_eq(out, "from-afrom-bagain-a");
	expect_dgram(b, "to-b");
	char buf[8];
	cr_assert_eq(skt_recvfrom(a, buf, sizeof(buf), NULL, 0, NULL),
		     SKT_EAGAIN);
	cr_assert_eq(st.dgrams_received, 3);
	skt_close(a);
	skt_close(b);
}

SKT_TEST(relay, datagram_refused_sender_is_dropped)
{
	senders s = {.refuse = {.len = 1}};
	int a, b;
	skt_relay_stats st;
	char out[64];
	run_listener(&s, &a, &b, &st, out, sizeof(out));
	cr_assert_str_eq(out, "from-aagain-a");
	cr_assert_eq(st.dgrams_dropped, 1);
	cr_assert_eq(st.dgrams_received, 2);
	skt_close(a);
	skt_close(b);
}
