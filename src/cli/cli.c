/* cli.c - helpers every subcommand shares: diagnostics in one form,
 * targets, durations, allow/deny lists, JSON strings. */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void cli_print_usage(const cli_cmd *c, FILE *out)
{
	fputs(c->usage, out);
}

int cli_fail(const char *cmd, const char *what, int err)
{
	FILE *jf = cli_json_error_stream();
	if (jf != NULL) {
		cli_json j;
		cli_json_begin(&j, jf, "error");
		cli_json_text(&j, "command", cmd);
		cli_json_error(&j, "error", err, what);
		cli_json_end(&j);
		/* A log on stderr goes there line by line, at once. */
		if (jf == stderr)
			return CLI_FAIL;
	}
	fprintf(stderr, "sockit: %s: %s: %s\n", cmd, what, skt_strerror(err));
	return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sockit: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sockit help %s')\n", cmd);
	return CLI_USAGE;
}

/* The errno of stdout's first failed flush, 0 if none. */
static int stdout_err;

int cli_flush(FILE *f)
{
	errno = 0;
	int rc = fflush(f);
	if (rc != 0 && f == stdout && stdout_err == 0)
		stdout_err = errno;
	return rc;
}

int cli_finish_stdout(const char *cmd, int rc)
{
	/* A write that failed inside printf leaves its data buffered, so this
	 * flush fails again with that write's errno. */
	bool failed = ferror(stdout) != 0 || stdout_err != 0;
	if (cli_flush(stdout) != 0)
		failed = true;
	int err = stdout_err;
	/* EBADF with nothing pending: stdout was closed and never used. */
	errno = 0;
	if (fclose(stdout) != 0 && !failed && errno != EBADF) {
		failed = true;
		err = errno;
	}
	if (!failed)
		return rc;
	fprintf(stderr, "sockit: %s%sstdout: %s\n", cmd != NULL ? cmd : "",
		cmd != NULL ? ": " : "", skt_strerror(err > 0 ? -err : SKT_EIO));
	return rc == CLI_OK ? CLI_FAIL : rc;
}

void cli_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void cli_print_attempts(const char *cmd, const skt_connect_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		const skt_attempt *a = &rep->attempts[i];
		char addr[SKT_ADDRSTRLEN];
		skt_addr_format(&a->addr, addr, sizeof(addr));
		fprintf(stderr, "sockit: %s: tried %s at +%lld ms: %s after "
			"%lld ms\n", cmd, addr, (long long)a->start_ms,
			a->err == 0 ? "connected" : skt_strerror(a->err),
			(long long)(a->end_ms - a->start_ms));
	}
	if (rep->total > rep->n)
		fprintf(stderr, "sockit: %s: (%zu more attempts not listed)\n",
			cmd, rep->total - rep->n);
}

void cli_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

int cli_parse_target(const char *cmd, int nargs, char **args, int flags,
		     skt_endpoint *ep)
{
	int rc;
	if (nargs == 1)
		rc = skt_endpoint_parse(ep, args[0], flags);
	else if (nargs == 2)
		rc = skt_endpoint_set(ep, args[0], args[1], flags);
	else
		return cli_usage_error(cmd, "expected HOST PORT, HOST:PORT or unix:PATH");
	if (rc < 0) {
		const char *what = nargs == 1 ? args[0] : args[1];
		if (rc == SKT_EBADHOST || (nargs == 2 && rc != SKT_EBADPORT))
			what = args[0];
		return cli_usage_error(cmd, "'%s': %s", what, skt_strerror(rc));
	}
	return CLI_OK;
}

int cli_parse_seconds(const char *text, int *ms)
{
	/* Digits with an optional fraction, at most a day: no overflow, no
	 * locale, no "1e3" or "inf" surprises from strtod. */
	size_t ip = strspn(text, "0123456789");
	if (ip == 0 || ip > 5)
		return -1;
	long whole = strtol(text, NULL, 10);
	long frac_ms = 0;
	const char *p = text + ip;
	if (*p == '.') {
		p++;
		size_t fp = strspn(p, "0123456789");
		if (fp == 0)
			return -1;
		long scale = 100;
		for (size_t i = 0; i < fp; i++, scale /= 10)
			frac_ms += (p[i] - '0') * scale;
		p += fp;
	}
	/* "86400.5" is more than a day too, not only "86401". */
	if (*p != '\0' || whole > 86400 || (whole == 86400 && frac_ms > 0))
		return -1;
	*ms = (int)(whole * 1000 + frac_ms);
	return 0;
}

int cli_cidr_add(const char *cmd, cli_cidrs *list, const char *text)
{
	if (list->n == CLI_CIDR_MAX)
		return cli_usage_error(cmd, "more than %d address ranges", CLI_CIDR_MAX);
	int rc = skt_cidr_parse(&list->v[list->n], text);
	if (rc < 0)
		return cli_usage_error(cmd, "'%s': %s", text, skt_strerror(rc));
	list->n++;
	return CLI_OK;
}

bool cli_cidrs_admit(const cli_cidrs *allow, const cli_cidrs *deny,
		     const skt_addr *peer)
{
	for (size_t i = 0; i < deny->n; i++)
		if (skt_cidr_match(&deny->v[i], peer))
			return false;
	if (allow->n == 0)
		return true;
	for (size_t i = 0; i < allow->n; i++)
		if (skt_cidr_match(&allow->v[i], peer))
			return true;
	return false;
}
