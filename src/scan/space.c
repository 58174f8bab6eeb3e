/* space.c - the scan space (targets x ports), the order it is walked in,
 * its shards and its fingerprint. Pure arithmetic: no fd, no allocation.
 *
 * The order is zmap's (Adrian, Durumeric et al., "Zippier ZMap", 2014):
 * iterate a cyclic multiplicative group modulo a prime p > size and skip
 * the elements past the space. zmap takes p from a fixed list of primes
 * (2^8+1, 2^16+1, 2^24+43, 2^32+15, ...), so a space of 2^16+2 elements
 * walks a group 256 times larger and skips 255 of every 256 steps; here p
 * is the smallest prime above the size, found by a deterministic
 * Miller-Rabin test, and p - 1 is factored (trial division, then Pollard's
 * rho) to test generators. Sharding splits the exponents, not the
 * elements, so it needs no coordination beyond the seed: zmap's own
 * sharding broke when the shard count did not divide the space
 * (zmap#410) and masscan's overlapped across machines without one seed
 * (masscan#531).
 */
#include "internal.h"
#include "scan_int.h"
#include "sockit/scan.h"

#include <string.h>

__extension__ typedef unsigned __int128 wide;

/* ---- Modular arithmetic below 2^63 ---- */

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)((wide)a * b % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
	uint64_t r = 1 % m;
	b %= m;
	while (e != 0) {
		if (e & 1)
			r = mulmod(r, b, m);
		b = mulmod(b, b, m);
		e >>= 1;
	}
	return r;
}

static const uint64_t small_primes[] = {2,  3,  5,  7,  11, 13,
					17, 19, 23, 29, 31, 37};

/* Miller-Rabin with the first twelve primes as bases: deterministic for
 * every n below 3.3 * 10^24 (Sorenson and Webster, 2015), so for all of
 * 64 bits. */
static bool is_prime(uint64_t n)
{
	if (n < 2)
		return false;
	for (size_t i = 0; i < SKT__ARRAY_SIZE(small_primes); i++)
		if (n % small_primes[i] == 0)
			return n == small_primes[i];
	uint64_t d = n - 1;
	int s = 0;
	while ((d & 1) == 0) {
		d >>= 1;
		s++;
	}
	for (size_t i = 0; i < SKT__ARRAY_SIZE(small_primes); i++) {
		uint64_t x = powmod(small_primes[i], d, n);
		if (x == 1 || x == n - 1)
			continue;
		bool witness = true;
		for (int r = 1; r < s && witness; r++) {
			x = mulmod(x, x, n);
			witness = x != n - 1;
		}
		if (witness)
			return false;
	}
	return true;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* A nontrivial factor of n, composite and odd with no factor below 1000
 * (Pollard's rho, Floyd's cycle finding; a new constant when a walk
 * closes on n itself). */
static uint64_t rho(uint64_t n)
{
	for (uint64_t c = 1;; c++) {
		uint64_t x = 2, y = 2, d = 1;
		while (d == 1) {
			x = (mulmod(x, x, n) + c) % n;
			y = (mulmod(y, y, n) + c) % n;
			y = (mulmod(y, y, n) + c) % n;
			d = gcd(x > y ? x - y : y - x, n);
		}
		if (d != n)
			return d;
	}
}

typedef struct factors {
	uint64_t q[64]; /* distinct primes (at most 15 below 2^64) */
	int n;
} factors;

static void factor_add(factors *f, uint64_t q)
{
	for (int i = 0; i < f->n; i++)
		if (f->q[i] == q)
			return;
	f->q[f->n++] = q;
}

/* The distinct prime factors of n, which has none below 1000. */
static void factor_big(factors *f, uint64_t n)
{
	if (n == 1)
		return;
	if (is_prime(n)) {
		factor_add(f, n);
		return;
	}
	uint64_t d = rho(n);
	factor_big(f, d);
	factor_big(f, n / d);
}

static void factor(factors *f, uint64_t n)
{
	f->n = 0;
	for (uint64_t q = 2; q < 1000 && q * q <= n; q++) {
		if (n % q != 0)
			continue;
		factor_add(f, q);
		while (n % q == 0)
			n /= q;
	}
	if (n < 1000 * 1000) {
		if (n > 1)
			factor_add(f, n);
		return;
	}
	factor_big(f, n);
}

/* splitmix64 (Steele, Lea, Flood 2014): the seed's stream of numbers. */
static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A primitive root modulo prime p drawn from the seed: g generates Z_p^*
 * exactly when g^((p-1)/q) != 1 for every prime q dividing p - 1. A
 * random element is one with probability phi(p-1)/(p-1), above 1/10 for
 * any p of 64 bits, so a few draws suffice. */
static uint64_t generator(uint64_t p, uint64_t *rng)
{
	if (p == 2)
		return 1; /* Z_2^* is {1} */
	if (p == 3)
		return 2;
	factors f;
	factor(&f, p - 1);
	for (;;) {
		uint64_t g = 2 + splitmix(rng) % (p - 3); /* 2..p-2 */
		bool ok = true;
		for (int i = 0; i < f.n && ok; i++)
			ok = powmod(g, (p - 1) / f.q[i], p) != 1;
		if (ok)
			return g;
	}
}

/* ---- The order ---- */

int skt_scan_order_init(skt_scan_order *o, uint64_t size, uint64_t seed,
			bool random)
{
	if (o == NULL || size > SKT_SCAN_SPACE_MAX)
		return SKT_EINVAL;
	*o = (skt_scan_order){.size = size, .seed = seed, .random = random};
	if (!random || size == 0) {
		o->cycle = size;
		o->random = random && size != 0;
		return 0;
	}
	uint64_t p = size + 1;
	while (!is_prime(p))
		p++;
	uint64_t rng = seed;
	o->prime = p;
	o->cycle = p - 1;
	o->gen = generator(p, &rng);
	o->start = powmod(o->gen, splitmix(&rng) % (p - 1), p);
	return 0;
}

int skt_scan_iter_init(skt_scan_iter *it, const skt_scan_order *o,
		       uint32_t shard, uint32_t shards, uint64_t resume)
{
	if (it == NULL || o == NULL || shards == 0 ||
	    shards > SKT_SCAN_SHARDS_MAX || shard >= shards)
		return SKT_EINVAL;
	/* floor(i * cycle / n) in 128 bits: exact for every i and n, so the
	 * end of shard i is the start of shard i + 1. */
	uint64_t first = (uint64_t)((wide)shard * o->cycle / shards);
	uint64_t end = (uint64_t)((wide)(shard + 1) * o->cycle / shards);
	if (resume > end - first)
		return SKT_EINVAL;
	*it = (skt_scan_iter){.o = *o, .first = first, .len = end - first};
	skt__scan_iter_seek(it, resume);
	return 0;
}

void skt__scan_iter_seek(skt_scan_iter *it, uint64_t pos)
{
	it->pos = pos;
	if (it->o.random)
		it->x = mulmod(it->o.start,
			       powmod(it->o.gen, it->first + pos, it->o.prime),
			       it->o.prime);
}

bool skt_scan_iter_next(skt_scan_iter *it, uint64_t *index)
{
	while (it->pos < it->len) {
		uint64_t v;
		if (it->o.random) {
			v = it->x - 1;
			it->x = mulmod(it->x, it->o.gen, it->o.prime);
		} else {
			v = it->first + it->pos;
		}
		it->pos++;
		if (v < it->o.size) {
			*index = v;
			return true;
		}
	}
	return false;
}

/* ---- The space ---- */

int skt_scan_space_init(skt_scan_space *sp, const skt_targets *t,
			const skt_portset *ports)
{
	if (sp == NULL || ports == NULL || !skt__targets_finished(t))
		return SKT_EINVAL;
	uint64_t nt = skt_targets_count(t);
	uint64_t np = skt_portset_count(ports);
	if (np != 0 && nt > SKT_SCAN_SPACE_MAX / np)
		return SKT_ETOOBIG;
	sp->targets = t;
	sp->ntargets = nt;
	sp->nports = (uint32_t)np;
	sp->size = nt * np;
	sp->ports = *ports;
	sp->ports.bits[0] &= ~(uint64_t)1; /* port 0 is not a port */
	uint32_t before = 0;
	for (size_t w = 0; w < SKT_PORTSET_WORDS; w++) {
		sp->rank[w] = before;
		before += (uint32_t)__builtin_popcountll(sp->ports.bits[w]);
	}
	return 0;
}

/* The port of rank r in the set (r < nports). */
static uint16_t port_of_rank(const skt_scan_space *sp, uint32_t r)
{
	size_t lo = 0, hi = SKT_PORTSET_WORDS;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (sp->rank[mid] <= r)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t bits = sp->ports.bits[lo];
	for (uint32_t k = r - sp->rank[lo]; k > 0; k--)
		bits &= bits - 1;
	return (uint16_t)(lo * 64 + (size_t)__builtin_ctzll(bits));
}

int skt_scan_space_get(const skt_scan_space *sp, uint64_t i, skt_addr *a)
{
	if (sp == NULL || i >= sp->size)
		return SKT_EINVAL;
	int rc = skt_targets_get(sp->targets, i / sp->nports, a);
	if (rc < 0)
		return rc;
	skt_addr_set_port(a, port_of_rank(sp, (uint32_t)(i % sp->nports)));
	return 0;
}

/* ---- The fingerprint ---- */

static void fnv_feed(void *h, const void *p, size_t n)
{
	uint64_t *v = h;
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		*v ^= b[i];
		*v *= 0x100000001b3ULL;
	}
}

uint64_t skt_scan_fingerprint(const skt_scan_space *sp, const skt_scan_order *o,
			      uint32_t shards, int socktype)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	static const char tag[] = "sockit scan 1";
	fnv_feed(&h, tag, sizeof(tag));
	uint64_t head[5] = {o->seed, o->random, shards, (uint64_t)socktype,
			    sp->nports};
	fnv_feed(&h, head, sizeof(head));
	fnv_feed(&h, sp->ports.bits, sizeof(sp->ports.bits));
	skt__targets_hash(sp->targets, fnv_feed, &h);
	/* FNV's last bytes move few bits: a finalizer spreads them. */
	uint64_t state = h;
	return splitmix(&state);
}
