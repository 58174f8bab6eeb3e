/* serve_argv.c - fuzz `sockit serve`'s option parsing through its
 * parse-only entry point, cmd_serve_parse (src/cli/cmds.h), with
 * fuzzer-made argv. Parse only: nothing listens, and --file is only
 * remembered (the quotes are read by run()), so no made-up path is opened.
 *
 * Input: up to 16 arguments separated by NUL bytes.
 *
 * Properties: the parse ends in CLI_OK, CLI_USAGE or CLI_HELP; no crash,
 * over-read or leak; an accepted parse names a known service, has at
 * least one listen address with a numeric port, one to CLI_WORKERS_MAX
 * workers (one for a service that runs on one loop), and --file only for
 * qotd.
 */
#include "fuzz.h"

#include "../src/cli/cmds.h"
#include "cli/argv.h"

#include <string.h>

static void check_accepted(const struct serve_opts *o)
{
	const skt_server_opts *s = &o->svc;
	FUZZ_CHECK(s->svc != NULL && svc_find(o->name) == s->svc);
	FUZZ_CHECK(s->naddrs >= 1 && s->naddrs <= SKT_SERVER_ADDR_MAX);
	for (size_t i = 0; i < s->naddrs; i++) {
		const char *p = s->addrs[i].port;
		if (skt_addr_family(&s->addrs[i].unix_addr) == AF_UNIX) {
			/* unix:PATH or unix:@name: TCP only, no port */
			FUZZ_CHECK(!s->udp);
			continue;
		}
		FUZZ_CHECK(p[0] != '\0' &&
			   strspn(p, "0123456789") == strlen(p));
	}
	FUZZ_CHECK(s->workers >= 1 && s->workers <= CLI_WORKERS_MAX);
	if (s->svc->flags & SKT_SERVICE_ONE_LOOP)
		FUZZ_CHECK(s->workers == 1);
	FUZZ_CHECK(s->tcp || s->udp);
	FUZZ_CHECK(o->file == NULL || s->svc == &svc_qotd);
	FUZZ_CHECK(s->max_queue >= 1024);
	FUZZ_CHECK(o->allow.n <= CLI_CIDR_MAX && o->deny.n <= CLI_CIDR_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct serve_opts o; /* as run() has it: the CIDR lists */
	fuzz_track_allocs();
	fuzz_quiet();
	fuzz_in in = {data, size};
	fuzz_argv a;
	fuzz_argv_make(&a, &in, "serve");
	int rc = cmd_serve_parse(a.argc, a.argv, &o);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_HELP);
	if (rc == CLI_OK)
		check_accepted(&o);
	fuzz_argv_free(&a);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
