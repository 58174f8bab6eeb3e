/* cli.c - helpers every subcommand shares: diagnostics in one form,
 * ports, targets, worker counts, allow/deny lists, JSON strings. The
 * option loop and value parsers are cli_opt.c's. */
#include "cli.h"
#include "json.h"
#include "sockit/server.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void cli_print_usage(const cli_cmd *c, FILE *out)
{
	if (c->help != NULL)
		c->help(out);
	else
		fputs(c->usage, out);
}

int cli_fail(const char *cmd, const char *what, int err)
{
	return cli_fail_why(cmd, what, err, NULL);
}

int cli_fail_why(const char *cmd, const char *what, int err, const char *why)
{
	if (why == NULL)
		why = skt_strerror(err);
	FILE *jf = cli_json_error_stream();
	if (jf != NULL) {
		cli_json j;
		cli_json_begin(&j, jf, "error");
		cli_json_text(&j, "command", cmd);
		cli_json_error_why(&j, "error", err, what, why);
		cli_json_end(&j);
		/* A log on stderr goes there line by line, at once. */
		if (jf == stderr)
			return CLI_FAIL;
	}
	fprintf(stderr, "sockit: %s: %s: %s\n", cmd, what, why);
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
		cmd != NULL ? ": " : "",
		skt_strerror(err > 0 ? -err : SKT_EIO));
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
		fprintf(stderr,
			"sockit: %s: tried %s at +%lld ms: %s after "
			"%lld ms\n",
			cmd, addr, (long long)a->start_ms,
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

unsigned cli_workers(unsigned asked)
{
	if (asked > 0)
		return asked;
	cpu_set_t set;
	unsigned n = 1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		n = (unsigned)CPU_COUNT(&set);
	return n < CLI_WORKERS_MAX ? n : CLI_WORKERS_MAX;
}

int cli_family(const char *cmd, bool v4, bool v6, int *family)
{
	if (v4 && v6)
		return cli_usage_error(cmd, "-4 and -6 conflict");
	*family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
	return CLI_OK;
}

int cli_unknown_service(const char *cmd, const char *name, int socktype)
{
	return cli_usage_error(cmd,
			       "unknown service '%s' (not a number or a "
			       "name in /etc/services for %s)",
			       name, socktype == SOCK_DGRAM ? "udp" : "tcp");
}

int cli_opt_port(const char *cmd, const char *what, const char *text,
		 int socktype, int flags, uint16_t *port)
{
	bool digits =
		text[0] != '\0' && strspn(text, "0123456789") == strlen(text);
	int p = digits ? skt_port_parse(text, flags) : SKT_EBADPORT;
	if (p < 0 && digits)
		return cli_usage_error(cmd, "%s '%s': %s (%d-65535)", what,
				       text, skt_strerror(SKT_EBADPORT),
				       (flags & SKT_PARSE_PORT_ZERO) ? 0 : 1);
	if (!digits) {
		skt_endpoint ep;
		/* The shape first: "80-90" or "a b" is no name to look up. */
		if (skt_endpoint_set(&ep, NULL, text, SKT_PARSE_NO_HOST) < 0)
			return cli_usage_error(cmd, "%s '%s': %s", what, text,
					       skt_strerror(SKT_EBADPORT));
		p = skt_service_port(text, socktype);
		if (p < 0)
			return cli_unknown_service(cmd, text, socktype);
	}
	*port = (uint16_t)p;
	return CLI_OK;
}

/* The part of a two-argument target that is wrong. */
static const char *bad_part(int rc, int nargs, char **args)
{
	if (nargs == 1)
		return args[0];
	return rc == SKT_EBADPORT ? args[1] : args[0];
}

int cli_parse_target(const char *cmd, int nargs, char **args, int flags,
		     int socktype, skt_endpoint *ep)
{
	int rc;
	if (nargs == 1)
		rc = skt_endpoint_parse(ep, args[0], flags);
	else if (nargs == 2)
		rc = skt_endpoint_set(ep, args[0], args[1], flags);
	else
		return cli_usage_error(cmd, "expected HOST PORT, HOST:PORT or "
					    "unix:PATH");
	if (rc < 0)
		return cli_usage_error(cmd, "'%s': %s",
				       bad_part(rc, nargs, args),
				       skt_strerror(rc));
	uint16_t port;
	if (socktype != 0 && ep->kind == SKT_EP_INET &&
	    ep->service[0] != '\0' &&
	    skt_port_parse(ep->service, SKT_PARSE_PORT_ZERO) < 0)
		return cli_opt_port(cmd, "port", ep->service, socktype, flags,
				    &port);
	return CLI_OK;
}

int cli_parse_host(const char *cmd, const char *text, skt_endpoint *ep)
{
	int rc = skt_endpoint_set(ep, text, NULL, SKT_PARSE_NO_PORT);
	if (rc == 0 && ep->kind != SKT_EP_INET)
		rc = SKT_EBADHOST;
	if (rc < 0)
		return cli_usage_error(cmd, "'%s': %s", text, skt_strerror(rc));
	return CLI_OK;
}

int cli_cidr_add(const char *cmd, cli_cidrs *list, const char *text)
{
	if (list->n == CLI_CIDR_MAX)
		return cli_usage_error(cmd, "more than %d address ranges",
				       CLI_CIDR_MAX);
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

const char *cli_signame(int sig)
{
	return sig == SIGINT    ? "SIGINT"
	       : sig == SIGTERM ? "SIGTERM"
	       : sig == SIGHUP  ? "SIGHUP"
				: "signal";
}

const char *cli_refusal(int why)
{
	return why == SKT_SERVER_REFUSE_DENIED       ? "denied"
	       : why == SKT_SERVER_REFUSE_MAX_CONNS  ? "max-conns"
	       : why == SKT_SERVER_REFUSE_MAX_PER_IP ? "max-per-ip"
						     : "stopping";
}
