/* endpoint.c - fuzz skt_endpoint_parse (one argument, "host:port") and
 * skt_endpoint_set (two, "HOST PORT"), the parsers behind every target a
 * user types.
 *
 * Input: one byte of SKT_PARSE_* flags, then the text. For
 * skt_endpoint_set the text is cut at its first NUL into host and
 * service (an empty one stands for NULL).
 *
 * Properties: every result is a documented code; an accepted endpoint
 * has NUL-terminated parts within SKT_HOST_MAX / SKT_SERVICE_MAX, a host
 * that cannot pass for an option ('-...'), and goes through
 * skt_endpoint_set again unchanged (the two forms agree).
 */
#include "fuzz.h"

#include "sockit/sockit.h"

#include <string.h>

static bool ep_code(int rc)
{
	return rc == 0 || rc == SKT_EBADADDR || rc == SKT_EBADHOST ||
	       rc == SKT_EBADPORT || rc == SKT_ENAMETOOLONG;
}

static void check_unix(const skt_endpoint *ep)
{
	char buf[SKT_ADDRSTRLEN];
	FUZZ_CHECK(skt_addr_family(&ep->unix_addr) == AF_UNIX);
	FUZZ_CHECK(skt_addr_format(&ep->unix_addr, buf, sizeof(buf)) >= 5);
}

/* What was accepted is accepted again, the same, by the other form. */
static void check_accepted(const skt_endpoint *ep, int flags)
{
	if (ep->kind == SKT_EP_UNIX || ep->kind == SKT_EP_UNIX_DGRAM) {
		check_unix(ep);
		return;
	}
	FUZZ_CHECK(ep->kind == SKT_EP_INET);
	size_t hl = strnlen(ep->host, sizeof(ep->host));
	size_t sl = strnlen(ep->service, sizeof(ep->service));
	FUZZ_CHECK(hl <= SKT_HOST_MAX && sl <= SKT_SERVICE_MAX);
	FUZZ_CHECK(ep->host[0] != '-');
	FUZZ_CHECK(hl > 0 || (flags & SKT_PARSE_NO_HOST));
	FUZZ_CHECK(sl > 0 || (flags & SKT_PARSE_NO_PORT));
	skt_endpoint again;
	int rc = skt_endpoint_set(&again, hl > 0 ? ep->host : NULL,
				  sl > 0 ? ep->service : NULL, flags);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(again.kind == SKT_EP_INET);
	FUZZ_CHECK(strcmp(again.host, ep->host) == 0);
	FUZZ_CHECK(strcmp(again.service, ep->service) == 0);
}

static void check_one(const char *text, int flags)
{
	skt_endpoint ep;
	int rc = skt_endpoint_parse(&ep, text, flags);
	FUZZ_CHECK(ep_code(rc));
	if (rc == 0)
		check_accepted(&ep, flags);
}

static void check_two(const char *host, const char *service, int flags)
{
	skt_endpoint ep;
	int rc = skt_endpoint_set(&ep, host, service, flags);
	FUZZ_CHECK(ep_code(rc));
	if (rc == 0)
		check_accepted(&ep, flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	int flags = fuzz_u8(&in) & (SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST |
				    SKT_PARSE_NO_PORT);
	size_t n = in.n;
	const uint8_t *p = fuzz_bytes(&in, &n);
	char *text = fuzz_strndup(p, n);
	check_one(text, flags);

	fuzz_in rest = {p, n};
	char *part[2] = {NULL, NULL};
	size_t k = fuzz_strings(&rest, part, 2);
	const char *host = k > 0 && part[0][0] != '\0' ? part[0] : NULL;
	const char *service = k > 1 && part[1][0] != '\0' ? part[1] : NULL;
	check_two(host, service, flags);
	fuzz_strings_free(part, k);
	free(text);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
