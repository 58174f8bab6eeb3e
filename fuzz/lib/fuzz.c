/* fuzz.c - the input cursor and string helpers of fuzz.h. */
#include "fuzz.h"

#include "sockit/core.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

static atomic_long live;

/* A size header keeps realloc exact; nothing else is needed here. */
typedef union {
	size_t n;
	max_align_t align;
} hdr;

static void *count_malloc(size_t n)
{
	hdr *h = malloc(sizeof(hdr) + n);
	if (h == NULL)
		return NULL;
	atomic_fetch_add(&live, 1);
	return h + 1;
}

static void *count_realloc(void *p, size_t n)
{
	if (p == NULL)
		return count_malloc(n);
	hdr *h = realloc((hdr *)p - 1, sizeof(hdr) + n);
	return h != NULL ? h + 1 : NULL;
}

static void count_free(void *p)
{
	if (p == NULL)
		return;
	atomic_fetch_sub(&live, 1);
	free((hdr *)p - 1);
}

void fuzz_track_allocs(void)
{
	static bool done;
	if (!done)
		skt_set_allocator(count_malloc, count_realloc, count_free);
	done = true;
}

long fuzz_live_allocs(void)
{
	return atomic_load(&live);
}

void fuzz_quiet(void)
{
	static FILE *null;
	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	stdout = null;
	stderr = null;
}

uint8_t fuzz_u8(fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fuzz_u16(fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

uint32_t fuzz_u32(fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);
	return hi << 16 | fuzz_u16(in);
}

const uint8_t *fuzz_bytes(fuzz_in *in, size_t *len)
{
	const uint8_t *p = in->p;
	if (*len > in->n)
		*len = in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

char *fuzz_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s == NULL)
		abort(); /* the harness's own memory, not the library's */
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

size_t fuzz_strings(fuzz_in *in, char **out, size_t max)
{
	size_t k = 0;
	while (k < max && in->n > 0) {
		const uint8_t *nul = memchr(in->p, '\0', in->n);
		size_t len = nul != NULL ? (size_t)(nul - in->p) : in->n;
		out[k++] = fuzz_strndup(in->p, len);
		len += nul != NULL; /* step over the separator */
		fuzz_bytes(in, &len);
	}
	return k;
}

void fuzz_strings_free(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
}
