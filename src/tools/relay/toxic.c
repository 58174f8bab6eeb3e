/* toxic.c - the parser of --toxic specs (toxic.h). Pure: it reads the
 * text and writes the struct, nothing else. */
#include "tools/relay/toxic.h"

#include "sockit/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Which keys each toxic takes beyond dir and toxicity. */
#define K_MS     0x01
#define K_JITTER 0x02
#define K_RATE   0x04
#define K_BYTES  0x08
#define K_N      0x10
#define K_P      0x20
#define K_BURST  0x40

static const struct {
	const char *name;
	int kind;
	unsigned keys, needs;
} kinds[] = {
	{"latency", TOXIC_LATENCY, K_MS | K_JITTER, K_MS},
	{"bandwidth", TOXIC_BANDWIDTH, K_RATE, K_RATE},
	{"slicer", TOXIC_SLICER, K_BYTES | K_MS, 0},
	{"slow_close", TOXIC_SLOW_CLOSE, K_MS, K_MS},
	{"timeout", TOXIC_TIMEOUT, K_MS, 0},
	{"limit_data", TOXIC_LIMIT_DATA, K_BYTES, K_BYTES},
	{"reset_peer", TOXIC_RESET_PEER, K_MS, 0},
	{"down", TOXIC_DOWN, 0, 0},
	{"fail_first", TOXIC_FAIL_FIRST, K_N, K_N},
	{"loss", TOXIC_LOSS, K_P | K_BURST, 0},
	{"duplicate", TOXIC_DUPLICATE, K_N, 0},
	{"reorder", TOXIC_REORDER, K_N | K_MS, 0},
	{"delay", TOXIC_DELAY, K_MS | K_JITTER, K_MS},
	{"truncate", TOXIC_TRUNCATE, K_BYTES, K_BYTES},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *toxic_name(int kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "?";
}

bool toxic_shapes_data(int kind)
{
	return kind == TOXIC_LATENCY || kind == TOXIC_BANDWIDTH ||
	       kind == TOXIC_SLICER || kind == TOXIC_SLOW_CLOSE ||
	       kind == TOXIC_TIMEOUT || kind == TOXIC_LIMIT_DATA;
}

bool toxic_is_udp(int kind)
{
	return kind >= TOXIC_LOSS;
}

static int fail(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (cap > 0)
		vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return SKT_EINVAL;
}

/* What a message may quote of the user's text: at most 40 bytes, and a
 * control byte or a non-ASCII one as '?', so the message stays one
 * printable line. */
static const char *shown(const char *s, size_t n, char out[44])
{
	if (n > 40)
		n = 40;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
	return out;
}

/* Decimal digits only (n of them), at most max; the limit is checked
 * before each multiplication. Returns 0 or -1. */
static int decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* 0..1 as "0", "1", "0.25", "1.0", ".5": up to six decimals, in parts
 * per million. Returns 0 or -1. */
static int share(const char *s, size_t n, uint32_t *ppm)
{
	size_t dot = 0;
	while (dot < n && s[dot] != '.')
		dot++;
	uint64_t whole = 0, frac = 0;
	if (dot > 0 && decimal(s, dot, 1, &whole) < 0)
		return -1;
	size_t fn = dot < n ? n - dot - 1 : 0;
	if (dot == n && dot == 0)
		return -1;
	if (dot < n &&
	    (fn == 0 || fn > 6 || decimal(s + dot + 1, fn, 999999, &frac) < 0))
		return -1;
	if (dot == 0 && fn == 0)
		return -1;
	for (size_t i = fn; i < 6; i++)
		frac *= 10;
	if (whole == 1 && frac > 0)
		return -1;
	*ppm = (uint32_t)(whole * 1000000 + frac);
	return 0;
}

static int find_kind(const char *s, size_t n)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strlen(kinds[i].name) == n &&
		    memcmp(kinds[i].name, s, n) == 0)
			return (int)i;
	return -1;
}

/* One KEY=VALUE of toxic k into t; *seen collects the keys given. */
static int one_key(relay_toxic *t, size_t k, const char *s, size_t n,
		   unsigned *seen, char *why, size_t cap)
{
	const char *name = kinds[k].name;
	const char *eq = memchr(s, '=', n);
	char q[44];
	if (eq == NULL)
		return fail(why, cap, "%s: '%s': expected KEY=VALUE", name,
			    shown(s, n, q));
	size_t kl = (size_t)(eq - s), vl = n - kl - 1;
	const char *v = eq + 1;
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {
		{"ms", K_MS},        {"jitter", K_JITTER}, {"rate", K_RATE},
		{"bytes", K_BYTES},  {"n", K_N},           {"dir", 0x100},
		{"toxicity", 0x200}, {"p", K_P},           {"burst", K_BURST}};
	unsigned bit = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].key) == kl &&
		    memcmp(keys[i].key, s, kl) == 0)
			bit = keys[i].bit;
	if (bit == 0 || (bit < 0x100 && !(kinds[k].keys & bit)))
		return fail(why, cap, "%s: unknown key '%s'", name,
			    shown(s, kl, q));
	if (*seen & bit)
		return fail(why, cap, "%s: '%s' given twice", name,
			    shown(s, kl, q));
	*seen |= bit;
	uint64_t x = 0;
	switch (bit) {
	case 0x100:
		if (vl == 2 && memcmp(v, "up", 2) == 0)
			t->dir = TOXIC_UP;
		else if (vl == 4 && memcmp(v, "down", 4) == 0)
			t->dir = TOXIC_DOWNSTREAM;
		else if (vl == 4 && memcmp(v, "both", 4) == 0)
			t->dir = TOXIC_BOTH;
		else
			return fail(why, cap, "%s: dir: up, down or both",
				    name);
		return 0;
	case 0x200:
		if (share(v, vl, &t->toxicity) < 0)
			return fail(why, cap,
				    "%s: toxicity: a share 0..1 (at most 6 "
				    "decimals)",
				    name);
		return 0;
	case K_P:
	case K_BURST:
		if (share(v, vl, bit == K_P ? &t->p : &t->burst) < 0 ||
		    (bit == K_BURST && t->burst == 1000000))
			return fail(why, cap,
				    "%s: %s: a share 0..1 (burst: below 1)",
				    name, bit == K_P ? "p" : "burst");
		return 0;
	case K_MS:
	case K_JITTER:
		if (decimal(v, vl, TOXIC_MS_MAX, &x) < 0)
			return fail(why, cap, "%s: %s: milliseconds 0..%d",
				    name, bit == K_MS ? "ms" : "jitter",
				    TOXIC_MS_MAX);
		*(bit == K_MS ? &t->ms : &t->jitter_ms) = (int)x;
		return 0;
	case K_RATE:
		if (decimal(v, vl, TOXIC_RATE_MAX, &x) < 0 || x == 0)
			return fail(why, cap, "%s: rate: KB/s 1..%d", name,
				    TOXIC_RATE_MAX);
		t->rate = x * 1024;
		return 0;
	case K_BYTES:
		if (decimal(v, vl, TOXIC_BYTES_MAX, &x) < 0 ||
		    (x == 0 && t->kind == TOXIC_SLICER))
			return fail(why, cap,
				    "%s: bytes: a count of bytes "
				    "(slicer: 1 or more)",
				    name);
		t->bytes = x;
		return 0;
	default:                                   /* K_N */
		if (t->kind != TOXIC_FAIL_FIRST) { /* copies, datagrams */
			if (decimal(v, vl, TOXIC_COPIES_MAX, &x) < 0 || x == 0)
				return fail(why, cap, "%s: n: a count 1..%d",
					    name, TOXIC_COPIES_MAX);
		} else if (decimal(v, vl, TOXIC_COUNT_MAX, &x) < 0)
			return fail(why, cap, "%s: n: a count 0..%d", name,
				    TOXIC_COUNT_MAX);
		t->n = x;
		return 0;
	}
}

int toxic_parse(relay_toxic *t, const char *spec, char *why, size_t cap)
{
	size_t len = strlen(spec);
	if (len > TOXIC_SPEC_MAX)
		return fail(why, cap, "longer than %d characters",
			    TOXIC_SPEC_MAX);
	size_t nl = strcspn(spec, ":");
	int k = find_kind(spec, nl);
	char q[44];
	if (k < 0)
		return fail(why, cap,
			    "unknown toxic '%s' (latency, bandwidth, slicer, "
			    "slow_close, timeout, limit_data, reset_peer, "
			    "down, fail_first; udp: loss, duplicate, reorder, "
			    "delay, truncate)",
			    shown(spec, nl, q));
	*t = (relay_toxic){
		.kind = kinds[k].kind, .dir = TOXIC_BOTH, .toxicity = 1000000};
	if (t->kind == TOXIC_SLICER)
		t->bytes = 64;
	if (t->kind == TOXIC_LOSS)
		t->p = 1000000;
	unsigned seen = 0;
	const char *p = spec + nl;
	if (*p == ':') {
		p++;
		if (*p == '\0')
			return fail(why, cap, "%s: nothing after ':'",
				    kinds[k].name);
		while (*p != '\0') {
			size_t n = strcspn(p, ",");
			int r = one_key(t, (size_t)k, p, n, &seen, why, cap);
			if (r < 0)
				return r;
			p += n;
			if (*p == ',' && *++p == '\0')
				return fail(why, cap, "%s: a ',' at the end",
					    kinds[k].name);
		}
	}
	unsigned missing = kinds[k].needs & ~seen;
	if (missing != 0)
		return fail(why, cap, "%s: needs %s=", kinds[k].name,
			    missing & K_MS      ? "ms"
			    : missing & K_RATE  ? "rate"
			    : missing & K_BYTES ? "bytes"
						: "n");
	if ((t->kind == TOXIC_LATENCY || t->kind == TOXIC_DELAY) &&
	    t->jitter_ms > t->ms)
		return fail(why, cap, "%s: jitter above ms", kinds[k].name);
	if (t->kind == TOXIC_REORDER && (seen & K_N) && (seen & K_MS))
		return fail(why, cap, "reorder: n= or ms=, not both");
	if (t->kind == TOXIC_DUPLICATE ||
	    (t->kind == TOXIC_REORDER && !(seen & K_MS) && t->n == 0))
		t->n = t->n == 0 ? 1 : t->n;
	return 0;
}
