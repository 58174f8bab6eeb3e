/* sockit_echo.c - the echo server of bench/echo, on the sockit loop.
 *
 *   sockit_echo PORT [THREADS]
 *
 * Listens on 127.0.0.1:PORT; with THREADS > 1, that many loops on one port
 * (skt_workers, SO_REUSEPORT). Each connection echoes what it reads; when
 * the peer stops reading and the write queue passes its high-water mark,
 * reading pauses until it drains (backpressure instead of memory growth).
 * An idle timeout of 60 s is set on every connection, to show that lazy
 * timeouts cost nothing per message. SKT_LOOP_BACKEND=poll picks the poll
 * backend. SIGINT or SIGTERM stops it.
 */
#include <sockit/sockit.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void on_read(skt_stream *s, int status, const uint8_t *data, size_t len);

static void on_water(skt_stream *s, bool above)
{
	if (above)
		skt_stream_read_stop(s);
	else
		skt_stream_read_start(s, on_read);
}

static void on_read(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	if (status < 0) {
		skt_stream_free(s); /* end of stream, reset or timeout */
		return;
	}
	if (skt_stream_write(s, data, len) < 0)
		skt_stream_free(s);
}

static void on_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	if (status < 0)
		return; /* out of fds: the listener pauses and carries on */
	skt_stream_set_water(s, 0, 0, on_water);
	skt_stream_set_timeouts(s, 60000, 0);
	skt_stream_read_start(s, on_read);
}

static void on_signal(skt_signal *sig, int signum, void *arg)
{
	skt_loop_stop(arg);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sockit_echo PORT [THREADS]\n");
		return 2;
	}
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
	skt_listen_opts lo = {.backlog = 4096};
	skt_workers *w;
	int r = skt_workers_new(&w, n ? n : 1, "127.0.0.1", argv[1], &lo, NULL,
				on_accept, NULL);
	if (r < 0) {
		fprintf(stderr, "sockit_echo: listen %s: %s\n", argv[1],
			skt_strerror(r));
		return 1;
	}
	skt_loop *main_loop;
	skt_signal *si, *st;
	if (skt_loop_new(&main_loop, NULL) < 0)
		return 1;
	skt_signal_new(main_loop, &si, SIGINT, on_signal, main_loop);
	skt_signal_new(main_loop, &st, SIGTERM, on_signal, main_loop);
	if (n <= 1) {
		/* One worker: run its loop here, stopped by the signals. */
		skt_signal_free(si);
		skt_signal_free(st);
		skt_loop *l = skt_workers_loop(w, 0);
		skt_signal_new(l, &si, SIGINT, on_signal, l);
		skt_signal_new(l, &st, SIGTERM, on_signal, l);
		skt_loop_run(l, SKT_RUN_DEFAULT);
	} else {
		skt_workers_start(w);
		skt_loop_run(main_loop, SKT_RUN_DEFAULT);
	}
	skt_workers_free(w);
	skt_loop_free(main_loop);
	return 0;
}
