/* cmds.h - each subcommand's options, and its parse-only entry point.
 *
 * Every cmd_<name>.c has one shape: cmd_<name>_parse() reads argv into
 * the struct below and checks every conflict in one place (its static
 * validate()), touching neither the network nor a file; run() then calls
 * the library with the struct. The fuzzers (fuzz/cli_argv.c,
 * fuzz/serve_argv.c, fuzz/bench_argv.c) call the parse entries directly.
 *
 * Each parse returns CLI_OK, or CLI_USAGE after one line on stderr, or
 * CLI_FAIL when memory runs out. argv[0] is the command's name, as
 * main() passes it; getopt may permute argv. After CLI_OK, what the parse
 * allocated goes with cmd_<name>_free() (only check allocates).
 */
#ifndef SOCKIT_CLI_CMDS_H
#define SOCKIT_CLI_CMDS_H

#include "bench_report.h"
#include "bridge.h"
#include "cli.h"
#include "cli_tls.h"
#include "tools/exec/spawn.h"
#include "tools/http/httpc.h"
#include "tools/proxy/proxy.h"
#include "tools/relay/relay.h"
#include "tools/relay/udp.h"
#include "tools/serve/services.h"
#include "tools/xfer/xfer.h"

struct resolve_opts {
	bool v4, v6;
	int family;
	bool json;
	const char *query; /* the first of the nqueries in queries */
	char **queries;
	int nqueries;
};
int cmd_resolve_parse(int argc, char **argv, struct resolve_opts *o);

struct service_opts {
	bool udp;
	bool json;
	const char *query;
};
int cmd_service_parse(int argc, char **argv, struct service_opts *o);

struct hostname_opts {
	bool fqdn;
	bool json;
};
int cmd_hostname_parse(int argc, char **argv, struct hostname_opts *o);

struct check_opts {
	bool v4, v6, w_given, timeout_given;
	int family;
	bool json;
	bool verbose; /* -v: every address tried, on stderr */
	int timeout_ms;
	skt_endpoint ep; /* the host; HOST:PORT gives the first port */
	const char *host;
	int nports;
	uint16_t *ports;    /* as given, duplicates and order kept */
	struct cli_tls tls; /* --tls: a handshake on each open port */
	int warn_days;      /* --warn-days N; -1 when not given */
};
int cmd_check_parse(int argc, char **argv, struct check_opts *o);
void cmd_check_free(struct check_opts *o);

#define SCAN_EXCLUDES_MAX 64
struct scan_opts {
	bool v4, v6;
	int family;
	bool json;
	bool open_only;
	skt_scan_opts so;
	skt_endpoint ep;
	const char *host; /* the one target of HOST PORTS or HOST:PORTS, or
			   * NULL (then the scan prints no host field) */
	const char *ports_text;
	unsigned top_ports; /* --top-ports N instead of PORTS; 0: not given */
	skt_portset ports;
	char **targets; /* operands that are targets (borrowed) */
	size_t ntargets;
	const char *input_list; /* -iL FILE, "-" for stdin */
	const char *excludes[SCAN_EXCLUDES_MAX];
	size_t nexcludes;
	const char *exclude_files[SCAN_EXCLUDES_MAX];
	size_t nexclude_files;
	uint64_t max_targets;
	bool all_addresses;
	uint64_t seed;
	bool seed_given, no_randomize;
	uint32_t shard, shards; /* 1-based */
	uint64_t resume;
	const char *out_grep, *out_xml; /* -oG FILE, -oX FILE ("-": stdout) */
	bool banner;
	bool merge;   /* operands are shard outputs to join */
	char **files; /* with merge */
	size_t nfiles;
	char **argv; /* argv with nmap's -oG/-oX/-iL spelled long; heap */
	int argc;
	char **argv_given; /* as typed, for the files' "args" */
	char host_buf[SKT_HOST_MAX + 3];
	char others[16][SKT_ADDRSTRLEN]; /* the one name's other addresses */
	size_t nothers;
};
int cmd_scan_parse(int argc, char **argv, struct scan_opts *o);
void cmd_scan_free(struct scan_opts *o);

struct connect_opts {
	struct bridge b;
	skt_endpoint ep;
	char target[SKT_ADDRSTRLEN];
	const char *source;      /* -s ADDR */
	const char *source_port; /* --source-port N */
	skt_addr src;            /* both, parsed */
	const char *proxy_text;  /* --proxy URL */
	proxy_url proxy;         /* parsed */
	uint16_t port;           /* the target's, with --proxy */
};
int cmd_connect_parse(int argc, char **argv, struct connect_opts *o);

struct listen_opts {
	struct bridge b;
	bool keep;     /* -k */
	bool any_port; /* PORT 0: print the one the system chose */
	skt_endpoint ep;
	char target[SKT_ADDRSTRLEN];
	const char *unix_path; /* --unix PATH */
	cli_cidrs allow, deny;
	bool broker; /* --broker: clients to each other, on the server */
	bool unlink; /* --unlink: replace a stale socket file */
};
int cmd_listen_parse(int argc, char **argv, struct listen_opts *o);

struct serve_opts {
	skt_server_opts svc;
	const char *name;
	const char *file; /* --file */
	bool tcp, udp;    /* as given */
	bool workers_given, queue_given, idle_given, handshake_given;
	bool json;
	struct cli_tls tls;
	cli_cidrs allow, deny;
	svc_quotes quotes;
	const char *sh_exec; /* exec: --sh-exec LINE */
	char *sh_argv[4];    /* exec: /bin/sh -c LINE */
	spawn_cmd cmd;       /* exec: what runs per connection */
	const char *dir;     /* http: DIR */
	bool dotfiles, follow_symlinks, no_access_log;
	svc_http_opts http;     /* http: made by run() */
	svc_socks5_opts socks5; /* socks5: --proxy-user, into socks5_cred */
	char socks5_cred[2 * PROXY_CRED_MAX + 2];
	unsigned unix_mode; /* --unix-mode, for every unix: --listen */
	bool unix_mode_given;
};
int cmd_serve_parse(int argc, char **argv, struct serve_opts *o);

/* relay LISTEN TARGET...: the targets are parsed here and resolved by
 * run(). */
struct relay_cli_opts {
	skt_server_opts svc;
	relay_opts relay;
	relay_target targets[RELAY_TARGETS_MAX];
	skt_endpoint target_ep[RELAY_TARGETS_MAX];
	bool json, unix_listen, per_ip_given, seed_given;
	cli_cidrs allow, deny;
	/* udp:LISTEN udp:TARGET: the UDP relay (tools/relay/udp.h) */
	bool udp, idle_given;
	const char *tcp_only; /* a TCP-only option given, for the error */
	relay_udp_opts uopts;
	char uhost[SKT_HOST_MAX + 1], uport[8];
};
int cmd_relay_parse(int argc, char **argv, struct relay_cli_opts *o);

#define HTTP_HEADERS_MAX 64

struct http_opts {
	bool v4, v6;
	int family;
	bool verbose;       /* -v */
	int timeout_ms;     /* -w: connect and idle; -1 none */
	int connect_ms;     /* --connect-timeout; -1: -w's */
	int max_time_ms;    /* --max-time: each URL's whole transfer */
	const char *source; /* -s ADDR */
	const char *source_port;
	skt_addr src;
	bool src_set;
	struct cli_tls tls;
	const char *method; /* -X, or the METHOD operand; NULL: GET/POST */
	bool head;          /* -I */
	bool include;       /* -i */
	bool raw;           /* --raw */
	bool json;          /* --json */
	bool follow;        /* -L */
	unsigned max_redirs;
	bool allow_downgrade; /* follow https -> http, with a warning */
	bool http10;
	bool fail;          /* -f: a status >= 400 is a failure */
	bool no_progress;   /* --no-progress */
	const char *output; /* -o FILE; NULL or "-": stdout */
	const char *data;   /* -d DATA */
	const char *data_file;
	const char *headers[HTTP_HEADERS_MAX];
	size_t nheaders;
	const char *unix_socket; /* --unix-socket PATH or unix:PATH */
	skt_addr unix_addr;
	const char *proxy_text; /* --proxy URL */
	proxy_url proxy;
	char **urls;
	int nurls;
	bool any_https;
};
int cmd_http_parse(int argc, char **argv, struct http_opts *o);

#define BENCH_HEADERS_MAX 32
#define BENCH_REQUEST_MAX 8192

struct bench_cli {
	bench_opts o;
	skt_endpoint ep;
	bool v4, v6;
	int family;
	bool json, quiet, keepalive;
	bool mode_set, size_set, duration_set;
	int next; /* -1: the mode's default, 0: now, 1: poll */
	const char *path;
	const char *method, *body_file, *content_type;
	char *body; /* read from body_file by run(), not by the parse */
	size_t body_len;
	char *whole; /* head and body, when there is a body */
	const char *headers[BENCH_HEADERS_MAX];
	size_t nheaders;
	char host_header[SKT_HOST_MAX + 16];
	char request[BENCH_REQUEST_MAX]; /* the head */
	struct cli_tls tls;              /* --tls, or an https:// URL */
	bench_target t;
};
int cmd_bench_parse(int argc, char **argv, struct bench_cli *b);
/* bench_tls.c: the TLS options' conflicts for bench (CLI_OK, or
 * CLI_USAGE after one line); the context into b->o.tls and the names each
 * session checks and sends; one handshake with the target before the run
 * (CLI_OK, or CLI_FAIL after one line naming the reason). */
int bench_cli_tls_check(const struct bench_cli *b);
int bench_cli_tls_context(struct bench_cli *b);
int bench_cli_tls_probe(struct bench_cli *b);

/* --secret SECRET or --secret-file FILE (send and recv). */
struct xfer_secret {
	bool on;
	const char *first; /* the option given, for messages */
	uint8_t v[XF_SECRET_MAX];
	size_t len;
};
/* Take --secret (file false) or --secret-file: CLI_OK, or CLI_USAGE /
 * CLI_FAIL after one line. */
int xfer_secret_option(struct xfer_secret *s, const char *cmd, bool file,
		       const char *arg);

struct send_opts {
	bool v4, v6, quiet, json;
	int family;
	int alg;
	uint32_t chunk;
	int timeout_ms;
	skt_endpoint ep;
	char *const *paths; /* borrowed from argv */
	size_t npaths;
	struct cli_tls tls;
	struct xfer_secret secret;
};
int cmd_send_parse(int argc, char **argv, struct send_opts *o);

struct recv_opts {
	bool v4, v6, quiet, json, keep, overwrite, no_resume;
	int family;
	int timeout_ms;
	const char *dir;
	const char *host; /* NULL: loopback; "*": every address */
	const char *port_text;
	uint16_t port;
	uint64_t max_size, max_files;
	struct cli_tls tls;
	struct xfer_secret secret;
};
int cmd_recv_parse(int argc, char **argv, struct recv_opts *o);

#endif
