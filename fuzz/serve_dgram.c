/* serve_dgram.c - fuzz the UDP path of every `sockit serve` service that
 * has one: each service's datagram callback, on a worker of its own (its
 * worker_new state, as the server makes it), fed a run of datagrams.
 *
 * Input: a byte choosing the service (among those with a datagram
 * callback), then datagrams, each a 16-bit length and its bytes.
 *
 * Properties: an answer is none (-1) or fits the buffer, which is
 * exactly SKT_SERVER_DGRAM_MAX bytes (an allocation of that size, so a
 * write past it is caught); echo answers the datagram, upper the same
 * with ASCII letters upper-cased; discard never answers; chargen answers
 * six lines of 72 printable characters and CRLF, each datagram going on
 * where the last stopped; qotd and daytime answer printable ASCII text
 * ending in CRLF (qotd under 512 bytes, RFC 865); time answers 4 bytes.
 */
#include "fuzz.h"

#include "server/server_int.h"
#include "tools/serve/services.h"

#include <string.h>

static bool printable_crlf(const uint8_t *p, size_t n)
{
	if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
		return false;
	for (size_t i = 0; i < n; i++) {
		bool crlf = (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ||
			    (p[i] == '\n' && i > 0 && p[i - 1] == '\r');
		if (!crlf && (p[i] < 0x20 || p[i] > 0x7e))
			return false;
	}
	return true;
}

/* chargen: 6 lines, line k starting with ' ' + (first + k) % 95. */
static void check_chargen(const uint8_t *out, long r, size_t *first)
{
	FUZZ_CHECK(r == 6 * 74);
	for (size_t k = 0; k < 6; k++) {
		const uint8_t *line = out + k * 74;
		for (size_t j = 0; j < 72; j++)
			FUZZ_CHECK(line[j] == ' ' + (*first + k + j) % 95);
		FUZZ_CHECK(line[72] == '\r' && line[73] == '\n');
	}
	*first = (*first + 6) % 95;
}

static void check(const skt_service *svc, const uint8_t *in, size_t len,
		  const uint8_t *out, long r, size_t *gen_first)
{
	FUZZ_CHECK(r >= -1 && r <= SKT_SERVER_DGRAM_MAX);
	const char *name = svc->name;
	if (strcmp(name, "echo") == 0) {
		FUZZ_CHECK(r == (long)len && memcmp(out, in, len) == 0);
	} else if (strcmp(name, "upper") == 0) {
		FUZZ_CHECK(r == (long)len);
		for (size_t i = 0; i < len; i++) {
			uint8_t want = in[i] >= 'a' && in[i] <= 'z'
					       ? (uint8_t)(in[i] - 32)
					       : in[i];
			FUZZ_CHECK(out[i] == want);
		}
	} else if (strcmp(name, "discard") == 0) {
		FUZZ_CHECK(r == -1);
	} else if (strcmp(name, "chargen") == 0) {
		check_chargen(out, r, gen_first);
	} else if (strcmp(name, "qotd") == 0) {
		FUZZ_CHECK(r > 0 && r <= 512);
		FUZZ_CHECK(printable_crlf(out, (size_t)r));
	} else if (strcmp(name, "daytime") == 0) {
		FUZZ_CHECK(r > 0 && printable_crlf(out, (size_t)r));
	} else if (strcmp(name, "time") == 0) {
		FUZZ_CHECK(r == 4);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	const skt_service *svcs[16];
	size_t n = 0;
	for (size_t i = 0; svc_all[i] != NULL && n < 16; i++)
		if (svc_all[i]->datagram != NULL)
			svcs[n++] = svc_all[i];
	FUZZ_CHECK(n > 0);
	const skt_service *svc = svcs[fuzz_u8(&in) % n];

	skt_server_opts o = {.svc = svc, .max_queue = 1 << 16};
	skt_server srv = {.o = &o};
	skt_server_worker w = {.srv = &srv, .svc = svc};
	if (svc->worker_new != NULL)
		FUZZ_CHECK(svc->worker_new(&w, &w.state) == 0);
	uint8_t *out = malloc(SKT_SERVER_DGRAM_MAX);
	FUZZ_CHECK(out != NULL);
	size_t gen_first = 0;
	while (in.n > 0) {
		size_t len = fuzz_u16(&in) % (SKT_SERVER_DGRAM_MAX + 1);
		const uint8_t *p = fuzz_bytes(&in, &len);
		/* An exact copy: a read past the datagram is caught. */
		uint8_t *dg = malloc(len > 0 ? len : 1);
		FUZZ_CHECK(dg != NULL);
		memcpy(dg, p, len);
		long r = svc->datagram(&w, dg, len, out, SKT_SERVER_DGRAM_MAX);
		check(svc, dg, len, out, r, &gen_first);
		free(dg);
	}
	free(out);
	if (svc->worker_free != NULL)
		svc->worker_free(w.state);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
