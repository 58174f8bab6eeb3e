/* bench_report.c - the progress line and the report of `sockit bench`.
 * The text report is for people (wrk's layout: throughput, then the
 * latency distribution, then errors); --json carries the same figures,
 * unrounded, for scripts such as bench/suite.sh. */
#include "bench_report.h"
#include "cli.h"

#include <unistd.h>

static const char *const mode_names[] = {"echo", "connect", "http"};

bool bench_progress_wanted(const bench_progress_state *ps)
{
	return !ps->cmd_quiet && isatty(STDERR_FILENO);
}

void bench_progress_draw(const bench_progress *p, void *arg)
{
	bench_progress_state *ps = arg;
	if (p->elapsed_s < 0) {
		fprintf(stderr, "\r\033[Kwarming up (%.0f s left)",
			-p->elapsed_s);
	} else {
		double dt = p->elapsed_s - ps->last_s;
		double rate =
		    dt > 0 ? (double)(p->requests - ps->last_requests) / dt : 0;
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

struct figures {
	double rps, mb_in, mb_out, cpu_share;
	double min, mean, p50, p90, p99, p999, max; /* microseconds */
};

static struct figures figures_of(const bench_result *r)
{
	const hist *h = &r->latency;
	struct figures f = {
	    .rps = per_s((double)r->c.requests, r->elapsed_s),
	    .mb_in = per_s((double)r->c.bytes_in / 1e6, r->elapsed_s),
	    .mb_out = per_s((double)r->c.bytes_out / 1e6, r->elapsed_s),
	    .cpu_share = per_s(r->user_s + r->sys_s, r->elapsed_s),
	    .min = h->count > 0 ? us(h->min) : 0,
	    .mean = hist_mean(h) / 1000.0,
	    .p50 = us(hist_percentile(h, 50)),
	    .p90 = us(hist_percentile(h, 90)),
	    .p99 = us(hist_percentile(h, 99)),
	    .p999 = us(hist_percentile(h, 99.9)),
	    .max = us(h->max),
	};
	return f;
}

static const char *transport(const bench_opts *o)
{
	if (o->target.u.sa.sa_family == AF_UNIX)
		return "unix";
	return o->udp ? "udp" : "tcp";
}

static void report_json(FILE *out, const bench_opts *o, const char *target,
			const bench_result *r)
{
	struct figures f = figures_of(r);
	fprintf(out, "{\"mode\":\"%s\",\"transport\":\"%s\",\"target\":",
		mode_names[o->mode], transport(o));
	cli_json_str(out, target);
	fprintf(out,
		",\"connections\":%u,\"threads\":%u,\"pipeline\":%u,"
		"\"size\":%zu,\"rate\":%.0f,\"model\":\"%s\","
		"\"duration_s\":%.6f,\"requests\":%llu,\"errors\":%llu,"
		"\"requests_per_s\":%.2f,\"mb_per_s_in\":%.3f,"
		"\"mb_per_s_out\":%.3f,\"bytes_in\":%llu,\"bytes_out\":%llu,"
		"\"connects\":%llu,",
		o->conns, r->threads, o->pipeline, o->size, o->rate,
		o->rate > 0 ? "open" : "closed", r->elapsed_s,
		(unsigned long long)r->c.requests,
		(unsigned long long)bench_errors(&r->c), f.rps, f.mb_in,
		f.mb_out, (unsigned long long)r->c.bytes_in,
		(unsigned long long)r->c.bytes_out,
		(unsigned long long)r->c.connects);
	fprintf(out,
		"\"latency_us\":{\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,"
		"\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},",
		f.min, f.mean, f.p50, f.p90, f.p99, f.p999, f.max);
	fputs("\"errors_by_kind\":{", out);
	for (int k = 0; k < BENCH_E_COUNT; k++)
		fprintf(out, "%s\"%s\":%llu", k > 0 ? "," : "",
			bench_err_name(k),
			(unsigned long long)r->c.errors[k]);
	fprintf(out,
		"},\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,"
		"\"share\":%.3f}}\n",
		r->user_s, r->sys_s, f.cpu_share);
}

static void report_text(FILE *out, const bench_opts *o, const char *target,
			const bench_result *r)
{
	struct figures f = figures_of(r);
	fprintf(out, "%s %s %s: %u connection%s, %u thread%s, ",
		mode_names[o->mode], transport(o), target, o->conns,
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
	fprintf(out, "  %.2f s, %llu requests, %llu errors\n", r->elapsed_s,
		(unsigned long long)r->c.requests,
		(unsigned long long)bench_errors(&r->c));
	fprintf(out, "  requests/s  %.1f\n", f.rps);
	fprintf(out, "  MB/s        %.2f in, %.2f out\n", f.mb_in, f.mb_out);
	fprintf(out,
		"  latency us  min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  "
		"p99.9 %.1f  max %.1f  mean %.1f%s\n",
		f.min, f.p50, f.p90, f.p99, f.p999, f.max, f.mean,
		o->mode == BENCH_CONNECT ? " (connect)" : "");
	fprintf(out,
		"  cpu         user %.2f s, sys %.2f s: %.0f%% of one "
		"CPU\n",
		r->user_s, r->sys_s, f.cpu_share * 100);
	for (int k = 0; k < BENCH_E_COUNT; k++)
		if (r->c.errors[k] > 0)
			fprintf(out, "  errors      %llu %s: %s\n",
				(unsigned long long)r->c.errors[k],
				bench_err_name(k), bench_err_text(k));
}

void bench_report(FILE *out, const bench_opts *o, const char *target,
		  const bench_result *r, bool json)
{
	if (json)
		report_json(out, o, target, r);
	else
		report_text(out, o, target, r);
	fflush(out);
}

int bench_verdict(const bench_result *r)
{
	return r->c.requests > 0 && bench_errors(&r->c) == 0 ? CLI_OK
								  : CLI_FAIL;
}
