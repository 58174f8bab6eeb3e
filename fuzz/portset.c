/* portset.c - fuzz skt_portset_parse and skt_portset_parse_names, the
 * parser of `sockit scan`'s PORTS ("22,80,8000-8100", "22-", "-1024",
 * "http,ssh", "all").
 *
 * Input: the text itself, with no NUL: the parser takes a length and must
 * never read past it, and the input ends at an ASan redzone.
 *
 * Properties: every result is a documented code; success returns the
 * set's size, which skt_portset_next and skt_portset_has agree with, and
 * the set written back as ranges parses to the same set; failure leaves
 * the set empty and points at an item inside the text. With names (a
 * fixed fake table: no /etc/services), every lookup gets a NUL-terminated
 * name of at most SKT_SERVICE_MAX bytes, and a text without letters
 * parses exactly as without names.
 */
#include "fuzz.h"

#include "sockit/sockit.h"

#include <string.h>

/* The set as "a-b,c,..." in text (at most 65535 items of 12 bytes). */
static size_t format_set(const skt_portset *s, char *text, size_t cap)
{
	size_t o = 0;
	unsigned p = skt_portset_next(s, 1);
	while (p != 0) {
		unsigned hi = p;
		while (hi < 65535 && skt_portset_has(s, (uint16_t)(hi + 1)))
			hi++;
		int n = snprintf(text + o, cap - o, o ? ",%u-%u" : "%u-%u", p,
				 hi);
		FUZZ_CHECK(n > 0 && (size_t)n < cap - o);
		o += (size_t)n;
		p = hi < 65535 ? skt_portset_next(s, hi + 1) : 0;
	}
	return o;
}

static void check_accepted(const skt_portset *s, int rc)
{
	FUZZ_CHECK(rc > 0 && (size_t)rc == skt_portset_count(s));
	FUZZ_CHECK(!skt_portset_has(s, 0));
	size_t seen = 0;
	for (unsigned p = skt_portset_next(s, 1); p != 0;
	     p = skt_portset_next(s, p + 1)) {
		FUZZ_CHECK(skt_portset_has(s, (uint16_t)p));
		seen++;
	}
	FUZZ_CHECK(seen == (size_t)rc);

	static char text[65535 * 13];
	static skt_portset again;
	size_t n = format_set(s, text, sizeof(text));
	FUZZ_CHECK(skt_portset_parse(&again, text, n, NULL) == rc);
	FUZZ_CHECK(memcmp(again.bits, s->bits, sizeof(s->bits)) == 0);
}

static int fake_lookup(const char *name, void *arg)
{
	size_t n = strlen(name);
	FUZZ_CHECK(n > 0 && n <= SKT_SERVICE_MAX);
	if (strcmp(name, "http") == 0)
		return 80;
	if (strcmp(name, "ssh") == 0)
		return 22;
	return n == 1 ? 0 : SKT_EAI_SERVICE; /* "x": a lookup that says 0 */
}

static void check_failed(const skt_portset *s, int rc,
			 const skt_portset_error *err, size_t size, bool names)
{
	FUZZ_CHECK(rc == SKT_EBADPORT || rc == SKT_EMALFORMED ||
		   (names && rc == SKT_EAI_SERVICE));
	FUZZ_CHECK(skt_portset_count(s) == 0);
	FUZZ_CHECK(err->why != NULL && err->off <= size &&
		   err->len <= size - err->off);
}

static bool has_letter(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if ((data[i] | 0x20) >= 'a' && (data[i] | 0x20) <= 'z')
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	static skt_portset s;
	skt_portset_error err = {0, 0, NULL};
	/* An exact-size copy, even for size 0, so a read past len is caught. */
	char *text = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	const char *t = size > 0 ? text : text + 1;
	int rc = skt_portset_parse(&s, t, size, &err);
	if (rc > 0)
		check_accepted(&s, rc);
	else
		check_failed(&s, rc, &err, size, false);
	static skt_portset named;
	skt_portset_error nerr = {0, 0, NULL};
	int nrc = skt_portset_parse_names(&named, t, size, fake_lookup, NULL,
					  &nerr);
	if (nrc > 0)
		FUZZ_CHECK((size_t)nrc == skt_portset_count(&named));
	else
		check_failed(&named, nrc, &nerr, size, true);
	if (!has_letter(data, size) && rc > 0)
		FUZZ_CHECK(nrc == rc &&
			   memcmp(named.bits, s.bits, sizeof(s.bits)) == 0);
	free(text);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
