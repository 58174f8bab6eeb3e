/* portset.c - the pure part of the scanner: the 65536-bit port set, its
 * parser, and the names of scan results.
 *
 * No fd, no allocation, no locale, no libc number parsing (strtol skips
 * leading blanks, accepts signs and needs a NUL, none of which fits "len
 * bytes, nothing past them"), so the parser is cheap to test exhaustively
 * and to fuzz.
 */
#include "internal.h"
#include "sockit/scan.h"

#include <string.h>

void skt_portset_clear(skt_portset *s)
{
	memset(s->bits, 0, sizeof(s->bits));
}

void skt_portset_add(skt_portset *s, uint16_t port)
{
	if (port != 0)
		s->bits[port >> 6] |= (uint64_t)1 << (port & 63);
}

/* Whole words at a time: "all" is 1024 stores, not 65535. */
void skt_portset_add_range(skt_portset *s, uint16_t lo, uint16_t hi)
{
	if (lo == 0)
		lo = 1;
	if (lo > hi)
		return;
	unsigned wlo = lo >> 6, whi = hi >> 6;
	uint64_t first = ~(uint64_t)0 << (lo & 63);
	uint64_t last = ~(uint64_t)0 >> (63 - (hi & 63));
	if (wlo == whi) {
		s->bits[wlo] |= first & last;
		return;
	}
	s->bits[wlo] |= first;
	for (unsigned w = wlo + 1; w < whi; w++)
		s->bits[w] = ~(uint64_t)0;
	s->bits[whi] |= last;
}

bool skt_portset_has(const skt_portset *s, uint16_t port)
{
	return port != 0 && (s->bits[port >> 6] >> (port & 63) & 1) != 0;
}

size_t skt_portset_count(const skt_portset *s)
{
	size_t n = 0;
	for (size_t w = 0; w < SKT_PORTSET_WORDS; w++)
		n += (size_t)__builtin_popcountll(s->bits[w]);
	/* Bit 0 is never set by the functions above, but a caller may fill
	 * the words by hand: port 0 is not a port. */
	return n - (s->bits[0] & 1);
}

uint16_t skt_portset_next(const skt_portset *s, unsigned from)
{
	if (from == 0)
		from = 1;
	if (from > 65535)
		return 0;
	unsigned w = from >> 6;
	uint64_t word = s->bits[w] & (~(uint64_t)0 << (from & 63));
	for (;;) {
		if (word != 0)
			return (uint16_t)(w * 64 +
					  (unsigned)__builtin_ctzll(word));
		if (++w == SKT_PORTSET_WORDS)
			return 0;
		word = s->bits[w];
	}
}

/* ---- Parser ---- */

static const char WHY_EMPTY[] = "empty item";
static const char WHY_SHAPE[] = "not a port, a range LO-HI or 'all'";
static const char WHY_SHAPE_NAMES[] =
	"not a port, a range LO-HI, a service name or 'all'";
static const char WHY_RANGE[] = "port out of range (1-65535)";
static const char WHY_ORDER[] = "range ends below its start";
static const char WHY_NAME[] = "unknown service name";

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number at text[*i..end). Returns false when there is no
 * digit. Each digit is checked against the limit before the multiply, so
 * no input can overflow: *v saturates at 65536 ("out of range"). */
static bool number(const char *text, size_t end, size_t *i, unsigned *v)
{
	size_t start = *i;
	unsigned acc = 0;
	while (*i < end && digit(text[*i])) {
		unsigned d = (unsigned)(text[*i] - '0');
		if (acc > (65535 - d) / 10)
			acc = 65536;
		else
			acc = acc * 10 + d;
		(*i)++;
	}
	*v = acc;
	return *i > start;
}

static void skip_blanks(const char *text, size_t end, size_t *i)
{
	while (*i < end && blank(text[*i]))
		(*i)++;
}

struct names {
	skt_portset_lookup fn; /* NULL: names are not ports */
	void *arg;
};

/* A service name, text[b..e): /etc/services' shape (a letter, then
 * letters, digits and "-_.+"), looked up by the caller. Returns 0 with
 * *port set, or the error with *why set. */
static int name_item(const struct names *nm, const char *text, size_t b,
		     size_t e, unsigned *port, const char **why)
{
	*why = WHY_SHAPE_NAMES;
	if (e - b > SKT_SERVICE_MAX)
		return SKT_EMALFORMED;
	char name[SKT_SERVICE_MAX + 1];
	for (size_t i = b; i < e; i++) {
		char c = text[i];
		if (!letter(c) && !digit(c) && c != '-' && c != '_' &&
		    c != '.' && c != '+')
			return SKT_EMALFORMED;
		name[i - b] = c;
	}
	name[e - b] = '\0';
	int p = nm->fn(name, nm->arg);
	*why = WHY_NAME;
	if (p <= 0 || p > 65535)
		return SKT_EAI_SERVICE;
	*port = (unsigned)p;
	return 0;
}

/* LO-HI with either end left out ("22-" is 22..65535, "-1024" 1..1024,
 * "-" everything, as nmap reads them). Returns 0 or SKT_EMALFORMED. */
static int range_item(const char *text, size_t b, size_t e, unsigned *lo,
		      unsigned *hi)
{
	size_t i = b;
	bool have_lo = number(text, e, &i, lo);
	if (!have_lo)
		*lo = 1;
	*hi = *lo;
	skip_blanks(text, e, &i);
	if (i < e && text[i] == '-') {
		i++;
		skip_blanks(text, e, &i);
		if (!number(text, e, &i, hi))
			*hi = 65535;
	} else if (!have_lo) {
		return SKT_EMALFORMED;
	}
	return i == e ? 0 : SKT_EMALFORMED;
}

/* One item, text[b..e) with blanks already trimmed, into s. Returns 0 or
 * the error code, with *why set. Shape first, then values: "65536x" is
 * malformed, "65536" out of range. */
static int item(skt_portset *s, const char *text, size_t b, size_t e,
		const struct names *nm, const char **why)
{
	if (e - b == 3 && memcmp(text + b, "all", 3) == 0) {
		skt_portset_add_range(s, 1, 65535);
		return 0;
	}
	unsigned lo, hi;
	if (nm->fn != NULL && letter(text[b])) {
		int rc = name_item(nm, text, b, e, &lo, why);
		if (rc == 0)
			skt_portset_add(s, (uint16_t)lo);
		return rc;
	}
	*why = nm->fn != NULL ? WHY_SHAPE_NAMES : WHY_SHAPE;
	if (range_item(text, b, e, &lo, &hi) < 0)
		return SKT_EMALFORMED;
	*why = WHY_RANGE;
	if (lo == 0 || lo > 65535 || hi == 0 || hi > 65535)
		return SKT_EBADPORT;
	*why = WHY_ORDER;
	if (hi < lo)
		return SKT_EMALFORMED;
	skt_portset_add_range(s, (uint16_t)lo, (uint16_t)hi);
	return 0;
}

int skt_portset_parse_names(skt_portset *s, const char *text, size_t len,
			    skt_portset_lookup lookup, void *arg,
			    skt_portset_error *err)
{
	const struct names nm = {lookup, arg};
	skt_portset_clear(s);
	size_t i = 0;
	/* Each round takes one item up to the next comma or the end; an
	 * empty text is one empty item. */
	for (;;) {
		size_t start = i;
		while (i < len && text[i] != ',')
			i++;
		size_t b = start, e = i;
		skip_blanks(text, e, &b);
		while (e > b && blank(text[e - 1]))
			e--;
		const char *why = WHY_EMPTY;
		int rc = b == e ? SKT_EMALFORMED
				: item(s, text, b, e, &nm, &why);
		if (rc < 0) {
			skt_portset_clear(s);
			if (err != NULL)
				*err = (skt_portset_error){b, e - b, why};
			return rc;
		}
		if (i == len)
			break;
		i++; /* the comma */
	}
	return (int)skt_portset_count(s);
}

int skt_portset_parse(skt_portset *s, const char *text, size_t len,
		      skt_portset_error *err)
{
	return skt_portset_parse_names(s, text, len, NULL, NULL, err);
}

/* ---- Names ---- */

const char *skt_port_state_name(skt_port_state state)
{
	static const char *const names[] = {
		[SKT_PORT_OPEN] = "open",
		[SKT_PORT_CLOSED] = "closed",
		[SKT_PORT_FILTERED] = "filtered",
		[SKT_PORT_OPEN_FILTERED] = "open|filtered",
	};
	if ((unsigned)state >= SKT__ARRAY_SIZE(names))
		return "unknown";
	return names[state];
}

const char *skt_scan_reason(const skt_scan_result *r)
{
	if (r->self_connect)
		return "self-connect";
	switch (r->err) {
	case 0:
		return r->socktype == SOCK_DGRAM ? "reply" : "connected";
	case SKT_ECONNREFUSED:
		return "refused";
	case SKT_ETIMEDOUT:
		return r->state == SKT_PORT_OPEN_FILTERED ? "no reply"
							  : "timed out";
	default:
		return skt_strerror(r->err);
	}
}
