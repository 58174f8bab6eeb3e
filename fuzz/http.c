/* http.c - fuzz the request-head parser of `sockit serve hello`
 * (src/tools/serve/hello.c): the request line and the header fields, the
 * part of the HTTP service that reads what any client sends.
 *
 * The parsers are static and fed by stream callbacks, so this file
 * #includes the service unchanged and calls request_line() and field()
 * the way on_line() does: one line at a time, its CRLF or LF removed, the
 * request line first, fields until the empty line. (That couples the
 * harness to those two functions and struct req; see README.md.)
 *
 * Input: the head as a client would send it.
 *
 * Properties: each line gets 0 or one of the statuses the service answers
 * (400, 413, 431, 501, 505); never more than FIELDS_MAX fields accepted; a
 * Content-Length accepted is within BODY_MAX; no read past a line (each is
 * an exact-size copy).
 */
#include "../src/tools/serve/hello.c"

#include "fuzz.h"

static bool status_ok(int rc)
{
	return rc == 0 || rc == 400 || rc == 413 || rc == 431 || rc == 501 ||
	       rc == 505;
}

/* Parse one line as on_line() does; returns 0, a status, or -1 at the end
 * of the head. */
static int one_line(struct req *q, const uint8_t *p, size_t n, bool *first)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (*first && n == 0)
		return 0; /* a stray CRLF before the request */
	if (!*first && n == 0)
		return -1;
	char *line = malloc(n > 0 ? n : 1);
	FUZZ_CHECK(line != NULL);
	memcpy(line, p, n);
	int rc = *first ? request_line(q, line, n) : field(q, line, n);
	free(line);
	*first = false;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	struct req q;
	memset(&q, 0, sizeof(q));
	bool first = true;
	size_t pos = 0;
	while (pos < size) {
		const uint8_t *lf = memchr(data + pos, '\n', size - pos);
		size_t n = lf != NULL ? (size_t)(lf - (data + pos)) : size - pos;
		int rc = one_line(&q, data + pos, n, &first);
		FUZZ_CHECK(rc == -1 || status_ok(rc));
		FUZZ_CHECK(q.fields <= FIELDS_MAX || rc == 431);
		FUZZ_CHECK(!q.has_length || q.body_left <= BODY_MAX);
		if (rc != 0)
			break;
		pos += n + 1;
	}
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
