/* peers.c - connections open per client address, for --max-per-ip.
 *
 * A hash table of address -> count, shared by every worker under one
 * mutex: it is touched twice per connection (accept and close), never per
 * byte, so a lock costs less than splitting the table would. An entry
 * exists only while its count is above zero, so the table holds as many
 * entries as there are distinct clients connected, whatever came and went
 * before. IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d and
 * are counted as the IPv4 address they are, and the port is ignored.
 */
#include "server/server_int.h"

#include <pthread.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint8_t key[17]; /* family byte, then 4 or 16 address bytes */
	size_t count;
};

struct skt__peers {
	pthread_mutex_t lock;
	struct entry **b;
	size_t nb; /* buckets: a power of two */
	size_t n;  /* entries */
};

#define BUCKETS_MIN 64

void skt__addr_key(const skt_addr *a, uint8_t key[17])
{
	skt_addr h = *a;
	skt_addr_unmap(&h);
	memset(key, 0, 17);
	if (h.u.sa.sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &h.u.in4.sin_addr, 4);
	} else if (h.u.sa.sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &h.u.in6.sin6_addr, 16);
	}
}

/* FNV-1a: the keys are short and an attacker choosing many addresses
 * gets at worst long chains on one lock, bounded by --max-conns. */
static size_t hash(const uint8_t key[17])
{
	uint64_t h = 1469598103934665603u;
	for (int i = 0; i < 17; i++)
		h = (h ^ key[i]) * 1099511628211u;
	return (size_t)(h ^ (h >> 32));
}

int skt__peers_new(skt__peers **out)
{
	skt__peers *p = skt_calloc(1, sizeof(*p));
	if (p == NULL)
		return SKT_ENOMEM;
	p->b = skt_calloc(BUCKETS_MIN, sizeof(*p->b));
	if (p->b == NULL) {
		skt_free(p);
		return SKT_ENOMEM;
	}
	p->nb = BUCKETS_MIN;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void skt__peers_free(skt__peers *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nb; i++) {
		struct entry *e = p->b[i];
		while (e != NULL) {
			struct entry *next = e->next;
			skt_free(e);
			e = next;
		}
	}
	pthread_mutex_destroy(&p->lock);
	skt_free(p->b);
	skt_free(p);
}

/* Double the buckets when entries outnumber them; a failed allocation
 * only leaves the chains longer. */
static void grow(skt__peers *p)
{
	size_t nb = p->nb * 2;
	struct entry **b = skt_calloc(nb, sizeof(*b));
	if (b == NULL)
		return;
	for (size_t i = 0; i < p->nb; i++) {
		struct entry *e = p->b[i];
		while (e != NULL) {
			struct entry *next = e->next;
			size_t j = hash(e->key) & (nb - 1);
			e->next = b[j];
			b[j] = e;
			e = next;
		}
	}
	skt_free(p->b);
	p->b = b;
	p->nb = nb;
}

static struct entry **find(skt__peers *p, const uint8_t key[17])
{
	struct entry **pe = &p->b[hash(key) & (p->nb - 1)];
	while (*pe != NULL && memcmp((*pe)->key, key, 17) != 0)
		pe = &(*pe)->next;
	return pe;
}

int skt__peers_take(skt__peers *p, const skt_addr *a, size_t max)
{
	uint8_t key[17];
	skt__addr_key(a, key);
	int r = 1;
	pthread_mutex_lock(&p->lock);
	struct entry **pe = find(p, key);
	if (*pe != NULL && (*pe)->count >= max) {
		r = 0;
	} else if (*pe != NULL) {
		(*pe)->count++;
	} else {
		struct entry *e = skt_malloc(sizeof(*e));
		if (e == NULL) {
			r = SKT_ENOMEM;
		} else {
			memcpy(e->key, key, 17);
			e->count = 1;
			e->next = NULL;
			*pe = e;
			if (++p->n > p->nb)
				grow(p);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

void skt__peers_put(skt__peers *p, const skt_addr *a)
{
	uint8_t key[17];
	skt__addr_key(a, key);
	pthread_mutex_lock(&p->lock);
	struct entry **pe = find(p, key);
	struct entry *e = *pe;
	if (e != NULL && --e->count == 0) {
		*pe = e->next;
		p->n--;
		skt_free(e);
	}
	pthread_mutex_unlock(&p->lock);
}
