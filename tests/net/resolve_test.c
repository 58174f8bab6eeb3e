/* resolve_test.c - names, services and host names through the system
 * resolver.
 *
 * These tests never ask the machine's DNS server anything: they resolve
 * numeric literals, "localhost" (in every hosts file), and names from a
 * hosts file of their own, and whatever could fall through to DNS runs in a
 * fresh network namespace, where no server can be reached. Each Criterion
 * test is its own process, so unshare() in a test body touches no other.
 */
#include "sktest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Bind-mount a private file holding text over target (in this process's
 * own mount namespace: the real file is never touched). */
static void bind_text(const char *target, const char *text)
{
	char path[] = "/tmp/sockit-resolve-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	size_t n = strlen(text);
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	int rc = mount(path, target, NULL, MS_BIND, NULL);
	int err = errno;
	unlink(path); /* the mount keeps the file alive */
	if (rc != 0)
		cr_skip_test("bind-mount over %s: %s", target, strerror(err));
}

/* Cut this test off from every resolver but the C library's own: a new
 * network namespace, where no DNS server can be reached, and an
 * nsswitch.conf of "files dns" only, so that no NSS module (nss-resolve,
 * mDNS) can ask a daemon outside the namespace to look a name up for us.
 * hosts, when not NULL, replaces /etc/hosts; name, when not NULL, becomes
 * the host name (in a new UTS namespace). Skips the test when not root. */
static void isolate(const char *hosts, const char *name)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to make namespaces");
	/* glibc asks nscd before reading nsswitch.conf, and nscd lives
	 * outside the namespace. */
	if (access("/run/nscd/socket", F_OK) == 0 ||
	    access("/var/run/nscd/socket", F_OK) == 0)
		cr_skip_test("nscd would resolve outside the namespace");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS) != 0)
		cr_skip_test("unshare: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("make / private: %s", strerror(errno));
	bind_text("/etc/nsswitch.conf", "hosts: files dns\nservices: files\n");
	if (hosts != NULL)
		bind_text("/etc/hosts", hosts);
	if (name != NULL)
		cr_assert_eq(sethostname(name, strlen(name)), 0);
}

static const char *fmt(const skt_addr *a)
{
	static char buf[SKT_ADDRSTRLEN];
	cr_assert_geq(skt_addr_format(a, buf, sizeof(buf)), 0);
	return buf;
}

/* The message the resolver itself gives for a sockit resolver code. */
static const char *resolver_message(int err)
{
#define XX(name, idx)                                                          \
	if (err == SKT_##name)                                                 \
		return gai_strerror(name);
	SKT_EAI_ERRNO_MAP(XX)
#undef XX
	return NULL;
}

/* ---- Forward lookups ---- */

SKT_TEST(resolve, localhost_is_ipv4_loopback)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "localhost", "80", AF_INET, 0, 0);
	cr_assert_geq(n, 1, "resolve localhost: %s", skt_strerror(n));
	cr_assert_eq((size_t)n, l.n);
	cr_assert_str_eq(fmt(&l.addrs[0]), "127.0.0.1:80");
	cr_assert_null(l.canonname);
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, numeric_ipv4_literal)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "127.0.0.1", "8080", AF_UNSPEC, SOCK_STREAM,
			    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, 1, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(fmt(&l.addrs[0]), "127.0.0.1:8080");
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, numeric_ipv6_literal)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "::1", "8080", AF_UNSPEC, SOCK_DGRAM,
			    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, 1, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(fmt(&l.addrs[0]), "[::1]:8080");
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, numeric_flag_refuses_names)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "localhost", "80", AF_UNSPEC, 0,
			    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, SKT_EAI_NONAME, "got %s", skt_errname(n));
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.addrs);
}

SKT_TEST(resolve, loopback_resolves_with_no_configured_address)
{
	/* A fresh namespace has no address at all, not even on lo: with
	 * AI_ADDRCONFIG both literals would vanish. */
	isolate(NULL, NULL);
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "::1", "80", AF_UNSPEC, 0, 0);
	cr_assert_eq(n, 1, "resolve ::1: %s", skt_strerror(n));
	skt_addrlist_fini(&l);
	n = skt_resolve(&l, "127.0.0.1", "80", AF_UNSPEC, 0, 0);
	cr_assert_eq(n, 1, "resolve 127.0.0.1: %s", skt_strerror(n));
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, no_host_is_loopback_or_wildcard_when_passive)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, NULL, "8080", AF_INET, 0, 0);
	cr_assert_eq(n, 1, "got %s", skt_errname(n));
	cr_assert_str_eq(fmt(&l.addrs[0]), "127.0.0.1:8080");
	skt_addrlist_fini(&l);
	n = skt_resolve(&l, "", "8080", AF_INET6, 0, SKT_RESOLVE_PASSIVE);
	cr_assert_eq(n, 1, "got %s", skt_errname(n));
	cr_assert_str_eq(fmt(&l.addrs[0]), "[::]:8080");
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, service_name_gives_its_port)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "127.0.0.1", "http", AF_INET, 0,
			    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, 1, "got %s", skt_errname(n));
	cr_assert_eq(skt_addr_port(&l.addrs[0]), 80);
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, unknown_service_is_eai_service)
{
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "127.0.0.1", "no-such-service-zz", AF_INET, 0,
			    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, SKT_EAI_SERVICE, "got %s", skt_errname(n));
	cr_assert_str_eq(skt_strerror(n), gai_strerror(EAI_SERVICE));
}

SKT_TEST(resolve, neither_host_nor_service_is_invalid)
{
	skt_addrlist l = {0};
	cr_assert_eq(skt_resolve(&l, NULL, NULL, AF_UNSPEC, 0, 0), SKT_EINVAL);
	cr_assert_eq(skt_resolve(&l, "", "", AF_UNSPEC, 0, 0), SKT_EINVAL);
}

SKT_TEST(resolve, duplicates_from_hosts_file_are_removed)
{
	isolate("10.0.0.1 dup.test\n10.0.0.2 dup.test\n"
		"10.0.0.1 dup.test\n",
		NULL);
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "dup.test", "80", AF_INET, 0, 0);
	cr_assert_eq(n, 2, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(fmt(&l.addrs[0]), "10.0.0.1:80");
	cr_assert_str_eq(fmt(&l.addrs[1]), "10.0.0.2:80");
	skt_addrlist_fini(&l);
}

SKT_TEST(resolve, canonical_name_is_copied)
{
	isolate("10.0.0.7 canon.example.test alias\n", NULL);
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "alias", NULL, AF_INET, 0, SKT_RESOLVE_CANON);
	cr_assert_eq(n, 1, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(l.canonname, "canon.example.test");
	cr_assert_eq(sktest_live_allocs(), 2); /* addrs and canonname */
	skt_addrlist_fini(&l);
	cr_assert_null(l.canonname);
}

SKT_TEST(resolve, allocation_failure_is_enomem_without_leak)
{
	skt_addrlist l = {0};
	sktest_fail_alloc_at(1);
	int n = skt_resolve(&l, "127.0.0.1", "80", AF_INET, 0,
			    SKT_RESOLVE_NUMERIC | SKT_RESOLVE_CANON);
	cr_assert_eq(n, SKT_ENOMEM, "got %s", skt_errname(n));
	sktest_fail_alloc_at(2);
	n = skt_resolve(&l, "127.0.0.1", "80", AF_INET, 0,
			SKT_RESOLVE_NUMERIC | SKT_RESOLVE_CANON);
	cr_assert_eq(n, SKT_ENOMEM, "got %s", skt_errname(n));
	cr_assert_null(l.addrs);
	sktest_fail_alloc_at(0);
}

SKT_TEST(resolve, addrlist_free_of_zeroed_list_is_harmless)
{
	skt_addrlist l = {0};
	skt_addrlist_fini(&l);
	skt_addrlist_fini(&l);
	skt_addrlist_fini(NULL);
}

SKT_TEST(resolve, failed_lookup_carries_resolver_message)
{
	isolate(NULL,
		NULL); /* the DNS server is out of reach: no query leaves */
	skt_addrlist l = {0};
	int n = skt_resolve(&l, "nonexistent.invalid", "80", AF_UNSPEC, 0, 0);
	cr_assert_lt(n, 0);
	const char *want = resolver_message(n);
	cr_assert_not_null(want, "not a resolver code: %s (%s)", skt_errname(n),
			   skt_strerror(n));
	cr_assert_str_eq(skt_strerror(n), want);
	cr_assert_eq(l.n, 0);
}

/* ---- Reverse lookups ---- */

SKT_TEST(resolve, reverse_of_loopback_comes_from_hosts_file)
{
	isolate(NULL, NULL);
	skt_addr a;
	char host[256];
	cr_assert_eq(skt_addr_from_ip(&a, "127.0.0.1", 0), 0);
	int n = skt_resolve_reverse(&a, host, sizeof(host), 0);
	cr_assert_eq(n, 9, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(host, "localhost");
	cr_assert_eq(skt_resolve_reverse(&a, host, 9, 0), SKT_ETOOBIG);
}

SKT_TEST(resolve, reverse_numeric_gives_the_literal)
{
	skt_addr a;
	char host[64];
	cr_assert_eq(skt_addr_from_ip(&a, "::1", 80), 0);
	int n = skt_resolve_reverse(&a, host, sizeof(host),
				    SKT_RESOLVE_NUMERIC);
	cr_assert_eq(n, 3, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(host, "::1");
}

SKT_TEST(resolve, reverse_of_unnamed_address_is_a_resolver_error)
{
	isolate("127.0.0.1 localhost\n", NULL);
	skt_addr a;
	char host[256];
	cr_assert_eq(skt_addr_from_ip(&a, "192.0.2.1", 0), 0); /* TEST-NET-1 */
	int n = skt_resolve_reverse(&a, host, sizeof(host), 0);
	cr_assert_not_null(resolver_message(n), "got %s", skt_errname(n));
}

SKT_TEST(resolve, reverse_of_unix_address_is_unsupported)
{
	skt_addr a;
	char host[64];
	cr_assert_eq(skt_addr_unix(&a, "/p"), 0);
	cr_assert_eq(skt_resolve_reverse(&a, host, sizeof(host), 0),
		     SKT_EAFNOSUPPORT);
}

/* ---- Services ---- */

SKT_TEST(resolve, service_port_of_http_is_80)
{
	cr_assert_eq(skt_service_port("http", SOCK_STREAM), 80);
	cr_assert_eq(skt_service_port("http", 0), 80);
	cr_assert_eq(skt_service_port("domain", SOCK_DGRAM), 53);
}

SKT_TEST(resolve, service_port_accepts_decimal_text)
{
	cr_assert_eq(skt_service_port("8080", SOCK_STREAM), 8080);
	cr_assert_eq(skt_service_port("0", SOCK_STREAM), 0);
	cr_assert_eq(skt_service_port("65536", SOCK_STREAM), SKT_EAI_SERVICE);
	cr_assert_eq(skt_service_port("80abc", SOCK_STREAM), SKT_EAI_SERVICE);
}

SKT_TEST(resolve, unknown_service_name_is_eai_service)
{
	cr_assert_eq(skt_service_port("no-such-service-zz", SOCK_STREAM),
		     SKT_EAI_SERVICE);
	cr_assert_eq(skt_service_port("", SOCK_STREAM), SKT_EAI_SERVICE);
	cr_assert_eq(skt_service_port(NULL, SOCK_STREAM), SKT_EAI_SERVICE);
	cr_assert_eq(skt_service_port("http", SOCK_RAW), SKT_EAI_SERVICE);
}

SKT_TEST(resolve, service_name_of_53_udp_is_domain)
{
	char name[32];
	cr_assert_eq(skt_service_name(53, SOCK_DGRAM, name, sizeof(name)), 6);
	cr_assert_str_eq(name, "domain");
	cr_assert_eq(skt_service_name(80, SOCK_STREAM, name, sizeof(name)), 4);
	cr_assert_str_eq(name, "http");
	cr_assert_eq(skt_service_name(53, SOCK_DGRAM, name, 6), SKT_ETOOBIG);
}

SKT_TEST(resolve, service_name_of_unnamed_port_is_eai_service)
{
	char name[32];
	cr_assert_eq(skt_service_name(65535, SOCK_STREAM, name, sizeof(name)),
		     SKT_EAI_SERVICE);
}

/* ---- Host names ---- */

SKT_TEST(resolve, hostname_matches_gethostname)
{
	char want[256], got[256];
	cr_assert_eq(gethostname(want, sizeof(want)), 0);
	int n = skt_hostname(got, sizeof(got));
	cr_assert_eq(n, (int)strlen(want), "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(got, want);
	cr_assert_eq(skt_hostname(got, (size_t)n), SKT_ETOOBIG);
}

SKT_TEST(resolve, fqdn_is_host_name_or_its_canonical_form)
{
	isolate(NULL, NULL); /* the host name may be in no hosts file */
	char host[256], fqdn[256];
	cr_assert_geq(skt_hostname(host, sizeof(host)), 1);
	int n = skt_fqdn(fqdn, sizeof(fqdn));
	cr_assert_geq(n, 1, "fqdn: %s", skt_strerror(n));
	size_t hl = strlen(host);
	cr_assert(strcmp(fqdn, host) == 0 ||
			  (strncmp(fqdn, host, hl) == 0 && fqdn[hl] == '.'),
		  "fqdn \"%s\" for host \"%s\"", fqdn, host);
}

SKT_TEST(resolve, fqdn_is_canonical_name_from_hosts_file)
{
	isolate("127.0.0.1 localhost\n10.9.8.7 box.example.test box\n", "box");
	char fqdn[256];
	int n = skt_fqdn(fqdn, sizeof(fqdn));
	cr_assert_eq(n, 16, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(fqdn, "box.example.test");
	cr_assert_eq(skt_fqdn(fqdn, 16), SKT_ETOOBIG);
}

SKT_TEST(resolve, fqdn_falls_back_to_host_name)
{
	isolate("127.0.0.1 localhost\n", "lonely");
	char fqdn[256];
	int n = skt_fqdn(fqdn, sizeof(fqdn));
	cr_assert_eq(n, 6, "got %d: %s", n, skt_strerror(n));
	cr_assert_str_eq(fqdn, "lonely");
}

/* getaddrinfo itself wraps "99999" to port 34463; sockit refuses it. */
SKT_TEST(resolve, numeric_service_out_of_range_is_ebadport)
{
	skt_addrlist l;
	cr_expect_eq(skt_resolve(&l, "127.0.0.1", "99999", AF_INET, 0, 0),
		     SKT_EBADPORT);
	cr_expect_eq(skt_resolve(&l, "127.0.0.1", "65536", AF_INET, 0, 0),
		     SKT_EBADPORT);
	cr_expect_eq(skt_resolve(&l, "127.0.0.1", "80abc", AF_INET, 0, 0),
		     SKT_EBADPORT);
	cr_expect_eq(l.n, 0);
}

SKT_TEST(resolve, listen_and_connect_refuse_wrapped_ports)
{
	cr_expect_eq(skt_listen(NULL, "99999", NULL), SKT_EBADPORT);
	cr_expect_eq(skt_connect("127.0.0.1", "70000", NULL), SKT_EBADPORT);
}
