/* addr.c - fuzz the address parsers: skt_port_parse, skt_addr_parse,
 * skt_addr_from_ip, skt_addr_unix and skt_addr_from_sockaddr, with the
 * formatter as their inverse.
 *
 * Input: one byte of SKT_PARSE_* flags, then the text. The same bytes are
 * also read as a raw struct sockaddr, as accept() or recvfrom() would hand
 * one over.
 *
 * Properties: every result is a documented code; a failed parse leaves
 * the address untouched; whatever parses formats within SKT_ADDRSTRLEN,
 * a buffer one byte short is SKT_ETOOBIG, and an IP address parses back
 * from its own text to an equal address.
 */
#include "fuzz.h"

#include "sockit/sockit.h"

#include <string.h>

static void check_port(const char *text, int flags)
{
	int port = skt_port_parse(text, flags);
	if (port == SKT_EBADPORT)
		return;
	FUZZ_CHECK(port >= 0 && port <= 65535);
	FUZZ_CHECK(port > 0 || (flags & SKT_PARSE_PORT_ZERO));
	FUZZ_CHECK(strspn(text, "0123456789") == strlen(text));
	char again[8];
	snprintf(again, sizeof(again), "%d", port);
	FUZZ_CHECK(skt_port_parse(again, flags) == port);
}

/* Format a, check the length contract, return the text's length. */
static int check_format(const skt_addr *a, char *buf)
{
	int n = skt_addr_format(a, buf, SKT_ADDRSTRLEN);
	FUZZ_CHECK(n > 0 && n < SKT_ADDRSTRLEN);
	FUZZ_CHECK((size_t)n == strlen(buf));
	char small[SKT_ADDRSTRLEN];
	FUZZ_CHECK(skt_addr_format(a, small, (size_t)n) == SKT_ETOOBIG);
	return n;
}

/* An IP address's text parses back to the same address. */
static void check_round_trip(const skt_addr *a)
{
	int fam = skt_addr_family(a);
	if (fam != AF_INET && fam != AF_INET6)
		return;
	char text[SKT_ADDRSTRLEN];
	check_format(a, text);
	skt_addr b;
	FUZZ_CHECK(skt_addr_parse(&b, text, SKT_PARSE_PORT_ZERO) == 0);
	FUZZ_CHECK(skt_addr_equal(a, &b));
	char host[SKT_ADDRSTRLEN];
	FUZZ_CHECK(skt_addr_format_host(a, host, sizeof(host)) > 0);
}

static bool addr_code(int rc)
{
	return rc == 0 || rc == SKT_EBADADDR || rc == SKT_EBADHOST ||
	       rc == SKT_EBADPORT || rc == SKT_ENAMETOOLONG;
}

static void check_parse(const char *text, int flags)
{
	skt_addr a, before;
	memset(&a, 0xa5, sizeof(a));
	before = a;
	int rc = skt_addr_parse(&a, text, flags);
	FUZZ_CHECK(addr_code(rc));
	if (rc < 0) {
		FUZZ_CHECK(memcmp(&a, &before, sizeof(a)) == 0);
		return;
	}
	int fam = skt_addr_family(&a);
	FUZZ_CHECK(fam == AF_INET || fam == AF_INET6 || fam == AF_UNIX);
	FUZZ_CHECK(a.len <= sizeof(a.u));
	char buf[SKT_ADDRSTRLEN];
	check_format(&a, buf);
	check_round_trip(&a);
}

static void check_ip_and_unix(const char *text, uint16_t port)
{
	skt_addr a;
	int rc = skt_addr_from_ip(&a, text, port);
	FUZZ_CHECK(rc == 0 || rc == SKT_EBADHOST);
	if (rc == 0) {
		FUZZ_CHECK(skt_addr_port(&a) == port);
		check_round_trip(&a);
	}
	rc = skt_addr_unix(&a, text);
	FUZZ_CHECK(rc == 0 || rc == SKT_EBADADDR || rc == SKT_ENAMETOOLONG);
	if (rc == 0) {
		char buf[SKT_ADDRSTRLEN];
		FUZZ_CHECK(a.len <= sizeof(struct sockaddr_un));
		check_format(&a, buf);
		FUZZ_CHECK(strncmp(buf, "unix:", 5) == 0);
	}
}

/* Raw bytes as a kernel-supplied sockaddr: whatever is accepted formats,
 * and compares equal to itself. */
static void check_sockaddr(const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	if (n > sizeof(ss))
		n = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, p, n);
	skt_addr a;
	int rc = skt_addr_from_sockaddr(&a, (struct sockaddr *)&ss,
					(socklen_t)n);
	FUZZ_CHECK(rc == 0 || rc == SKT_EINVAL || rc == SKT_EAFNOSUPPORT);
	if (rc < 0)
		return;
	char buf[SKT_ADDRSTRLEN];
	check_format(&a, buf);
	FUZZ_CHECK(skt_addr_equal(&a, &a));
	check_round_trip(&a);
	skt_addr u = a;
	if (skt_addr_unmap(&u))
		FUZZ_CHECK(skt_addr_family(&u) == AF_INET);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	int flags = fuzz_u8(&in) & (SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST |
				    SKT_PARSE_NO_PORT);
	check_sockaddr(in.p, in.n);
	size_t n = in.n;
	const uint8_t *p = fuzz_bytes(&in, &n);
	char *text = fuzz_strndup(p, n);
	check_port(text, flags);
	check_parse(text, flags);
	check_ip_and_unix(text, (uint16_t)size);
	free(text);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
