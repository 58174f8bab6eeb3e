/* loop_listen_test.c - listeners on both backends: a burst of connections
 * accepted in batches, surviving EMFILE without spinning and serving
 * again once fds are free, freeing a listener from its callback, and N
 * worker loops on one port (SO_REUSEPORT) that all accept. */
#define LOOP_SUITE loop_listen
#include "looptest.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void echo_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status < 0) {
		skt_stream_free(s);
		return;
	}
	skt_stream_write(s, d, n);
}

/* ---- A burst ---- */

struct burst {
	int accepted;
	int errors;
	skt_stream *kept[256];
};

static void burst_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	struct burst *b = arg;
	(void)ls;
	if (status < 0) {
		b->errors++;
		return;
	}
	b->kept[b->accepted++] = s;
}

LOOP_TEST(burst_of_connections_all_accepted)
{
	skt_loop *l = looptest_new(be);
	skt_listen_opts o = {.backlog = 512};
	int lfd = skt_listen(NULL, "0", &o);
	cr_assert_geq(lfd, 0);
	skt_addr a;
	skt_sock_local(lfd, &a);
	struct burst b = {0, 0, {0}};
	skt_listener *ls;
	cr_assert_eq(skt_listener_new(l, &ls, lfd, burst_accept, &b), 0);
	int fds[150];
	for (int i = 0; i < 150; i++) {
		fds[i] = skt_connect_one(&a, SOCK_STREAM, 2000);
		cr_assert_geq(fds[i], 0);
	}
	/* One wake-up takes a batch; the rest come on the next ones. */
	cr_assert_eq(skt_loop_run(l, SKT_RUN_NOWAIT), 1);
	cr_assert_gt(b.accepted, 0);
	cr_assert_leq(b.accepted, 64, "batch of %d", b.accepted);
	for (int i = 0; i < 20 && b.accepted < 150; i++)
		skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(b.accepted, 150);
	cr_assert_eq(b.errors, 0);
	for (int i = 0; i < 150; i++) {
		skt_stream_free(b.kept[i]);
		skt_close(fds[i]);
	}
	skt_listener_free(ls);
	skt_loop_free(l);
}

static void free_listener_cb(skt_listener *ls, skt_stream *s, int status,
			     void *arg)
{
	int *n = arg;
	(void)status;
	++*n;
	skt_stream_free(s);
	skt_listener_free(ls); /* inside its own callback */
}

LOOP_TEST(listener_freed_in_its_callback)
{
	skt_loop *l = looptest_new(be);
	int lfd = skt_listen(NULL, "0", NULL);
	skt_addr a;
	skt_sock_local(lfd, &a);
	int n = 0;
	skt_listener *ls;
	cr_assert_eq(skt_listener_new(l, &ls, lfd, free_listener_cb, &n), 0);
	int c1 = skt_connect_one(&a, SOCK_STREAM, 2000);
	int c2 = skt_connect_one(&a, SOCK_STREAM, 2000);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	cr_assert_eq(n, 1);
	skt_close(c1);
	skt_close(c2);
	skt_loop_free(l);
}

/* ---- EMFILE ---- */

static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	int max = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) > max)
			max = atoi(e->d_name);
	closedir(d);
	return max;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

#define CLIENTS 30

struct starved {
	skt_loop *l;
	skt_stream *kept[CLIENTS + 8];
	int accepted;
	int emfile;
};

static void starved_accept(skt_listener *ls, skt_stream *s, int status,
			   void *arg)
{
	struct starved *st = arg;
	(void)ls;
	if (status < 0) {
		cr_assert(status == SKT_EMFILE || status == SKT_ENFILE,
			  "accept: %s", skt_errname(status));
		st->emfile++;
		return;
	}
	/* Hold the first ones (they use the fds); echo the later ones. */
	if (st->accepted < CLIENTS)
		st->kept[st->accepted] = s;
	st->accepted++;
	skt_stream_read_start(s, echo_read);
}

static void stop_cb(skt_timer *t, void *arg)
{
	(void)t;
	skt_loop_stop(arg);
}

struct late_client {
	skt_addr a;
	skt_loop *l;
	bool ok;
};

static void *late_client(void *arg)
{
	struct late_client *c = arg;
	int fd = skt_connect_one(&c->a, SOCK_STREAM, 2000);
	char buf[4];
	c->ok = fd >= 0 && skt_send_all(fd, "ping", 4, 2000, NULL) == 0 &&
		skt_read_exact(fd, buf, 4, 2000, NULL) == 4 &&
		memcmp(buf, "ping", 4) == 0;
	skt_close(fd);
	skt_loop_stop(c->l);
	return NULL;
}

LOOP_TEST(listener_survives_emfile_without_spinning)
{
	struct starved st;
	memset(&st, 0, sizeof(st));
	st.l = looptest_new(be);
	int lfd = skt_listen(NULL, "0", NULL);
	skt_addr a;
	skt_sock_local(lfd, &a);
	skt_listener *ls;
	cr_assert_eq(skt_listener_new(st.l, &ls, lfd, starved_accept, &st), 0);
	skt_timer *stop;
	cr_assert_eq(skt_timer_new(st.l, &stop, stop_cb, st.l), 0);
	int clients[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		clients[i] = skt_connect_one(&a, SOCK_STREAM, 2000);
		cr_assert_geq(clients[i], 0);
	}
	/* Room for a few more fds only. */
	struct rlimit old, low;
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)highest_fd() + 4;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);

	double cpu0 = cpu_seconds();
	skt_timer_start(stop, 500, 0);
	cr_assert_eq(skt_loop_run(st.l, SKT_RUN_DEFAULT), 1);
	double cpu = cpu_seconds() - cpu0;
	cr_assert_geq(st.emfile, 1, "never ran out of fds");
	cr_assert_lt(st.emfile, 20, "%d EMFILE wake-ups in 0.5 s", st.emfile);
	cr_assert_lt(cpu, 0.15, "the stall burned %.3f s of CPU", cpu);
	cr_assert_lt(st.accepted, CLIENTS);

	/* Free the fds: the server must serve again. */
	int held = st.accepted;
	for (int i = 0; i < held; i++)
		skt_stream_free(st.kept[i]);
	for (int i = 0; i < CLIENTS; i++)
		skt_close(clients[i]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	struct late_client lc = {a, st.l, false};
	pthread_t th;
	pthread_create(&th, NULL, late_client, &lc);
	skt_timer_start(stop, 5000, 0);
	skt_loop_run(st.l, SKT_RUN_DEFAULT);
	pthread_join(th, NULL);
	cr_assert(lc.ok, "not served after the fds came back");
	skt_loop_free(st.l);
}

/* ---- Workers ---- */

struct tally {
	skt_workers *w;
	atomic_int per[4];
};

static void worker_accept(skt_listener *ls, skt_stream *s, int status,
			  void *arg)
{
	struct tally *t = arg;
	cr_assert_eq(status, 0);
	for (unsigned i = 0; i < 4; i++)
		if (skt_workers_loop(t->w, i) == skt_listener_loop(ls))
			atomic_fetch_add(&t->per[i], 1);
	skt_stream_read_start(s, echo_read);
}

SKT_TEST(loop_listen, four_workers_on_one_port_all_accept)
{
	struct tally t;
	memset(&t, 0, sizeof(t));
	int r = skt_workers_new(&t.w, 4, NULL, "0", NULL, NULL, worker_accept,
				&t);
	cr_assert_eq(r, 0, "workers: %s", skt_strerror(r));
	skt_addr a;
	skt_workers_local(t.w, &a);
	cr_assert_neq(skt_addr_port(&a), 0);
	cr_assert_eq(skt_workers_start(t.w), 0);
	for (int i = 0; i < 64; i++) {
		int fd = skt_connect_one(&a, SOCK_STREAM, 2000);
		cr_assert_geq(fd, 0);
		char buf[2];
		cr_assert_eq(skt_send_all(fd, "hi", 2, 2000, NULL), 0);
		cr_assert_eq(skt_read_exact(fd, buf, 2, 2000, NULL), 2);
		skt_close(fd);
	}
	skt_workers_stop(t.w);
	int total = 0;
	for (int i = 0; i < 4; i++) {
		int n = atomic_load(&t.per[i]);
		cr_assert_gt(n, 0, "worker %d accepted nothing", i);
		total += n;
	}
	cr_assert_eq(total, 64);
	skt_workers_free(t.w);
}

SKT_TEST(loop_listen, workers_bad_arguments_leave_nothing)
{
	skt_workers *w;
	cr_assert_eq(skt_workers_new(&w, 0, NULL, "0", NULL, NULL,
				     worker_accept, NULL),
		     SKT_EINVAL);
	cr_assert_null(w);
	skt_listen_opts udp = {.socktype = SOCK_DGRAM};
	cr_assert_eq(skt_workers_new(&w, 2, NULL, "0", &udp, NULL,
				     worker_accept, NULL),
		     SKT_EINVAL);
	cr_assert_lt(skt_workers_new(&w, 2, "256.1.1.1", "0", NULL, NULL,
				     worker_accept, NULL),
		     0);
	skt_workers_free(NULL);
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	skt_listener *ls;
	cr_assert_eq(skt_listener_new(l, &ls, -1, worker_accept, NULL),
		     SKT_EBADF);
	skt_listener_free(NULL);
	skt_loop_free(l);
}
