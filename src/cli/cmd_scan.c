/* cmd_scan.c - `sockit scan TARGET... PORTS`: many ports on many hosts at
 * once, like `nmap -sT` / `nmap -sU`, exact on loopback (no self-connect
 * counted as open). The target spec, the order, the shards and the
 * scanner are the library's (src/scan/); this file parses options, builds
 * the target set (names resolved here: the library stays pure), raises
 * the fd limit, and hands results to scan_out.c. */
#include "scan_cli.h"

#include "json.h"
#include "tools/scan/tls_banner.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Progress redraws per second on a terminal. */
#define PROGRESS_HZ 10
/* Keep every result of a space up to this size (56 bytes each); past
 * it, open ports only. */
#define KEEP_ALL_MAX ((uint64_t)1 << 20)
/* Seeds below 2^53: a JSON reader keeps them exact (a double's
 * mantissa), so the seed a shard printed is the seed another types. */
#define SEED_MAX (((uint64_t)1 << 53) - 1)
/* --banner's default wait per open port: half for a greeting, half for
 * the answer to HEAD. */
#define BANNER_MS_DEFAULT 1000

enum {
	OPT_JSON = 256,
	OPT_OPEN,
	OPT_TIMEOUT,
	OPT_PARALLEL,
	OPT_RATE,
	OPT_TOP,
	OPT_RETRIES,
	OPT_NO_BACKOFF,
	OPT_MAX_TARGETS,
	OPT_ALL_ADDRS,
	OPT_INPUT,
	OPT_EXCLUDE,
	OPT_EXCLUDE_FILE,
	OPT_SEED,
	OPT_NO_RANDOM,
	OPT_SHARD,
	OPT_RESUME,
	OPT_OUT_GREP,
	OPT_OUT_XML,
	OPT_BANNER,
	OPT_BANNER_TIMEOUT,
	OPT_MERGE,
};

static int parse_rate(const char *arg, struct scan_opts *o)
{
	char text[24];
	uint64_t v;
	size_t n = strcspn(arg, "/");
	bool per_s = arg[n] == '\0' || strcmp(arg + n, "/s") == 0;
	snprintf(text, sizeof(text), "%.*s", (int)n, arg);
	if (!per_s || n >= sizeof(text) || cli_parse_u64(text, &v) < 0 ||
	    v < 1 || v > 100000000)
		return cli_usage_error("scan",
				       "--rate '%s': want N or N/s, "
				       "N from 1 to 100000000",
				       arg);
	o->so.rate = (int)v;
	return CLI_OK;
}

/* --shard I/N, I from 1 to N (masscan's form). */
static int parse_shard(const char *arg, struct scan_opts *o)
{
	char a[24], b[24];
	uint64_t i, n;
	const char *slash = strchr(arg, '/');
	if (slash == NULL || (size_t)(slash - arg) >= sizeof(a) ||
	    strlen(slash + 1) >= sizeof(b))
		return cli_usage_error("scan", "--shard '%s': want I/N", arg);
	snprintf(a, sizeof(a), "%.*s", (int)(slash - arg), arg);
	snprintf(b, sizeof(b), "%s", slash + 1);
	if (cli_parse_u64(a, &i) < 0 || cli_parse_u64(b, &n) < 0 || n < 1 ||
	    n > SKT_SCAN_SHARDS_MAX || i < 1 || i > n)
		return cli_usage_error("scan",
				       "--shard '%s': want I/N with I from 1 "
				       "to N and N from 1 to %d",
				       arg, SKT_SCAN_SHARDS_MAX);
	o->shard = (uint32_t)i;
	o->shards = (uint32_t)n;
	return CLI_OK;
}

static int add_listed(const char *opt, const char **v, size_t *n,
		      const char *arg)
{
	if (*n == SCAN_EXCLUDES_MAX)
		return cli_usage_error("scan", "%s: at most %d", opt,
				       SCAN_EXCLUDES_MAX);
	v[(*n)++] = arg;
	return CLI_OK;
}

static int parse_number(int ch, const char *arg, struct scan_opts *o)
{
	uint64_t v;
	int rc;
	switch (ch) {
	case OPT_PARALLEL:
		rc = cli_opt_count("scan", "--parallel", arg, 1,
				   SKT_SCAN_PARALLEL_MAX, &v);
		o->so.parallel = (int)v;
		return rc;
	case OPT_TOP:
		rc = cli_opt_count("scan", "--top-ports", arg, 1, 65535, &v);
		o->top_ports = (unsigned)v;
		return rc;
	case OPT_RETRIES:
		rc = cli_opt_count("scan", "--retries", arg, 0, 10, &v);
		o->so.retries = (int)v;
		return rc;
	case OPT_MAX_TARGETS:
		return cli_opt_count("scan", "--max-targets", arg, 1,
				     SKT_TARGETS_MAX_LIMIT, &o->max_targets);
	case OPT_SEED:
		o->seed_given = true;
		return cli_opt_count("scan", "--seed", arg, 0, SEED_MAX,
				     &o->seed);
	default: /* OPT_RESUME */
		return cli_opt_count("scan", "--resume", arg, 0,
				     SKT_SCAN_SPACE_MAX, &o->resume);
	}
}

static int parse_value(int ch, const char *arg, struct scan_opts *o)
{
	switch (ch) {
	case OPT_TIMEOUT:
		return cli_opt_duration("scan", "--timeout", arg, 1, 1, 3600000,
					&o->so.timeout_ms);
	case OPT_BANNER_TIMEOUT:
		o->banner = true;
		return cli_opt_duration("scan", "--banner-timeout", arg, 1, 2,
					60000, &o->so.banner_ms);
	case OPT_RATE:
		return parse_rate(arg, o);
	case OPT_SHARD:
		return parse_shard(arg, o);
	case 'p':
		o->ports_text = arg;
		return CLI_OK;
	case OPT_INPUT:
		o->input_list = arg;
		return CLI_OK;
	case OPT_EXCLUDE:
		return add_listed("--exclude", o->excludes, &o->nexcludes, arg);
	case OPT_EXCLUDE_FILE:
		return add_listed("--exclude-file", o->exclude_files,
				  &o->nexclude_files, arg);
	case OPT_OUT_GREP:
		o->out_grep = arg;
		return CLI_OK;
	case OPT_OUT_XML:
		o->out_xml = arg;
		return CLI_OK;
	default:
		return parse_number(ch, arg, o);
	}
}

static int parse_flag(int ch, struct scan_opts *o)
{
	switch (ch) {
	case '4':
		o->v4 = true;
		break;
	case '6':
		o->v6 = true;
		break;
	case 'u':
		o->so.socktype = SOCK_DGRAM;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_OPEN:
		o->open_only = true;
		break;
	case OPT_NO_BACKOFF:
		o->so.fixed_pace = true;
		break;
	case OPT_ALL_ADDRS:
		o->all_addresses = true;
		break;
	case OPT_NO_RANDOM:
		o->no_randomize = true;
		break;
	case OPT_BANNER:
		o->banner = true;
		break;
	case OPT_MERGE:
		o->merge = true;
		break;
	default:
		return -1;
	}
	return CLI_OK;
}

/* A service name in PORTS, for the transport scanned (/etc/services). */
static int port_of_name(const char *name, void *arg)
{
	const struct scan_opts *o = arg;
	int rc = skt_service_port(
		name, o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM);
	return rc == 0 ? SKT_EAI_SERVICE : rc;
}

/* --top-ports N: no frequency table is built in (nmap's comes under the
 * Nmap Public Source License); the first N ports the services database
 * names for the transport stand in, in its order (port order on Debian
 * and most systems). A database with fewer gives fewer. */
static int top_ports(struct scan_opts *o)
{
	static uint16_t ports[65535];
	int type = o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int n = skt_service_ports(ports, o->top_ports, type);
	if (n <= 0)
		return cli_usage_error("scan",
				       "--top-ports: the services "
				       "database names no %s port",
				       type == SOCK_DGRAM ? "udp" : "tcp");
	skt_portset_clear(&o->ports);
	for (int i = 0; i < n; i++)
		skt_portset_add(&o->ports, ports[i]);
	return CLI_OK;
}

static int parse_ports(struct scan_opts *o)
{
	if (o->top_ports > 0)
		return top_ports(o);
	skt_portset_error pe;
	int rc = skt_portset_parse_names(&o->ports, o->ports_text,
					 strlen(o->ports_text), port_of_name, o,
					 &pe);
	/* Name the bad item; an empty one has nothing to show but where. */
	if (rc < 0 && pe.len == 0)
		return cli_usage_error("scan", "ports '%s': %s at offset %zu",
				       o->ports_text, pe.why, pe.off);
	if (rc < 0)
		return cli_usage_error("scan", "ports '%.*s': %s", (int)pe.len,
				       o->ports_text + pe.off, pe.why);
	return CLI_OK;
}

/* HOST:PORTS ("127.0.0.1:22,80", "[::1]:1-1024"): one operand with one
 * colon, or a bracketed IPv6 address. */
static bool host_colon_ports(struct scan_opts *o, const char *arg)
{
	if (arg[0] != '[' && strchr(arg, ':') != strrchr(arg, ':'))
		return false;
	const char *colon =
		arg[0] == '[' ? strstr(arg, "]:") : strchr(arg, ':');
	if (colon != NULL && arg[0] == '[')
		colon++;
	if (colon == NULL || (size_t)(colon - arg) >= sizeof(o->host_buf))
		return false;
	size_t skip = arg[0] == '[';
	size_t len = (size_t)(colon - arg) - 2 * skip;
	snprintf(o->host_buf, sizeof(o->host_buf), "%.*s", (int)len,
		 arg + skip);
	o->host = o->host_buf;
	o->ports_text = colon + 1;
	return true;
}

/* The operands: shard files with --merge; else targets, and PORTS last
 * unless -p or --top-ports gave them. */
static int parse_operands(int nargs, char **args, struct scan_opts *o)
{
	if (o->merge) {
		if (nargs == 0)
			return cli_usage_error("scan",
					       "--merge needs FILE...: the "
					       "outputs of --json");
		o->files = args;
		o->nfiles = (size_t)nargs;
		return CLI_OK;
	}
	bool ports_given = o->ports_text != NULL || o->top_ports > 0;
	/* "HOST 22 --top-ports 5": a port list where a target would be. */
	skt_portset ps;
	if (o->top_ports > 0 && nargs >= 2 &&
	    strpbrk(args[nargs - 1], ".:[") == NULL &&
	    skt_portset_parse(&ps, args[nargs - 1], strlen(args[nargs - 1]),
			      NULL) > 0)
		return cli_usage_error("scan", "--top-ports N and PORTS "
					       "conflict: give one");
	if (o->ports_text != NULL && o->top_ports > 0)
		return cli_usage_error("scan", "--top-ports N and PORTS "
					       "conflict: give one");
	if (!ports_given && nargs == 1 && o->input_list == NULL &&
	    host_colon_ports(o, args[0])) {
		if (o->host[0] == '\0')
			return cli_usage_error("scan",
					       "'%s': no host before "
					       "the ports",
					       args[0]);
		return CLI_OK;
	}
	if (!ports_given && nargs >= 1) {
		o->ports_text = args[--nargs];
		if (o->top_ports > 0)
			return cli_usage_error("scan", "--top-ports N and "
						       "PORTS conflict: give "
						       "one");
	}
	if ((nargs == 0 && o->input_list == NULL) || o->ports_text == NULL) {
		if (o->top_ports == 0)
			return cli_usage_error(
				"scan", "expected HOST PORTS, HOST:PORTS, "
					"HOST --top-ports N or TARGET... -p "
					"PORTS");
		if (nargs == 0 && o->input_list == NULL)
			return cli_usage_error("scan",
					       "expected a TARGET or -iL FILE");
	}
	o->targets = args;
	o->ntargets = (size_t)nargs;
	if (nargs == 1 && o->input_list == NULL)
		o->host = args[0];
	return CLI_OK;
}

/* Every conflict, in one place. */
static int validate(struct scan_opts *o)
{
	int rc = cli_family("scan", o->v4, o->v6, &o->family);
	if (rc != CLI_OK)
		return rc;
	if (o->seed_given && o->no_randomize)
		return cli_usage_error("scan", "--seed and --no-randomize "
					       "conflict: an order in place "
					       "has no seed");
	bool udp = o->so.socktype == SOCK_DGRAM;
	if (udp && o->banner)
		return cli_usage_error("scan", "--banner is for TCP: -u and "
					       "--banner conflict");
	if (o->merge && (o->input_list || o->nexcludes || o->nexclude_files ||
			 o->seed_given || o->no_randomize || o->shards ||
			 o->resume || o->banner || o->top_ports ||
			 o->ports_text || o->max_targets || udp))
		return cli_usage_error("scan",
				       "--merge reads what scans wrote: "
				       "target, order and probe options do "
				       "not apply");
	if (o->resume > 0 && o->seed_given == false && !o->no_randomize)
		return cli_usage_error("scan", "--resume N needs the --seed "
					       "of the scan it goes on with");
	return CLI_OK;
}

/* nmap's two-letter options (-oG FILE, -oX FILE, -iL FILE) would read as
 * -o G with getopt: they are spelled long before parsing. */
static int respell(int argc, char **argv, struct scan_opts *o)
{
	o->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (o->argv == NULL)
		return cli_fail("scan", "argv", SKT_ENOMEM);
	static const char *const map[][2] = {
		{"-oG", "--output-grepable"},
		{"-oX", "--output-xml"},
		{"-iL", "--input-list"},
	};
	bool ended = false;
	for (int i = 0; i < argc; i++) {
		o->argv[i] = argv[i];
		ended |= strcmp(argv[i], "--") == 0;
		for (size_t k = 0; i > 0 && !ended && k < 3; k++)
			if (strcmp(argv[i], map[k][0]) == 0)
				o->argv[i] = (char *)map[k][1];
	}
	return CLI_OK;
}

int cmd_scan_parse(int argc, char **argv, struct scan_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"open", no_argument, NULL, OPT_OPEN},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"parallel", required_argument, NULL, OPT_PARALLEL},
		{"rate", required_argument, NULL, OPT_RATE},
		{"top-ports", required_argument, NULL, OPT_TOP},
		{"udp", no_argument, NULL, 'u'},
		{"ports", required_argument, NULL, 'p'},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"no-backoff", no_argument, NULL, OPT_NO_BACKOFF},
		{"max-targets", required_argument, NULL, OPT_MAX_TARGETS},
		{"all-addresses", no_argument, NULL, OPT_ALL_ADDRS},
		{"input-list", required_argument, NULL, OPT_INPUT},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE},
		{"seed", required_argument, NULL, OPT_SEED},
		{"no-randomize", no_argument, NULL, OPT_NO_RANDOM},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"resume", required_argument, NULL, OPT_RESUME},
		{"output-grepable", required_argument, NULL, OPT_OUT_GREP},
		{"output-xml", required_argument, NULL, OPT_OUT_XML},
		{"banner", no_argument, NULL, OPT_BANNER},
		{"banner-timeout", required_argument, NULL, OPT_BANNER_TIMEOUT},
		{"merge", no_argument, NULL, OPT_MERGE},
		{NULL, 0, NULL, 0},
	};
	*o = (struct scan_opts){.so = SKT_SCAN_OPTS_INIT};
	o->so.retries = 1;
	o->argc = argc;
	o->argv_given = argv;
	if (respell(argc, argv, o) != CLI_OK)
		return CLI_FAIL;
	cli_args a;
	cli_args_init(&a, "scan", argc, o->argv, "46up:", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0)
		if (parse_flag(ch, o) != CLI_OK)
			rc = parse_value(ch, a.arg, o);
	if (rc != CLI_OK)
		return CLI_USAGE;
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if ((rc = validate(o)) != CLI_OK)
		return rc;
	if (o->banner && o->so.banner_ms == 0)
		o->so.banner_ms = BANNER_MS_DEFAULT;
	o->so.http_probe = o->banner;
	if (o->shards == 0)
		o->shard = o->shards = 1;
	rc = parse_operands(argc - a.next, o->argv + a.next, o);
	if (rc != CLI_OK || o->merge)
		return rc;
	return parse_ports(o);
}

void cmd_scan_free(struct scan_opts *o)
{
	free(o->argv);
	o->argv = NULL;
}

/* ---- Running ---- */

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct run_ctx {
	struct scan_opts *o;
	scan_report *R;
	scan_build *b;
	skt_tls_ctx *tls;
	bool progress;
	int64_t next_draw_ms;
	uint64_t done, open;
	skt_scan_progress last;
} run_ctx;

static int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The progress line: what is done, the pace, an ETA from the pace so
 * far, and where --resume would go on. */
static void draw(run_ctx *c)
{
	int64_t now = clock_ms();
	if (now < c->next_draw_ms)
		return;
	c->next_draw_ms = now + 1000 / PROGRESS_HZ;
	const skt_scan_progress *p = &c->last;
	double frac = p->len ? (double)p->pos / (double)p->len : 0;
	char what[SKT_ADDRSTRLEN + 32];
	if (c->o->host != NULL)
		snprintf(what, sizeof(what), "%s", c->o->host);
	else
		snprintf(what, sizeof(what), "%llu targets",
			 (unsigned long long)c->R->meta.ntargets);
	fprintf(stderr, "\r\033[Kscanning %s: %llu/%llu probes, %llu open",
		what, (unsigned long long)c->done,
		(unsigned long long)(c->R->meta.space / c->R->meta.shards),
		(unsigned long long)c->open);
	if (frac > 0)
		fprintf(stderr, ", %d/s, ETA %.0f s, resume %llu", p->rate,
			(double)p->elapsed_ms / 1000 * (1 - frac) / frac,
			(unsigned long long)p->resume);
	fflush(stderr);
}

static void on_progress(const skt_scan_progress *p, void *arg)
{
	run_ctx *c = arg;
	c->last = *p;
	if (c->progress)
		draw(c);
}

/* A banner that may be TLS speaking: nothing, or a binary record (an
 * alert, 0x15, is what most servers send to a plain HEAD). */
static bool maybe_tls(const skt_scan_result *r)
{
	return r->banner_len == 0 || r->banner[0] == 0x15 ||
	       r->banner[0] == 0x16 || strstr((const char *)r->banner, "HTTPS");
}

static void on_result(const skt_scan_result *r, void *arg)
{
	run_ctx *c = arg;
	scan_rec rec;
	scan_rec_of(&rec, r);
	scan_name key, *hit = NULL;
	memcpy(key.ip, rec.ip, 16);
	if (c->b->nnames > 0)
		hit = bsearch(&key, c->b->names, c->b->nnames, sizeof(key),
			      scan_name_cmp);
	rec.name = hit != NULL ? hit->name : NULL;
	if (c->tls != NULL && r->state == SKT_PORT_OPEN && maybe_tls(r)) {
		char subject[256];
		/* Half the banner time: a port that neither greets nor
		 * answers HEAD nor speaks TLS costs one banner time. */
		if (tls_banner(c->tls, &r->addr, c->o->so.banner_ms / 2,
			       subject, sizeof(subject)) == 0)
			rec.tls = strdup(subject);
	}
	c->done++;
	c->open += r->state == SKT_PORT_OPEN;
	scan_report_add(c->R, &rec);
	if (c->progress)
		draw(c);
}

static void stop_signals(bool on)
{
	struct sigaction sa = {.sa_handler = on ? on_stop : SIG_DFL};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t random_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
		       (uint64_t)getpid();
	return seed & SEED_MAX;
}

static int scan_run(struct scan_opts *o, scan_build *b, scan_report *R,
		    skt_scan_space *sp, skt_scan_iter *it)
{
	run_ctx c = {.o = o, .R = R, .b = b};
	c.progress = isatty(STDERR_FILENO);
	if (o->banner && tls_banner_ctx(&c.tls) < 0)
		c.tls = NULL;
	skt_scan_opts so = o->so;
	skt_scan_stats st;
	so.stats = &st;
	so.stop = &stop_flag;
	so.progress = on_progress;
	so.progress_arg = &c;
	so.progress_ms = 1000 / PROGRESS_HZ;
	cli_raise_nofile();
	stop_signals(true);
	int rc = skt_scan_run(sp, it, &so, on_result, &c);
	stop_signals(false);
	if (c.progress)
		fputs("\r\033[K", stderr);
	skt_tls_ctx_free(c.tls);
	R->end = (scan_end){.pos = it->pos, .stopped = st.stopped, .st = st};
	if (rc < 0 && st.ports == 0)
		return cli_fail("scan", o->host ? o->host : "scan", rc);
	int out = scan_report_finish(R);
	if (rc < 0)
		return cli_fail("scan", o->host ? o->host : "scan", rc);
	return out;
}

static int scan_space(struct scan_opts *o, scan_build *b)
{
	skt_scan_space *sp = malloc(sizeof(*sp));
	if (sp == NULL)
		return cli_fail("scan", "space", SKT_ENOMEM);
	int rc = skt_scan_space_init(sp, b->t, &o->ports);
	if (rc < 0) {
		free(sp);
		return cli_fail("scan", "space", rc);
	}
	bool random = !o->no_randomize;
	if (!o->seed_given && random)
		o->seed = random_seed();
	skt_scan_order ord;
	skt_scan_iter it;
	skt_scan_order_init(&ord, sp->size, o->seed, random);
	rc = skt_scan_iter_init(&it, &ord, o->shard - 1, o->shards, o->resume);
	if (rc < 0) {
		skt_scan_iter_init(&it, &ord, o->shard - 1, o->shards, 0);
		free(sp);
		return cli_usage_error("scan",
				       "--resume %llu: past the end of shard "
				       "%u/%u (%llu)",
				       (unsigned long long)o->resume, o->shard,
				       o->shards, (unsigned long long)it.len);
	}
	int type = o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	scan_meta meta = {
		.fingerprint = skt_scan_fingerprint(sp, &ord, o->shards, type),
		.seed = o->seed,
		.random = random,
		.shard = o->shard,
		.shards = o->shards,
		.space = sp->size,
		.ntargets = sp->ntargets,
		.nports = sp->nports,
		.socktype = type,
		.start = o->resume,
		.len = it.len,
	};
	scan_report R;
	scan_report_init(&R, o, &meta, sp->size <= KEEP_ALL_MAX);
	scan_report_header(&R);
	rc = scan_run(o, b, &R, sp, &it);
	scan_report_free(&R);
	free(sp);
	return rc;
}

static int run(int argc, char **argv)
{
	struct scan_opts o;
	int rc = cmd_scan_parse(argc, argv, &o);
	if (rc != CLI_OK) {
		cmd_scan_free(&o);
		return rc;
	}
	if (o.json)
		cli_json_errors(stdout);
	if (o.merge) {
		rc = scan_merge(&o);
		cmd_scan_free(&o);
		return rc;
	}
	scan_build b = {.o = &o};
	rc = scan_build_targets(&b);
	if (rc == CLI_OK) {
		if (b.nnames > 0)
			qsort(b.names, b.nnames, sizeof(*b.names),
			      scan_name_cmp);
		rc = scan_space(&o, &b);
	}
	scan_build_free(&b);
	cmd_scan_free(&o);
	return rc;
}

const cli_cmd cli_cmd_scan = {
	.name = "scan",
	.summary = "probe many ports on many hosts: open, closed, filtered",
	.usage = "usage: sockit scan [options] TARGET... PORTS\n"
		 "       sockit scan [options] HOST:PORTS | [V6]:PORTS\n"
		 "       sockit scan [options] -p PORTS | --top-ports N "
		 "TARGET...\n"
		 "       sockit scan --merge [--json] [-oG F] [-oX F] FILE...\n"
		 "  Probe every port in PORTS on every target, many at once, "
		 "in a\n"
		 "  random order, and print the open ports (and the others, "
		 "when\n"
		 "  few) of each host with the service name and the reason.\n"
		 "  TARGET       an address, 10.0.0.0/24, 10.0.0.1-50, "
		 "10.0.0-3.1-254,\n"
		 "               10.0.0.1-10.0.1.9, 2001:db8::/120, or a name "
		 "(its\n"
		 "               first address; the others are listed as not "
		 "scanned)\n"
		 "  PORTS        ports, ranges and service names, e.g.\n"
		 "               22,80,8000-8100, http,ssh, 1024- (to 65535),\n"
		 "               -- -1024 (from 1), or all\n"
		 "  -p, --ports PORTS  the ports, so that every operand is a "
		 "target\n"
		 "  --top-ports N  the first N ports /etc/services names for "
		 "the\n"
		 "               transport (its order), instead of PORTS\n"
		 "  -iL FILE     targets from FILE, one a line (- for stdin)\n"
		 "  --exclude LIST, --exclude-file FILE  addresses not to "
		 "probe\n"
		 "  --max-targets N  refuse more addresses (default 65536)\n"
		 "  --all-addresses  every address of a name, not the first\n"
		 "  -4, -6       only IPv4 / only IPv6 targets\n"
		 "  -u, --udp    UDP: open on a reply, closed on an ICMP "
		 "refusal,\n"
		 "               open|filtered when neither comes\n"
		 "  --timeout MS each probe's wait (default 1000; or 500ms, "
		 "2s)\n"
		 "  --retries N  TCP probes sent again after a timeout "
		 "(default 1)\n"
		 "  --parallel N most probes at once (default: what the fd "
		 "limit\n"
		 "               allows; the soft limit is raised to the hard "
		 "one)\n"
		 "  --rate N/s   most probes started per second; the pace "
		 "slows\n"
		 "               down when timeouts rise\n"
		 "  --no-backoff keep the pace asked for, whatever the "
		 "timeouts say\n"
		 "  --seed N     the order's seed (printed when chosen at "
		 "random)\n"
		 "  --no-randomize  targets and ports in order\n"
		 "  --shard I/N  the I-th of N disjoint parts of the scan "
		 "(same seed\n"
		 "               on every machine)\n"
		 "  --resume P   go on from position P, where a stopped scan "
		 "said\n"
		 "  --banner     what open ports say first, an HTTP HEAD "
		 "answer, or\n"
		 "               a TLS certificate's subject\n"
		 "  --banner-timeout MS  the wait per open port (default "
		 "1000)\n"
		 "  --open       only open ports\n"
		 "  --json       JSON Lines: a scan object, one per port, a "
		 "summary\n"
		 "               (docs/json.md)\n"
		 "  -oG FILE, -oX FILE  nmap's grepable and XML formats (- "
		 "stdout)\n"
		 "  --merge FILE...  join the --json outputs of a scan's "
		 "shards\n",
	.run = run,
};
