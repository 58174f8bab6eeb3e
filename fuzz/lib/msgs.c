/* msgs.c - see msgs.h. */
#include "msgs.h"

#include <string.h>

void fuzz_msgs_add(fuzz_msgs *m, const uint8_t *p, size_t len)
{
	FUZZ_CHECK(p != NULL); /* a completed message is never NULL */
	if (m->n == m->ncap) {
		m->ncap = m->ncap ? m->ncap * 2 : 16;
		m->len = realloc(m->len, m->ncap * sizeof(*m->len));
		FUZZ_CHECK(m->len != NULL);
	}
	if (m->used + len > m->cap) {
		m->cap = (m->used + len) * 2;
		m->data = realloc(m->data, m->cap);
		FUZZ_CHECK(m->data != NULL);
	}
	if (len > 0)
		memcpy(m->data + m->used, p, len);
	m->used += len;
	m->len[m->n++] = len;
}

bool fuzz_msgs_equal(const fuzz_msgs *a, const fuzz_msgs *b)
{
	if (a->n != b->n || a->used != b->used || a->err != b->err)
		return false;
	if (a->n > 0 && memcmp(a->len, b->len, a->n * sizeof(*a->len)) != 0)
		return false;
	return a->used == 0 || memcmp(a->data, b->data, a->used) == 0;
}

void fuzz_msgs_free(fuzz_msgs *m)
{
	free(m->len);
	free(m->data);
	memset(m, 0, sizeof(*m));
}

void fuzz_splits_take(fuzz_splits *s, fuzz_in *in)
{
	s->n = fuzz_u8(in) % 8;
	s->next = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->size[i] = fuzz_u16(in);
		if (s->size[i] == 0)
			s->size[i] = 1;
	}
}

size_t fuzz_splits_next(fuzz_splits *s, size_t left)
{
	if (s->n == 0)
		return left;
	size_t k = s->size[s->next++ % s->n];
	return k < left ? k : left;
}
