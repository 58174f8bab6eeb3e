/* proxy.c - fuzz the proxy handshake codecs (src/tools/proxy/): the
 * client's reading of a SOCKS5, SOCKS4a or HTTP CONNECT proxy's answers
 * (proxy_client_feed), and the SOCKS5 server's reading of a client
 * (socks5_srv_feed): what `sockit connect --proxy`, `sockit http --proxy`
 * and `sockit serve socks5` read from a peer.
 *
 * Input: a flags byte (bits 0-1: SOCKS5, SOCKS5 with user/password,
 * SOCKS4a, HTTP; bit 2: the target is an IPv4 literal, else a name; bit
 * 3: fuzz the server, with user/password when bit 4), the split sizes
 * (fuzz_splits_take), then the peer's bytes. Each time the codec has
 * bytes to send they are taken as sent, and the input goes on as the
 * next answer.
 *
 * Properties: a feed consumes at most what it is given, and less only
 * when the handshake ended (DONE, CONNECT, OPEN, CLOSE) or failed; need
 * is at least 1 while reading and never more than the buffer holds;
 * whole and split feeds agree on consumption, the end state, the error,
 * the code and the detail; errors are documented and sticky; output
 * lengths within their buffers.
 */
#include "fuzz.h"
#include "msgs.h"

#include "tools/proxy/proxy.h"

#include <string.h>

typedef struct run {
	long used; /* consumed in all, or the error */
	int state, code;
	char detail[160];
} run;

static proxy_url u;

static run client(const uint8_t *p, size_t n, fuzz_splits *sp, bool v4)
{
	static proxy_client c;
	run r = {0};
	FUZZ_CHECK(proxy_client_init(&c, &u, v4 ? "10.0.0.1" : "example.test",
				     80) == 0);
	size_t pos = 0;
	while (c.state == PROXY_SEND || (c.state == PROXY_RECV && pos < n)) {
		if (c.state == PROXY_SEND) {
			FUZZ_CHECK(c.out_len > 0 && c.out_len <= PROXY_OUT_MAX);
			proxy_client_sent(&c);
			continue;
		}
		size_t need = proxy_client_need(&c);
		FUZZ_CHECK(need >= 1 && need <= PROXY_HEAD_MAX);
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		if (k == 0)
			k = 1;
		ssize_t used = proxy_client_feed(&c, p + pos, k);
		if (used < 0) {
			FUZZ_CHECK(used == SKT_EPROTO || used == SKT_EPROXY ||
				   used == SKT_EPROXYAUTH ||
				   used == SKT_ETOOBIG);
			FUZZ_CHECK(c.state == PROXY_FAILED);
			FUZZ_CHECK(proxy_client_feed(&c, p, n) == SKT_EINVAL);
			r.used = used;
			break;
		}
		FUZZ_CHECK((size_t)used <= k);
		FUZZ_CHECK((size_t)used == k || c.state != PROXY_RECV);
		pos += (size_t)used;
		r.used = (long)pos;
	}
	FUZZ_CHECK(strlen(c.detail) < sizeof(c.detail));
	r.state = c.state;
	r.code = c.code;
	memcpy(r.detail, c.detail, sizeof(r.detail));
	return r;
}

static run server(const uint8_t *p, size_t n, fuzz_splits *sp, bool auth)
{
	socks5_srv s;
	run r = {0};
	socks5_srv_init(&s, auth ? "user" : NULL, auth ? "pass" : NULL);
	size_t pos = 0;
	while (socks5_srv_need(&s) > 0 && pos < n) {
		size_t need = socks5_srv_need(&s);
		FUZZ_CHECK(need <= sizeof(s.in));
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		if (k == 0)
			k = 1;
		int before = s.state;
		ssize_t used = socks5_srv_feed(&s, p + pos, k);
		FUZZ_CHECK(s.out_len <= sizeof(s.out));
		if (used < 0) {
			FUZZ_CHECK(used == SKT_EPROTO && s.state == S5_CLOSE);
			r.used = used;
			break;
		}
		FUZZ_CHECK((size_t)used <= k);
		FUZZ_CHECK((size_t)used == k || s.state != before);
		pos += (size_t)used;
		r.used = (long)pos;
	}
	if (s.state == S5_CONNECT) {
		FUZZ_CHECK(s.atyp == 1 || s.atyp == 3 || s.atyp == 4);
		FUZZ_CHECK(s.host[0] != '\0' &&
			   strlen(s.host) < sizeof(s.host));
		socks5_srv_reply(&s, S5_OK, NULL);
		FUZZ_CHECK(s.state == S5_OPEN && s.out_len == 10);
	}
	r.state = s.state;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);
	static const char *const urls[] = {
		"socks5://127.0.0.1:1", "socks5://user:pass@127.0.0.1:1",
		"socks4a://user@127.0.0.1:1", "http://user:pass@127.0.0.1:1"};
	run whole, split;
	if (flags & 8) {
		whole = server(in.p, in.n, NULL, flags & 16);
		split = server(in.p, in.n, &sp, flags & 16);
	} else {
		const char *why;
		FUZZ_CHECK(proxy_url_parse(&u, urls[flags & 3], &why) == 0);
		whole = client(in.p, in.n, NULL, flags & 4);
		split = client(in.p, in.n, &sp, flags & 4);
		FUZZ_CHECK(whole.code == split.code);
		FUZZ_CHECK(strcmp(whole.detail, split.detail) == 0);
	}
	FUZZ_CHECK(whole.used == split.used);
	FUZZ_CHECK(whole.state == split.state);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
