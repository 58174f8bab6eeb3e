/* toxic_spec.c - fuzz toxic_parse, the parser of sockit relay's --toxic
 * NAME[:KEY=VALUE,...] specs (src/tools/relay/toxic.h).
 *
 * Input: the text.
 *
 * Properties: the result is 0 or SKT_EINVAL; a refusal says why in one
 * non-empty line that fits its buffer, and a tiny buffer is never
 * overrun; an accepted toxic has a known kind, a direction, a toxicity
 * within 0..1 and every value within its documented range (jitter at
 * most the latency, a rate and a slice above 0; a loss share within 0..1
 * and a burst below 1; duplicate and reorder counts within 1..100, reorder
 * by count or by time, not both); nothing is allocated.
 */
#include "fuzz.h"

#include "sockit/sockit.h"
#include "tools/relay/toxic.h"

#include <string.h>

static void check_accepted(const relay_toxic *t)
{
	FUZZ_CHECK(t->kind >= TOXIC_LATENCY && t->kind <= TOXIC_TRUNCATE);
	FUZZ_CHECK(strcmp(toxic_name(t->kind), "?") != 0);
	FUZZ_CHECK(t->dir >= 1 && t->dir <= TOXIC_BOTH);
	FUZZ_CHECK(t->toxicity <= 1000000);
	FUZZ_CHECK(t->ms >= 0 && t->ms <= TOXIC_MS_MAX);
	FUZZ_CHECK(t->jitter_ms >= 0 && t->jitter_ms <= t->ms);
	FUZZ_CHECK(t->bytes <= TOXIC_BYTES_MAX);
	FUZZ_CHECK(t->n <= TOXIC_COUNT_MAX);
	if (t->kind == TOXIC_BANDWIDTH)
		FUZZ_CHECK(t->rate >= 1024 &&
			   t->rate <= (uint64_t)TOXIC_RATE_MAX * 1024);
	else
		FUZZ_CHECK(t->rate == 0);
	if (t->kind == TOXIC_SLICER)
		FUZZ_CHECK(t->bytes >= 1);
	FUZZ_CHECK(t->p <= 1000000 && t->burst < 1000000);
	if (t->kind != TOXIC_LOSS)
		FUZZ_CHECK(t->p == 0 && t->burst == 0);
	if (t->kind == TOXIC_DUPLICATE)
		FUZZ_CHECK(t->n >= 1 && t->n <= TOXIC_COPIES_MAX);
	if (t->kind == TOXIC_REORDER)
		FUZZ_CHECK(
			(t->n >= 1 && t->n <= TOXIC_COPIES_MAX && t->ms == 0) ||
			(t->n == 0 && t->ms >= 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	char *text = fuzz_strndup(data, size);
	relay_toxic t;
	char why[160];
	memset(why, 'x', sizeof(why));
	int rc = toxic_parse(&t, text, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || rc == SKT_EINVAL);
	if (rc == 0) {
		check_accepted(&t);
	} else {
		size_t n = strnlen(why, sizeof(why));
		FUZZ_CHECK(n > 0 && n < sizeof(why));
		FUZZ_CHECK(memchr(why, '\n', n) == NULL);
		char tiny[4] = {'a', 'a', 'a', 'a'};
		FUZZ_CHECK(toxic_parse(&t, text, tiny, 3) == SKT_EINVAL);
		FUZZ_CHECK(tiny[3] == 'a');
		FUZZ_CHECK(strnlen(tiny, 3) < 3);
	}
	free(text);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
