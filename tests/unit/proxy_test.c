/* proxy_test.c - the proxy codecs (src/tools/proxy/) without sockets:
 * proxy URLs, the request bytes of SOCKS5, SOCKS4a and HTTP CONNECT, the
 * replies parsed whole and byte by byte, never a byte past the handshake
 * consumed, each failure with its code and words, and the SOCKS5 server
 * codec against the client codec. */
#include "sktest.h"

#include "tools/proxy/proxy.h"

#include <string.h>

static proxy_url url(const char *text)
{
	proxy_url u;
	const char *why = NULL;
	int rc = proxy_url_parse(&u, text, &why);
	cr_assert_eq(rc, 0, "%s: %s", text, why);
	return u;
}

static void bad_url(const char *text, const char *want)
{
	proxy_url u;
	const char *why = NULL;
	skt_assert_err(proxy_url_parse(&u, text, &why), SKT_EINVAL);
	cr_assert_str_eq(why, want, "%s", text);
}

SKT_TEST(proxy, url_forms)
{
	proxy_url u = url("socks5://127.0.0.1:1080");
	cr_assert_eq(u.kind, PROXY_SOCKS5);
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 1080);
	cr_assert(!u.auth);
	u = url("SOCKS5H://[::1]:9050/");
	cr_assert_eq(u.kind, PROXY_SOCKS5);
	cr_assert_str_eq(u.scheme, "socks5h");
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 9050);
	u = url("http://al%3Ai:p@ss@localhost:3128");
	cr_assert_eq(u.kind, PROXY_HTTP);
	cr_assert(u.auth);
	cr_assert_str_eq(u.user, "al:i");
	cr_assert_str_eq(u.pass, "p@ss");
	cr_assert_str_eq(u.host, "localhost");
	u = url("socks4a://bob@10.0.0.1");
	cr_assert_eq(u.kind, PROXY_SOCKS4A);
	cr_assert_eq(u.port, PROXY_DEFAULT_PORT);
	cr_assert_str_eq(u.user, "bob");
	cr_assert_str_eq(u.pass, "");
}

SKT_TEST(proxy, url_refusals)
{
	bad_url("https://h:1",
		"not socks5://, socks5h://, socks4a:// or http://");
	bad_url("socks5:/h:1",
		"not socks5://, socks5h://, socks4a:// or http://");
	bad_url("socks5://:1", "no host");
	bad_url("socks5://h:0", "bad port");
	bad_url("socks5://h:65536", "bad port");
	bad_url("socks5://h:12x", "bad port");
	bad_url("socks5://h:1/path", "a path after the address");
	bad_url("socks5://u%4:p@h:1", "a bad % escape");
	bad_url("socks5://u%00:p@h:1", "a bad % escape");
	bad_url("socks5://h :1", "a space or control byte");
	bad_url("socks5://[::1:1", "an unterminated [");
	bad_url("socks5://:p@h:1", "an empty user name");
	char big[400] = "socks5://";
	memset(big + 9, 'u', 300);
	strcpy(big + 309, "@h:1");
	bad_url(big, "a user name or password over 255 bytes");
}

SKT_TEST(proxy, base64_vectors)
{
	/* RFC 4648 10. */
	static const char *const in[] = {"",     "f",     "fo",    "foo",
					 "foob", "fooba", "foobar"};
	static const char *const out[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char b[16];
		int n = proxy_base64((const uint8_t *)in[i], strlen(in[i]), b,
				     sizeof(b));
		cr_assert_eq(n, (int)strlen(out[i]));
		cr_assert_str_eq(b, out[i]);
	}
	char b[8];
	skt_assert_err(proxy_base64((const uint8_t *)"foobar", 6, b, 8),
		       SKT_ETOOBIG);
}

/* Check the bytes p has to send, then mark them sent. */
static void expect_out(proxy_client *p, const void *want, size_t n)
{
	cr_assert_eq(p->state, PROXY_SEND);
	cr_assert_eq(p->out_len, n, "out %zu bytes, want %zu", p->out_len, n);
	cr_assert_arr_eq(p->out, want, n);
	proxy_client_sent(p);
	cr_assert_eq(p->state, PROXY_RECV);
}

/* Feed reply in pieces of step bytes (0: whole) while p reads; returns
 * the bytes consumed in all, or the error. */
static long feed(proxy_client *p, const void *reply, size_t n, size_t step)
{
	const uint8_t *r = (const uint8_t *)sktest_guarded_n(reply, n);
	size_t pos = 0;
	while (pos < n && p->state == PROXY_RECV) {
		size_t k = step == 0 || step > n - pos ? n - pos : step;
		ssize_t used = proxy_client_feed(p, r + pos, k);
		if (used < 0) {
			cr_assert_eq(p->state, PROXY_FAILED);
			return used;
		}
		cr_assert_leq((size_t)used, k);
		pos += (size_t)used;
		if ((size_t)used < k)
			break;
	}
	return (long)pos;
}

static const uint8_t s5_ok_v4[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90};

SKT_TEST(proxy, socks5_name_whole_and_bytewise)
{
	proxy_url u = url("socks5://127.0.0.1:1080");
	for (size_t step = 0; step <= 1; step++) {
		proxy_client p;
		cr_assert_eq(proxy_client_init(&p, &u, "example.test", 80), 0);
		expect_out(&p, "\x05\x01\x00", 3);
		cr_assert_eq(proxy_client_need(&p), 2);
		cr_assert_eq(feed(&p, "\x05\x00", 2, step), 2);
		expect_out(&p,
			   "\x05\x01\x00\x03\x0c"
			   "example.test\x00\x50",
			   7 + 12);
		/* The tunnel's first bytes follow the reply: not consumed. */
		uint8_t r[sizeof(s5_ok_v4) + 3];
		memcpy(r, s5_ok_v4, sizeof(s5_ok_v4));
		memcpy(r + sizeof(s5_ok_v4), "SSH", 3);
		cr_assert_eq(feed(&p, r, sizeof(r), step),
			     (long)sizeof(s5_ok_v4));
		cr_assert_eq(p.state, PROXY_DONE);
		cr_assert_str_eq(p.bound, "127.0.0.1:8080");
		cr_assert_eq(proxy_client_need(&p), 0);
	}
}

SKT_TEST(proxy, socks5_literals_as_addresses)
{
	proxy_url u = url("socks5://127.0.0.1:1080");
	proxy_client p;
	cr_assert_eq(proxy_client_init(&p, &u, "10.1.2.3", 443), 0);
	proxy_client_sent(&p);
	feed(&p, "\x05\x00", 2, 0);
	expect_out(&p, "\x05\x01\x00\x01\x0a\x01\x02\x03\x01\xbb", 10);
	cr_assert_eq(proxy_client_init(&p, &u, "::1", 7), 0);
	proxy_client_sent(&p);
	feed(&p, "\x05\x00", 2, 0);
	uint8_t want[22] = {5, 1, 0, 4};
	want[19] = 1;
	want[21] = 7;
	expect_out(&p, want, sizeof(want));
	/* A v6 bound address, then a name as the bound address. */
	uint8_t r6[22] = {5, 0, 0, 4};
	r6[19] = 1;
	r6[21] = 9;
	cr_assert_eq(feed(&p, r6, sizeof(r6), 1), 22);
	cr_assert_str_eq(p.bound, "[::1]:9");
}

SKT_TEST(proxy, socks5_userpass)
{
	proxy_url u = url("socks5h://alice:s3cret@127.0.0.1:1080");
	proxy_client p;
	cr_assert_eq(proxy_client_init(&p, &u, "h", 1), 0);
	expect_out(&p, "\x05\x02\x00\x02", 4);
	feed(&p, "\x05\x02", 2, 0);
	expect_out(&p,
		   "\x01\x05"
		   "alice"
		   "\x06"
		   "s3cret",
		   14);
	feed(&p, "\x01\x00", 2, 0);
	expect_out(&p, "\x05\x01\x00\x03\x01h\x00\x01", 8);
	uint8_t r[] = {5, 0, 0, 3, 4, 'p', 'r', 'o', 'x', 0, 80};
	cr_assert_eq(feed(&p, r, sizeof(r), 0), (long)sizeof(r));
	cr_assert_eq(p.state, PROXY_DONE);
	cr_assert_str_eq(p.bound, "prox:80");
}

static int s5_fail_at_reply(const char *purl, const void *r1, size_t n1,
			    const void *r2, size_t n2, proxy_client *p)
{
	proxy_url u = url(purl);
	static proxy_url keep;
	keep = u;
	cr_assert_eq(proxy_client_init(p, &keep, "example.test", 80), 0);
	proxy_client_sent(p);
	long rc = feed(p, r1, n1, 1);
	if (rc < 0 || r2 == NULL)
		return (int)rc;
	proxy_client_sent(p);
	return (int)feed(p, r2, n2, 1);
}

SKT_TEST(proxy, socks5_failures_named)
{
	proxy_client p;
	const char *s = "socks5://127.0.0.1:1";
	skt_assert_err(s5_fail_at_reply(s, "HTTP/1.1", 8, NULL, 0, &p),
		       SKT_EPROTO);
	cr_assert_str_eq(p.detail, "not a SOCKS5 proxy (version byte 0x48)");
	skt_assert_err(s5_fail_at_reply(s, "\x05\xff", 2, NULL, 0, &p),
		       SKT_EPROXYAUTH);
	cr_assert(strstr(p.detail, "requires authentication") != NULL);
	skt_assert_err(s5_fail_at_reply(s, "\x05\x02", 2, NULL, 0, &p),
		       SKT_EPROTO);
	skt_assert_err(s5_fail_at_reply(s, "\x05\x00", 2,
					"\x05\x05\x00\x01\0\0\0\0\0\0", 10, &p),
		       SKT_EPROXY);
	cr_assert_str_eq(p.detail, "connection refused (SOCKS5 reply 5)");
	cr_assert_eq(p.code, 5);
	skt_assert_err(s5_fail_at_reply(s, "\x05\x00", 2,
					"\x05\x02\x00\x01\0\0\0\0\0\0", 10, &p),
		       SKT_EPROXY);
	cr_assert_str_eq(p.detail,
			 "connection not allowed by ruleset (SOCKS5 reply 2)");
	skt_assert_err(
		s5_fail_at_reply(s, "\x05\x00", 2, "\x05\x00\x00\x07\0", 5, &p),
		SKT_EPROTO);
	skt_assert_err(
		s5_fail_at_reply(s, "\x05\x00", 2, "\x04\x00\x00\x01\0", 5, &p),
		SKT_EPROTO);
	/* A failed client stays failed. */
	skt_assert_err(proxy_client_feed(&p, (const uint8_t *)"x", 1),
		       SKT_EINVAL);
	skt_assert_err(s5_fail_at_reply("socks5://u:p@h:1", "\x05\x02", 2,
					"\x01\x01", 2, &p),
		       SKT_EPROXYAUTH);
	cr_assert_str_eq(p.detail, "the proxy refused user 'u' (status 1)");
}

SKT_TEST(proxy, socks5_huge_name_length_bounded)
{
	/* A name of 255 bytes in the reply is read to its end, no further. */
	proxy_client p;
	uint8_t r[4 + 1 + 255 + 2 + 5] = {5, 0, 0, 3, 255};
	memset(r + 5, 'a', 255);
	memcpy(r + 262, "extra", 5);
	cr_assert_eq(s5_fail_at_reply("socks5://h:1", "\x05\x00", 2, r,
				      sizeof(r), &p),
		     262);
	cr_assert_eq(p.state, PROXY_DONE);
	proxy_url u = url("socks5://h:1");
	char name[300];
	memset(name, 'n', 299);
	name[299] = '\0';
	skt_assert_err(proxy_client_init(&p, &u, name, 1), SKT_EINVAL);
}

SKT_TEST(proxy, socks4a_forms)
{
	proxy_url u = url("socks4a://bob@127.0.0.1:1080");
	proxy_client p;
	cr_assert_eq(proxy_client_init(&p, &u, "example.test", 80), 0);
	expect_out(&p,
		   "\x04\x01\x00\x50\x00\x00\x00\x01"
		   "bob\0example.test",
		   8 + 4 + 13);
	uint8_t ok[] = {0, 90, 0, 0, 0, 0, 0, 0, 'x'};
	cr_assert_eq(feed(&p, ok, sizeof(ok), 1), 8);
	cr_assert_eq(p.state, PROXY_DONE);
	proxy_url anon = url("socks4a://127.0.0.1:1080");
	cr_assert_eq(proxy_client_init(&p, &anon, "10.0.0.2", 22), 0);
	expect_out(&p, "\x04\x01\x00\x16\x0a\x00\x00\x02\x00", 9);
	uint8_t no[] = {0, 91, 0, 0, 0, 0, 0, 0};
	skt_assert_err(feed(&p, no, sizeof(no), 0), SKT_EPROXY);
	cr_assert_str_eq(p.detail, "rejected or failed (SOCKS4 reply 91)");
	cr_assert_eq(proxy_client_init(&p, &anon, "10.0.0.2", 22), 0);
	proxy_client_sent(&p);
	skt_assert_err(feed(&p, "\x05\x00\0\0\0\0\0\0", 8, 0), SKT_EPROTO);
	skt_assert_err(proxy_client_init(&p, &anon, "::1", 22), SKT_EINVAL);
	cr_assert_str_eq(p.detail, "SOCKS4a cannot carry an IPv6 address");
}

SKT_TEST(proxy, http_connect_request)
{
	proxy_url u = url("http://127.0.0.1:3128");
	proxy_client p;
	cr_assert_eq(proxy_client_init(&p, &u, "example.test", 443), 0);
	const char *want = "CONNECT example.test:443 HTTP/1.1\r\n"
			   "Host: example.test:443\r\n"
			   "User-Agent: sockit/" SKT_VERSION_STRING "\r\n\r\n";
	expect_out(&p, want, strlen(want));
	proxy_url a = url("http://Aladdin:open%20sesame@127.0.0.1:3128");
	cr_assert_eq(proxy_client_init(&p, &a, "::1", 80), 0);
	want = "CONNECT [::1]:80 HTTP/1.1\r\n"
	       "Host: [::1]:80\r\n"
	       "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
	       "User-Agent: sockit/" SKT_VERSION_STRING "\r\n\r\n";
	expect_out(&p, want, strlen(want));
	skt_assert_err(proxy_client_init(&p, &u, "a b", 80), SKT_EINVAL);
	skt_assert_err(proxy_client_init(&p, &u, "a\r\nX: y", 80), SKT_EINVAL);
}

static long http_answer(const char *answer, size_t step, proxy_client *p)
{
	static proxy_url u;
	u = url("http://127.0.0.1:3128");
	cr_assert_eq(proxy_client_init(p, &u, "h", 1), 0);
	proxy_client_sent(p);
	return feed(p, answer, strlen(answer), step);
}

SKT_TEST(proxy, http_connect_answers)
{
	proxy_client p;
	const char *ok = "HTTP/1.1 100 Continue\r\n\r\n"
			 "HTTP/1.1 200 Connection established\r\n"
			 "Content-Length: 5\r\n\r\nhello";
	for (size_t step = 0; step <= 1; step++) {
		cr_assert_eq(http_answer(ok, step, &p), (long)strlen(ok) - 5);
		cr_assert_eq(p.state, PROXY_DONE);
		cr_assert_eq(p.code, 200);
		cr_assert_str_eq(p.detail, "HTTP 200 Connection established");
	}
	skt_assert_err(http_answer("HTTP/1.0 403 Forbidden\r\n\r\n", 0, &p),
		       SKT_EPROXY);
	cr_assert_str_eq(p.detail, "HTTP 403 Forbidden");
	skt_assert_err(http_answer("HTTP/1.1 407 Proxy Authentication "
				   "Required\n\n",
				   1, &p),
		       SKT_EPROXYAUTH);
	cr_assert_eq(p.code, 407);
	skt_assert_err(http_answer("\x05\x01\r\n\r\n", 0, &p), SKT_EPROTO);
	cr_assert(strncmp(p.detail, "a malformed HTTP answer: ", 25) == 0, "%s",
		  p.detail);
	skt_assert_err(http_answer("HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", 3, &p),
		       SKT_EPROTO);
}

SKT_TEST(proxy, http_need_never_reads_past_the_head)
{
	proxy_client p;
	cr_assert_eq(http_answer("HTTP/1.1 200 OK\r", 0, &p), 16);
	cr_assert_eq(proxy_client_need(&p), 1);
	feed(&p, "\n", 1, 0);
	cr_assert_eq(proxy_client_need(&p), 1);
	feed(&p, "X", 1, 0);
	cr_assert_eq(proxy_client_need(&p), 2);
}

SKT_TEST(proxy, http_head_too_big)
{
	proxy_client p;
	size_t n = PROXY_HEAD_MAX + 100;
	char *big = malloc(n + 1);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', n - 20);
	big[n] = '\0';
	skt_assert_err(http_answer(big, 0, &p), SKT_ETOOBIG);
	skt_assert_err(http_answer(big, 4096, &p), SKT_ETOOBIG);
	free(big);
}

/* ---- The server codec ---- */

/* Feed the server everything in pieces of step; collect its output. */
static void srv_run(socks5_srv *s, const void *in, size_t n, size_t step,
		    uint8_t *out, size_t *out_len)
{
	const uint8_t *p = (const uint8_t *)sktest_guarded_n(in, n);
	size_t pos = 0;
	*out_len = 0;
	while (pos < n && socks5_srv_need(s) > 0) {
		size_t k = step == 0 || step > n - pos ? n - pos : step;
		ssize_t used = socks5_srv_feed(s, p + pos, k);
		memcpy(out + *out_len, s->out, s->out_len);
		*out_len += s->out_len;
		if (used < 0)
			return;
		pos += (size_t)used;
	}
}

SKT_TEST(proxy, server_connect_by_name_and_address)
{
	for (size_t step = 0; step <= 1; step++) {
		socks5_srv s;
		uint8_t out[64];
		size_t n;
		socks5_srv_init(&s, NULL, NULL);
		srv_run(&s,
			"\x05\x02\x02\x00"
			"\x05\x01\x00\x03\x09localhost\x1f\x90",
			4 + 16, step, out, &n);
		cr_assert_eq(s.state, S5_CONNECT);
		cr_assert_arr_eq(out, "\x05\x00", 2);
		cr_assert_eq(n, 2);
		cr_assert_str_eq(s.host, "localhost");
		cr_assert_eq(s.port, 8080);
		skt_addr b;
		skt_addr_from_ip(&b, "127.0.0.1", 4242);
		socks5_srv_reply(&s, S5_OK, &b);
		cr_assert_eq(s.state, S5_OPEN);
		cr_assert_arr_eq(
			s.out, "\x05\x00\x00\x01\x7f\x00\x00\x01\x10\x92", 10);
		socks5_srv_init(&s, NULL, NULL);
		srv_run(&s,
			"\x05\x01\x00"
			"\x05\x01\x00\x04"
			"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x07",
			3 + 22, step, out, &n);
		cr_assert_eq(s.state, S5_CONNECT);
		cr_assert_str_eq(s.host, "::1");
		cr_assert_eq(s.port, 7);
	}
}

SKT_TEST(proxy, server_auth_and_refusals)
{
	socks5_srv s;
	uint8_t out[64];
	size_t n;
	socks5_srv_init(&s, "u", "pw");
	srv_run(&s, "\x05\x01\x00", 3, 0, out, &n);
	cr_assert_eq(s.state, S5_CLOSE);
	cr_assert_arr_eq(out, "\x05\xff", 2);
	socks5_srv_init(&s, "u", "pw");
	srv_run(&s,
		"\x05\x01\x02"
		"\x01\x01u\x02pX",
		3 + 6, 1, out, &n);
	cr_assert_eq(s.state, S5_CLOSE);
	cr_assert_eq(n, 4);
	cr_assert_arr_eq(out, "\x05\x02\x01\x01", 4);
	socks5_srv_init(&s, "u", "pw");
	srv_run(&s,
		"\x05\x01\x02"
		"\x01\x01u\x02pw"
		"\x05\x02\x00\x01\0\0\0\0\0\0",
		3 + 6 + 10, 1, out, &n);
	cr_assert_eq(s.state, S5_CLOSE);
	cr_assert_eq(n, 4 + 10);
	cr_assert_eq(out[5], S5_CMD_UNSUPPORTED); /* BIND */
	cr_assert_str_eq(s.why, "BIND refused");
	socks5_srv_init(&s, NULL, NULL);
	srv_run(&s,
		"\x05\x01\x00"
		"\x05\x03\x00\x01\0\0\0\0\0\0",
		13, 0, out, &n);
	cr_assert_eq(out[3], S5_CMD_UNSUPPORTED);
	cr_assert_str_eq(s.why, "UDP ASSOCIATE refused");
	socks5_srv_init(&s, NULL, NULL);
	srv_run(&s,
		"\x05\x01\x00"
		"\x05\x01\x00\x09\0\0\0\0\0\0",
		13, 0, out, &n);
	cr_assert_eq(out[3], S5_ATYP_UNSUPPORTED);
	socks5_srv_init(&s, NULL, NULL);
	srv_run(&s, "\x04\x01\x00\x50", 4, 0, out, &n);
	cr_assert_eq(s.state, S5_CLOSE);
	cr_assert_eq(n, 0);
	socks5_srv_init(&s, NULL, NULL);
	srv_run(&s,
		"\x05\x01\x00"
		"\x05\x01\x00\x03\x03"
		"a\nb\0\x50",
		3 + 10, 0, out, &n);
	cr_assert_eq(s.state, S5_CLOSE);
	cr_assert_eq(out[3], S5_HOST_UNREACH);
	cr_assert_eq(socks5_srv_rep_for(SKT_ECONNREFUSED), S5_REFUSED);
	cr_assert_eq(socks5_srv_rep_for(SKT_ENOMEM), S5_FAILURE);
}

/* The client codec against the server codec, in pieces. */
SKT_TEST(proxy, client_against_server)
{
	proxy_url u = url("socks5://me:pw@127.0.0.1:1");
	for (size_t step = 1; step <= 7; step += 3) {
		proxy_client p;
		socks5_srv s;
		cr_assert_eq(proxy_client_init(&p, &u, "db.internal", 5432), 0);
		socks5_srv_init(&s, "me", "pw");
		while (p.state != PROXY_DONE) {
			cr_assert_eq(p.state, PROXY_SEND);
			uint8_t srv_out[64];
			size_t n;
			srv_run(&s, p.out, p.out_len, step, srv_out, &n);
			proxy_client_sent(&p);
			if (s.state == S5_CONNECT) {
				socks5_srv_reply(&s, S5_OK, NULL);
				memcpy(srv_out, s.out, s.out_len);
				n = s.out_len;
			}
			cr_assert_eq(feed(&p, srv_out, n, step), (long)n);
		}
		cr_assert_str_eq(s.host, "db.internal");
		cr_assert_eq(s.port, 5432);
		cr_assert_str_eq(p.bound, "0.0.0.0:0");
	}
}
