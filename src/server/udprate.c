/* udprate.c - UDP replies per source address: a token bucket each, in a
 * small table of fixed size, shared by every worker under one mutex.
 *
 * Why: a UDP service answers whoever the source address says, and a
 * source address can be forged. Without a bound, a service whose answer
 * is larger than the question (chargen: 444 bytes for 1) is an amplifier
 * for floods at a third party. DNS servers bound it the same way (BIND's
 * response rate limiting): replies to one address at most `rate` a second
 * after a burst of `burst`; the others are not sent. The key is the host,
 * not the port (a victim is an address; the forger picks any port), so
 * one source's sockets and the workers that SO_REUSEPORT spreads them
 * over all share one bucket: hence one table and a lock, taken once per
 * reply (a datagram costs a system call already).
 *
 * The table never grows: 4-way sets of buckets, a source that finds no
 * bucket takes the least recently used of its set. A forger who cycles
 * through many addresses to evict a victim's bucket gains one burst per
 * eviction, and each of those addresses is itself bounded. The set comes
 * from a keyed hash whose key is picked at start, so the addresses that
 * collide cannot be known in advance.
 */
#include "server/server_int.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SETS 1024 /* x WAYS buckets: 4096 sources tracked at once */
#define WAYS 4
/* Tokens in thousandths, so a rate below 1000/s refills every ms. */
#define MILLI 1000u

struct bucket {
	uint8_t key[17];
	bool used;
	int64_t last_ms; /* last refill */
	uint64_t tokens; /* thousandths of a reply */
};

struct skt__udprate {
	pthread_mutex_t lock;
	uint64_t seed;
	uint64_t rate, burst;
	struct bucket b[SETS][WAYS];
};

int skt__udprate_new(skt__udprate **out, unsigned rate, unsigned burst)
{
	skt__udprate *t = skt_calloc(1, sizeof(*t));
	if (t == NULL)
		return SKT_ENOMEM;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	t->rate = rate;
	t->burst = burst > 0 ? burst : 1;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void skt__udprate_free(skt__udprate *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	skt_free(t);
}

/* FNV-1a over the seed and the key. */
static size_t set_of(const skt__udprate *t, const uint8_t key[17])
{
	uint64_t h = 1469598103934665603u ^ t->seed;
	for (int i = 0; i < 17; i++)
		h = (h ^ key[i]) * 1099511628211u;
	h ^= h >> 29;
	return (size_t)(h % SETS);
}

static struct bucket *find(skt__udprate *t, const uint8_t key[17], int64_t now)
{
	struct bucket *set = t->b[set_of(t, key)];
	struct bucket *victim = &set[0];
	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && memcmp(set[i].key, key, 17) == 0)
			return &set[i];
		if (!set[i].used ||
		    (victim->used && set[i].last_ms < victim->last_ms))
			victim = &set[i];
	}
	memcpy(victim->key, key, 17);
	victim->used = true;
	victim->last_ms = now;
	victim->tokens = t->burst * MILLI; /* a new source: a full burst */
	return victim;
}

bool skt__udprate_take(skt__udprate *t, const skt_addr *from, int64_t now)
{
	uint8_t key[17];
	skt__addr_key(from, key);
	pthread_mutex_lock(&t->lock);
	struct bucket *b = find(t, key, now);
	uint64_t full = t->burst * MILLI;
	if (now > b->last_ms) {
		/* Bound the interval before multiplying: past the time to
		 * fill the bucket, more only fills it. */
		uint64_t ms = (uint64_t)(now - b->last_ms);
		uint64_t fill_ms = full / (t->rate > 0 ? t->rate : 1) + 1;
		uint64_t add = (ms < fill_ms ? ms : fill_ms) * t->rate;
		b->tokens = b->tokens + add < full ? b->tokens + add : full;
		b->last_ms = now;
	}
	bool ok = b->tokens >= MILLI;
	if (ok)
		b->tokens -= MILLI;
	pthread_mutex_unlock(&t->lock);
	return ok;
}
