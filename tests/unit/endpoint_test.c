/* endpoint_test.c - endpoints, what a user typed before resolution: every
 * accepted and rejected form of skt_endpoint_parse and skt_endpoint_set,
 * limits at max and max + 1. No network. */
#include "sktest.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void expect_ep_err(const char *text, int flags, int want)
{
	skt_endpoint ep;
	int rc = skt_endpoint_parse(&ep, sktest_guarded(text), flags);
	cr_expect_eq(rc, want, "endpoint \"%s\": got %s, want %s", text,
		     skt_errname(rc), skt_errname(want));
}

/* ---- skt_endpoint_parse ---- */

SKT_TEST(endpoint, host_and_service_name)
{
	skt_endpoint ep;
	cr_assert_eq(
		skt_endpoint_parse(&ep, sktest_guarded("localhost:http"), 0),
		0);
	cr_assert_eq(ep.kind, SKT_EP_INET);
	cr_assert_str_eq(ep.host, "localhost");
	cr_assert_str_eq(ep.service, "http");
}

SKT_TEST(endpoint, bracketed_v6_drops_brackets)
{
	skt_endpoint ep;
	cr_assert_eq(
		skt_endpoint_parse(&ep, sktest_guarded("[fe80::1%eth0]:80"), 0),
		0);
	cr_assert_str_eq(ep.host, "fe80::1%eth0");
	cr_assert_str_eq(ep.service, "80");
}

SKT_TEST(endpoint, numeric_service_is_canonical)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, "h:080", 0), 0);
	cr_assert_str_eq(ep.service, "80");
	expect_ep_err("h:0", 0, SKT_EBADPORT);
	cr_assert_eq(skt_endpoint_parse(&ep, "h:0", SKT_PARSE_PORT_ZERO), 0);
	cr_assert_str_eq(ep.service, "0");
}

SKT_TEST(endpoint, unbracketed_v6_with_port_is_bad_address)
{
	expect_ep_err("::1:80", 0, SKT_EBADADDR);
	expect_ep_err("[::1", 0, SKT_EBADADDR);
	expect_ep_err("[::1]x", 0, SKT_EBADADDR);
}

SKT_TEST(endpoint, service_name_shapes)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, "h:http-alt", 0), 0);
	cr_assert_eq(skt_endpoint_parse(&ep, "h:a+b.c_d-1", 0), 0);
	cr_assert_str_eq(ep.service, "a+b.c_d-1");
	expect_ep_err("h:1abc", 0, SKT_EBADPORT);
	expect_ep_err("h:-http", 0, SKT_EBADPORT);
	expect_ep_err("h:_http", 0, SKT_EBADPORT);
	expect_ep_err("h:ht tp", 0, SKT_EBADPORT);
	expect_ep_err("h:ht/tp", 0, SKT_EBADPORT);
	expect_ep_err("h:65536", 0, SKT_EBADPORT);
	expect_ep_err("h:", 0, SKT_EBADPORT);
}

SKT_TEST(endpoint, service_of_63_fits_and_64_does_not)
{
	char text[128];
	skt_endpoint ep;
	snprintf(text, sizeof(text), "h:%s",
		 sktest_repeat('s', SKT_SERVICE_MAX));
	cr_assert_eq(skt_endpoint_parse(&ep, sktest_guarded(text), 0), 0);
	cr_assert_eq(strlen(ep.service), SKT_SERVICE_MAX);
	snprintf(text, sizeof(text), "h:%s",
		 sktest_repeat('s', SKT_SERVICE_MAX + 1));
	expect_ep_err(text, 0, SKT_EBADPORT);
}

/* Three labels of 63 bytes, as long as DNS allows, and a last of n. */
static const char *long_name(size_t n)
{
	static char host[320];
	snprintf(host, sizeof(host), "%s.", sktest_repeat('a', 63));
	snprintf(host + 64, sizeof(host) - 64, "%s.%s.", sktest_repeat('b', 63),
		 sktest_repeat('c', 63));
	strcat(host, sktest_repeat('d', n));
	return host;
}

SKT_TEST(endpoint, host_of_253_fits_and_254_does_not)
{
	char text[320];
	const char *host = long_name(61);
	cr_assert_eq(strlen(host), SKT_HOST_MAX);
	snprintf(text, sizeof(text), "%s:80", host);
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, sktest_guarded(text), 0), 0);
	cr_assert_str_eq(ep.host, host);
	snprintf(text, sizeof(text), "%s:80", long_name(62));
	expect_ep_err(text, 0, SKT_EBADHOST);
	cr_assert_eq(skt_endpoint_set(&ep, long_name(62), "80", 0),
		     SKT_EBADHOST);
}

SKT_TEST(endpoint, bad_host_names)
{
	expect_ep_err("bad!host:80", 0, SKT_EBADHOST);
	expect_ep_err("-lead:80", 0, SKT_EBADHOST);
	expect_ep_err("a..b:80", 0, SKT_EBADHOST);
	expect_ep_err(".a:80", 0, SKT_EBADHOST);
	expect_ep_err("sp ace:80", 0, SKT_EBADHOST);
	expect_ep_err("[not-v6]:80", 0, SKT_EBADHOST);
	expect_ep_err("[fe80::1%bad/zone]:80", 0, SKT_EBADHOST);
	char text[128];
	snprintf(text, sizeof(text), "%s.com:80", sktest_repeat('a', 64));
	expect_ep_err(text, 0, SKT_EBADHOST);
}

SKT_TEST(endpoint, accepts_trailing_dot_and_wildcard)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, "example.com.:80", 0), 0);
	cr_assert_str_eq(ep.host, "example.com.");
	cr_assert_eq(skt_endpoint_parse(&ep, "*:80", 0), 0);
	cr_assert_str_eq(ep.host, "*");
}

SKT_TEST(endpoint, port_alone_with_no_host_flag)
{
	skt_endpoint ep;
	expect_ep_err("8080", 0, SKT_EBADPORT);
	expect_ep_err(":8080", 0, SKT_EBADHOST);
	cr_assert_eq(skt_endpoint_parse(&ep, sktest_guarded(":8080"),
					SKT_PARSE_NO_HOST),
		     0);
	cr_assert_str_eq(ep.host, "");
	cr_assert_str_eq(ep.service, "8080");
	cr_assert_eq(skt_endpoint_parse(&ep, "http", SKT_PARSE_NO_HOST), 0);
	cr_assert_str_eq(ep.host, "");
	cr_assert_str_eq(ep.service, "http");
}

SKT_TEST(endpoint, host_alone_with_no_port_flag)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, "example.com", SKT_PARSE_NO_PORT),
		     0);
	cr_assert_str_eq(ep.host, "example.com");
	cr_assert_str_eq(ep.service, "");
	cr_assert_eq(skt_endpoint_parse(&ep, "::1", SKT_PARSE_NO_PORT), 0);
	cr_assert_str_eq(ep.host, "::1");
	int both = SKT_PARSE_NO_HOST | SKT_PARSE_NO_PORT;
	cr_assert_eq(skt_endpoint_parse(&ep, "8080", both), 0);
	cr_assert_str_eq(ep.service, "8080");
	cr_assert_eq(skt_endpoint_parse(&ep, "web", both), 0);
	cr_assert_str_eq(ep.host, "web");
}

SKT_TEST(endpoint, unix_forms)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, sktest_guarded("unix:/run/s"), 0),
		     0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX);
	cr_assert_str_eq(sktest_addr_text(&ep.unix_addr), "unix:/run/s");
	cr_assert_eq(skt_endpoint_parse(&ep, "unix:@x", 0), 0);
	cr_assert_str_eq(sktest_addr_text(&ep.unix_addr), "unix:@x");
	char text[200] = "unix:/";
	strcat(text, sktest_repeat('p', 107));
	expect_ep_err(text, 0, SKT_ENAMETOOLONG);
	expect_ep_err("unix:", 0, SKT_EBADADDR);
}

SKT_TEST(endpoint, unix_dgram_forms)
{
	skt_endpoint ep;
	cr_assert_eq(
		skt_endpoint_parse(&ep, sktest_guarded("unix-dgram:/run/d"), 0),
		0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX_DGRAM);
	cr_assert_str_eq(sktest_addr_text(&ep.unix_addr), "unix:/run/d");
	cr_assert_eq(skt_endpoint_parse(&ep, "unix-dgram:@d", 0), 0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX_DGRAM);
	cr_assert_str_eq(sktest_addr_text(&ep.unix_addr), "unix:@d");
	cr_assert_eq(skt_endpoint_set(&ep, "unix-dgram:/x", NULL, 0), 0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX_DGRAM);
	cr_assert_eq(skt_endpoint_set(&ep, "unix-dgram:/x", "80", 0),
		     SKT_EBADADDR);
	expect_ep_err("unix-dgram:", 0, SKT_EBADADDR);
	/* Not a prefix of ours: a host name "unix-dgram" with no port. */
	cr_assert_neq(skt_endpoint_parse(&ep, "unix-dgram", 0), 0);
}

/* ---- skt_endpoint_set ---- */

SKT_TEST(endpoint, set_bracketed_v6_host)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_set(&ep, sktest_guarded("[::1]"), "80", 0),
		     0);
	cr_assert_eq(ep.kind, SKT_EP_INET);
	cr_assert_str_eq(ep.host, "::1");
	cr_assert_str_eq(ep.service, "80");
	cr_assert_eq(skt_endpoint_set(&ep, "::1", "http", 0), 0);
	cr_assert_str_eq(ep.host, "::1");
}

SKT_TEST(endpoint, set_bad_brackets)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_set(&ep, "[::1", "80", 0), SKT_EBADADDR);
	cr_assert_eq(skt_endpoint_set(&ep, "[::1]:80", "80", 0), SKT_EBADADDR);
	cr_assert_eq(skt_endpoint_set(&ep, "[::1]x", "80", 0), SKT_EBADADDR);
	cr_assert_eq(skt_endpoint_set(&ep, "[h]", "80", 0), SKT_EBADHOST);
}

SKT_TEST(endpoint, set_unix_path)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_set(&ep, sktest_guarded("unix:/p"), NULL, 0),
		     0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX);
	cr_assert_str_eq(sktest_addr_text(&ep.unix_addr), "unix:/p");
	cr_assert_eq(skt_endpoint_set(&ep, "unix:/p", "80", 0), SKT_EBADADDR);
}

SKT_TEST(endpoint, set_missing_parts_need_flags)
{
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_set(&ep, NULL, "80", 0), SKT_EBADHOST);
	cr_assert_eq(skt_endpoint_set(&ep, "", "80", 0), SKT_EBADHOST);
	cr_assert_eq(skt_endpoint_set(&ep, NULL, "80", SKT_PARSE_NO_HOST), 0);
	cr_assert_str_eq(ep.host, "");
	cr_assert_eq(skt_endpoint_set(&ep, "h", NULL, 0), SKT_EBADPORT);
	cr_assert_eq(skt_endpoint_set(&ep, "h", NULL, SKT_PARSE_NO_PORT), 0);
	cr_assert_eq(skt_endpoint_set(&ep, "h", "80abc", 0), SKT_EBADPORT);
	cr_assert_eq(skt_endpoint_set(&ep, sktest_repeat('h', 900), "80", 0),
		     SKT_EBADHOST);
}
