/* carry.c - the framers' kept bytes (carry.h). */
#include "tools/serve/carry.h"

#include "sockit/core.h"
#include "sockit/err.h"

#include <string.h>

/* Append p[0..n). The buffer doubles from 1 KiB: a framer keeps at most
 * its head limit plus one piece, so this is bounded by the caller. */
static int keep(carry *c, const char *p, size_t n)
{
	if (n > c->cap - c->len) {
		size_t cap = c->cap == 0 ? 1024 : c->cap;
		while (cap - c->len < n)
			cap *= 2;
		char *b = skt_realloc(c->buf, cap);
		if (b == NULL)
			return SKT_ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

int carry_begin(carry *c, const char *in, size_t len, const char **p, size_t *n)
{
	if (c->len > 0 && len > 0 && keep(c, in, len) != 0)
		return SKT_ENOMEM;
	*p = c->len > 0 ? c->buf : in;
	*n = c->len > 0 ? c->len : len;
	return 0;
}

int carry_end(carry *c, const char *p, size_t n, size_t used)
{
	if (p == c->buf && c->len > 0) {
		memmove(c->buf, c->buf + used, n - used);
		c->len = n - used;
	} else if (used < n && keep(c, p + used, n - used) != 0) {
		return SKT_ENOMEM;
	}
	if (c->len == 0)
		carry_free(c);
	return 0;
}

void carry_free(carry *c)
{
	skt_free(c->buf);
	*c = (carry){0};
}
