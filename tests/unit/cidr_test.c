/* cidr_test.c - address ranges: parsing, matching, v4-mapped clients. */
#include "sktest.h"

#include <string.h>

static skt_cidr cidr(const char *text)
{
	skt_cidr c;
	int rc = skt_cidr_parse(&c, text);
	cr_assert_eq(rc, 0, "parse %s: %s", text, skt_strerror(rc));
	return c;
}

static bool in(const char *range, const char *ip)
{
	skt_cidr c = cidr(range);
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, ip, 80), 0, "%s", ip);
	return skt_cidr_match(&c, &a);
}

static void expect_format(const char *text, const char *want)
{
	skt_cidr c = cidr(text);
	char buf[64];
	cr_assert_gt(skt_cidr_format(&c, buf, sizeof buf), 0);
	cr_assert_str_eq(buf, want, "%s formats as %s, want %s", text, buf,
			 want);
}

SKT_TEST(cidr, v4_range_matches_inside_only)
{
	cr_expect(in("10.0.0.0/8", "10.255.1.2"));
	cr_expect(!in("10.0.0.0/8", "11.0.0.1"));
	cr_expect(in("192.168.1.0/25", "192.168.1.127"));
	cr_expect(!in("192.168.1.0/25", "192.168.1.128"));
}

SKT_TEST(cidr, single_address_is_full_prefix)
{
	expect_format("127.0.0.1", "127.0.0.1/32");
	expect_format("::1", "::1/128");
	cr_expect(in("127.0.0.1", "127.0.0.1"));
	cr_expect(!in("127.0.0.1", "127.0.0.2"));
}

SKT_TEST(cidr, zero_prefix_matches_whole_family)
{
	cr_expect(in("0.0.0.0/0", "203.0.113.9"));
	cr_expect(!in("0.0.0.0/0", "::1"));
	cr_expect(in("::/0", "2001:db8::1"));
}

SKT_TEST(cidr, host_bits_are_cleared)
{
	expect_format("10.1.2.3/8", "10.0.0.0/8");
	expect_format("2001:db8::1/32", "2001:db8::/32");
	expect_format("192.168.1.255/23", "192.168.0.0/23");
}

SKT_TEST(cidr, v6_range_matches)
{
	cr_expect(in("fd00::/8", "fd12::1"));
	cr_expect(!in("fd00::/8", "fe80::1"));
	cr_expect(in("2001:db8::/127", "2001:db8::1"));
	cr_expect(!in("2001:db8::/127", "2001:db8::2"));
}

SKT_TEST(cidr, v4_mapped_client_matches_v4_rule)
{
	cr_expect(in("127.0.0.0/8", "::ffff:127.0.0.1"));
	cr_expect(!in("10.0.0.0/8", "::ffff:127.0.0.1"));
}

SKT_TEST(cidr, v4_mapped_rule_becomes_v4)
{
	expect_format("::ffff:10.0.0.0/104", "10.0.0.0/8");
	cr_expect(in("::ffff:10.0.0.0/104", "10.9.9.9"));
	cr_expect(in("::ffff:10.0.0.0/104", "::ffff:10.9.9.9"));
}

SKT_TEST(cidr, unix_address_never_matches)
{
	skt_cidr c = cidr("0.0.0.0/0");
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, "/tmp/x"), 0);
	cr_expect(!skt_cidr_match(&c, &a));
}

SKT_TEST(cidr, bad_input_is_rejected_precisely)
{
	skt_cidr c;
	cr_expect_eq(skt_cidr_parse(&c, ""), SKT_EBADHOST);
	cr_expect_eq(skt_cidr_parse(&c, "/8"), SKT_EBADHOST);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0/8"), SKT_EBADHOST);
	cr_expect_eq(skt_cidr_parse(&c, "localhost/8"), SKT_EBADHOST);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/33"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "::/129"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/8x"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/-1"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/0008"), SKT_EBADADDR);
	cr_expect_eq(skt_cidr_parse(&c, "10.0.0.0/99999999999999999999"),
		     SKT_EBADADDR);
}

SKT_TEST(cidr, overlong_host_is_rejected)
{
	char big[200];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	skt_cidr c;
	cr_expect_eq(skt_cidr_parse(&c, big), SKT_EBADHOST);
}

SKT_TEST(cidr, format_reports_small_buffer)
{
	skt_cidr c = cidr("10.0.0.0/8");
	char buf[4];
	cr_expect_eq(skt_cidr_format(&c, buf, sizeof buf), SKT_ETOOBIG);
}
