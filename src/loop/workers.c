/* workers.c - N threads, each with its own loop and its own listening
 * socket on one port (SO_REUSEPORT): the kernel hashes each new connection
 * to one socket, so the loops share nothing and take no lock (nginx's
 * "reuseport", the shape most event-loop servers scale with).
 *
 * Everything that can fail - sockets, loops, listeners - is made in the
 * caller's thread by skt_workers_new, so a failure is reported there and
 * undone; threads only run loops.
 *
 * States: READY (made, no thread) -> RUNNING (threads in skt_loop_run) ->
 * READY again after skt_workers_stop.
 */
#include "loop/loop_int.h"

#include <stdio.h>

struct worker {
	skt_loop *loop;
	pthread_t thread;
	bool running;
};

struct skt_workers {
	unsigned n;
	struct worker *w;
	skt_addr local;
};

#define WORKERS_MAX 1024

static void *worker_main(void *arg)
{
	skt_loop *l = arg;
	skt_loop_run(l, SKT_RUN_DEFAULT);
	return NULL;
}

/* Worker i's socket: the caller's service for the first, then the port
 * the first one got (it may have been 0). */
static int bind_one(skt_workers *w, unsigned i, const char *host,
		    const char *service, const skt_listen_opts *o)
{
	char port[8];
	if (i > 0) {
		snprintf(port, sizeof(port), "%u",
			 (unsigned)skt_addr_port(&w->local));
		service = port;
	}
	int fd = skt_listen(host, service, o);
	if (fd < 0)
		return fd;
	if (i == 0) {
		int r = skt_sock_local(fd, &w->local);
		if (r < 0) {
			skt_close(fd);
			return r;
		}
	}
	return fd;
}

static int make_one(skt_workers *w, unsigned i, const char *host,
		    const char *service, const skt_listen_opts *o,
		    const skt_loop_opts *lo, skt_accept_cb cb, void *arg)
{
	int fd = bind_one(w, i, host, service, o);
	if (fd < 0)
		return fd;
	int r = skt_loop_new(&w->w[i].loop, lo);
	if (r < 0) {
		skt_close(fd);
		return r;
	}
	skt_listener *ls;
	r = skt_listener_new(w->w[i].loop, &ls, fd, cb, arg);
	if (r < 0) {
		skt_close(fd);
		skt_loop_free(w->w[i].loop);
		w->w[i].loop = NULL;
	}
	return r;
}

int skt_workers_new(skt_workers **out, unsigned n, const char *host,
		    const char *service, const skt_listen_opts *opts,
		    const skt_loop_opts *loop_opts, skt_accept_cb cb, void *arg)
{
	*out = NULL;
	if (n == 0 || n > WORKERS_MAX || cb == NULL)
		return SKT_EINVAL;
	skt_listen_opts o = {0};
	if (opts != NULL)
		o = *opts;
	if (o.socktype != 0 && o.socktype != SOCK_STREAM)
		return SKT_EINVAL;
	o.reuseport = true;
	skt_workers *w = skt_calloc(1, sizeof(*w));
	if (w == NULL)
		return SKT_ENOMEM;
	w->w = skt_calloc(n, sizeof(*w->w));
	if (w->w == NULL) {
		skt_free(w);
		return SKT_ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		int r = make_one(w, i, host, service, &o, loop_opts, cb, arg);
		if (r < 0) {
			w->n = i;
			skt_workers_free(w);
			return r;
		}
	}
	w->n = n;
	*out = w;
	return 0;
}

skt_loop *skt_workers_loop(skt_workers *w, unsigned i)
{
	return i < w->n ? w->w[i].loop : NULL;
}

int skt_workers_local(const skt_workers *w, skt_addr *a)
{
	*a = w->local;
	return 0;
}

int skt_workers_start(skt_workers *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->w[i].running)
			continue;
		int r = pthread_create(&w->w[i].thread, NULL, worker_main,
				       w->w[i].loop);
		if (r != 0) {
			skt_workers_stop(w);
			return -r;
		}
		w->w[i].running = true;
	}
	return 0;
}

void skt_workers_stop(skt_workers *w)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->w[i].running)
			skt_loop_stop(w->w[i].loop);
	for (unsigned i = 0; i < w->n; i++) {
		if (!w->w[i].running)
			continue;
		pthread_join(w->w[i].thread, NULL);
		w->w[i].running = false;
	}
}

void skt_workers_free(skt_workers *w)
{
	if (w == NULL)
		return;
	skt_workers_stop(w);
	for (unsigned i = 0; i < w->n; i++)
		skt_loop_free(w->w[i].loop);
	skt_free(w->w);
	skt_free(w);
}
