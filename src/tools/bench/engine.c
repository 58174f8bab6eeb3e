/* engine.c - the controller of a `sockit bench` run: it checks the
 * options, builds the outgoing byte stream, starts one worker thread per
 * share of the connections (each with its own loop, made and freed here
 * so that it can be stopped at any time), keeps the clock (warm-up, then
 * the measured window), reports progress, and adds up what the workers
 * counted. */
#include "tools/bench/bench_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The echo pattern's period: a prime, so that messages of any size never
 * line up with it, and a connection's slice differs from its neighbour's. */
#define PATTERN_PERIOD 65521
/* The HTTP request is repeated in the stream until a slice this long is
 * contiguous: a pipelined burst is one send(). */
#define HTTP_SPAN    65536
#define REQUEST_MAX  ((size_t)16 << 20) /* with its body */
#define SIZE_MAX_TCP ((size_t)1 << 30)
#define SIZE_MAX_UDP 65507
#define CONNS_MAX    1000000
#define THREADS_MAX  1024
#define PIPELINE_MAX 4096
#define TICK_NS      100000000 /* the controller's clock: 100 ms */

static const char *const err_names[] = {
#define BENCH_ERR_NAME(id, name, text) name,
	BENCH_ERRORS(BENCH_ERR_NAME)
#undef BENCH_ERR_NAME
};
static const char *const err_texts[] = {
#define BENCH_ERR_TEXT(id, name, text) text,
	BENCH_ERRORS(BENCH_ERR_TEXT)
#undef BENCH_ERR_TEXT
};

const char *bench_err_name(int kind)
{
	return kind >= 0 && kind < BENCH_E_COUNT ? err_names[kind] : "?";
}

const char *bench_err_text(int kind)
{
	return kind >= 0 && kind < BENCH_E_COUNT ? err_texts[kind] : "?";
}

/* Per thread: the loop's epoll fd and wake eventfd, the open model's
 * timerfd. */
#define FDS_PER_THREAD 3
#define FDS_MARGIN     16

uint64_t bench_fds_needed(const bench_opts *o)
{
	uint64_t threads = o->threads < o->conns ? o->threads : o->conns;
	return (uint64_t)o->conns + threads * FDS_PER_THREAD + FDS_MARGIN;
}

uint64_t bench_errors(const bench_counts *c)
{
	uint64_t n = 0;
	for (int i = 0; i < BENCH_E_COUNT; i++)
		n += c->errors[i];
	return n;
}

static int check(const bench_opts *o)
{
	if (o->conns == 0 || o->conns > CONNS_MAX || o->threads == 0 ||
	    o->threads > THREADS_MAX || o->pipeline == 0 ||
	    o->pipeline > PIPELINE_MAX || o->timeout_ms <= 0 ||
	    o->duration_ms < 0 || o->warmup_ms < 0 || o->rate < 0 ||
	    o->ramp_ms < 0 || (o->duration_ms == 0 && o->requests == 0) ||
	    o->target.len == 0)
		return SKT_EINVAL;
	if ((o->tls != NULL && o->udp) ||
	    (o->reconnect &&
	     (o->mode != BENCH_ECHO || o->udp || o->pipeline != 1)))
		return SKT_EINVAL;
	switch (o->mode) {
	case BENCH_ECHO:
		if (o->udp ? o->size < 8 || o->size > SIZE_MAX_UDP
			   : o->size == 0 || o->size > SIZE_MAX_TCP)
			return SKT_EINVAL;
		return 0;
	case BENCH_CONNECT:
		return o->udp || o->pipeline != 1 || o->size > SIZE_MAX_TCP
			       ? SKT_EINVAL
			       : 0;
	case BENCH_HTTP:
		return o->udp || o->request == NULL || o->request_len == 0 ||
				       o->request_len > REQUEST_MAX
			       ? SKT_EINVAL
			       : 0;
	default:
		return SKT_EINVAL;
	}
}

/* The outgoing stream: a pseudo-random pattern (xorshift; any bytes do,
 * as long as a shifted or truncated echo cannot match) or the request. */
static int make_stream(bench_shared *sh, const bench_opts *o)
{
	if (o->mode == BENCH_HTTP) {
		size_t copies = HTTP_SPAN / o->request_len + 1;
		sh->period = o->request_len;
		sh->span = (copies - 1) * o->request_len;
		if (sh->span == 0)
			sh->span = o->request_len;
	} else {
		sh->period = PATTERN_PERIOD;
		sh->span = PATTERN_PERIOD;
	}
	size_t len = sh->period + sh->span;
	sh->out = skt_malloc(len);
	if (sh->out == NULL)
		return SKT_ENOMEM;
	if (o->mode == BENCH_HTTP) {
		for (size_t i = 0; i < len; i += o->request_len)
			memcpy(sh->out + i, o->request,
			       len - i < o->request_len ? len - i
							: o->request_len);
		return 0;
	}
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sh->period; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		sh->out[i] = (uint8_t)(x >> 24);
	}
	memcpy(sh->out + sh->period, sh->out, sh->span);
	return 0;
}

static const bench_proto *proto_of(const bench_opts *o)
{
	switch (o->mode) {
	case BENCH_CONNECT:
		return &bench_connect_proto;
	case BENCH_HTTP:
		return &bench_http_proto;
	default:
		return o->udp ? &bench_udp_proto : &bench_echo_proto;
	}
}

static double cpu_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static bool stop_asked(const bench_opts *o)
{
	return o->stop != NULL && *o->stop != 0;
}

/* Until at, or until a signal that asks to stop. */
static void sleep_until(const bench_opts *o, int64_t at)
{
	struct timespec ts = {.tv_sec = at / 1000000000,
			      .tv_nsec = at % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
		       EINTR &&
	       !stop_asked(o))
		;
}

static void *thread_main(void *arg)
{
	bench_worker *w = arg;
	bench_worker_main(w);
	atomic_fetch_add(&w->sh->finished, 1);
	return NULL;
}

static void free_workers(bench_worker *w, unsigned n)
{
	for (unsigned i = 0; w != NULL && i < n; i++) {
		skt_loop_free(w[i].loop);
		skt_free(w[i].conns);
	}
	skt_free(w);
}

/* Workers, their connections and loops; threads not started yet. */
static int make_workers(bench_shared *sh, unsigned n, bench_worker **out)
{
	const bench_opts *o = sh->o;
	bench_worker *w = skt_calloc(n, sizeof(*w));
	if (w == NULL)
		return SKT_ENOMEM;
	int err = 0;
	uint32_t first = 0;
	for (unsigned i = 0; i < n && err == 0; i++) {
		w[i].sh = sh;
		w[i].o = o;
		w[i].proto = proto_of(o);
		w[i].index = i;
		w[i].pace_fd = -1;
		w[i].nconns = o->conns / n + (i < o->conns % n);
		w[i].source_next = first;
		first += w[i].nconns;
		w[i].interval_ns = o->rate > 0 ? 1e9 * n / o->rate : 0;
		hist_reset(&w[i].latency);
		hist_reset(&w[i].handshake);
		w[i].conns = skt_calloc(w[i].nconns, sizeof(bench_conn));
		if (w[i].conns == NULL)
			err = SKT_ENOMEM;
		else
			err = skt_loop_new(&w[i].loop, NULL);
	}
	if (err != 0) {
		free_workers(w, n);
		return err;
	}
	*out = w;
	return 0;
}

static void stop_all(bench_worker *w, unsigned n)
{
	atomic_store(&w->sh->stopping, true);
	for (unsigned i = 0; i < n; i++) {
		skt_loop_stop(w[i].loop);
		skt_loop_wake(w[i].loop);
	}
}

static void progress(const bench_shared *sh, bench_worker *w, unsigned n,
		     int64_t now, int64_t start)
{
	int64_t warm_end = sh->t0_ns + sh->o->warmup_ms * 1000000;
	bench_progress p = {
		.elapsed_s =
			(double)(now - (start != 0 ? start : warm_end)) / 1e9,
		.setup = start == 0 && now >= warm_end,
		.settled = atomic_load(&sh->settled),
	};
	for (unsigned i = 0; i < n; i++) {
		p.requests += atomic_load_explicit(&w[i].pub_requests,
						   memory_order_relaxed);
		p.errors += atomic_load_explicit(&w[i].pub_errors,
						 memory_order_relaxed);
	}
	sh->o->progress(&p, sh->o->progress_arg);
}

static bool setup_over(const bench_shared *sh)
{
	return sh->o->mode == BENCH_CONNECT ||
	       atomic_load(&sh->settled) == sh->o->conns;
}

void bench_try_start(bench_shared *sh, int64_t now)
{
	if (now < sh->t0_ns + sh->o->warmup_ms * 1000000 || !setup_over(sh) ||
	    atomic_load(&sh->start_ns) != 0)
		return;
	int_fast64_t zero = 0;
	if (!atomic_compare_exchange_strong(&sh->start_ns, &zero, now))
		return;
	if (sh->o->duration_ms > 0)
		atomic_store(&sh->end_ns, now + sh->o->duration_ms * 1000000);
	getrusage(RUSAGE_SELF, &sh->ru0);
	atomic_store(&sh->measuring, true);
}

/* The controller's clock: warm-up and setup, window, progress; returns
 * when the window is over or every worker has finished (-n). */
static int64_t keep_time(bench_shared *sh, bench_worker *w, unsigned n)
{
	const bench_opts *o = sh->o;
	int64_t next_report = sh->t0_ns + 1000000000;
	for (int64_t tick = sh->t0_ns + TICK_NS;; tick += TICK_NS) {
		int64_t now = bench_now();
		bench_try_start(sh, now);
		int64_t start = atomic_load(&sh->start_ns);
		int64_t end = start + o->duration_ms * 1000000;
		if (atomic_load(&sh->finished) == n)
			return now;
		if (stop_asked(o)) {
			/* Nothing that ends from here on counts. */
			if (now < atomic_load(&sh->end_ns))
				atomic_store(&sh->end_ns, now);
			return now;
		}
		if (start != 0 && o->duration_ms > 0 && now >= end)
			return now;
		if (o->progress != NULL && now >= next_report) {
			progress(sh, w, n, now, start);
			next_report += 1000000000;
		}
		int64_t at = tick;
		if (start != 0 && o->duration_ms > 0 && end < at)
			at = end;
		sleep_until(o, at);
	}
}

static void collect(bench_result *r, bench_worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const bench_counts *c = &w[i].c;
		r->c.requests += c->requests;
		r->c.bytes_out += c->bytes_out;
		r->c.bytes_in += c->bytes_in;
		r->c.connects += c->connects;
		r->c.retried += c->retried;
		r->c.early_resets += c->early_resets;
		r->c.handshakes += c->handshakes;
		r->c.resumed += c->resumed;
		for (int s = BENCH_STATUS_MIN; s < BENCH_STATUS_END; s++)
			r->c.statuses[s] += c->statuses[s];
		for (int k = 0; k < BENCH_E_COUNT; k++)
			r->c.errors[k] += c->errors[k];
		hist_merge(&r->latency, &w[i].latency);
		hist_merge(&r->handshake, &w[i].handshake);
	}
}

int bench_run(const bench_opts *o, bench_result *r)
{
	int err = check(o);
	if (err != 0)
		return err;
	memset(r, 0, sizeof(*r));
	hist_reset(&r->latency);
	hist_reset(&r->handshake);
	unsigned n = o->threads < o->conns ? o->threads : o->conns;
	bench_shared sh = {.o = o, .end_ns = INT64_MAX};
	err = make_stream(&sh, o);
	bench_worker *w = NULL;
	if (err == 0)
		err = make_workers(&sh, n, &w);
	pthread_t *tid = err == 0 ? skt_calloc(n, sizeof(*tid)) : NULL;
	if (err == 0 && tid == NULL)
		err = SKT_ENOMEM;
	if (err != 0) {
		free_workers(w, n);
		skt_free(sh.out);
		return err;
	}

	struct rusage ru1;
	sh.t0_ns = bench_now();
	bench_try_start(&sh, sh.t0_ns); /* connect mode, no warm-up */
	unsigned started = 0;
	for (; started < n; started++) {
		int e = pthread_create(&tid[started], NULL, thread_main,
				       &w[started]);
		if (e != 0) {
			err = -e;
			break;
		}
	}
	int64_t stop = err == 0 ? keep_time(&sh, w, n) : bench_now();
	bool all_done = atomic_load(&sh.finished) == n;
	r->interrupted = !all_done && stop_asked(o);
	stop_all(w, started);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	getrusage(RUSAGE_SELF, &ru1);
	int64_t start = atomic_load(&sh.start_ns);
	if (start == 0) /* stopped before the window opened */
		start = stop;
	if (stop > atomic_load(&sh.end_ns)) /* the controller woke late */
		stop = atomic_load(&sh.end_ns);

	/* With -n the window ends with the last request, not the tick that
	 * noticed it. */
	if (all_done && o->requests > 0) {
		int64_t last = 0;
		for (unsigned i = 0; i < n; i++)
			if (w[i].end_ns > last)
				last = w[i].end_ns;
		if (last > start)
			stop = last;
	}
	for (unsigned i = 0; i < started && err == 0; i++)
		err = w[i].err;
	collect(r, w, n);
	r->threads = n;
	r->elapsed_s = (double)(stop - start) / 1e9;
	if (atomic_load(&sh.start_ns) != 0) {
		r->user_s = cpu_seconds(&ru1.ru_utime) -
			    cpu_seconds(&sh.ru0.ru_utime);
		r->sys_s = cpu_seconds(&ru1.ru_stime) -
			   cpu_seconds(&sh.ru0.ru_stime);
	}
	int64_t setup = atomic_load(&sh.setup_ns);
	r->setup_s = setup > 0 ? (double)(setup - sh.t0_ns) / 1e9 : 0;
	r->conns_used = atomic_load(&sh.used);
	skt_free(tid);
	free_workers(w, n);
	skt_free(sh.out);
	return err;
}
