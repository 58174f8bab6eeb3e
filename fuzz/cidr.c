/* cidr.c - fuzz skt_cidr_parse, the parser of --allow / --deny ranges.
 *
 * Input: the text.
 *
 * Properties: every result is a documented code; an accepted range has a
 * prefix within its family, no host bits set, formats and parses back to
 * itself, contains its own network address (also as a v4-mapped IPv6
 * address when IPv4) whatever the host bits, and excludes the address
 * with the last prefix bit flipped.
 */
#include "fuzz.h"

#include "sockit/sockit.h"

#include <arpa/inet.h>
#include <string.h>

static skt_addr addr_of(int family, const uint8_t *bytes)
{
	skt_addr a;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.u.in4.sin_family = AF_INET;
		memcpy(&a.u.in4.sin_addr, bytes, 4);
		a.len = sizeof(a.u.in4);
	} else {
		a.u.in6.sin6_family = AF_INET6;
		memcpy(&a.u.in6.sin6_addr, bytes, 16);
		a.len = sizeof(a.u.in6);
	}
	return a;
}

static bool host_bits_clear(const skt_cidr *c)
{
	size_t nbytes = c->family == AF_INET ? 4 : 16;
	for (size_t bit = c->prefix; bit < nbytes * 8; bit++)
		if (c->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	for (size_t i = nbytes; i < 16; i++)
		if (c->addr[i] != 0)
			return false;
	return true;
}

static void check_match(const skt_cidr *c)
{
	size_t nbytes = c->family == AF_INET ? 4 : 16;
	uint8_t b[16];
	memcpy(b, c->addr, 16);
	skt_addr a = addr_of(c->family, b);
	FUZZ_CHECK(skt_cidr_match(c, &a));
	if (c->prefix < nbytes * 8) {
		b[nbytes - 1] ^= 1; /* a host bit */
		a = addr_of(c->family, b);
		FUZZ_CHECK(skt_cidr_match(c, &a));
		b[nbytes - 1] ^= 1;
	}
	if (c->prefix > 0) {
		unsigned bit = c->prefix - 1; /* the last network bit */
		b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		a = addr_of(c->family, b);
		FUZZ_CHECK(!skt_cidr_match(c, &a));
		b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	if (c->family == AF_INET) {
		uint8_t m[16] = {[10] = 0xff, [11] = 0xff};
		memcpy(m + 12, c->addr, 4);
		a = addr_of(AF_INET6, m);
		FUZZ_CHECK(skt_cidr_match(c, &a));
	}
}

static void check_accepted(const skt_cidr *c)
{
	FUZZ_CHECK(c->family == AF_INET || c->family == AF_INET6);
	FUZZ_CHECK(c->prefix <= (c->family == AF_INET ? 32u : 128u));
	FUZZ_CHECK(host_bits_clear(c));
	char text[INET6_ADDRSTRLEN + 8];
	int n = skt_cidr_format(c, text, sizeof(text));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(text));
	FUZZ_CHECK(skt_cidr_format(c, text, (size_t)n) == SKT_ETOOBIG);
	skt_cidr_format(c, text, sizeof(text));
	skt_cidr again;
	FUZZ_CHECK(skt_cidr_parse(&again, text) == 0);
	FUZZ_CHECK(again.family == c->family && again.prefix == c->prefix);
	FUZZ_CHECK(memcmp(again.addr, c->addr, 16) == 0);
	check_match(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	char *text = fuzz_strndup(data, size);
	skt_cidr c;
	int rc = skt_cidr_parse(&c, text);
	FUZZ_CHECK(rc == 0 || rc == SKT_EBADHOST || rc == SKT_EBADADDR);
	if (rc == 0)
		check_accepted(&c);
	free(text);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
