/* http_vectors_test.c - the HTTP/1.1 codec against tests/unit/http_vectors,
 * one file per RFC 9112 rule (format: http_vectors/README.md), one test
 * per file. Every input lies right before a guard page; an accepted input
 * must give the same result at every split point, a rejected one the same
 * rule at every prefix that is not still "need more". */
#include "sktest.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#ifndef VECTOR_DIR
#define VECTOR_DIR "tests/unit/http_vectors"
#endif

#define FIELDS 64

static const char *const rule_names[] = {
#define XX(name, code, status, text) #name,
	SKT_HTTP_RULE_MAP(XX)
#undef XX
};

static skt_http_rule rule_named(const char *s)
{
	for (size_t i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++)
		if (strcmp(s, rule_names[i]) == 0)
			return (skt_http_rule)i;
	cr_assert_fail("unknown rule %s", s);
	return SKT_HTTP_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The C escapes of s into out; returns the length. */
static size_t unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s != '\0'; s++) {
		SKT_CHECK(n < cap, "vector longer than %zu bytes", cap);
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case 'x':
			out[n++] = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
			break;
		default:
			cr_assert_fail("bad escape \\%c", *s);
		}
	}
	return n;
}

/* One parse of a head: the return, the rule, and what was parsed. */
typedef struct result {
	int rc;
	skt_http_rule why;
	skt_http_req req;
	skt_http_resp resp;
	size_t nfields;
} result;

static result parse_head(const char *kind, const char *in, size_t n)
{
	result r;
	memset(&r, 0, sizeof(r));
	skt_http_field f[FIELDS];
	size_t nf = FIELDS;
	skt_http_opts lf = {.bare_lf = true};
	const char *p = sktest_guarded_n(in, n);
	if (strcmp(kind, "req") == 0) {
		r.rc = skt_http_req_parse(p, n, NULL, &r.req, f, &nf);
		r.why = r.req.why;
	} else {
		bool head = strcmp(kind, "head") == 0;
		r.rc = skt_http_resp_parse(
			p, n, head, strcmp(kind, "resp-lf") == 0 ? &lf : NULL,
			&r.resp, f, &nf);
		r.why = r.resp.why;
	}
	r.nfields = nf;
	/* Pointers differ between copies: compare what they point at. */
	r.req.method = r.req.target = r.req.host = NULL;
	r.resp.reason = NULL;
	return r;
}

static bool same(const result *a, const result *b)
{
	const skt_http_req *p = &a->req, *q = &b->req;
	const skt_http_resp *x = &a->resp, *y = &b->resp;
	return a->rc == b->rc && a->why == b->why && a->nfields == b->nfields &&
	       p->method_len == q->method_len &&
	       p->target_len == q->target_len && p->minor == q->minor &&
	       p->content_length == q->content_length &&
	       p->chunked == q->chunked && p->keep_alive == q->keep_alive &&
	       p->host_len == q->host_len && x->status == y->status &&
	       x->minor == y->minor && x->reason_len == y->reason_len &&
	       x->content_length == y->content_length &&
	       x->chunked == y->chunked && x->close == y->close &&
	       x->no_body == y->no_body;
}

static void head_vector(const char *where, const char *kind, const char *want,
			const char *in, size_t n)
{
	result whole = parse_head(kind, in, n);
	bool ok = strcmp(want, "ok") == 0;
	if (ok) {
		cr_assert_eq(whole.rc, (int)n, "%s: %s (%d), rule %s", where,
			     skt_errname(whole.rc), whole.rc,
			     skt_http_rule_str(whole.why));
	} else {
		skt_http_rule rule = rule_named(want);
		cr_assert(whole.rc < 0 && whole.rc != SKT_EAGAIN,
			  "%s: accepted (%d)", where, whole.rc);
		cr_assert_eq(whole.why, rule, "%s: rule %s, want %s", where,
			     rule_names[whole.why], want);
	}
	/* Each prefix: need more, or (rejected) already the same failure;
	 * and the whole input afterwards gives the same result. */
	for (size_t k = 0; k < n; k++) {
		result part = parse_head(kind, in, k);
		if (ok || part.rc == SKT_EAGAIN) {
			SKT_CHECK(part.rc == SKT_EAGAIN,
				  "%s: prefix %zu: %s (%s)", where, k,
				  skt_errname(part.rc), rule_names[part.why]);
			continue;
		}
		SKT_CHECK(part.rc == whole.rc && part.why == whole.why,
			  "%s: prefix %zu: %d %s, whole %d %s", where, k,
			  part.rc, rule_names[part.why], whole.rc,
			  rule_names[whole.why]);
	}
	result again = parse_head(kind, in, n);
	cr_assert(same(&again, &whole), "%s: a second parse differs", where);
}

/* A chunked body fed in pieces: first cut bytes, then step at a time (0:
 * all the rest at once); stops at done or an error. */
typedef struct fed {
	ssize_t rc;
	skt_http_rule why;
	bool done;
	uint64_t body, seen; /* body_bytes; payload bytes reported */
} fed;

static fed feed(const char *kind, const char *in, size_t n, size_t cut,
		size_t step)
{
	skt_http_opts o = {.bare_lf = strcmp(kind, "chunked-lf") == 0};
	skt_http_chunked c;
	skt_http_chunked_init(&c, &o);
	const char *p = sktest_guarded_n(in, n);
	fed f = {0, SKT_HTTP_OK, false, 0, 0};
	size_t pos = 0;
	while (pos < n && !c.done) {
		size_t k = pos == 0 && cut > 0 ? cut
			   : step == 0         ? n - pos
					       : step;
		if (k > n - pos)
			k = n - pos;
		const char *data;
		size_t dlen;
		ssize_t r = skt_http_chunked_feed(&c, p + pos, k, &data, &dlen);
		if (r < 0) {
			f.rc = r;
			f.why = c.why;
			return f;
		}
		SKT_CHECK((size_t)r <= k, "consumed %zd of %zu", r, k);
		SKT_CHECK(dlen == 0 || (data >= p + pos &&
					data + dlen <= p + pos + r),
			  "a payload span outside what was consumed");
		f.seen += dlen;
		pos += (size_t)r;
	}
	f.rc = (ssize_t)pos;
	f.done = c.done;
	f.body = c.body_bytes;
	return f;
}

static void chunked_vector(const char *where, const char *kind,
			   const char *want, const char *in, size_t n)
{
	fed whole = feed(kind, in, n, 0, 0);
	if (strcmp(want, "ok") == 0) {
		cr_assert(whole.done && whole.rc == (ssize_t)n,
			  "%s: %zd, done %d, rule %s", where, whole.rc,
			  whole.done, rule_names[whole.why]);
		cr_assert_eq(whole.seen, whole.body, "%s", where);
	} else {
		cr_assert_lt(whole.rc, 0, "%s: accepted", where);
		cr_assert_eq(whole.why, rule_named(want), "%s: rule %s", where,
			     rule_names[whole.why]);
	}
	/* Byte by byte (cut 0), then in two pieces cut at every point. */
	for (size_t cut = 0; cut < n; cut++) {
		fed f = cut == 0 ? feed(kind, in, n, 1, 1)
				 : feed(kind, in, n, cut, 0);
		SKT_CHECK(f.rc == whole.rc && f.why == whole.why &&
				  f.done == whole.done &&
				  f.body == whole.body && f.seen == whole.seen,
			  "%s: cut at %zu: %zd %s, whole %zd %s", where, cut,
			  f.rc, rule_names[f.why], whole.rc,
			  rule_names[whole.why]);
	}
}

static void run_file(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", VECTOR_DIR, name);
	/* Read whole and closed first: a failed assertion leaks no fd. */
	static char text[1 << 16], in[8192];
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	size_t len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	cr_assert_lt(len, sizeof(text) - 1, "%s: too long", path);
	text[len] = '\0';
	int lineno = 0, accepted = 0, rejected = 0;
	for (char *line = text, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *sp1 = strchr(line, ' ');
		char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
		cr_assert_not_null(sp2, "%s:%d: malformed vector", name,
				   lineno);
		*sp1 = *sp2 = '\0';
		const char *kind = line, *want = sp1 + 1;
		size_t n = unescape(sp2 + 1, in, sizeof(in));
		char where[600];
		snprintf(where, sizeof(where), "%s:%d", name, lineno);
		if (strncmp(kind, "chunked", 7) == 0)
			chunked_vector(where, kind, want, in, n);
		else
			head_vector(where, kind, want, in, n);
		if (strcmp(want, "ok") == 0)
			accepted++;
		else
			rejected++;
	}
	cr_assert(accepted > 0 && rejected > 0,
		  "%s: %d accepted, %d rejected vectors: want both", name,
		  accepted, rejected);
}

#define FILES(XX)                                                              \
	XX(line_endings)                                                       \
	XX(obs_fold)                                                           \
	XX(field_name_colon)                                                   \
	XX(field_name_token)                                                   \
	XX(field_value)                                                        \
	XX(method)                                                             \
	XX(request_target)                                                     \
	XX(http_version)                                                       \
	XX(host)                                                               \
	XX(content_length)                                                     \
	XX(te_and_cl)                                                          \
	XX(transfer_encoding)                                                  \
	XX(status_line)                                                        \
	XX(chunk_size)                                                         \
	XX(chunk_ext)                                                          \
	XX(trailer)

#define VECTORS(name)                                                          \
	SKT_TEST(http_vectors, name)                                           \
	{                                                                      \
		run_file(#name ".txt");                                        \
	}
FILES(VECTORS)

/* A vector file nobody runs would be a rule nobody tests. */
SKT_TEST(http_vectors, every_file_is_run)
{
#define NAME(name) #name ".txt",
	static const char *const files[] = {FILES(NAME)};
#undef NAME
	DIR *d = opendir(VECTOR_DIR);
	cr_assert_not_null(d, "%s", VECTOR_DIR);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		bool known = false;
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			known = known || strcmp(files[i], e->d_name) == 0;
		cr_expect(known, "%s/%s is not in FILES", VECTOR_DIR,
			  e->d_name);
		n++;
	}
	closedir(d);
	cr_assert_eq(n, (int)(sizeof(files) / sizeof(files[0])));
}
