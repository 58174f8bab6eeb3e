/* cli_argv.c - fuzz the real option parsing of the sockit subcommands
 * (resolve, check, scan, connect, listen, service, hostname, http, send,
 * recv) through
 * their parse-only entry points (src/cli/cmds.h), with fuzzer-made argv:
 * nothing reaches the network. serve and bench have harnesses of their
 * own (serve_argv, bench_argv).
 *
 * Input: one byte choosing the command, then its arguments separated by
 * NUL bytes (at most 16).
 *
 * Properties: a parse ends in CLI_OK, CLI_USAGE or (for an allocation
 * failure) CLI_FAIL; it never crashes, reads past an argument or leaks,
 * whatever getopt was left with by the input before; what an accepted
 * parse stores holds its command's invariants (a port is never 0, a
 * target has a kind, a scan has ports to scan).
 */
#include "fuzz.h"

#include "../src/cli/cmds.h"
#include "cli/argv.h"

#include <string.h>

static int resolve(int argc, char **argv)
{
	struct resolve_opts o;
	int rc = cmd_resolve_parse(argc, argv, &o);
	if (rc == CLI_OK)
		FUZZ_CHECK(o.query != NULL);
	return rc;
}

static int check(int argc, char **argv)
{
	struct check_opts o;
	int rc = cmd_check_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	FUZZ_CHECK(o.nports >= 1 && o.host != NULL);
	FUZZ_CHECK(o.timeout_ms >= 1);
	for (int i = 0; i < o.nports; i++)
		FUZZ_CHECK(o.ports[i] != 0);
	cmd_check_free(&o);
	return rc;
}

static int scan(int argc, char **argv)
{
	struct scan_opts o;
	int rc = cmd_scan_parse(argc, argv, &o);
	if (rc == CLI_OK && o.merge) {
		FUZZ_CHECK(o.nfiles >= 1);
	} else if (rc == CLI_OK) {
		FUZZ_CHECK(skt_portset_count(&o.ports) >= 1);
		FUZZ_CHECK(o.ntargets > 0 || o.input_list != NULL ||
			   (o.host != NULL && o.host[0] != '\0'));
		FUZZ_CHECK(o.shard >= 1 && o.shard <= o.shards);
	}
	cmd_scan_free(&o);
	return rc;
}

/* --exec: NULL-terminated words, none empty, the first the program. */
static void check_exec(const struct bridge *b)
{
	if (b->exec.argv == NULL)
		return;
	FUZZ_CHECK(b->exec.argv[0] != NULL && b->exec.argv[0][0] != '\0');
	for (size_t i = 0; b->exec.argv[i] != NULL; i++)
		FUZZ_CHECK(i < BRIDGE_EXEC_ARGS && b->exec.argv[i][0] != '\0');
}

static int connect_(int argc, char **argv)
{
	struct connect_opts o;
	int rc = cmd_connect_parse(argc, argv, &o);
	if (rc == CLI_OK) {
		FUZZ_CHECK(o.ep.kind == SKT_EP_INET ||
			   o.ep.kind == SKT_EP_UNIX ||
			   o.ep.kind == SKT_EP_UNIX_DGRAM);
		FUZZ_CHECK(o.ep.kind != SKT_EP_UNIX_DGRAM || o.b.udp);
		FUZZ_CHECK(o.target[0] != '\0');
		/* --proxy: a TCP target with a port, a proxy with a host. */
		FUZZ_CHECK(o.proxy_text == NULL ||
			   (o.ep.kind == SKT_EP_INET && !o.b.udp &&
			    o.port > 0 && o.proxy.host[0] != '\0' &&
			    o.proxy.port > 0));
		check_exec(&o.b);
	}
	return rc;
}

static int listen_(int argc, char **argv)
{
	struct listen_opts o;
	int rc = cmd_listen_parse(argc, argv, &o);
	if (rc == CLI_OK) {
		FUZZ_CHECK(o.ep.kind == SKT_EP_INET ||
			   o.ep.kind == SKT_EP_UNIX ||
			   o.ep.kind == SKT_EP_UNIX_DGRAM);
		FUZZ_CHECK(o.ep.kind != SKT_EP_UNIX_DGRAM || o.b.udp);
		FUZZ_CHECK(!o.broker ||
			   (o.keep && !o.b.udp && o.b.exec.argv == NULL));
		FUZZ_CHECK(!o.unlink || o.ep.kind != SKT_EP_INET);
		check_exec(&o.b);
		FUZZ_CHECK(o.allow.n <= CLI_CIDR_MAX &&
			   o.deny.n <= CLI_CIDR_MAX);
	}
	return rc;
}

static int service(int argc, char **argv)
{
	struct service_opts o;
	int rc = cmd_service_parse(argc, argv, &o);
	if (rc == CLI_OK)
		FUZZ_CHECK(o.query != NULL);
	return rc;
}

static int hostname(int argc, char **argv)
{
	struct hostname_opts o;
	return cmd_hostname_parse(argc, argv, &o);
}

static int http_(int argc, char **argv)
{
	struct http_opts o;
	int rc = cmd_http_parse(argc, argv, &o);
	if (rc == CLI_OK) {
		FUZZ_CHECK(o.nurls >= 1 && o.urls != NULL);
		FUZZ_CHECK(!(o.head && (o.data != NULL || o.data_file)));
		FUZZ_CHECK(!(o.json && (o.raw || o.include)));
		FUZZ_CHECK(o.unix_socket == NULL || (!o.v4 && !o.v6));
		FUZZ_CHECK(o.nheaders <= HTTP_HEADERS_MAX);
	}
	return rc;
}

static int send_(int argc, char **argv)
{
	struct send_opts o;
	int rc = cmd_send_parse(argc, argv, &o);
	if (rc == CLI_OK) {
		FUZZ_CHECK(o.npaths >= 1 && o.paths != NULL);
		FUZZ_CHECK(xf_alg_hash_len(o.alg) >= 0);
		FUZZ_CHECK(o.chunk >= XF_CHUNK_MIN && o.chunk <= XF_CHUNK_MAX &&
			   (o.chunk & (o.chunk - 1)) == 0);
	}
	return rc;
}

static int recv_(int argc, char **argv)
{
	struct recv_opts o;
	int rc = cmd_recv_parse(argc, argv, &o);
	if (rc == CLI_OK)
		FUZZ_CHECK(o.dir != NULL && o.max_files >= 1);
	return rc;
}

typedef struct cmd {
	const char *name;
	int (*parse)(int argc, char **argv);
} cmd;

/* In the order the corpus's first byte counts them: add at the end. */
static const cmd cmds[] = {
	{"resolve", resolve},   {"check", check},    {"scan", scan},
	{"connect", connect_},  {"listen", listen_}, {"service", service},
	{"hostname", hostname}, {"http", http_},     {"send", send_},
	{"recv", recv_},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_quiet();
	fuzz_in in = {data, size};
	const cmd *c = &cmds[fuzz_u8(&in) % (sizeof(cmds) / sizeof(cmds[0]))];
	fuzz_argv a;
	fuzz_argv_make(&a, &in, c->name);
	int rc = c->parse(a.argc, a.argv);
	FUZZ_CHECK(FUZZ_PARSE_RC_OK(rc));
	fuzz_argv_free(&a);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
