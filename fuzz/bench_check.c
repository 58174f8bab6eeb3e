/* bench_check.c - fuzz the checkers `sockit bench` runs on what a server
 * sends back (src/tools/bench/echo.c, udp.c): a hostile server controls
 * every byte of an echo and every sequence number of a UDP answer.
 *
 * Input: a 16-bit period (the pattern's, as the engine's prime but
 * small, so that offsets wrap), a 32-bit phase, the bytes sent and got so
 * far (16 bits each), a UDP request size, then a mode byte and the
 * answer's bytes. The pattern is an allocation of exactly period + span
 * bytes, as the engine lays it out, so a read past it is caught.
 *
 * Properties: the true echo of the next bytes checks as 0, with one byte
 * flipped or one byte more than was sent as a mismatch; an answer longer
 * than was sent is never accepted; a UDP answer built from its sequence
 * number checks as 0 with that number, a shorter one than 8 bytes is
 * ignored (1), a truncated one (n above the buffer) or one of another
 * size is a mismatch; whatever the bytes, the verdict is 0, 1 or
 * BENCH_E_MISMATCH.
 */
#include "fuzz.h"

#include "tools/bench/bench_int.h"

#include <string.h>

static void check_echo(const bench_shared *sh, uint32_t phase, uint64_t sent,
		       uint64_t got, const uint8_t *p, size_t n)
{
	int v = bench_echo_check(sh, phase, got, sent, p, n);
	FUZZ_CHECK(v == 0 || v == BENCH_E_MISMATCH);
	if (n > 0 && (got > sent || n > sent - got))
		FUZZ_CHECK(v == BENCH_E_MISMATCH);
	if (got > sent)
		return;
	/* The true echo, as far as it was sent and fits a read. */
	size_t k = sent - got < sh->span ? (size_t)(sent - got) : sh->span;
	if (k == 0)
		return;
	uint8_t *echo = malloc(k);
	FUZZ_CHECK(echo != NULL);
	memcpy(echo, bench_out_at(sh, got, phase), k);
	FUZZ_CHECK(bench_echo_check(sh, phase, got, sent, echo, k) == 0);
	echo[n % k] ^= 1;
	FUZZ_CHECK(bench_echo_check(sh, phase, got, sent, echo, k) ==
		   BENCH_E_MISMATCH);
	free(echo);
	if (got + k == sent && k < sh->span) {
		/* One byte past what was sent. */
		uint8_t *more = malloc(k + 1);
		FUZZ_CHECK(more != NULL);
		memcpy(more, bench_out_at(sh, got, phase), k + 1);
		FUZZ_CHECK(bench_echo_check(sh, phase, got, sent, more,
					    k + 1) == BENCH_E_MISMATCH);
		free(more);
	}
}

static void check_udp(const bench_shared *sh, uint32_t phase, size_t size,
		      const uint8_t *p, size_t n)
{
	uint64_t seq = 0;
	/* As received: n bytes, the buffer exactly n. */
	int v = bench_udp_check(sh, phase, size, p, n, n, &seq);
	FUZZ_CHECK(v == 0 || v == 1 || v == BENCH_E_MISMATCH);
	FUZZ_CHECK((v == 1) == (n < 8));
	if (v == 0)
		FUZZ_CHECK(n == size);
	if (n < 8)
		return;
	/* The genuine answer to the sequence number the input holds. */
	uint8_t *req = malloc(size);
	FUZZ_CHECK(req != NULL);
	memcpy(req, p, 8);
	memcpy(&seq, p, 8);
	memcpy(req + 8, bench_out_at(sh, seq * 131, phase), size - 8);
	uint64_t got = 0;
	FUZZ_CHECK(bench_udp_check(sh, phase, size, req, size, size, &got) ==
		   0);
	FUZZ_CHECK(got == seq);
	/* Truncated: the kernel said size, the buffer kept fewer. */
	FUZZ_CHECK(bench_udp_check(sh, phase, size, req, size, size - 1,
				   &got) != 0);
	if (size > 8) {
		req[8 + n % (size - 8)] ^= 0x80;
		FUZZ_CHECK(bench_udp_check(sh, phase, size, req, size, size,
					   &got) == BENCH_E_MISMATCH);
	}
	free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	bench_shared sh = {0};
	sh.period = 1 + fuzz_u16(&in) % 4096;
	sh.span = sh.period;
	uint32_t phase = fuzz_u32(&in);
	uint64_t sent = fuzz_u16(&in);
	uint64_t got = fuzz_u16(&in);
	size_t req = 8 + fuzz_u16(&in) % (sh.span + 1);
	uint8_t mode = fuzz_u8(&in);
	uint8_t *out = malloc(sh.period + sh.span);
	FUZZ_CHECK(out != NULL);
	for (size_t i = 0; i < sh.period; i++)
		out[i] = (uint8_t)(i * 167 + (i >> 8));
	memcpy(out + sh.period, out, sh.span);
	sh.out = out;
	size_t n = in.n;
	const uint8_t *p = fuzz_bytes(&in, &n);
	/* The answer in an exact-size copy. */
	uint8_t *ans = malloc(n > 0 ? n : 1);
	FUZZ_CHECK(ans != NULL);
	memcpy(ans, p, n);
	if (mode & 1)
		check_udp(&sh, phase, req, ans, n);
	else if (n <= sh.span)
		check_echo(&sh, phase, sent, got, ans, n);
	free(ans);
	free(out);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
