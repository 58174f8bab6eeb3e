/* core.c - allocator hook, clock and the poll-based wait behind every
 * blocking call. */
#include "sockit/core.h"
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static skt_malloc_fn alloc_malloc = malloc;
static skt_realloc_fn alloc_realloc = realloc;
static skt_free_fn alloc_free = free;

const char *skt_version(void)
{
	return SKT_VERSION_STRING;
}

int skt_set_allocator(skt_malloc_fn m, skt_realloc_fn r, skt_free_fn f)
{
	if (m == NULL && r == NULL && f == NULL) {
		alloc_malloc = malloc;
		alloc_realloc = realloc;
		alloc_free = free;
		return 0;
	}
	if (m == NULL || r == NULL || f == NULL)
		return SKT_EINVAL;
	alloc_malloc = m;
	alloc_realloc = r;
	alloc_free = f;
	return 0;
}

void *skt_malloc(size_t n)
{
	return alloc_malloc(n == 0 ? 1 : n);
}

void *skt_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	void *p = skt_malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

void *skt_realloc(void *p, size_t n)
{
	return alloc_realloc(p, n == 0 ? 1 : n);
}

void skt_free(void *p)
{
	if (p != NULL)
		alloc_free(p);
}

int64_t skt__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t skt__deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	if (timeout_ms == 0)
		return 0; /* never block: distinct from an expired deadline */
	return skt__now_ms() + timeout_ms;
}

int skt__remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	if (deadline == 0)
		return 0;
	int64_t left = deadline - skt__now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int skt__wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int ms = skt__remaining(deadline);
		if (ms == 0)
			return deadline == 0 ? SKT_EAGAIN : SKT_ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return SKT_ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int skt__strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (n >= cap)
		return SKT_ETOOBIG;
	memcpy(dst, src, n + 1);
	return 0;
}
