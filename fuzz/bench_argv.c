/* bench_argv.c - fuzz `sockit bench`'s option parsing through its
 * parse-only entry point, cmd_bench_parse (src/cli/cmds.h), with
 * fuzzer-made argv: options, targets (HOST:PORT, HOST PORT, unix:PATH,
 * http:// and https:// URLs), the TLS options (cli_tls), and the HTTP
 * request built from -X, --path and --header.
 * Parse only: nothing is resolved or connected, and --body's file is not
 * read (with --body the request is built later, by run()).
 *
 * Input: up to 16 arguments separated by NUL bytes.
 *
 * Properties: the parse ends in CLI_OK, CLI_USAGE or CLI_HELP; no crash,
 * over-read or leak; an accepted parse has its counts within the documented
 * bounds, and for HTTP a request that is one well-formed head: a request
 * line, CRLF line ends only (no header injection through --header or
 * --path), ending in the one empty line.
 */
#include "fuzz.h"

#include "../src/cli/cmds.h"
#include "cli/argv.h"

#include <string.h>

static void check_request(const struct bench_cli *b)
{
	const bench_opts *o = &b->o;
	const char *r = o->request;
	const char *m = b->method != NULL ? b->method : "GET";
	size_t n = o->request_len, mlen = strlen(m);
	FUZZ_CHECK(r != NULL && n >= 4 && n < BENCH_REQUEST_MAX);
	FUZZ_CHECK(strlen(r) == n);
	FUZZ_CHECK(strncmp(r, m, mlen) == 0 && r[mlen] == ' ');
	FUZZ_CHECK(memcmp(r + n - 4, "\r\n\r\n", 4) == 0);
	/* Only the last CRLF may follow another. */
	const char *end = strstr(r, "\r\n\r\n");
	FUZZ_CHECK(end == r + n - 4);
	for (size_t i = 0; i < n; i++) {
		if (r[i] == '\r')
			FUZZ_CHECK(i + 1 < n && r[i + 1] == '\n');
		if (r[i] == '\n')
			FUZZ_CHECK(i > 0 && r[i - 1] == '\r');
	}
}

static void check_accepted(const struct bench_cli *b)
{
	const bench_opts *o = &b->o;
	FUZZ_CHECK(b->ep.kind == SKT_EP_INET || b->ep.kind == SKT_EP_UNIX);
	FUZZ_CHECK(o->mode == BENCH_ECHO || o->mode == BENCH_CONNECT ||
		   o->mode == BENCH_HTTP);
	FUZZ_CHECK(o->conns >= 1 && o->conns <= 1000000);
	FUZZ_CHECK(o->threads >= 1 && o->threads <= CLI_WORKERS_MAX);
	FUZZ_CHECK(o->pipeline >= 1 && o->timeout_ms >= 1);
	FUZZ_CHECK(o->duration_ms > 0 || o->requests > 0);
	FUZZ_CHECK(!o->udp || o->mode == BENCH_ECHO);
	FUZZ_CHECK(!b->tls.on || !o->udp);
	FUZZ_CHECK(!o->reconnect ||
		   (o->mode == BENCH_ECHO && !o->udp && o->pipeline == 1));
	FUZZ_CHECK(o->tls == NULL); /* made by run(), never by the parse */
	if (o->mode == BENCH_HTTP && b->body_file == NULL)
		check_request(b);
	if (o->mode == BENCH_HTTP && b->body_file != NULL)
		FUZZ_CHECK(o->request == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bench_cli b; /* large: the request buffer */
	fuzz_track_allocs();
	fuzz_quiet();
	fuzz_in in = {data, size};
	fuzz_argv a;
	fuzz_argv_make(&a, &in, "bench");
	int rc = cmd_bench_parse(a.argc, a.argv, &b);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_HELP);
	if (rc == CLI_OK)
		check_accepted(&b);
	fuzz_argv_free(&a);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
