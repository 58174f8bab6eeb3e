/* scan_merge.c - `sockit scan --merge FILE...`: join what the shards of
 * one scan wrote with --json into one result, as if one machine had
 * scanned it all.
 *
 * Each file holds one run or more (a "scan" line, "port" lines, a
 * "summary" line): a shard, or a part of one that --resume went on
 * with. Every run must carry the same fingerprint (seed, targets, ports,
 * excludes, shard count, transport): a shard of another scan is refused
 * whole. Each run covers the exponents [start, resume) of its shard;
 * the merge reports what no run covered (a missing shard, a stopped one
 * never resumed) and what two runs covered (an overlap; the same
 * address and port twice is kept once). Exit 0 when the shards cover the
 * space exactly, 1 when anything is missing or refused.
 *
 * The reader takes the JSON this command writes, not any JSON: flat
 * objects of strings, numbers, booleans and null, with nested objects
 * ("error") skipped. */
#include "scan_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- A reader for one JSON line ---- */

typedef struct field {
	char key[32];
	char text[2048]; /* a string's value, or a literal's text */
	bool string;
} field;

#define FIELDS_MAX 48

typedef struct obj {
	field f[FIELDS_MAX];
	int n;
} obj;

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static void put_utf8(char **o, char *end, unsigned c)
{
	char b[4];
	int n = 0;
	if (c < 0x80) {
		b[n++] = (char)c;
	} else if (c < 0x800) {
		b[n++] = (char)(0xc0 | c >> 6);
		b[n++] = (char)(0x80 | (c & 0x3f));
	} else {
		b[n++] = (char)(0xe0 | c >> 12);
		b[n++] = (char)(0x80 | (c >> 6 & 0x3f));
		b[n++] = (char)(0x80 | (c & 0x3f));
	}
	for (int i = 0; i < n && *o < end; i++)
		*(*o)++ = b[i];
}

/* A string at p (after its quote) into out; returns past its end quote,
 * or NULL. Too long a string is cut. */
static const char *str(const char *p, char *out, size_t cap)
{
	char *o = out, *end = out + cap - 1;
	while (*p != '"') {
		if (*p == '\0')
			return NULL;
		if (*p != '\\') {
			if (o < end)
				*o++ = *p;
			p++;
			continue;
		}
		p++;
		static const char from[] = "\"\\/bfnrt",
				  to[] = "\"\\/\b\f\n\r\t";
		const char *k = *p != '\0' ? strchr(from, *p) : NULL;
		if (k != NULL) {
			if (o < end)
				*o++ = to[k - from];
			p++;
		} else if (*p == 'u') {
			unsigned c = 0;
			for (int i = 1; i <= 4; i++) {
				char h = p[i];
				int v = h >= '0' && h <= '9'   ? h - '0'
					: h >= 'a' && h <= 'f' ? h - 'a' + 10
					: h >= 'A' && h <= 'F' ? h - 'A' + 10
							       : -1;
				if (v < 0)
					return NULL;
				c = c << 4 | (unsigned)v;
			}
			put_utf8(&o, end, c);
			p += 5;
		} else {
			return NULL;
		}
	}
	*o = '\0';
	return p + 1;
}

/* Skip any value; returns past it, or NULL. */
static const char *skip(const char *p, int depth)
{
	char tmp[8];
	p = ws(p);
	if (depth > 16)
		return NULL;
	if (*p == '"')
		return str(p + 1, tmp, sizeof(tmp));
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = ws(p + 1);
		while (p != NULL && *p != close) {
			if (close == '}') {
				if (*p != '"' ||
				    (p = str(p + 1, tmp, sizeof(tmp))) == NULL)
					return NULL;
				p = ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = skip(p, depth + 1);
			if (p == NULL)
				return NULL;
			p = ws(p);
			if (*p == ',')
				p = ws(p + 1);
			else if (*p != close)
				return NULL;
		}
		return p != NULL ? p + 1 : NULL;
	}
	size_t n = strcspn(p, ",}] \t\r\n");
	return n > 0 ? p + n : NULL;
}

static bool parse_obj(const char *line, obj *ob)
{
	const char *p = ws(line);
	ob->n = 0;
	if (*p++ != '{')
		return false;
	for (p = ws(p); *p != '}';) {
		field tmp, *f = ob->n < FIELDS_MAX ? &ob->f[ob->n] : &tmp;
		if (*p != '"' ||
		    (p = str(p + 1, f->key, sizeof(f->key))) == NULL)
			return false;
		p = ws(p);
		if (*p++ != ':')
			return false;
		p = ws(p);
		f->string = *p == '"';
		if (f->string) {
			p = str(p + 1, f->text, sizeof(f->text));
		} else if (*p == '{' || *p == '[') {
			f->text[0] = '\0';
			p = skip(p, 0);
		} else {
			size_t n = strcspn(p, ",} \t\r\n");
			snprintf(f->text, sizeof(f->text), "%.*s", (int)n, p);
			p += n;
		}
		if (p == NULL)
			return false;
		if (f != &tmp)
			ob->n++;
		p = ws(p);
		if (*p == ',')
			p = ws(p + 1);
		else if (*p != '}')
			return false;
	}
	return true;
}

static const field *get(const obj *ob, const char *key)
{
	for (int i = 0; i < ob->n; i++)
		if (strcmp(ob->f[i].key, key) == 0)
			return &ob->f[i];
	return NULL;
}

static const char *text(const obj *ob, const char *key)
{
	const field *f = get(ob, key);
	return f != NULL && f->string ? f->text : NULL;
}

static uint64_t num(const obj *ob, const char *key)
{
	const field *f = get(ob, key);
	return f != NULL && !f->string ? strtoull(f->text, NULL, 10) : 0;
}

static double real(const obj *ob, const char *key)
{
	const field *f = get(ob, key);
	return f != NULL && !f->string ? strtod(f->text, NULL) : 0;
}

static bool flag(const obj *ob, const char *key)
{
	const field *f = get(ob, key);
	return f != NULL && !f->string && strcmp(f->text, "true") == 0;
}

/* ---- Runs ---- */

typedef struct run {
	const char *file;
	scan_meta meta;
	bool ended; /* its summary came */
	uint64_t end;
	bool stopped;
	skt_scan_stats st;
} run;

typedef struct merge {
	const struct scan_opts *o;
	run *runs;
	size_t nruns;
	scan_rec *v;
	size_t n, cap;
	char **names; /* host names read, heap */
	size_t nnames;
	skt_portset ports;
	bool bad;
} merge;

static const char *keep_name(merge *m, const char *name)
{
	for (size_t i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->names[i];
	char **v = realloc(m->names, (m->nnames + 1) * sizeof(char *));
	if (v == NULL)
		return NULL;
	m->names = v;
	if ((v[m->nnames] = strdup(name)) == NULL)
		return NULL;
	return v[m->nnames++];
}

static int state_of(const char *s)
{
	for (int i = 0; i < SKT_PORT_STATE_COUNT_; i++)
		if (s != NULL && strcmp(s, skt_port_state_name(i)) == 0)
			return i;
	return -1;
}

/* The error behind a reason: what the table and nmap's reasons need. */
static int err_of(const char *reason, int state)
{
	if (reason == NULL || state == SKT_PORT_OPEN ||
	    strcmp(reason, "self-connect") == 0)
		return 0;
	if (strcmp(reason, "refused") == 0)
		return SKT_ECONNREFUSED;
	if (strcmp(reason, "timed out") == 0 || strcmp(reason, "no reply") == 0)
		return SKT_ETIMEDOUT;
	return state == SKT_PORT_CLOSED ? SKT_ECONNRESET : SKT_EHOSTUNREACH;
}

static int add_port(merge *m, const obj *ob, const char *where)
{
	const char *ip = text(ob, "address"), *host = text(ob, "host");
	int state = state_of(text(ob, "state"));
	skt_addr a;
	uint64_t port = num(ob, "port");
	if (ip == NULL || state < 0 || port == 0 || port > 65535 ||
	    skt_addr_from_ip(&a, ip, (uint16_t)port) < 0) {
		fprintf(stderr, "sockit: scan: %s: not a port result\n", where);
		return CLI_FAIL;
	}
	skt_scan_result r = {.addr = a, .port = (uint16_t)port};
	scan_rec rec;
	scan_rec_of(&rec, &r);
	const char *reason = text(ob, "reason");
	rec.state = (uint8_t)state;
	rec.err = err_of(reason, state);
	rec.self_connect =
		reason != NULL && strcmp(reason, "self-connect") == 0;
	rec.tries = (uint8_t)num(ob, "tries");
	rec.rtt_us = (int32_t)(real(ob, "rtt_s") * 1e6);
	rec.banner_probed = flag(ob, "banner_probed");
	if (text(ob, "banner") != NULL)
		rec.banner = strdup(text(ob, "banner"));
	if (text(ob, "tls_subject") != NULL)
		rec.tls = strdup(text(ob, "tls_subject"));
	if (host != NULL && strcmp(host, ip) != 0)
		rec.name = keep_name(m, host);
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		scan_rec *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL) {
			scan_rec_free(&rec);
			return cli_fail("scan", where, SKT_ENOMEM);
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = rec;
	skt_portset_add(&m->ports, (uint16_t)port);
	return CLI_OK;
}

static int add_run(merge *m, const obj *ob, const char *file)
{
	run *v = realloc(m->runs, (m->nruns + 1) * sizeof(*v));
	if (v == NULL)
		return cli_fail("scan", file, SKT_ENOMEM);
	m->runs = v;
	run *r = &v[m->nruns++];
	const char *fp = text(ob, "fingerprint");
	*r = (run){.file = file};
	r->meta = (scan_meta){
		.fingerprint = fp != NULL ? strtoull(fp, NULL, 16) : 0,
		.seed = num(ob, "seed"),
		.random = flag(ob, "randomized"),
		.shard = (uint32_t)num(ob, "shard"),
		.shards = (uint32_t)num(ob, "shards"),
		.space = num(ob, "probes"),
		.ntargets = num(ob, "targets"),
		.nports = (uint32_t)num(ob, "ports"),
		.socktype = text(ob, "transport") != NULL &&
					    strcmp(text(ob, "transport"),
						   "udp") == 0
				    ? SOCK_DGRAM
				    : SOCK_STREAM,
		.start = num(ob, "start"),
		.len = num(ob, "exponents"),
	};
	if (fp == NULL || r->meta.shards == 0 || r->meta.shard == 0 ||
	    r->meta.shard > r->meta.shards) {
		fprintf(stderr,
			"sockit: scan: %s: a scan line without its "
			"fingerprint or shard\n",
			file);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static void end_run(merge *m, const obj *ob)
{
	run *r = &m->runs[m->nruns - 1];
	r->ended = true;
	r->end = num(ob, "resume");
	r->stopped = flag(ob, "stopped");
	r->st.resent = num(ob, "resent");
	r->st.resent_answered = num(ob, "resent_answered");
	r->st.backoffs = num(ob, "backoffs");
	r->st.self_connects = num(ob, "self_connects");
	r->st.elapsed_ms = (int64_t)(real(ob, "elapsed_s") * 1000);
}

static int read_file(merge *m, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (f == NULL)
		return cli_fail("scan", path, -errno);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = CLI_OK;
	static obj ob;
	while (rc == CLI_OK && getline(&line, &cap, f) >= 0) {
		lineno++;
		char where[600];
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		if (*ws(line) == '\0')
			continue;
		const char *type = NULL;
		if (parse_obj(line, &ob))
			type = text(&ob, "type");
		if (type == NULL) {
			fprintf(stderr,
				"sockit: scan: %s: not a line of scan "
				"--json\n",
				where);
			rc = CLI_FAIL;
		} else if (strcmp(type, "scan") == 0) {
			rc = add_run(m, &ob, path);
		} else if (m->nruns == 0) {
			fprintf(stderr,
				"sockit: scan: %s: a %s line before "
				"any scan line\n",
				where, type);
			rc = CLI_FAIL;
		} else if (strcmp(type, "port") == 0) {
			rc = add_port(m, &ob, where);
		} else if (strcmp(type, "summary") == 0) {
			end_run(m, &ob);
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (rc == CLI_OK && m->nruns == 0) {
		fprintf(stderr, "sockit: scan: %s: no scan in the file\n",
			path);
		rc = CLI_FAIL;
	}
	return rc;
}

/* ---- Coverage ---- */

static int by_shard(const void *a, const void *b)
{
	const run *x = a, *y = b;
	if (x->meta.shard != y->meta.shard)
		return x->meta.shard < y->meta.shard ? -1 : 1;
	return x->meta.start < y->meta.start   ? -1
	       : x->meta.start > y->meta.start ? 1
					       : 0;
}

static bool same_scan(merge *m)
{
	const run *a = &m->runs[0];
	for (size_t i = 1; i < m->nruns; i++) {
		const run *b = &m->runs[i];
		if (b->meta.fingerprint != a->meta.fingerprint) {
			fprintf(stderr,
				"sockit: scan: %s: fingerprint %016llx, not "
				"%016llx (%s): a shard of another scan, "
				"refused\n",
				b->file,
				(unsigned long long)b->meta.fingerprint,
				(unsigned long long)a->meta.fingerprint,
				a->file);
			return false;
		}
	}
	return true;
}

/* Walk the runs of each shard in order of their start: a gap is
 * missing, a start below the end so far is an overlap. */
static bool coverage(merge *m)
{
	qsort(m->runs, m->nruns, sizeof(*m->runs), by_shard);
	uint32_t shards = m->runs[0].meta.shards;
	bool whole = true;
	size_t k = 0;
	for (uint32_t s = 1; s <= shards; s++) {
		uint64_t upto = 0, len = 0;
		bool any = false;
		for (; k < m->nruns && m->runs[k].meta.shard == s; k++) {
			const run *r = &m->runs[k];
			any = true;
			len = r->meta.len;
			uint64_t end = r->ended ? r->end : r->meta.start;
			if (r->meta.start > upto) {
				fprintf(stderr,
					"sockit: scan: merge: shard %u/%u: "
					"%llu-%llu missing (--resume %llu)\n",
					s, shards, (unsigned long long)upto,
					(unsigned long long)r->meta.start,
					(unsigned long long)upto);
				whole = false;
			} else if (r->meta.start < upto) {
				fprintf(stderr,
					"sockit: scan: merge: shard %u/%u: "
					"%llu-%llu scanned twice (%s)\n",
					s, shards,
					(unsigned long long)r->meta.start,
					(unsigned long long)(end < upto ? end
									: upto),
					r->file);
			}
			if (!r->ended)
				fprintf(stderr,
					"sockit: scan: merge: %s: shard %u/%u "
					"has no summary: cut off\n",
					r->file, s, shards);
			if (end > upto)
				upto = end;
		}
		if (!any) {
			fprintf(stderr,
				"sockit: scan: merge: shard %u/%u missing\n", s,
				shards);
			whole = false;
		} else if (upto < len) {
			fprintf(stderr,
				"sockit: scan: merge: shard %u/%u: %llu-%llu "
				"missing (--resume %llu)\n",
				s, shards, (unsigned long long)upto,
				(unsigned long long)len,
				(unsigned long long)upto);
			whole = false;
		}
	}
	return whole;
}

static int by_addr(const void *a, const void *b)
{
	const scan_rec *x = a, *y = b;
	int c = memcmp(x->ip, y->ip, 16);
	return c != 0 ? c : (int)x->port - (int)y->port;
}

/* The same address and port twice: kept once, counted. */
static size_t dedup(merge *m)
{
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), by_addr);
	size_t k = 0, twice = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (k > 0 && by_addr(&m->v[k - 1], &m->v[i]) == 0) {
			scan_rec_free(&m->v[i]);
			twice++;
			continue;
		}
		m->v[k++] = m->v[i];
	}
	m->n = k;
	return twice;
}

static int output(merge *m)
{
	struct scan_opts oo = *m->o;
	oo.ports = m->ports;
	oo.host = NULL;
	scan_meta meta = m->runs[0].meta;
	meta.shard = 0;
	meta.start = 0;
	scan_report R;
	scan_report_init(&R, &oo, &meta, true);
	for (size_t i = 0; i < m->nruns; i++) {
		const skt_scan_stats *s = &m->runs[i].st;
		R.end.st.resent += s->resent;
		R.end.st.resent_answered += s->resent_answered;
		R.end.st.backoffs += s->backoffs;
		R.end.st.self_connects += s->self_connects;
		if (s->elapsed_ms > R.end.st.elapsed_ms)
			R.end.st.elapsed_ms = s->elapsed_ms;
	}
	scan_report_header(&R);
	int rc = CLI_OK;
	for (size_t i = 0; i < m->n && rc == CLI_OK; i++) {
		rc = scan_report_add(&R, &m->v[i]) < 0 ? CLI_FAIL : CLI_OK;
		m->v[i].banner = m->v[i].tls = NULL; /* moved */
	}
	if (rc == CLI_OK)
		rc = scan_report_finish(&R);
	scan_report_free(&R);
	return rc;
}

int scan_merge(const struct scan_opts *o)
{
	merge m = {.o = o};
	skt_portset_clear(&m.ports);
	int rc = CLI_OK;
	for (size_t i = 0; i < o->nfiles && rc == CLI_OK; i++)
		rc = read_file(&m, o->files[i]);
	bool whole = false;
	if (rc == CLI_OK && !same_scan(&m))
		rc = CLI_FAIL;
	if (rc == CLI_OK) {
		whole = coverage(&m);
		size_t twice = dedup(&m);
		if (twice > 0)
			fprintf(stderr,
				"sockit: scan: merge: %zu result%s twice, "
				"kept once\n",
				twice, twice == 1 ? "" : "s");
		rc = output(&m);
	}
	for (size_t i = 0; i < m.n; i++)
		scan_rec_free(&m.v[i]);
	free(m.v);
	free(m.runs);
	for (size_t i = 0; i < m.nnames; i++)
		free(m.names[i]);
	free(m.names);
	return rc == CLI_OK && !whole ? CLI_FAIL : rc;
}
