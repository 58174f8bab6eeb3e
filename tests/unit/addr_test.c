/* addr_test.c - address and endpoint text: every accepted and rejected
 * form, limits at max and max + 1, round trips. No network. */
#include "sktest.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void expect_parse_err(const char *text, int flags, int want)
{
	skt_addr a;
	int rc = skt_addr_parse(&a, sktest_guarded(text), flags);
	cr_expect_eq(rc, want, "parse \"%s\": got %s, want %s", text,
		     skt_errname(rc), skt_errname(want));
}

/* ---- Ports ---- */

SKT_TEST(addr, port_parse_accepts_1_and_65535)
{
	cr_assert_eq(skt_port_parse(sktest_guarded("1"), 0), 1);
	cr_assert_eq(skt_port_parse(sktest_guarded("80"), 0), 80);
	cr_assert_eq(skt_port_parse(sktest_guarded("65535"), 0), 65535);
}

SKT_TEST(addr, port_parse_rejects_zero_unless_allowed)
{
	cr_assert_eq(skt_port_parse("0", 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse("0", SKT_PARSE_PORT_ZERO), 0);
	cr_assert_eq(skt_port_parse("000", SKT_PARSE_PORT_ZERO), 0);
}

SKT_TEST(addr, port_parse_rejects_65536)
{
	cr_assert_eq(skt_port_parse(sktest_guarded("65536"), 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse("99999999999999999999999", 0),
		     SKT_EBADPORT);
}

SKT_TEST(addr, port_parse_accepts_leading_zeros)
{
	cr_assert_eq(skt_port_parse("080", 0), 80);
	cr_assert_eq(skt_port_parse("0000000000065535", 0), 65535);
}

SKT_TEST(addr, port_parse_rejects_trailing_characters)
{
	cr_assert_eq(skt_port_parse(sktest_guarded("80abc"), 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse("80 ", 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse("0x50", 0), SKT_EBADPORT);
}

SKT_TEST(addr, port_parse_rejects_signs_and_spaces)
{
	cr_assert_eq(skt_port_parse("-1", 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse("+80", 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse(" 80", 0), SKT_EBADPORT);
}

SKT_TEST(addr, port_parse_rejects_empty_and_null)
{
	cr_assert_eq(skt_port_parse(sktest_guarded(""), 0), SKT_EBADPORT);
	cr_assert_eq(skt_port_parse(NULL, 0), SKT_EBADPORT);
}

/* ---- IP literals ---- */

SKT_TEST(addr, from_ip_v4)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "1.2.3.4", 80), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	cr_assert_eq(a.len, sizeof(struct sockaddr_in));
	cr_assert_str_eq(sktest_addr_text(&a), "1.2.3.4:80");
}

SKT_TEST(addr, from_ip_v6)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "::1", 443), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	cr_assert_eq(a.len, sizeof(struct sockaddr_in6));
	cr_assert_eq(skt_addr_port(&a), 443);
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:443");
}

SKT_TEST(addr, from_ip_v6_numeric_zone)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "fe80::1%4000000", 80), 0);
	cr_assert_eq(a.u.in6.sin6_scope_id, 4000000);
	/* No interface has that index: it formats as a number. */
	cr_assert_str_eq(sktest_addr_text(&a), "[fe80::1%4000000]:80");
}

SKT_TEST(addr, from_ip_v6_named_zone)
{
	unsigned lo = if_nametoindex("lo");
	if (lo == 0)
		cr_skip_test("no loopback interface visible");
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "fe80::1%lo", 80), 0);
	cr_assert_eq(a.u.in6.sin6_scope_id, lo);
	cr_assert_str_eq(sktest_addr_text(&a), "[fe80::1%lo]:80");
}

SKT_TEST(addr, from_ip_rejects_non_literals)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "localhost", 80), SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, "1.2.3", 80), SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, "1.2.3.4%lo", 80), SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, "fe80::1%", 80), SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, "fe80::1%0", 80), SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, "fe80::1%nosuchif0", 80),
		     SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, sktest_repeat('1', 900), 80),
		     SKT_EBADHOST);
	cr_assert_eq(skt_addr_from_ip(&a, NULL, 80), SKT_EBADHOST);
}

/* ---- Unix addresses ---- */

SKT_TEST(addr, unix_path_of_107_bytes_fits)
{
	skt_addr a;
	char path[200] = "/";
	strcat(path, sktest_repeat('p', 106));
	cr_assert_eq(strlen(path), SKT_UNIX_PATH_MAX);
	cr_assert_eq(skt_addr_unix(&a, sktest_guarded(path)), 0);
	cr_assert_eq(a.len, sizeof(struct sockaddr_un));
	cr_assert_eq(a.u.un.sun_path[107], '\0');
}

SKT_TEST(addr, unix_path_of_108_bytes_is_too_long)
{
	skt_addr a;
	char path[200] = "/";
	strcat(path, sktest_repeat('p', 107));
	cr_assert_eq(skt_addr_unix(&a, sktest_guarded(path)), SKT_ENAMETOOLONG);
	cr_assert_eq(skt_addr_unix(&a, sktest_repeat('p', 900)),
		     SKT_ENAMETOOLONG);
}

SKT_TEST(addr, unix_abstract_uses_leading_nul_and_exact_length)
{
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, "@sockit"), 0);
	cr_assert_eq(a.u.un.sun_path[0], '\0');
	cr_assert_eq(memcmp(a.u.un.sun_path + 1, "sockit", 6), 0);
	cr_assert_eq(a.len, offsetof(struct sockaddr_un, sun_path) + 1 + 6);
	cr_assert_str_eq(sktest_addr_text(&a), "unix:@sockit");
}

SKT_TEST(addr, unix_abstract_of_107_bytes_fits)
{
	skt_addr a;
	char path[200] = "@";
	strcat(path, sktest_repeat('n', 107));
	cr_assert_eq(skt_addr_unix(&a, sktest_guarded(path)), 0);
	cr_assert_eq(a.len, sizeof(struct sockaddr_un));
	cr_assert_str_eq(sktest_addr_text(&a) + 5, path);
}

SKT_TEST(addr, unix_abstract_of_108_bytes_is_too_long)
{
	skt_addr a;
	char path[200] = "@";
	strcat(path, sktest_repeat('n', 108));
	cr_assert_eq(skt_addr_unix(&a, sktest_guarded(path)), SKT_ENAMETOOLONG);
}

SKT_TEST(addr, unix_empty_path_is_rejected)
{
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, ""), SKT_EBADADDR);
	cr_assert_eq(skt_addr_unix(&a, "@"), SKT_EBADADDR);
	cr_assert_eq(skt_addr_unix(&a, NULL), SKT_EBADADDR);
	expect_parse_err("unix:", 0, SKT_EBADADDR);
}

/* ---- skt_addr_parse ---- */

SKT_TEST(addr, parse_v4_host_port)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, sktest_guarded("127.0.0.1:8080"), 0),
		     0);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	cr_assert_eq(skt_addr_port(&a), 8080);
	cr_assert_str_eq(sktest_addr_text(&a), "127.0.0.1:8080");
}

SKT_TEST(addr, parse_bracketed_v6)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, sktest_guarded("[::1]:80"), 0), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	cr_assert_eq(skt_addr_port(&a), 80);
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:80");
}

SKT_TEST(addr, parse_unbracketed_v6_with_port_is_bad_address)
{
	expect_parse_err("::1:80", 0, SKT_EBADADDR);
	expect_parse_err("fe80::1:443", 0, SKT_EBADADDR);
}

SKT_TEST(addr, parse_unterminated_bracket_is_bad_address)
{
	expect_parse_err("[", 0, SKT_EBADADDR);
	expect_parse_err("[::1", 0, SKT_EBADADDR);
	expect_parse_err("[::1:80", 0, SKT_EBADADDR);
}

SKT_TEST(addr, parse_garbage_after_bracket_is_bad_address)
{
	expect_parse_err("[::1]x", 0, SKT_EBADADDR);
	expect_parse_err("[::1]80", 0, SKT_EBADADDR);
	expect_parse_err("[::1]]:80", 0, SKT_EBADADDR);
}

SKT_TEST(addr, parse_brackets_hold_only_v6)
{
	expect_parse_err("[1.2.3.4]:80", 0, SKT_EBADHOST);
	expect_parse_err("[]:80", 0, SKT_EBADHOST);
	expect_parse_err("[::g]:80", 0, SKT_EBADHOST);
}

SKT_TEST(addr, parse_host_name_is_bad_host)
{
	expect_parse_err("localhost:80", 0, SKT_EBADHOST);
	expect_parse_err("example.com:80abc", 0, SKT_EBADHOST);
}

SKT_TEST(addr, parse_bad_host_characters)
{
	expect_parse_err("1.2.3.4!:80", 0, SKT_EBADHOST);
	expect_parse_err("1.2.3. 4:80", 0, SKT_EBADHOST);
	expect_parse_err("1.2.3.256:80", 0, SKT_EBADHOST);
}

SKT_TEST(addr, parse_overlong_host_is_bad_host)
{
	char text[1024];
	snprintf(text, sizeof(text), "%s:80", sktest_repeat('1', 900));
	expect_parse_err(text, 0, SKT_EBADHOST);
	snprintf(text, sizeof(text), "[%s]:80", sktest_repeat(':', 900));
	expect_parse_err(text, 0, SKT_EBADHOST);
}

SKT_TEST(addr, parse_bad_ports)
{
	expect_parse_err("1.2.3.4:0", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:65536", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:80abc", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:-1", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:+80", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4: 80", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:", 0, SKT_EBADPORT);
	expect_parse_err("[::1]:", 0, SKT_EBADPORT);
	expect_parse_err("1.2.3.4:http", 0, SKT_EBADPORT);
}

SKT_TEST(addr, parse_port_zero_with_flag)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "0.0.0.0:0", SKT_PARSE_PORT_ZERO), 0);
	cr_assert_eq(skt_addr_port(&a), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "0.0.0.0:0");
}

SKT_TEST(addr, parse_port_alone_needs_no_host_flag)
{
	expect_parse_err("8080", 0, SKT_EBADPORT); /* a host, no port */
	expect_parse_err(":8080", 0, SKT_EBADHOST);
	skt_addr a;
	cr_assert_eq(
		skt_addr_parse(&a, sktest_guarded("8080"), SKT_PARSE_NO_HOST),
		0);
	cr_assert_str_eq(sktest_addr_text(&a), "127.0.0.1:8080");
	cr_assert_eq(
		skt_addr_parse(&a, sktest_guarded(":9"), SKT_PARSE_NO_HOST), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "127.0.0.1:9");
	expect_parse_err("80abc", SKT_PARSE_NO_HOST, SKT_EBADPORT);
	expect_parse_err(":", SKT_PARSE_NO_HOST, SKT_EBADPORT);
}

SKT_TEST(addr, parse_host_alone_needs_no_port_flag)
{
	expect_parse_err("1.2.3.4", 0, SKT_EBADPORT);
	expect_parse_err("[::1]", 0, SKT_EBADPORT);
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "1.2.3.4", SKT_PARSE_NO_PORT), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "1.2.3.4:0");
	cr_assert_eq(skt_addr_parse(&a, "[::1]", SKT_PARSE_NO_PORT), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	/* Unbracketed IPv6 is fine once no port can follow. */
	cr_assert_eq(
		skt_addr_parse(&a, sktest_guarded("::1"), SKT_PARSE_NO_PORT),
		0);
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:0");
}

SKT_TEST(addr, parse_unix_forms)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, sktest_guarded("unix:/tmp/s"), 0), 0);
	cr_assert_eq(skt_addr_family(&a), AF_UNIX);
	cr_assert_str_eq(a.u.un.sun_path, "/tmp/s");
	cr_assert_eq(skt_addr_parse(&a, sktest_guarded("unix:@abs"), 0), 0);
	cr_assert_eq(a.u.un.sun_path[0], '\0');
	cr_assert_str_eq(sktest_addr_text(&a), "unix:@abs");
}

SKT_TEST(addr, parse_empty_and_null_are_bad_address)
{
	skt_addr a;
	expect_parse_err("", 0, SKT_EBADADDR);
	cr_assert_eq(skt_addr_parse(&a, NULL, 0), SKT_EBADADDR);
}

SKT_TEST(addr, parse_failure_leaves_address_alone)
{
	skt_addr a, before;
	cr_assert_eq(skt_addr_parse(&a, "1.2.3.4:80", 0), 0);
	before = a;
	cr_assert_eq(skt_addr_parse(&a, "5.6.7.8:80abc", 0), SKT_EBADPORT);
	cr_assert(skt_addr_equal(&a, &before));
}

SKT_TEST(addr, parse_then_format_round_trips)
{
	static const char *const forms[] = {
		"1.2.3.4:80",
		"0.0.0.0:1",
		"255.255.255.255:65535",
		"[::1]:80",
		"[2001:db8::1]:443",
		"[::ffff:1.2.3.4]:8",
		"[fe80::1%4000000]:80",
		"unix:/tmp/x.sock",
		"unix:@name",
		"unix:relative",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		skt_addr a;
		int rc = skt_addr_parse(&a, sktest_guarded(forms[i]), 0);
		cr_assert_eq(rc, 0, "%s: %s", forms[i], skt_errname(rc));
		cr_expect_str_eq(sktest_addr_text(&a), forms[i]);
	}
}

/* ---- Formatting ---- */

SKT_TEST(addr, format_empty_address_is_dash)
{
	skt_addr a = {0};
	cr_assert_str_eq(sktest_addr_text(&a), "-");
	cr_assert_eq(skt_addr_family(&a), AF_UNSPEC);
}

SKT_TEST(addr, format_unnamed_unix_socket)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	skt_addr a;
	cr_assert_eq(skt_addr_from_sockaddr(&a, (struct sockaddr *)&un,
					    sizeof(sa_family_t)),
		     0);
	cr_assert_str_eq(sktest_addr_text(&a), "unix:");
}

SKT_TEST(addr, format_escapes_unprintable_abstract_bytes)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	memcpy(un.sun_path, "\0a\nb\x7f\xff\0", 7);
	skt_addr a;
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 7;
	cr_assert_eq(skt_addr_from_sockaddr(&a, (struct sockaddr *)&un, len),
		     0);
	cr_assert_str_eq(sktest_addr_text(&a), "unix:@a\\x0ab\\x7f\\xff\\x00");
}

SKT_TEST(addr, format_worst_case_fits_addrstrlen)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	memset(un.sun_path + 1, 0xff, sizeof(un.sun_path) - 1);
	skt_addr a;
	cr_assert_eq(
		skt_addr_from_sockaddr(&a, (struct sockaddr *)&un, sizeof(un)),
		0);
	char buf[SKT_ADDRSTRLEN];
	int n = skt_addr_format(&a, buf, sizeof(buf));
	cr_assert_eq(n, 6 + 4 * 107);
}

SKT_TEST(addr, format_path_stops_at_nul_within_length)
{
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, "/tmp/s"), 0);
	a.len = sizeof(struct sockaddr_un); /* as some kernels report it */
	cr_assert_str_eq(sktest_addr_text(&a), "unix:/tmp/s");
}

SKT_TEST(addr, format_reports_small_buffer)
{
	skt_addr a;
	char buf[16];
	cr_assert_eq(skt_addr_parse(&a, "1.2.3.4:80", 0), 0);
	cr_assert_eq(skt_addr_format(&a, buf, 10), SKT_ETOOBIG);
	cr_assert_eq(skt_addr_format(&a, buf, 11), 10);
	cr_assert_str_eq(buf, "1.2.3.4:80");
	cr_assert_eq(skt_addr_format(&a, NULL, 0), SKT_ETOOBIG);
}

SKT_TEST(addr, format_host_has_no_brackets_or_port)
{
	skt_addr a;
	char buf[SKT_ADDRSTRLEN];
	cr_assert_eq(skt_addr_parse(&a, "[::1]:80", 0), 0);
	cr_assert_eq(skt_addr_format_host(&a, buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "::1");
	cr_assert_eq(skt_addr_parse(&a, "127.0.0.1:80", 0), 0);
	cr_assert_eq(skt_addr_format_host(&a, buf, sizeof(buf)), 9);
	cr_assert_str_eq(buf, "127.0.0.1");
	cr_assert_eq(skt_addr_format_host(&a, buf, 9), SKT_ETOOBIG);
	cr_assert_eq(skt_addr_unix(&a, "/p"), 0);
	cr_assert_eq(skt_addr_format_host(&a, buf, sizeof(buf)),
		     SKT_EAFNOSUPPORT);
}

/* ---- From struct sockaddr ---- */

SKT_TEST(addr, from_sockaddr_copies_ip_addresses)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6,
				   .sin6_port = htons(7)};
	in6.sin6_addr = in6addr_loopback;
	skt_addr a;
	cr_assert_eq(skt_addr_from_sockaddr(&a, (struct sockaddr *)&in6,
					    sizeof(in6)),
		     0);
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:7");
}

SKT_TEST(addr, from_sockaddr_rejects_bad_lengths_and_families)
{
	struct sockaddr_storage ss = {.ss_family = AF_INET};
	skt_addr a;
	struct sockaddr *sa = (struct sockaddr *)&ss;
	cr_assert_eq(skt_addr_from_sockaddr(&a, sa, 4), SKT_EINVAL);
	cr_assert_eq(skt_addr_from_sockaddr(&a, sa, 1), SKT_EINVAL);
	cr_assert_eq(skt_addr_from_sockaddr(&a, sa, sizeof(ss) + 1),
		     SKT_EINVAL);
	cr_assert_eq(skt_addr_from_sockaddr(&a, NULL, 16), SKT_EINVAL);
	ss.ss_family = AF_UNIX;
	cr_assert_eq(skt_addr_from_sockaddr(&a, sa, sizeof(ss)), SKT_EINVAL);
	ss.ss_family = AF_PACKET;
	cr_assert_eq(skt_addr_from_sockaddr(&a, sa, 20), SKT_EAFNOSUPPORT);
}

/* ---- Accessors, equality, unmapping ---- */

SKT_TEST(addr, set_port_changes_only_ip_addresses)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "[::1]:80", 0), 0);
	skt_addr_set_port(&a, 65535);
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:65535");
	cr_assert_eq(skt_addr_unix(&a, "/p"), 0);
	skt_addr_set_port(&a, 80);
	cr_assert_eq(skt_addr_port(&a), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "unix:/p");
}

SKT_TEST(addr, equal_compares_family_address_and_port)
{
	skt_addr a, b;
	cr_assert_eq(skt_addr_parse(&a, "1.2.3.4:80", 0), 0);
	cr_assert_eq(skt_addr_parse(&b, "1.2.3.4:80", 0), 0);
	cr_assert(skt_addr_equal(&a, &b));
	skt_addr_set_port(&b, 81);
	cr_assert_not(skt_addr_equal(&a, &b));
	cr_assert_eq(skt_addr_parse(&b, "1.2.3.5:80", 0), 0);
	cr_assert_not(skt_addr_equal(&a, &b));
	cr_assert_eq(skt_addr_parse(&b, "[::ffff:1.2.3.4]:80", 0), 0);
	cr_assert_not(skt_addr_equal(&a, &b));
	skt_addr e1 = {0}, e2 = {0};
	cr_assert(skt_addr_equal(&e1, &e2));
}

SKT_TEST(addr, equal_compares_v6_scope)
{
	skt_addr a, b;
	cr_assert_eq(skt_addr_parse(&a, "[fe80::1%7]:80", 0), 0);
	cr_assert_eq(skt_addr_parse(&b, "[fe80::1%8]:80", 0), 0);
	cr_assert_not(skt_addr_equal(&a, &b));
	b.u.in6.sin6_scope_id = 7;
	b.u.in6.sin6_flowinfo = htonl(5);
	cr_assert(skt_addr_equal(&a, &b));
}

SKT_TEST(addr, equal_compares_unix_names)
{
	skt_addr a, b;
	cr_assert_eq(skt_addr_unix(&a, "/tmp/s"), 0);
	cr_assert_eq(skt_addr_unix(&b, "/tmp/s"), 0);
	b.len -= 1; /* the same path, its NUL not counted */
	cr_assert(skt_addr_equal(&a, &b));
	cr_assert_eq(skt_addr_unix(&b, "@/tmp/s"), 0);
	cr_assert_not(skt_addr_equal(&a, &b));
	cr_assert_eq(skt_addr_unix(&a, "@ab"), 0);
	cr_assert_eq(skt_addr_unix(&b, "@a"), 0);
	cr_assert_not(skt_addr_equal(&a, &b));
}

SKT_TEST(addr, unmap_turns_v4_mapped_into_v4)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "[::ffff:10.1.2.3]:8080", 0), 0);
	cr_assert(skt_addr_unmap(&a));
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	cr_assert_eq(a.len, sizeof(struct sockaddr_in));
	cr_assert_str_eq(sktest_addr_text(&a), "10.1.2.3:8080");
}

SKT_TEST(addr, unmap_leaves_other_addresses)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "[::1]:80", 0), 0);
	cr_assert_not(skt_addr_unmap(&a));
	cr_assert_str_eq(sktest_addr_text(&a), "[::1]:80");
	cr_assert_eq(skt_addr_parse(&a, "1.2.3.4:80", 0), 0);
	cr_assert_not(skt_addr_unmap(&a));
	cr_assert_str_eq(sktest_addr_text(&a), "1.2.3.4:80");
}
