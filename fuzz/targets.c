/* targets.c - fuzz the target-set parser (skt_targets_add/_exclude: the
 * TARGET items and --exclude of `sockit scan`) and the scan space's order
 * and shards built on what it accepts.
 *
 * Input: a max byte (0: the default bound, 1: 256, 2: 2^20, 3: the
 * limit), a shard-count byte, a seed byte, a ports byte (1 to 4 ports),
 * then items, one per line; a line starting with '!' is an exclusion.
 * Each item is copied to an exact-size buffer, so a read past its length
 * is caught.
 *
 * Properties: every code is documented and every error names a part
 * inside its item; a refused item leaves the set as it was (the set of
 * the accepted items alone is the same set); the count stays within the
 * bound; addresses come back in strictly increasing order; excluding
 * every accepted item leaves nothing; and for spaces up to 2^16, the
 * shards of one seed cover the space exactly once.
 */
#include "fuzz.h"

#include "sockit/sockit.h"

#include <string.h>

static const uint64_t maxes[4] = {0, 256, 1 << 20, SKT_TARGETS_MAX_LIMIT};

typedef struct line {
	const uint8_t *p;
	size_t n;
	bool exclude;
} line;

static int put(skt_targets *t, const line *l, bool as_exclusion)
{
	char *copy = malloc(l->n > 0 ? l->n : 1);
	FUZZ_CHECK(copy != NULL);
	if (l->n > 0)
		memcpy(copy, l->p, l->n);
	const char *text = l->n > 0 ? copy : copy + 1;
	skt_target_error err = {0, 0, NULL};
	int rc = as_exclusion ? skt_targets_exclude(t, text, l->n, &err)
			      : skt_targets_add(t, text, l->n, &err);
	FUZZ_CHECK(rc == 0 || rc == SKT_EBADHOST || rc == SKT_EMALFORMED ||
		   rc == SKT_ETOOBIG);
	if (rc < 0)
		FUZZ_CHECK(err.why != NULL && err.off <= l->n &&
			   err.len <= l->n - err.off);
	free(copy);
	return rc;
}

/* The 128-bit form of an address, for ordering. */
static void key(const skt_addr *a, uint8_t k[16])
{
	memset(k, 0, 16);
	if (skt_addr_family(a) == AF_INET) {
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &a->u.in4.sin_addr, 4);
	} else {
		FUZZ_CHECK(skt_addr_family(a) == AF_INET6);
		memcpy(k, &a->u.in6.sin6_addr, 16);
	}
}

static void check_order(const skt_targets *t)
{
	uint64_t n = skt_targets_count(t);
	uint8_t prev[16], cur[16];
	uint64_t step = n / 64 + 1;
	for (uint64_t i = 0; i < n; i += step) {
		skt_addr a;
		FUZZ_CHECK(skt_targets_get(t, i, &a) == 0);
		key(&a, cur);
		FUZZ_CHECK(i == 0 || memcmp(prev, cur, 16) < 0);
		memcpy(prev, cur, 16);
	}
	skt_addr a;
	FUZZ_CHECK(skt_targets_get(t, n, &a) == SKT_EINVAL);
}

static void check_cover(const skt_targets *t, unsigned nports, uint32_t n,
			uint64_t seed)
{
	static skt_scan_space sp;
	static uint64_t seen[1024];
	skt_portset ports;
	skt_portset_clear(&ports);
	skt_portset_add_range(&ports, 1, (uint16_t)nports);
	FUZZ_CHECK(skt_scan_space_init(&sp, t, &ports) == 0);
	if (sp.size > 65536)
		return;
	for (int random = 0; random < 2; random++) {
		skt_scan_order o;
		FUZZ_CHECK(skt_scan_order_init(&o, sp.size, seed, random) == 0);
		memset(seen, 0, sizeof(seen));
		uint64_t total = 0;
		for (uint32_t i = 0; i < n; i++) {
			skt_scan_iter it;
			FUZZ_CHECK(skt_scan_iter_init(&it, &o, i, n, 0) == 0);
			uint64_t v;
			while (skt_scan_iter_next(&it, &v)) {
				FUZZ_CHECK(v < sp.size);
				FUZZ_CHECK(!(seen[v >> 6] >> (v & 63) & 1));
				seen[v >> 6] |= (uint64_t)1 << (v & 63);
				total++;
			}
		}
		FUZZ_CHECK(total == sp.size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint64_t max = maxes[fuzz_u8(&in) & 3];
	uint32_t shards = 1 + fuzz_u8(&in) % 64;
	uint64_t seed = fuzz_u8(&in);
	unsigned nports = 1 + fuzz_u8(&in) % 4;

	line lines[64];
	size_t nl = 0;
	while (in.n > 0 && nl < 64) {
		const uint8_t *nlp = memchr(in.p, '\n', in.n);
		size_t n = nlp != NULL ? (size_t)(nlp - in.p) : in.n;
		bool ex = n > 0 && in.p[0] == '!';
		lines[nl++] = (line){in.p + ex, n - ex, ex};
		in.p += n + (nlp != NULL);
		in.n -= n + (nlp != NULL);
	}

	skt_targets *all = skt_targets_new(max);
	skt_targets *kept = skt_targets_new(max);
	skt_targets *none = skt_targets_new(max);
	FUZZ_CHECK(all != NULL && kept != NULL && none != NULL);
	for (size_t i = 0; i < nl; i++) {
		if (put(all, &lines[i], lines[i].exclude) != 0)
			continue;
		FUZZ_CHECK(put(kept, &lines[i], lines[i].exclude) == 0);
		if (!lines[i].exclude) {
			FUZZ_CHECK(put(none, &lines[i], false) == 0);
			FUZZ_CHECK(put(none, &lines[i], true) == 0);
		}
	}
	int rc = skt_targets_finish(all);
	FUZZ_CHECK(rc == 0 || rc == SKT_ETOOBIG);
	FUZZ_CHECK(skt_targets_finish(kept) == rc);
	if (rc == 0) {
		uint64_t n = skt_targets_count(all);
		FUZZ_CHECK(n == skt_targets_count(kept));
		FUZZ_CHECK(n <= (max ? max : SKT_TARGETS_MAX_DEFAULT));
		for (uint64_t i = 0; i < n; i += n / 16 + 1) {
			skt_addr a, b;
			FUZZ_CHECK(skt_targets_get(all, i, &a) == 0);
			FUZZ_CHECK(skt_targets_get(kept, i, &b) == 0);
			FUZZ_CHECK(skt_addr_equal(&a, &b));
		}
		check_order(all);
		check_cover(all, nports, shards, seed);
	}
	rc = skt_targets_finish(none);
	FUZZ_CHECK(rc == 0 || rc == SKT_ETOOBIG);
	if (rc == 0)
		FUZZ_CHECK(skt_targets_count(none) == 0);
	skt_targets_free(all);
	skt_targets_free(kept);
	skt_targets_free(none);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
