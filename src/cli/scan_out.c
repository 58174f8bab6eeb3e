/* scan_out.c - what `sockit scan` writes: the table (grouped per host),
 * JSON Lines (docs/json.md), and nmap's grepable (-oG) and XML (-oX)
 * formats, in the subset that ndiff and common parsers read: hosts,
 * addresses, names, ports, states, reasons and service names. Results
 * are kept as compact records and sorted by address and port at the end,
 * which is also how the space numbers them, so every output groups per
 * host. */
#include "scan_cli.h"

#include "json.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A state with more ports than this on a host is counted, not listed (as
 * nmap's "Not shown: 65532 closed ports"). */
#define LIST_MAX 20

static const char *proto(int socktype)
{
	return socktype == SOCK_DGRAM ? "udp" : "tcp";
}

/* ---- Records ---- */

void scan_rec_of(scan_rec *rec, const skt_scan_result *r)
{
	*rec = (scan_rec){
		.port = r->port,
		.state = (uint8_t)r->state,
		.tries = (uint8_t)(r->tries > 255 ? 255 : r->tries),
		.self_connect = r->self_connect,
		.banner_probed = r->banner_probed,
		.err = r->err,
		.rtt_us = (int32_t)(r->rtt_us > INT32_MAX ? INT32_MAX
							  : r->rtt_us),
	};
	if (skt_addr_family(&r->addr) == AF_INET) {
		rec->ip[10] = rec->ip[11] = 0xff;
		memcpy(rec->ip + 12, &r->addr.u.in4.sin_addr, 4);
	} else if (skt_addr_family(&r->addr) == AF_INET6) {
		memcpy(rec->ip, &r->addr.u.in6.sin6_addr, 16);
	}
	if (r->banner != NULL)
		rec->banner = scan_escape(r->banner, r->banner_len);
}

static bool is_v4(const scan_rec *rec)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	return memcmp(rec->ip, mapped, 12) == 0;
}

void scan_rec_addr(const scan_rec *rec, skt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (is_v4(rec)) {
		a->u.in4.sin_family = AF_INET;
		memcpy(&a->u.in4.sin_addr, rec->ip + 12, 4);
		a->u.in4.sin_port = htons(rec->port);
		a->len = sizeof(a->u.in4);
	} else {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, rec->ip, 16);
		a->u.in6.sin6_port = htons(rec->port);
		a->len = sizeof(a->u.in6);
	}
}

static void rec_host(const scan_rec *rec, char *buf, size_t cap)
{
	skt_addr a;
	scan_rec_addr(rec, &a);
	if (skt_addr_format_host(&a, buf, cap) < 0)
		snprintf(buf, cap, "?");
}

void scan_rec_free(scan_rec *rec)
{
	free(rec->banner);
	free(rec->tls);
	rec->banner = rec->tls = NULL;
}

char *scan_escape(const uint8_t *b, size_t n)
{
	char *s = malloc(n * 4 + 1), *p = s;
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];
		if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
			*p++ = '\\';
			*p++ = c == '\r'   ? 'r'
			       : c == '\n' ? 'n'
			       : c == '\t' ? 't'
					   : '\\';
		} else if (c < 0x20 || c >= 0x7f) {
			p += sprintf(p, "\\x%02x", c);
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return s;
}

static void service_of(const scan_rec *rec, int socktype, char *buf, size_t cap)
{
	if (skt_service_name(rec->port, socktype, buf, cap) < 0)
		buf[0] = '\0';
}

static const char *reason(const scan_rec *rec, int socktype)
{
	skt_scan_result r = {
		.socktype = socktype,
		.state = (skt_port_state)rec->state,
		.err = rec->err,
		.self_connect = rec->self_connect,
	};
	return skt_scan_reason(&r);
}

/* ---- The report ---- */

void scan_report_init(scan_report *R, const struct scan_opts *o,
		      const scan_meta *meta, bool keep_all)
{
	*R = (scan_report){.o = o, .meta = *meta, .keep_all = keep_all};
	R->t0_wall = (int64_t)time(NULL);
}

static bool single(const scan_report *R)
{
	return R->meta.ntargets == 1 && R->o->host != NULL;
}

static const char *host_of(const scan_report *R, const scan_rec *rec, char *buf,
			   size_t cap)
{
	if (rec->name != NULL)
		return rec->name;
	if (single(R))
		return R->o->host;
	rec_host(rec, buf, cap);
	return buf;
}

static void json_port(const scan_report *R, const scan_rec *rec)
{
	int type = R->meta.socktype;
	char service[SKT_SERVICE_MAX + 1], host[SKT_ADDRSTRLEN];
	service_of(rec, type, service, sizeof(service));
	cli_json j;
	cli_json_begin(&j, stdout, "port");
	cli_json_text(&j, "host", host_of(R, rec, host, sizeof(host)));
	skt_addr a;
	scan_rec_addr(rec, &a);
	cli_json_addr(&j, NULL, &a);
	cli_json_text(&j, "transport", proto(type));
	cli_json_text(&j, "service", service[0] != '\0' ? service : NULL);
	cli_json_text(&j, "state",
		      skt_port_state_name((skt_port_state)rec->state));
	cli_json_text(&j, "reason", reason(rec, type));
	cli_json_error(&j, "error", rec->err, NULL);
	cli_json_int(&j, "tries", rec->tries);
	cli_json_us(&j, "rtt_s", rec->rtt_us);
	if (R->o->banner) {
		cli_json_text(&j, "banner", rec->banner);
		cli_json_bool(&j, "banner_probed", rec->banner_probed);
		cli_json_text(&j, "tls_subject", rec->tls);
	}
	cli_json_end(&j);
}

int scan_report_add(scan_report *R, scan_rec *rec)
{
	R->total++;
	R->count[rec->state]++;
	bool show_json =
		R->o->json && (!R->o->open_only || rec->state == SKT_PORT_OPEN);
	if (show_json)
		json_port(R, rec);
	if (!R->keep_all && rec->state != SKT_PORT_OPEN) {
		scan_rec_free(rec);
		return 0;
	}
	if (R->n == R->cap) {
		size_t cap = R->cap ? R->cap * 2 : 1024;
		scan_rec *v = realloc(R->v, cap * sizeof(*v));
		if (v == NULL) {
			R->failed = true;
			scan_rec_free(rec);
			return SKT_ENOMEM;
		}
		R->v = v;
		R->cap = cap;
	}
	R->v[R->n++] = *rec;
	return 0;
}

void scan_report_free(scan_report *R)
{
	for (size_t i = 0; i < R->n; i++)
		scan_rec_free(&R->v[i]);
	free(R->v);
	R->v = NULL;
	R->n = 0;
}

static void fingerprint_text(const scan_meta *m, char buf[17])
{
	snprintf(buf, 17, "%016llx", (unsigned long long)m->fingerprint);
}

void scan_report_header(const scan_report *R)
{
	const scan_meta *m = &R->meta;
	char fp[17];
	fingerprint_text(m, fp);
	if (R->o->json) {
		cli_json j;
		cli_json_begin(&j, stdout, "scan");
		cli_json_text(&j, "fingerprint", fp);
		cli_json_uint(&j, "seed", m->seed);
		cli_json_bool(&j, "randomized", m->random);
		cli_json_uint(&j, "shard", m->shard);
		cli_json_uint(&j, "shards", m->shards);
		cli_json_uint(&j, "targets", m->ntargets);
		cli_json_uint(&j, "ports", m->nports);
		cli_json_uint(&j, "probes", m->space);
		cli_json_text(&j, "transport", proto(m->socktype));
		cli_json_uint(&j, "start", m->start);
		cli_json_uint(&j, "exponents", m->len);
		cli_json_end(&j);
		return;
	}
	printf("# scan: %llu target%s x %u %s port%s, ",
	       (unsigned long long)m->ntargets, m->ntargets == 1 ? "" : "s",
	       m->nports, proto(m->socktype), m->nports == 1 ? "" : "s");
	if (m->random)
		printf("seed %llu%s", (unsigned long long)m->seed,
		       R->o->seed_given ? "" : " (random: --seed repeats it)");
	else
		printf("in order");
	if (m->shard == 0)
		printf(", %u shard%s merged, fingerprint %s\n", m->shards,
		       m->shards == 1 ? "" : "s", fp);
	else
		printf(", shard %u/%u, fingerprint %s\n", m->shard, m->shards,
		       fp);
	if (m->start > 0)
		printf("# resumed at %llu of %llu\n",
		       (unsigned long long)m->start,
		       (unsigned long long)m->len);
}

static int by_addr(const void *a, const void *b)
{
	const scan_rec *x = a, *y = b;
	int c = memcmp(x->ip, y->ip, 16);
	return c != 0 ? c : (int)x->port - (int)y->port;
}

/* ---- The table ---- */

static const skt_port_state order[] = {
	SKT_PORT_OPEN,
	SKT_PORT_CLOSED,
	SKT_PORT_FILTERED,
	SKT_PORT_OPEN_FILTERED,
};

/* One host's results: v[0..n). */
typedef struct host_run {
	const scan_rec *v;
	size_t n;
	size_t count[SKT_PORT_STATE_COUNT_];
} host_run;

static size_t host_next(const scan_report *R, size_t i, host_run *h)
{
	size_t j = i;
	*h = (host_run){.v = &R->v[i]};
	while (j < R->n && memcmp(R->v[j].ip, R->v[i].ip, 16) == 0)
		h->count[R->v[j++].state]++;
	h->n = j - i;
	return j;
}

static bool shown(const scan_report *R, const host_run *h, const scan_rec *rec)
{
	return rec->state == SKT_PORT_OPEN ||
	       (!R->o->open_only && h->count[rec->state] <= LIST_MAX);
}

/* A host is worth its lines when something answered: an open port, or
 * (without --open) a refusal. All silent, it is down or filtered. */
static bool host_up(const host_run *h)
{
	return h->count[SKT_PORT_OPEN] > 0 || h->count[SKT_PORT_CLOSED] > 0;
}

static void print_port(const scan_report *R, const scan_rec *rec)
{
	int type = R->meta.socktype;
	char service[SKT_SERVICE_MAX + 1], port[16];
	service_of(rec, type, service, sizeof(service));
	snprintf(port, sizeof(port), "%u/%s", rec->port, proto(type));
	printf("%-11s %-13s %-15s %s", port,
	       skt_port_state_name((skt_port_state)rec->state),
	       service[0] ? service : "-", reason(rec, type));
	if (rec->banner != NULL)
		printf("  \"%s\"", rec->banner);
	if (rec->tls != NULL)
		printf("  tls: %s", rec->tls);
	printf("\n");
}

static void print_not_shown(const scan_report *R, const size_t *count)
{
	for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++) {
		size_t n = count[order[i]];
		if (n > LIST_MAX || (R->o->open_only && n > 0))
			printf("# not shown: %zu %s\n", n,
			       skt_port_state_name(order[i]));
	}
}

static void print_counts(const size_t *count)
{
	const char *sep = " ";
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (count[order[i]] == 0 && order[i] != SKT_PORT_OPEN)
			continue;
		printf("%s%zu %s", sep, count[order[i]],
		       skt_port_state_name(order[i]));
		sep = ", ";
	}
}

/* What the pace did, on the summary line: every TCP scan with retries
 * says how many probes went out again. */
static void print_pace(const scan_report *R)
{
	const skt_scan_stats *st = &R->end.st;
	if (R->meta.socktype == SOCK_STREAM && R->o->so.retries > 0)
		printf("; %zu resent (%zu answered)", st->resent,
		       st->resent_answered);
	if (st->backoffs > 0)
		printf("; slowed down %zu time%s, to %d/s", st->backoffs,
		       st->backoffs == 1 ? "" : "s", st->rate_end);
}

static void print_end(const scan_report *R)
{
	const skt_scan_stats *st = &R->end.st;
	if (st->self_connects > 0)
		printf("# %zu self-connect%s counted as closed\n",
		       st->self_connects, st->self_connects == 1 ? "" : "s");
	if (R->end.stopped)
		printf("# stopped: --shard %u/%u --seed %llu --resume %llu "
		       "goes on\n",
		       R->meta.shard, R->meta.shards,
		       (unsigned long long)R->meta.seed,
		       (unsigned long long)R->end.pos);
}

/* One target: the table as it always was, port lines then a summary. */
static void table_single(const scan_report *R)
{
	host_run h = {.v = R->v, .n = R->n};
	memcpy(h.count, R->count, sizeof(h.count));
	for (size_t i = 0; i < R->n; i++)
		if (shown(R, &h, &R->v[i]))
			print_port(R, &R->v[i]);
	print_not_shown(R, R->count);
	char addr[SKT_ADDRSTRLEN] = "";
	if (R->n > 0)
		rec_host(&R->v[0], addr, sizeof(addr));
	printf("# %s (%s): %zu %s ports in %.2f s:", R->o->host, addr, R->total,
	       proto(R->meta.socktype), (double)R->end.st.elapsed_ms / 1000);
	print_counts(R->count);
	print_pace(R);
	printf("\n");
	print_end(R);
}

static void table_hosts(const scan_report *R)
{
	size_t up = 0, listed = 0;
	for (size_t i = 0; i < R->n;) {
		host_run h;
		i = host_next(R, i, &h);
		if (!host_up(&h) && R->keep_all)
			continue;
		up++;
		if (R->o->open_only && h.count[SKT_PORT_OPEN] == 0)
			continue;
		char host[SKT_ADDRSTRLEN];
		rec_host(h.v, host, sizeof(host));
		if (h.v->name != NULL)
			printf("# %s (%s)\n", h.v->name, host);
		else
			printf("# %s\n", host);
		for (size_t k = 0; k < h.n; k++)
			if (shown(R, &h, &h.v[k]))
				print_port(R, &h.v[k]);
		if (R->keep_all)
			print_not_shown(R, h.count);
		listed++;
	}
	if (!R->keep_all)
		print_not_shown(R, R->count);
	printf("# %llu targets x %u %s ports: %zu probes in %.2f s:",
	       (unsigned long long)R->meta.ntargets, R->meta.nports,
	       proto(R->meta.socktype), R->total,
	       (double)R->end.st.elapsed_ms / 1000);
	print_counts(R->count);
	printf("; %zu host%s up", up, up == 1 ? "" : "s");
	print_pace(R);
	printf("\n");
	print_end(R);
	(void)listed;
}

static void summary_json(const scan_report *R)
{
	const skt_scan_stats *st = &R->end.st;
	char fp[17];
	fingerprint_text(&R->meta, fp);
	cli_json j;
	cli_json_begin(&j, stdout, "summary");
	char host[SKT_ADDRSTRLEN] = "";
	if (R->n > 0)
		rec_host(&R->v[0], host, sizeof(host));
	cli_json_text(&j, "host", single(R) ? R->o->host : NULL);
	cli_json_text(&j, "address", single(R) && R->n ? host : NULL);
	cli_json_array(&j, "other_addresses");
	for (size_t i = 0; single(R) && i < R->o->nothers; i++)
		cli_json_text(&j, NULL, R->o->others[i]);
	cli_json_close(&j);
	cli_json_text(&j, "transport", proto(R->meta.socktype));
	cli_json_uint(&j, "targets", R->meta.ntargets);
	cli_json_uint(&j, "ports", R->total);
	cli_json_uint(&j, "open", R->count[SKT_PORT_OPEN]);
	cli_json_uint(&j, "closed", R->count[SKT_PORT_CLOSED]);
	cli_json_uint(&j, "filtered", R->count[SKT_PORT_FILTERED]);
	cli_json_uint(&j, "open_filtered", R->count[SKT_PORT_OPEN_FILTERED]);
	cli_json_uint(&j, "self_connects", st->self_connects);
	cli_json_uint(&j, "retries", st->retries);
	cli_json_uint(&j, "resent", st->resent);
	cli_json_uint(&j, "resent_answered", st->resent_answered);
	cli_json_uint(&j, "backoffs", st->backoffs);
	cli_json_int(&j, "rate_end", st->rate_end);
	cli_json_int(&j, "parallel", st->parallel_start);
	cli_json_int(&j, "parallel_end", st->parallel_end);
	cli_json_text(&j, "fingerprint", fp);
	cli_json_uint(&j, "shard", R->meta.shard);
	cli_json_uint(&j, "shards", R->meta.shards);
	cli_json_bool(&j, "stopped", R->end.stopped);
	cli_json_uint(&j, "resume", R->end.pos);
	cli_json_us(&j, "elapsed_s", st->elapsed_ms * 1000);
	cli_json_end(&j);
}

int scan_report_finish(scan_report *R)
{
	if (R->n > 0)
		qsort(R->v, R->n, sizeof(*R->v), by_addr);
	if (R->o->json)
		summary_json(R);
	else if (single(R))
		table_single(R);
	else
		table_hosts(R);
	int rc = CLI_OK;
	if (R->o->out_grep != NULL)
		rc = scan_write_grep(R, R->o->out_grep);
	if (rc == CLI_OK && R->o->out_xml != NULL)
		rc = scan_write_xml(R, R->o->out_xml);
	if (R->failed)
		fprintf(stderr, "sockit: scan: out of memory: some results "
				"are missing from the table\n");
	return rc;
}
