/* carry.h - the bytes a request framer has taken but not used yet: a
 * partial head, or what arrived while its caller asked it to stop. Both
 * of serve's HTTP framers (hello_conn.c, http_conn.c) take the client's
 * bytes in pieces of any size and work from the front of "what was kept,
 * then the new piece"; this is that buffer, kept only while it holds
 * something, so a connection owns no memory between requests.
 *
 *	const char *p; size_t n;
 *	if (carry_begin(&c, in, len, &p, &n) != 0) ... SKT_ENOMEM
 *	... use p[0..used) ...
 *	if (carry_end(&c, p, n, used) != 0) ... SKT_ENOMEM
 */
#ifndef SOCKIT_TOOLS_CARRY_H
#define SOCKIT_TOOLS_CARRY_H

#include <stddef.h>

typedef struct carry {
	char *buf;       /* skt_malloc'ed; NULL when nothing is kept */
	size_t len, cap; /* bytes kept, and buf's size */
} carry;

/* Where the bytes to work on are: the kept ones with in[0..len) after
 * them, or in itself when nothing is kept (no copy). Returns 0 or
 * SKT_ENOMEM (then nothing changed). */
int carry_begin(carry *c, const char *in, size_t len, const char **p,
		size_t *n);
/* The first used of the n bytes at p (from carry_begin) are done with:
 * keep the rest, free the buffer when nothing is left. Returns 0 or
 * SKT_ENOMEM (the rest is lost: end the connection). */
int carry_end(carry *c, const char *p, size_t n, size_t used);
/* Forget what is kept (the connection ended), and free it. */
void carry_free(carry *c);

#endif
