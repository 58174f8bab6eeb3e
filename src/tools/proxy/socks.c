/* socks.c - SOCKS5 (RFC 1928, RFC 1929) and SOCKS4a, both sides, pure.
 *
 * Both sides read a message the same way: `want` is what the message is
 * known to need so far, bytes are taken up to it and no further, and
 * once it is reached the message is looked at, which either makes `want`
 * larger (a header that announces a length: checked against the buffer
 * first, and every SOCKS length is a single byte, so in[] always holds
 * the largest message) or ends the message. So nothing past a handshake
 * is ever consumed.
 */
#include "tools/proxy/proxy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Client steps. */
enum { C5_METHOD = 1, C5_AUTH, C5_REPLY, C4_REPLY };

static const char *const s5_names[] = {
	"succeeded",
	"general SOCKS server failure",
	"connection not allowed by ruleset",
	"network unreachable",
	"host unreachable",
	"connection refused",
	"TTL expired",
	"command not supported",
	"address type not supported",
};

const char *proxy_socks5_reply_name(int rep)
{
	if (rep >= 0 && (size_t)rep < sizeof(s5_names) / sizeof(*s5_names))
		return s5_names[rep];
	return "unknown";
}

const char *proxy_socks4_reply_name(int rep)
{
	switch (rep) {
	case 90:
		return "granted";
	case 91:
		return "rejected or failed";
	case 92:
		return "rejected: no identd on the client";
	case 93:
		return "rejected: identd disagrees on the user id";
	}
	return "unknown";
}

int proxy_fail(proxy_client *p, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	p->state = PROXY_FAILED;
	return err;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* ---- The client ---- */

static void s5_greeting(proxy_client *p)
{
	uint8_t *o = p->out;
	o[0] = 5;
	o[1] = p->u->auth ? 2 : 1;
	o[2] = 0; /* no authentication */
	o[3] = 2; /* RFC 1929 user/password */
	p->out_len = p->u->auth ? 4 : 3;
	p->step = C5_METHOD;
	p->want = 2;
}

static void s5_auth(proxy_client *p)
{
	size_t ul = strlen(p->u->user), pl = strlen(p->u->pass);
	uint8_t *o = p->out;
	o[0] = 1;
	o[1] = (uint8_t)ul;
	memcpy(o + 2, p->u->user, ul);
	o[2 + ul] = (uint8_t)pl;
	memcpy(o + 3 + ul, p->u->pass, pl);
	p->out_len = 3 + ul + pl;
	p->step = C5_AUTH;
	p->want = 2;
}

static void s5_request(proxy_client *p)
{
	uint8_t *o = p->out;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = 4;
	o[0] = 5;
	o[1] = 1; /* CONNECT */
	o[2] = 0;
	if (inet_pton(AF_INET, p->host, &a4) == 1) {
		o[3] = 1;
		memcpy(o + 4, &a4, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, p->host, &a6) == 1) {
		o[3] = 4;
		memcpy(o + 4, &a6, 16);
		n += 16;
	} else {
		size_t hl = strlen(p->host); /* <= SKT_HOST_MAX < 256 */
		o[3] = 3;
		o[4] = (uint8_t)hl;
		memcpy(o + 5, p->host, hl);
		n += 1 + hl;
	}
	put16(o + n, p->port);
	p->out_len = n + 2;
	p->step = C5_REPLY;
	p->want = 5; /* the reply's header and its address's first byte */
}

static void s4_request(proxy_client *p)
{
	uint8_t *o = p->out;
	struct in_addr a4;
	o[0] = 4;
	o[1] = 1;
	put16(o + 2, p->port);
	bool literal = inet_pton(AF_INET, p->host, &a4) == 1;
	if (!literal)
		a4.s_addr = htonl(1); /* 0.0.0.1: the name follows */
	memcpy(o + 4, &a4, 4);
	size_t n = 8, ul = p->u->auth ? strlen(p->u->user) : 0;
	memcpy(o + n, p->u->user, ul);
	n += ul;
	o[n++] = 0;
	if (!literal) {
		size_t hl = strlen(p->host);
		memcpy(o + n, p->host, hl);
		n += hl;
		o[n++] = 0;
	}
	p->out_len = n;
	p->step = C4_REPLY;
	p->want = 8;
}

int proxy_client_init(proxy_client *p, const proxy_url *u, const char *host,
		      uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->kind = u->kind;
	p->u = u;
	p->port = port;
	p->code = -1;
	size_t hl = strlen(host);
	if (hl == 0 || hl > SKT_HOST_MAX)
		return proxy_fail(p, SKT_EINVAL, "a target host of %zu bytes",
				  hl);
	memcpy(p->host, host, hl + 1);
	p->state = PROXY_SEND;
	struct in6_addr a6;
	switch (u->kind) {
	case PROXY_SOCKS5:
		s5_greeting(p);
		return 0;
	case PROXY_SOCKS4A:
		if (inet_pton(AF_INET6, host, &a6) == 1)
			return proxy_fail(p, SKT_EINVAL,
					  "SOCKS4a cannot carry an IPv6 "
					  "address");
		s4_request(p);
		return 0;
	case PROXY_HTTP:
		return proxy_http_init(p);
	}
	return proxy_fail(p, SKT_EINVAL, "no such proxy kind");
}

void proxy_client_sent(proxy_client *p)
{
	if (p->state != PROXY_SEND)
		return;
	p->out_len = 0;
	p->in_len = 0;
	p->state = PROXY_RECV;
}

size_t proxy_client_need(const proxy_client *p)
{
	if (p->state != PROXY_RECV)
		return 0;
	if (p->kind != PROXY_HTTP)
		return p->want - p->in_len;
	/* A head ends in an empty line: after a byte that is no line end,
	 * at least two more ("\n\n"); after CR or LF, one may do. */
	size_t need = 2;
	if (p->in_len > 0 &&
	    (p->in[p->in_len - 1] == '\n' || p->in[p->in_len - 1] == '\r'))
		need = 1;
	size_t room = PROXY_HEAD_MAX - p->in_len;
	return need < room ? need : room > 0 ? room : 1;
}

static int s5_method(proxy_client *p)
{
	if (p->in[0] != 5)
		return proxy_fail(p, SKT_EPROTO,
				  "not a SOCKS5 proxy (version byte 0x%02x)",
				  p->in[0]);
	int m = p->in[1];
	if (m == 0xff)
		return proxy_fail(p, SKT_EPROXYAUTH,
				  p->u->auth ? "the proxy accepts no method "
					       "we offer (user/password "
					       "offered)"
					     : "the proxy requires "
					       "authentication (give "
					       "user:pass@ in the URL)");
	if (m == 2 && p->u->auth) {
		s5_auth(p);
		p->state = PROXY_SEND;
		return 0;
	}
	if (m != 0)
		return proxy_fail(p, SKT_EPROTO,
				  "the proxy chose method 0x%02x, never "
				  "offered",
				  m);
	s5_request(p);
	p->state = PROXY_SEND;
	return 0;
}

static int s5_auth_status(proxy_client *p)
{
	/* RFC 1929 says version 1; some servers answer 5: either will do. */
	if (p->in[0] != 1 && p->in[0] != 5)
		return proxy_fail(p, SKT_EPROTO,
				  "a bad authentication answer (version "
				  "byte 0x%02x)",
				  p->in[0]);
	if (p->in[1] != 0)
		return proxy_fail(p, SKT_EPROXYAUTH,
				  "the proxy refused user '%s' (status %d)",
				  p->u->user, p->in[1]);
	s5_request(p);
	p->state = PROXY_SEND;
	return 0;
}

/* The reply's bound address, as text. */
static void s5_bound(proxy_client *p)
{
	skt_addr a;
	char ip[INET6_ADDRSTRLEN];
	const uint8_t *b = p->in + 4;
	uint16_t port;
	if (p->in[3] == 1) {
		inet_ntop(AF_INET, b, ip, sizeof(ip));
		port = (uint16_t)(b[4] << 8 | b[5]);
	} else if (p->in[3] == 4) {
		inet_ntop(AF_INET6, b, ip, sizeof(ip));
		port = (uint16_t)(b[16] << 8 | b[17]);
	} else {
		snprintf(p->bound, sizeof(p->bound), "%.*s:%u", (int)b[0],
			 (const char *)b + 1,
			 (unsigned)(b[1 + b[0]] << 8 | b[2 + b[0]]));
		return;
	}
	if (skt_addr_from_ip(&a, ip, port) == 0)
		skt_addr_format(&a, p->bound, sizeof(p->bound));
}

static int s5_reply(proxy_client *p)
{
	const uint8_t *r = p->in;
	if (p->want == 5) {
		if (r[0] != 5)
			return proxy_fail(p, SKT_EPROTO,
					  "not a SOCKS5 reply (version "
					  "byte 0x%02x)",
					  r[0]);
		p->code = r[1];
		if (r[1] != 0)
			return proxy_fail(p, SKT_EPROXY, "%s (SOCKS5 reply %d)",
					  proxy_socks5_reply_name(r[1]), r[1]);
		switch (r[3]) {
		case 1:
			p->want = 4 + 4 + 2;
			return 0;
		case 4:
			p->want = 4 + 16 + 2;
			return 0;
		case 3: /* a length byte: at most 4 + 1 + 255 + 2 */
			p->want = 4 + 1 + (size_t)r[4] + 2;
			return 0;
		}
		return proxy_fail(p, SKT_EPROTO,
				  "a SOCKS5 reply with address type %d", r[3]);
	}
	s5_bound(p);
	snprintf(p->detail, sizeof(p->detail), "succeeded (SOCKS5 reply 0)");
	p->state = PROXY_DONE;
	return 0;
}

static int s4_reply(proxy_client *p)
{
	const uint8_t *r = p->in;
	if (r[0] != 0)
		return proxy_fail(p, SKT_EPROTO,
				  "not a SOCKS4 reply (version byte 0x%02x)",
				  r[0]);
	p->code = r[1];
	if (r[1] != 90)
		return proxy_fail(p, SKT_EPROXY, "%s (SOCKS4 reply %d)",
				  proxy_socks4_reply_name(r[1]), r[1]);
	snprintf(p->detail, sizeof(p->detail), "granted (SOCKS4 reply 90)");
	p->state = PROXY_DONE;
	return 0;
}

static int socks_message(proxy_client *p)
{
	switch (p->step) {
	case C5_METHOD:
		return s5_method(p);
	case C5_AUTH:
		return s5_auth_status(p);
	case C5_REPLY:
		return s5_reply(p);
	}
	return s4_reply(p);
}

ssize_t proxy_client_feed(proxy_client *p, const uint8_t *data, size_t len)
{
	if (p->state == PROXY_FAILED)
		return SKT_EINVAL;
	if (p->kind == PROXY_HTTP)
		return proxy_http_feed(p, data, len);
	size_t used = 0;
	while (p->state == PROXY_RECV && used < len) {
		size_t take = p->want - p->in_len; /* want <= sizeof(in) */
		if (take > len - used)
			take = len - used;
		memcpy(p->in + p->in_len, data + used, take);
		p->in_len += take;
		used += take;
		if (p->in_len < p->want)
			break;
		int rc = socks_message(p);
		if (rc < 0)
			return rc;
	}
	return (ssize_t)used;
}

/* ---- The SOCKS5 server ---- */

void socks5_srv_init(socks5_srv *s, const char *user, const char *pass)
{
	memset(s, 0, sizeof(*s));
	s->state = S5_GREET;
	s->user = user;
	s->pass = pass;
	s->want = 2;
}

size_t socks5_srv_need(const socks5_srv *s)
{
	if (s->state != S5_GREET && s->state != S5_AUTH &&
	    s->state != S5_REQUEST)
		return 0;
	return s->want - s->in_len;
}

static void answer(socks5_srv *s, uint8_t a, uint8_t b)
{
	s->out[0] = a;
	s->out[1] = b;
	s->out_len = 2;
}

static int refuse(socks5_srv *s, const char *why)
{
	s->state = S5_CLOSE;
	s->why = why;
	return SKT_EPROTO;
}

static void next(socks5_srv *s, int state)
{
	s->state = state;
	s->in_len = 0;
	s->want = state == S5_REQUEST ? 5 : 2;
}

static int srv_greet(socks5_srv *s)
{
	const uint8_t *m = s->in;
	if (m[0] != 5)
		return refuse(s, "not SOCKS5");
	if (s->want == 2 && m[1] > 0) {
		s->want = 2 + (size_t)m[1];
		return 0;
	}
	int want = s->user != NULL ? 2 : 0;
	for (size_t i = 2; i < s->want; i++)
		if (m[i] == want) {
			answer(s, 5, (uint8_t)want);
			next(s, want == 2 ? S5_AUTH : S5_REQUEST);
			return 0;
		}
	answer(s, 5, 0xff);
	refuse(s, "no acceptable authentication method");
	return 0;
}

static int srv_auth(socks5_srv *s)
{
	const uint8_t *m = s->in;
	if (m[0] != 1)
		return refuse(s, "a bad RFC 1929 version");
	if (s->want == 2) {
		if (m[1] == 0)
			return refuse(s, "an empty user name");
		s->want = 2 + (size_t)m[1] + 1;
		return 0;
	}
	size_t ul = m[1];
	if (s->want == 3 + ul && m[2 + ul] > 0) {
		s->want += m[2 + ul];
		return 0;
	}
	size_t pl = m[2 + ul];
	bool ok = ul == strlen(s->user) && memcmp(m + 2, s->user, ul) == 0 &&
		  pl == strlen(s->pass) && memcmp(m + 3 + ul, s->pass, pl) == 0;
	if (!ok) {
		answer(s, 1, 1);
		refuse(s, "wrong user or password");
		return 0;
	}
	answer(s, 1, 0);
	next(s, S5_REQUEST);
	return 0;
}

static bool name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == ':';
}

static void srv_refuse_req(socks5_srv *s, int rep, const char *why)
{
	socks5_srv_reply(s, rep, NULL);
	s->why = why;
}

static int srv_request(socks5_srv *s)
{
	const uint8_t *m = s->in;
	if (m[0] != 5)
		return refuse(s, "a request not SOCKS5");
	if (s->want == 5) {
		if (m[1] != 1) {
			srv_refuse_req(s, S5_CMD_UNSUPPORTED,
				       m[1] == 2   ? "BIND refused"
				       : m[1] == 3 ? "UDP ASSOCIATE refused"
						   : "an unknown command");
			return 0;
		}
		if (m[3] == 1)
			s->want = 10;
		else if (m[3] == 4)
			s->want = 22;
		else if (m[3] == 3 && m[4] > 0)
			s->want = 4 + 1 + (size_t)m[4] + 2;
		else if (m[3] == 3)
			return refuse(s, "an empty host name");
		else
			srv_refuse_req(s, S5_ATYP_UNSUPPORTED,
				       "an unknown address type");
		return 0;
	}
	s->atyp = m[3];
	const uint8_t *a = m + 4;
	if (s->atyp == 1) {
		inet_ntop(AF_INET, a, s->host, sizeof(s->host));
		a += 4;
	} else if (s->atyp == 4) {
		inet_ntop(AF_INET6, a, s->host, sizeof(s->host));
		a += 16;
	} else {
		size_t n = a[0];
		for (size_t i = 0; i < n; i++)
			if (!name_byte(a[1 + i])) {
				srv_refuse_req(s, S5_HOST_UNREACH,
					       "a host name with a bad byte");
				return 0;
			}
		memcpy(s->host, a + 1, n);
		s->host[n] = '\0';
		a += 1 + n;
	}
	s->port = (uint16_t)(a[0] << 8 | a[1]);
	s->state = S5_CONNECT;
	return 0;
}

ssize_t socks5_srv_feed(socks5_srv *s, const uint8_t *data, size_t len)
{
	size_t used = 0;
	s->out_len = 0;
	int state = s->state;
	while (s->state == state && socks5_srv_need(s) > 0 && used < len) {
		size_t take = s->want - s->in_len; /* want <= sizeof(in) */
		if (take > len - used)
			take = len - used;
		memcpy(s->in + s->in_len, data + used, take);
		s->in_len += take;
		used += take;
		if (s->in_len < s->want)
			break;
		int rc = s->state == S5_GREET  ? srv_greet(s)
			 : s->state == S5_AUTH ? srv_auth(s)
					       : srv_request(s);
		if (rc < 0)
			return rc;
	}
	return (ssize_t)used;
}

void socks5_srv_reply(socks5_srv *s, int rep, const skt_addr *bound)
{
	uint8_t *o = s->out;
	o[0] = 5;
	o[1] = (uint8_t)rep;
	o[2] = 0;
	size_t n = 4;
	if (bound != NULL && skt_addr_family(bound) == AF_INET6) {
		o[3] = 4;
		memcpy(o + 4, &bound->u.in6.sin6_addr, 16);
		n += 16;
	} else {
		o[3] = 1;
		if (bound != NULL && skt_addr_family(bound) == AF_INET)
			memcpy(o + 4, &bound->u.in4.sin_addr, 4);
		else
			memset(o + 4, 0, 4);
		n += 4;
	}
	put16(o + n, bound != NULL ? skt_addr_port(bound) : 0);
	s->out_len = n + 2;
	s->state = rep == S5_OK ? S5_OPEN : S5_CLOSE;
	if (rep != S5_OK && s->why == NULL)
		s->why = proxy_socks5_reply_name(rep);
}

int socks5_srv_rep_for(int err)
{
	switch (err) {
	case SKT_ECONNREFUSED:
		return S5_REFUSED;
	case SKT_ENETUNREACH:
	case SKT_ENETDOWN:
		return S5_NET_UNREACH;
	case SKT_EHOSTUNREACH:
	case SKT_EHOSTDOWN:
	case SKT_ETIMEDOUT:
	case SKT_EAI_NONAME:
	case SKT_EAI_NODATA:
	case SKT_EAI_AGAIN:
		return S5_HOST_UNREACH;
	case SKT_EAFNOSUPPORT:
		return S5_ATYP_UNSUPPORTED;
	}
	return S5_FAILURE;
}
