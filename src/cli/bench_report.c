/* bench_report.c - the progress line and the report of `sockit bench`.
 * The text report is for people (wrk's layout: throughput, then the
 * latency distribution, then errors); --json carries the same figures,
 * unrounded, for scripts such as bench/suite.sh. */
#include "bench_report.h"
#include "cli.h"
#include "json.h"

#include <unistd.h>

static const char *const mode_names[] = {"echo", "connect", "http"};

bool bench_progress_wanted(const bench_progress_state *ps)
{
	return !ps->cmd_quiet && isatty(STDERR_FILENO);
}

void bench_progress_draw(const bench_progress *p, void *arg)
{
	bench_progress_state *ps = arg;
	if (p->setup) {
		fprintf(stderr, "\r\033[Kopening connections (%u so far)",
			p->settled);
	} else if (p->elapsed_s < 0) {
		fprintf(stderr, "\r\033[Kwarming up (%.0f s left)",
			-p->elapsed_s);
	} else {
		double dt = p->elapsed_s - ps->last_s;
		double rate =
			dt > 0 ? (double)(p->requests - ps->last_requests) / dt
			       : 0;
		fprintf(stderr,
			"\r\033[K%6.1f s  %12.0f req/s  %llu requests"
			"  %llu errors",
			p->elapsed_s, rate, (unsigned long long)p->requests,
			(unsigned long long)p->errors);
		ps->last_requests = p->requests;
		ps->last_s = p->elapsed_s;
	}
	fflush(stderr);
	ps->drawn = true;
}

void bench_progress_clear(bench_progress_state *ps)
{
	if (ps->drawn)
		fputs("\r\033[K", stderr);
	ps->drawn = false;
}

static double per_s(double v, double s)
{
	return s > 0 ? v / s : 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* A latency distribution, in microseconds. */
struct lat {
	bool have; /* anything recorded */
	double min, mean, p50, p90, p99, p999, max;
};

static struct lat lat_of(const hist *h)
{
	struct lat l = {
		.have = h->count > 0,
		.min = h->count > 0 ? us(h->min) : 0,
		.mean = hist_mean(h) / 1000.0,
		.p50 = us(hist_percentile(h, 50)),
		.p90 = us(hist_percentile(h, 90)),
		.p99 = us(hist_percentile(h, 99)),
		.p999 = us(hist_percentile(h, 99.9)),
		.max = us(h->max),
	};
	return l;
}

struct figures {
	double rps, mb_in, mb_out, cpu_share;
	struct lat l;
};

static struct figures figures_of(const bench_result *r)
{
	struct figures f = {
		.rps = per_s((double)r->c.requests, r->elapsed_s),
		.mb_in = per_s((double)r->c.bytes_in / 1e6, r->elapsed_s),
		.mb_out = per_s((double)r->c.bytes_out / 1e6, r->elapsed_s),
		.cpu_share = per_s(r->user_s + r->sys_s, r->elapsed_s),
		.l = lat_of(&r->latency),
	};
	return f;
}

static const char *transport(const bench_opts *o)
{
	if (o->target.u.sa.sa_family == AF_UNIX)
		return "unix";
	return o->udp ? "udp" : "tcp";
}

/* A latency in microseconds as seconds; null when nothing completed. */
static void latency(cli_json *j, const char *key, double us_v, bool have)
{
	if (have)
		cli_json_num(j, key, us_v / 1e6, 9);
	else
		cli_json_null(j, key);
}

static void json_latency(cli_json *j, const char *key, const struct lat *l)
{
	cli_json_object(j, key);
	latency(j, "min", l->min, l->have);
	latency(j, "mean", l->mean, l->have);
	latency(j, "p50", l->p50, l->have);
	latency(j, "p90", l->p90, l->have);
	latency(j, "p99", l->p99, l->have);
	latency(j, "p999", l->p999, l->have);
	latency(j, "max", l->max, l->have);
	cli_json_close(j);
}

/* "tls": null for a plain run; else what the first handshake agreed on
 * and the run's handshakes. */
static void json_tls(cli_json *j, const bench_target *t, const bench_result *r)
{
	if (!t->tls) {
		cli_json_null(j, "tls");
		return;
	}
	const skt_tls_info *i = &t->tls_info;
	cli_json_object(j, "tls");
	if (t->tls_probed) {
		cli_json_text(j, "tls_version", i->version_name);
		cli_json_text(j, "tls_cipher", i->cipher);
		if (i->alpn[0] != '\0')
			cli_json_text(j, "alpn", i->alpn);
		else
			cli_json_null(j, "alpn");
		cli_json_bool(j, "verified", i->verified);
		cli_json_bool(j, "pinned", i->pinned);
	}
	cli_json_bool(j, "resumption", t->resumption);
	cli_json_uint(j, "handshakes", r->c.handshakes);
	cli_json_uint(j, "resumed", r->c.resumed);
	cli_json_uint(j, "full", r->c.handshakes - r->c.resumed);
	struct lat l = lat_of(&r->handshake);
	json_latency(j, "handshake_latency_s", &l);
	cli_json_close(j);
}

/* "host": the name as given (null for a literal), "other_addresses":
 * the name's addresses not used, each with why. */
static void json_target(cli_json *j, const bench_target *t)
{
	cli_json_text(j, "host", t->host);
	cli_json_array(j, "other_addresses");
	for (size_t i = 0; i < t->nothers; i++) {
		cli_json_object(j, NULL);
		cli_json_text(j, "address", t->others[i]);
		cli_json_error(j, "error", t->other_err[i], NULL);
		cli_json_close(j);
	}
	cli_json_close(j);
}

static void json_counts(cli_json *j, const bench_opts *o, const bench_result *r)
{
	cli_json_uint(j, "connects", r->c.connects);
	cli_json_uint(j, "connections_used", r->conns_used);
	cli_json_secs(j, "setup_s", r->setup_s);
	cli_json_uint(j, "retried", r->c.retried);
	cli_json_uint(j, "resets_after_connect", r->c.early_resets);
	if (o->mode != BENCH_HTTP)
		return;
	cli_json_object(j, "statuses");
	for (int s = BENCH_STATUS_MIN; s < BENCH_STATUS_END; s++) {
		if (r->c.statuses[s] == 0)
			continue;
		/* Room for any int: at -O1 GCC cannot see that s is a status
		 * and warns (-Wformat-truncation) with less. */
		char key[12];
		snprintf(key, sizeof(key), "%d", s);
		cli_json_uint(j, key, r->c.statuses[s]);
	}
	cli_json_close(j);
}

static void report_json(FILE *out, const bench_opts *o, const bench_target *t,
			const bench_result *r)
{
	struct figures f = figures_of(r);
	cli_json j;
	cli_json_begin(&j, out, "report");
	cli_json_text(&j, "mode", mode_names[o->mode]);
	cli_json_text(&j, "transport", transport(o));
	cli_json_addr(&j, NULL, &o->target);
	json_target(&j, t);
	cli_json_uint(&j, "connections", o->conns);
	cli_json_uint(&j, "threads", r->threads);
	cli_json_uint(&j, "pipeline", o->pipeline);
	cli_json_uint(&j, "size_bytes", o->size);
	cli_json_num(&j, "rate_per_s", o->rate, 0);
	cli_json_text(&j, "model", o->rate > 0 ? "open" : "closed");
	cli_json_bool(&j, "interrupted", r->interrupted);
	cli_json_secs(&j, "duration_s", r->elapsed_s);
	cli_json_uint(&j, "requests", r->c.requests);
	cli_json_uint(&j, "errors", bench_errors(&r->c));
	cli_json_num(&j, "requests_per_s", f.rps, 2);
	cli_json_num(&j, "bytes_in_per_s", f.mb_in * 1e6, 0);
	cli_json_num(&j, "bytes_out_per_s", f.mb_out * 1e6, 0);
	cli_json_uint(&j, "bytes_in", r->c.bytes_in);
	cli_json_uint(&j, "bytes_out", r->c.bytes_out);
	json_counts(&j, o, r);
	json_latency(&j, "latency_s", &f.l);
	json_tls(&j, t, r);
	cli_json_object(&j, "errors_by_kind");
	for (int k = 0; k < BENCH_E_COUNT; k++)
		cli_json_uint(&j, bench_err_name(k), r->c.errors[k]);
	cli_json_close(&j);
	cli_json_object(&j, "cpu");
	cli_json_num(&j, "user_s", r->user_s, 3);
	cli_json_num(&j, "sys_s", r->sys_s, 3);
	cli_json_num(&j, "share", f.cpu_share, 3);
	cli_json_close(&j);
	cli_json_end(&j);
}

static bool status_expected(const bench_opts *o, int s)
{
	return o->status != 0 ? s == o->status : s >= 200 && s < 300;
}

/* After the bad_status line: which statuses those were. */
static void unexpected_statuses(FILE *out, const bench_opts *o,
				const bench_result *r)
{
	const char *sep = " (";
	for (int s = BENCH_STATUS_MIN; s < BENCH_STATUS_END; s++) {
		if (r->c.statuses[s] == 0 || status_expected(o, s))
			continue;
		fprintf(out, "%s%d: %llu", sep, s,
			(unsigned long long)r->c.statuses[s]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc(')', out);
}

/* wrk's "Non-2xx" in full: every status received, by count. */
static void report_statuses(FILE *out, const bench_result *r)
{
	fputs("  statuses   ", out);
	bool any = false;
	for (int s = BENCH_STATUS_MIN; s < BENCH_STATUS_END; s++) {
		if (r->c.statuses[s] == 0)
			continue;
		fprintf(out, "%s %d: %llu", any ? "," : "", s,
			(unsigned long long)r->c.statuses[s]);
		any = true;
	}
	fputs(any ? "\n" : " none\n", out);
}

/* "  tls  TLSv1.3 ..., verified; 200 handshakes, 199 resumed", then the
 * handshakes' latency. */
static void text_tls(FILE *out, const bench_target *t, const bench_result *r)
{
	if (!t->tls)
		return;
	const skt_tls_info *i = &t->tls_info;
	fputs("  tls         ", out);
	if (t->tls_probed)
		fprintf(out, "%s %s%s%s, %s; ", i->version_name, i->cipher,
			i->alpn[0] != '\0' ? ", alpn " : "", i->alpn,
			i->pinned     ? "pinned"
			: i->verified ? "verified"
				      : "not verified");
	fprintf(out, "%llu handshake%s, %llu resumed%s\n",
		(unsigned long long)r->c.handshakes,
		r->c.handshakes == 1 ? "" : "s",
		(unsigned long long)r->c.resumed,
		t->resumption ? "" : " (--no-resume)");
	struct lat l = lat_of(&r->handshake);
	if (l.have)
		fprintf(out,
			"  handshake   min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  "
			"p99.9 %.1f  max %.1f  mean %.1f us\n",
			l.min, l.p50, l.p90, l.p99, l.p999, l.max, l.mean);
}

/* "  localhost: also [::1]:80 (connection refused)" */
static void text_target(FILE *out, const bench_target *t)
{
	if (t->host == NULL)
		return;
	fprintf(out, "  address     %s of %s", t->text, t->host);
	for (size_t i = 0; i < t->nothers; i++) {
		fprintf(out, "%s%s", i == 0 ? "; not used: " : ", ",
			t->others[i]);
		if (t->other_err[i] != 0)
			fprintf(out, " (%s)", skt_strerror(t->other_err[i]));
	}
	fputc('\n', out);
}

static void report_text(FILE *out, const bench_opts *o, const bench_target *t,
			const bench_result *r)
{
	struct figures f = figures_of(r);
	fprintf(out, "%s %s %s: %u connection%s, %u thread%s, ",
		mode_names[o->mode], transport(o), t->text, o->conns,
		o->conns == 1 ? "" : "s", r->threads,
		r->threads == 1 ? "" : "s");
	if (o->mode != BENCH_HTTP)
		fprintf(out, "%zu B, ", o->size);
	if (o->pipeline > 1)
		fprintf(out, "pipeline %u, ", o->pipeline);
	if (o->rate > 0)
		fprintf(out, "open model at %.0f/s\n", o->rate);
	else
		fprintf(out, "closed model\n");
	text_target(out, t);
	fprintf(out, "  %.2f s%s, %llu requests, %llu errors\n", r->elapsed_s,
		r->interrupted ? " (interrupted)" : "",
		(unsigned long long)r->c.requests,
		(unsigned long long)bench_errors(&r->c));
	fprintf(out,
		"  setup       %.2f s before the window: %u of %u "
		"connection%s up\n",
		r->setup_s, r->conns_used, o->conns, o->conns == 1 ? "" : "s");
	fprintf(out, "  requests/s  %.1f\n", f.rps);
	fprintf(out, "  MB/s        %.2f in, %.2f out\n", f.mb_in, f.mb_out);
	if (f.l.have)
		fprintf(out,
			"  latency us  min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  "
			"p99.9 %.1f  max %.1f  mean %.1f%s\n",
			f.l.min, f.l.p50, f.l.p90, f.l.p99, f.l.p999, f.l.max,
			f.l.mean,
			o->mode != BENCH_CONNECT ? ""
			: t->tls                 ? " (connect and handshake)"
						 : " (connect)");
	else
		fprintf(out, "  latency us  n/a (nothing completed)\n");
	text_tls(out, t, r);
	if (o->mode == BENCH_HTTP)
		report_statuses(out, r);
	if (r->c.retried > 0)
		fprintf(out,
			"  retried     %llu request%s sent again on a new "
			"connection: pipelined behind a response that closed "
			"theirs\n",
			(unsigned long long)r->c.retried,
			r->c.retried == 1 ? "" : "s");
	fprintf(out,
		"  cpu         user %.2f s, sys %.2f s: %.0f%% of one "
		"CPU\n",
		r->user_s, r->sys_s, f.cpu_share * 100);
	for (int k = 0; k < BENCH_E_COUNT; k++) {
		if (r->c.errors[k] == 0)
			continue;
		fprintf(out, "  errors      %llu %s: %s",
			(unsigned long long)r->c.errors[k], bench_err_name(k),
			bench_err_text(k));
		if (k == BENCH_E_BAD_STATUS)
			unexpected_statuses(out, o, r);
		fputc('\n', out);
	}
	if (r->c.early_resets * 2 > bench_errors(&r->c))
		fprintf(out,
			"  hint        most errors are connections the server "
			"closed right after accepting them: it may cap "
			"connections per client address or in all (sockit "
			"serve: --max-per-ip, --max-conns)%s\n",
			o->sources < 2 ? "; --sources spreads the client "
					 "addresses towards 127.x"
				       : "");
}

void bench_report(FILE *out, const bench_opts *o, const bench_target *t,
		  const bench_result *r, bool json)
{
	if (json)
		report_json(out, o, t, r);
	else
		report_text(out, o, t, r);
	cli_flush(out);
}

int bench_verdict(const bench_result *r)
{
	return r->c.requests > 0 && bench_errors(&r->c) == 0 ? CLI_OK
							     : CLI_FAIL;
}
