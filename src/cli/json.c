/* json.c - the JSON writer behind every --json (see json.h and
 * docs/json.md). Output goes through stdio, so a failing stdout shows at
 * cli_finish_stdout like any other output. */
#include "json.h"
#include "cli.h"

#include <string.h>

/* The separator and key of the next member at the current level. */
static void member(cli_json *j, const char *key)
{
	int d = j->depth < CLI_JSON_DEPTH ? j->depth : CLI_JSON_DEPTH - 1;
	if (!j->first[d])
		fputc(',', j->f);
	j->first[d] = false;
	if (key != NULL) {
		cli_json_str(j->f, key);
		fputc(':', j->f);
	}
}

static void open_level(cli_json *j, const char *key, char open, char close)
{
	member(j, key);
	fputc(open, j->f);
	if (j->depth + 1 < CLI_JSON_DEPTH) {
		j->depth++;
		j->first[j->depth] = true;
		j->close[j->depth] = close;
	}
}

void cli_json_begin(cli_json *j, FILE *f, const char *type)
{
	*j = (cli_json){.f = f};
	fputc('{', f);
	j->first[0] = true;
	j->close[0] = '}';
	cli_json_text(j, "type", type);
}

void cli_json_close(cli_json *j)
{
	if (j->depth > 0)
		fputc(j->close[j->depth--], j->f);
}

void cli_json_end(cli_json *j)
{
	while (j->depth > 0)
		cli_json_close(j);
	fputs("}\n", j->f);
}

void cli_json_object(cli_json *j, const char *key)
{
	open_level(j, key, '{', '}');
}

void cli_json_array(cli_json *j, const char *key)
{
	open_level(j, key, '[', ']');
}

void cli_json_text(cli_json *j, const char *key, const char *v)
{
	member(j, key);
	if (v != NULL)
		cli_json_str(j->f, v);
	else
		fputs("null", j->f);
}

void cli_json_int(cli_json *j, const char *key, long long v)
{
	member(j, key);
	fprintf(j->f, "%lld", v);
}

void cli_json_uint(cli_json *j, const char *key, unsigned long long v)
{
	member(j, key);
	fprintf(j->f, "%llu", v);
}

void cli_json_bool(cli_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void cli_json_null(cli_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void cli_json_num(cli_json *j, const char *key, double v, int digits)
{
	member(j, key);
	/* JSON has no NaN or infinity: a figure that cannot be had is null. */
	if (v != v || v > 1e300 || v < -1e300)
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", digits, v);
}

void cli_json_us(cli_json *j, const char *key, int64_t us)
{
	member(j, key);
	long long v = us;
	fprintf(j->f, "%s%lld.%06lld", v < 0 ? "-" : "",
		(v < 0 ? -v : v) / 1000000, (v < 0 ? -v : v) % 1000000);
}

void cli_json_secs(cli_json *j, const char *key, double s)
{
	cli_json_num(j, key, s, 6);
}

void cli_json_addr(cli_json *j, const char *prefix, const skt_addr *a)
{
	char key[64];
	char host[SKT_ADDRSTRLEN + 8] = "";
	bool unix_sock = a != NULL && a->u.sa.sa_family == AF_UNIX;
	if (a != NULL && unix_sock)
		skt_addr_format(a, host, sizeof(host));
	else if (a != NULL && skt_addr_format_host(a, host, sizeof(host)) < 0)
		host[0] = '\0';
	snprintf(key, sizeof(key), "%s%saddress", prefix ? prefix : "",
		 prefix ? "_" : "");
	cli_json_text(j, key, host[0] != '\0' ? host : NULL);
	snprintf(key, sizeof(key), "%s%sport", prefix ? prefix : "",
		 prefix ? "_" : "");
	if (a == NULL || unix_sock || host[0] == '\0')
		cli_json_null(j, key);
	else
		cli_json_uint(j, key, skt_addr_port(a));
}

void cli_json_error(cli_json *j, const char *key, int err, const char *what)
{
	cli_json_error_why(j, key, err, what, NULL);
}

void cli_json_error_why(cli_json *j, const char *key, int err, const char *what,
			const char *why)
{
	if (err == 0) {
		cli_json_null(j, key);
		return;
	}
	cli_json_object(j, key);
	cli_json_text(j, "code", skt_errname(err));
	cli_json_text(j, "message", why != NULL ? why : skt_strerror(err));
	if (what != NULL)
		cli_json_text(j, "what", what);
	cli_json_close(j);
}

static FILE *error_stream;

void cli_json_errors(FILE *f)
{
	error_stream = f;
}

FILE *cli_json_error_stream(void)
{
	return error_stream;
}
