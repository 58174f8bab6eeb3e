/* targets.c - target sets: what a scan covers, as sorted disjoint
 * intervals of one 128-bit address space (IPv4 as ::ffff:a.b.c.d).
 *
 * Pure code: no fd, no resolver, no locale; the parser takes a length and
 * never reads past it. Every item is checked whole (its size against the
 * set's bound) before anything is stored, so a refused item leaves the
 * set as it was.
 */
#include "internal.h"
#include "scan_int.h"
#include "sockit/scan.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

typedef struct u128 {
	uint64_t hi, lo;
} u128;

/* An interval of addresses, both ends included (so that ::/0, 2^128
 * addresses, is representable). */
typedef struct span {
	u128 lo, hi;
} span;

typedef struct spans {
	span *v;
	size_t n, cap;
} spans;

struct skt_targets {
	uint64_t max;
	spans add, ex;    /* as given; sorted and merged by finish */
	span *set;        /* add less ex, after finish */
	uint64_t *before; /* before[k]: addresses in set[0..k) */
	size_t nset;
	uint64_t count;
	bool finished;
};

/* ---- 128-bit arithmetic ---- */

static int cmp128(u128 a, u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static u128 inc128(u128 a)
{
	a.lo++;
	a.hi += a.lo == 0;
	return a;
}

static u128 dec128(u128 a)
{
	a.hi -= a.lo == 0;
	a.lo--;
	return a;
}

static u128 sub128(u128 a, u128 b)
{
	u128 r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
	return r;
}

static u128 add128_64(u128 a, uint64_t b)
{
	u128 r = {a.hi + (a.lo + b < a.lo), a.lo + b};
	return r;
}

static bool is_max128(u128 a)
{
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

/* Addresses in [lo, hi] less one, or UINT64_MAX when that does not fit. */
static uint64_t span_minus1(u128 lo, u128 hi)
{
	u128 d = sub128(hi, lo);
	return d.hi != 0 ? UINT64_MAX : d.lo;
}

static u128 from_v4(uint32_t a)
{
	u128 r = {0, (uint64_t)0xffff << 32 | a};
	return r;
}

static u128 from_bytes(const uint8_t b[16])
{
	u128 r = {0, 0};
	for (int i = 0; i < 8; i++) {
		r.hi = r.hi << 8 | b[i];
		r.lo = r.lo << 8 | b[8 + i];
	}
	return r;
}

/* ---- Interval lists ---- */

static int spans_push(spans *s, u128 lo, u128 hi)
{
	/* Octet ranges come in address order: a run that continues the
	 * last one extends it ("10.0.*.*" is one interval, not 256). */
	if (s->n > 0 && !is_max128(s->v[s->n - 1].hi) &&
	    cmp128(inc128(s->v[s->n - 1].hi), lo) == 0) {
		s->v[s->n - 1].hi = hi;
		return 0;
	}
	if (s->n == SKT_TARGETS_PIECES_MAX)
		return SKT_ETOOBIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		span *v = skt_realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return SKT_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (span){lo, hi};
	return 0;
}

static int by_lo(const void *a, const void *b)
{
	return cmp128(((const span *)a)->lo, ((const span *)b)->lo);
}

/* Sort and merge overlapping or touching intervals, in place. */
static void spans_merge(spans *s)
{
	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), by_lo);
	size_t k = 0;
	for (size_t i = 1; i < s->n; i++) {
		span *last = &s->v[k];
		if (is_max128(last->hi) ||
		    cmp128(s->v[i].lo, inc128(last->hi)) <= 0) {
			if (cmp128(s->v[i].hi, last->hi) > 0)
				last->hi = s->v[i].hi;
		} else {
			s->v[++k] = s->v[i];
		}
	}
	s->n = k + 1;
}

/* ---- Parsing ---- */

typedef struct item {
	const char *s;
	size_t len;
	bool exclude;
	uint64_t max;
	skt_target_error *err;
} item;

static int fail(const item *it, int code, size_t off, size_t len,
		const char *why)
{
	if (it->err != NULL)
		*it->err = (skt_target_error){off, len, why};
	return code;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number of 1 to ndigits digits, at most max, filling all of
 * [s, s+len). Returns the value or -1. */
static long number(const char *s, size_t len, size_t ndigits, long max)
{
	if (len == 0 || len > ndigits)
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* A dotted quad filling [s, s+len): four decimal octets of 1-3 digits.
 * Leading zeros are decimal (inet_aton would read "010" as octal). */
static bool quad(const char *s, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t j = i;
		while (j < len && s[j] != '.')
			j++;
		long v = number(s + i, j - i, 3, 255);
		if (v < 0 || (part < 3) != (j < len))
			return false;
		a = a << 8 | (uint32_t)v;
		i = j + 1;
	}
	*out = a;
	return true;
}

static bool v6(const char *s, size_t len, u128 *out)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t b[16];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, b) != 1)
		return false;
	*out = from_bytes(b);
	return true;
}

/* spans_push for an item: its failure is the item's. */
static int push(const item *it, spans *out, u128 lo, u128 hi)
{
	int rc = spans_push(out, lo, hi);
	if (rc < 0)
		return fail(it, rc, 0, it->len,
			    rc == SKT_ENOMEM ? "out of memory"
					     : "too many intervals");
	return 0;
}

/* Check that an interval of addresses fits the bound; exclusions have
 * none. */
static int check_size(const item *it, u128 lo, u128 hi)
{
	if (!it->exclude && span_minus1(lo, hi) >= it->max)
		return fail(it, SKT_ETOOBIG, 0, it->len,
			    "more addresses than the maximum");
	return 0;
}

/* ADDR/PREFIX of either family; bits is 32 or 128. */
static int prefix(const item *it, size_t slash, u128 base, unsigned bits,
		  spans *out)
{
	const char *p = it->s + slash + 1;
	size_t plen = it->len - slash - 1;
	long v = number(p, plen, 3, (long)bits);
	if (v < 0)
		return fail(it, SKT_EMALFORMED, slash + 1, plen,
			    "prefix out of range");
	if (v == 0 && !it->exclude)
		return fail(it, SKT_EMALFORMED, slash, plen + 1,
			    "a /0 is every address");
	unsigned host = bits - (unsigned)v; /* host bits, 0..128 */
	u128 mask = {0, 0};
	if (host >= 64) {
		mask.lo = UINT64_MAX;
		mask.hi = host == 128 ? UINT64_MAX
				      : ((uint64_t)1 << (host - 64)) - 1;
	} else if (host > 0) {
		mask.lo = ((uint64_t)1 << host) - 1;
	}
	u128 lo = {base.hi & ~mask.hi, base.lo & ~mask.lo};
	u128 hi = {base.hi | mask.hi, base.lo | mask.lo};
	int rc = check_size(it, lo, hi);
	return rc < 0 ? rc : push(it, out, lo, hi);
}

static int range(const item *it, u128 lo, u128 hi, size_t dash, spans *out)
{
	if (cmp128(lo, hi) > 0)
		return fail(it, SKT_EMALFORMED, dash + 1, it->len - dash - 1,
			    "range ends below its start");
	int rc = check_size(it, lo, hi);
	return rc < 0 ? rc : push(it, out, lo, hi);
}

static size_t find(const char *s, size_t len, char c)
{
	const char *p = memchr(s, c, len);
	return p != NULL ? (size_t)(p - s) : len;
}

static int parse_v6_item(const item *it, spans *out)
{
	size_t slash = find(it->s, it->len, '/');
	size_t dash = find(it->s, it->len, '-');
	u128 a, b;
	if (slash < it->len) {
		if (!v6(it->s, slash, &a))
			return fail(it, SKT_EMALFORMED, 0, slash,
				    "not an ipv6 address");
		return prefix(it, slash, a, 128, out);
	}
	if (!v6(it->s, dash, &a))
		return fail(it, SKT_EMALFORMED, 0, dash, "not an ipv6 address");
	if (dash == it->len)
		return push(it, out, a, a);
	if (!v6(it->s + dash + 1, it->len - dash - 1, &b))
		return fail(it, SKT_EMALFORMED, dash + 1, it->len - dash - 1,
			    "not an ipv6 address");
	return range(it, a, b, dash, out);
}

/* ---- Octet ranges ---- */

typedef struct octet {
	uint64_t bits[4]; /* bit v: value v is in */
	unsigned count;
} octet;

static void octet_add(octet *o, unsigned lo, unsigned hi)
{
	for (unsigned v = lo; v <= hi; v++)
		o->bits[v >> 6] |= (uint64_t)1 << (v & 63);
}

static bool octet_has(const octet *o, unsigned v)
{
	return (o->bits[v >> 6] >> (v & 63) & 1) != 0;
}

/* One octet of nmap's form: a comma-separated list of N, N-M and "*",
 * at [off, off+len) of the item. */
static int octet_parse(const item *it, size_t off, size_t len, octet *o)
{
	*o = (octet){{0}, 0};
	if (len == 0)
		return fail(it, SKT_EMALFORMED, off, 0, "empty octet");
	size_t i = 0;
	while (i <= len) {
		const char *s = it->s + off + i;
		size_t n = find(s, len - i, ',');
		size_t dash = find(s, n, '-');
		long lo, hi;
		if (n == 1 && s[0] == '*') {
			lo = 0;
			hi = 255;
		} else {
			lo = number(s, dash, 3, 255);
			hi = dash < n ? number(s + dash + 1, n - dash - 1, 3,
					       255)
				      : lo;
		}
		if (lo < 0 || hi < 0)
			return fail(it, SKT_EMALFORMED, off + i, n,
				    n == 0 ? "empty octet" : "bad octet");
		if (hi < lo)
			return fail(it, SKT_EMALFORMED, off + i, n,
				    "range ends below its start");
		octet_add(o, (unsigned)lo, (unsigned)hi);
		i += n + 1;
	}
	for (int w = 0; w < 4; w++)
		o->count += (unsigned)__builtin_popcountll(o->bits[w]);
	return 0;
}

/* Every a.b.c.d with each octet in its set, in address order. Octets
 * that are whole ("*") at the right end fold into the runs of the octet
 * before them: "10.*.*.*" is one interval and costs one step, not 2^24,
 * and the work is bounded by the intervals made (the pieces limit). */
static int octets_emit(const octet o[4], spans *out)
{
	int j = 4; /* octets j..3 are whole */
	while (j > 0 && o[j - 1].count == 256)
		j--;
	if (j == 0)
		return spans_push(out, from_v4(0), from_v4(UINT32_MAX));
	int run = j - 1, shift = 8 * (3 - run);
	uint32_t low = shift == 0 ? 0 : ((uint32_t)1 << shift) - 1;
	unsigned v[3] = {0, 0, 0}; /* the octets before run: members */
	for (int k = 0; k < run; k++)
		while (!octet_has(&o[k], v[k]))
			v[k]++;
	for (;;) {
		uint32_t base = 0;
		for (int k = 0; k < run; k++)
			base |= (uint32_t)v[k] << (24 - 8 * k);
		for (unsigned d = 0; d < 256; d++) {
			if (!octet_has(&o[run], d))
				continue;
			unsigned e = d;
			while (e < 255 && octet_has(&o[run], e + 1))
				e++;
			int rc = spans_push(
				out, from_v4(base | (uint32_t)d << shift),
				from_v4(base | (uint32_t)e << shift | low));
			if (rc < 0)
				return rc;
			d = e;
		}
		/* The next combination of the octets before run, skipping
		 * values that are not members. */
		int k = run - 1;
		for (; k >= 0; k--) {
			while (++v[k] < 256 && !octet_has(&o[k], v[k]))
				;
			if (v[k] < 256)
				break;
			v[k] = 0;
			while (!octet_has(&o[k], v[k]))
				v[k]++;
		}
		if (k < 0)
			return 0;
	}
}

static int parse_octets(const item *it, spans *out)
{
	octet o[4];
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t n = find(it->s + i, it->len - i, '.');
		bool last = i + n == it->len;
		if (last != (part == 3))
			return fail(it, SKT_EMALFORMED, 0, it->len,
				    "not four octets");
		int rc = octet_parse(it, i, n, &o[part]);
		if (rc < 0)
			return rc;
		i += n + 1;
	}
	uint64_t count =
		(uint64_t)o[0].count * o[1].count * o[2].count * o[3].count;
	if (!it->exclude && count > it->max)
		return fail(it, SKT_ETOOBIG, 0, it->len,
			    "more addresses than the maximum");
	/* The pieces limit is met while emitting: undo what was added. */
	size_t n0 = out->n;
	span last0 = n0 > 0 ? out->v[n0 - 1] : (span){{0, 0}, {0, 0}};
	int rc = octets_emit(o, out);
	if (rc < 0) {
		out->n = n0;
		if (n0 > 0)
			out->v[n0 - 1] = last0;
		return fail(it, rc, 0, it->len,
			    rc == SKT_ETOOBIG ? "too many intervals"
					      : "out of memory");
	}
	return 0;
}

static int parse_v4_item(const item *it, spans *out)
{
	size_t slash = find(it->s, it->len, '/');
	size_t dash = find(it->s, it->len, '-');
	uint32_t a, b;
	if (slash < it->len) {
		if (!quad(it->s, slash, &a))
			return fail(it, SKT_EMALFORMED, 0, slash,
				    "not an ipv4 address");
		return prefix(it, slash, from_v4(a), 32, out);
	}
	/* A-B with two whole addresses (masscan's form); anything else with
	 * a dash is nmap's octet ranges ("10.0.0.1-50"). */
	if (dash < it->len && quad(it->s, dash, &a) &&
	    quad(it->s + dash + 1, it->len - dash - 1, &b))
		return range(it, from_v4(a), from_v4(b), dash, out);
	return parse_octets(it, out);
}

static int parse_item(const item *it, spans *out)
{
	if (it->len == 0)
		return fail(it, SKT_EMALFORMED, 0, 0, "empty target");
	bool colon = false, v4chars = true;
	for (size_t i = 0; i < it->len; i++) {
		char c = it->s[i];
		if (c == '%')
			return fail(it, SKT_EBADHOST, 0, it->len,
				    "an address with a zone");
		colon |= c == ':';
		v4chars &= is_digit(c) || memchr(".-/,*", c, 5) != NULL;
	}
	if (colon)
		return parse_v6_item(it, out);
	if (v4chars)
		return parse_v4_item(it, out);
	return fail(it, SKT_EBADHOST, 0, it->len, "not an address");
}

/* ---- The set ---- */

skt_targets *skt_targets_new(uint64_t max)
{
	if (max > SKT_TARGETS_MAX_LIMIT)
		return NULL;
	skt_targets *t = skt_calloc(1, sizeof(*t));
	if (t != NULL)
		t->max = max != 0 ? max : SKT_TARGETS_MAX_DEFAULT;
	return t;
}

void skt_targets_free(skt_targets *t)
{
	if (t == NULL)
		return;
	skt_free(t->add.v);
	skt_free(t->ex.v);
	skt_free(t->set);
	skt_free(t->before);
	skt_free(t);
}

static int add_text(skt_targets *t, const char *text, size_t len,
		    skt_target_error *err, bool exclude)
{
	item it = {text, len, exclude, t != NULL ? t->max : 0, err};
	if (t == NULL || t->finished || (text == NULL && len > 0))
		return fail(&it, SKT_EINVAL, 0, 0, "invalid argument");
	return parse_item(&it, exclude ? &t->ex : &t->add);
}

int skt_targets_add(skt_targets *t, const char *text, size_t len,
		    skt_target_error *err)
{
	return add_text(t, text, len, err, false);
}

int skt_targets_exclude(skt_targets *t, const char *text, size_t len,
			skt_target_error *err)
{
	return add_text(t, text, len, err, true);
}

static int addr_value(const skt_addr *a, u128 *v)
{
	int f = a != NULL ? skt_addr_family(a) : AF_UNSPEC;
	if (f == AF_INET)
		*v = from_v4(ntohl(a->u.in4.sin_addr.s_addr));
	else if (f == AF_INET6)
		*v = from_bytes(a->u.in6.sin6_addr.s6_addr);
	else
		return SKT_EINVAL;
	return 0;
}

static int add_one(skt_targets *t, const skt_addr *a, bool exclude)
{
	u128 v;
	if (t == NULL || t->finished || addr_value(a, &v) < 0)
		return SKT_EINVAL;
	return spans_push(exclude ? &t->ex : &t->add, v, v);
}

int skt_targets_add_addr(skt_targets *t, const skt_addr *a)
{
	return add_one(t, a, false);
}

int skt_targets_exclude_addr(skt_targets *t, const skt_addr *a)
{
	return add_one(t, a, true);
}

/* set = add less ex, both merged; at most add.n + ex.n intervals (each
 * exclusion splits at most one interval in two). */
static size_t subtract(const spans *add, const spans *ex, span *set)
{
	size_t n = 0, j = 0;
	for (size_t i = 0; i < add->n; i++) {
		u128 cur = add->v[i].lo, hi = add->v[i].hi;
		bool done = false;
		while (j < ex->n && cmp128(ex->v[j].hi, cur) < 0)
			j++;
		for (size_t k = j; k < ex->n && cmp128(ex->v[k].lo, hi) <= 0;
		     k++) {
			if (cmp128(ex->v[k].lo, cur) > 0)
				set[n++] = (span){cur, dec128(ex->v[k].lo)};
			if (cmp128(ex->v[k].hi, hi) >= 0) {
				done = true;
				break;
			}
			cur = inc128(ex->v[k].hi);
		}
		if (!done)
			set[n++] = (span){cur, hi};
	}
	return n;
}

int skt_targets_finish(skt_targets *t)
{
	if (t == NULL || t->finished)
		return SKT_EINVAL;
	spans_merge(&t->add);
	spans_merge(&t->ex);
	size_t cap = t->add.n + t->ex.n;
	span *set = skt_malloc((cap ? cap : 1) * sizeof(*set));
	uint64_t *before = skt_malloc((cap ? cap : 1) * sizeof(*before));
	if (set == NULL || before == NULL) {
		skt_free(set);
		skt_free(before);
		return SKT_ENOMEM;
	}
	size_t n = subtract(&t->add, &t->ex, set);
	uint64_t total = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t m1 = span_minus1(set[k].lo, set[k].hi);
		before[k] = total;
		if (m1 >= t->max || total > t->max - m1 - 1) {
			skt_free(set);
			skt_free(before);
			return SKT_ETOOBIG;
		}
		total += m1 + 1;
	}
	t->set = set;
	t->before = before;
	t->nset = n;
	t->count = total;
	t->finished = true;
	return 0;
}

uint64_t skt_targets_count(const skt_targets *t)
{
	return t != NULL ? t->count : 0;
}

static void to_addr(u128 v, skt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (v.hi == 0 && v.lo >> 32 == 0xffff) {
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_addr.s_addr = htonl((uint32_t)v.lo);
		a->len = sizeof(a->u.in4);
		return;
	}
	a->u.in6.sin6_family = AF_INET6;
	for (int i = 0; i < 8; i++) {
		a->u.in6.sin6_addr.s6_addr[i] = (uint8_t)(v.hi >> (56 - 8 * i));
		a->u.in6.sin6_addr.s6_addr[8 + i] =
			(uint8_t)(v.lo >> (56 - 8 * i));
	}
	a->len = sizeof(a->u.in6);
}

int skt_targets_get(const skt_targets *t, uint64_t i, skt_addr *a)
{
	if (t == NULL || !t->finished || i >= t->count)
		return SKT_EINVAL;
	/* The last interval that starts at or before i. */
	size_t lo = 0, hi = t->nset;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->before[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	to_addr(add128_64(t->set[lo].lo, i - t->before[lo]), a);
	return 0;
}

/* For the fingerprint (space.c): the merged targets and exclusions. */
void skt__targets_hash(const skt_targets *t,
		       void (*feed)(void *h, const void *p, size_t n), void *h)
{
	const spans *lists[2] = {&t->add, &t->ex};
	for (int l = 0; l < 2; l++) {
		uint64_t n = lists[l]->n;
		feed(h, &n, sizeof(n));
		for (size_t k = 0; k < lists[l]->n; k++) {
			const span *s = &lists[l]->v[k];
			uint64_t w[4] = {s->lo.hi, s->lo.lo, s->hi.hi,
					 s->hi.lo};
			feed(h, w, sizeof(w));
		}
	}
}

bool skt__targets_finished(const skt_targets *t)
{
	return t != NULL && t->finished;
}
