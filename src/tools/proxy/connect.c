/* connect.c - the HTTP CONNECT handshake (RFC 9110 9.3.6), client side,
 * pure: the request head (Basic credentials, RFC 7617, when the URL has
 * them), and the answer's head read with the library's codec
 * (skt_http_resp_parse). A 2xx opens the tunnel, whatever framing fields
 * it carries (RFC 9110 9.3.6: a client ignores them); a 1xx is skipped;
 * anything else is the proxy's refusal, its status and reason reported.
 */
#include "tools/proxy/proxy.h"

#include <stdio.h>
#include <string.h>

#define FIELDS 64

static bool host_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == ':';
}

int proxy_http_init(proxy_client *p)
{
	for (const char *c = p->host; *c != '\0'; c++)
		if (!host_byte(*c))
			return proxy_fail(p, SKT_EINVAL,
					  "a byte HTTP CONNECT cannot carry "
					  "in the host (0x%02x)",
					  (unsigned char)*c);
	bool v6 = strchr(p->host, ':') != NULL;
	char auth[PROXY_OUT_MAX / 2] = "";
	if (p->u->auth) {
		char cred[2 * PROXY_CRED_MAX + 2];
		int n = snprintf(cred, sizeof(cred), "%s:%s", p->u->user,
				 p->u->pass);
		char b64[(sizeof(cred) + 2) / 3 * 4 + 1];
		proxy_base64((const uint8_t *)cred, (size_t)n, b64,
			     sizeof(b64));
		snprintf(auth, sizeof(auth),
			 "Proxy-Authorization: Basic %s\r\n", b64);
	}
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	int n = snprintf((char *)p->out, sizeof(p->out),
			 "CONNECT %s%s%s:%u HTTP/1.1\r\n"
			 "Host: %s%s%s:%u\r\n"
			 "%s"
			 "User-Agent: sockit/" SKT_VERSION_STRING "\r\n"
			 "\r\n",
			 lb, p->host, rb, (unsigned)p->port, lb, p->host, rb,
			 (unsigned)p->port, auth);
	if (n < 0 || (size_t)n >= sizeof(p->out))
		return proxy_fail(p, SKT_ETOOBIG, "a CONNECT head too long");
	p->out_len = (size_t)n;
	return 0;
}

static int answer(proxy_client *p, const skt_http_resp *r)
{
	p->code = r->status;
	snprintf(p->detail, sizeof(p->detail), "HTTP %d %.*s", r->status,
		 (int)(r->reason_len > 100 ? 100 : r->reason_len), r->reason);
	if (r->status >= 200 && r->status <= 299) {
		p->state = PROXY_DONE;
		return 0;
	}
	p->state = PROXY_FAILED;
	if (r->status == 407) {
		if (p->u->auth)
			strncat(p->detail, " (the credentials were refused)",
				sizeof(p->detail) - strlen(p->detail) - 1);
		return SKT_EPROXYAUTH;
	}
	return SKT_EPROXY;
}

ssize_t proxy_http_feed(proxy_client *p, const uint8_t *data, size_t len)
{
	static const skt_http_opts opts = {.head_max = PROXY_HEAD_MAX,
					   .line_max = PROXY_HEAD_MAX,
					   .bare_lf = true};
	size_t used = 0;
	while (p->state == PROXY_RECV && used < len) {
		size_t room = PROXY_HEAD_MAX - p->in_len;
		size_t take = len - used < room ? len - used : room;
		/* A head can only end with a LF: bytes go in up to the next
		 * one, and the head is parsed there, so what the codec sees at
		 * each parse (and so its verdict) is the same however the
		 * bytes were cut into pieces. */
		const uint8_t *lf = memchr(data + used, '\n', take);
		if (lf != NULL)
			take = (size_t)(lf - (data + used)) + 1;
		size_t old = p->in_len;
		memcpy(p->in + old, data + used, take);
		p->in_len += take;
		int rc = SKT_EAGAIN;
		skt_http_resp r;
		if (lf != NULL) {
			skt_http_field f[FIELDS];
			size_t nf = FIELDS;
			rc = skt_http_resp_parse((const char *)p->in, p->in_len,
						 true, &opts, &r, f, &nf);
		}
		if (rc == SKT_EAGAIN) {
			used += take;
			if (p->in_len == PROXY_HEAD_MAX)
				return proxy_fail(p, SKT_ETOOBIG,
						  "an HTTP answer head over "
						  "%d bytes",
						  PROXY_HEAD_MAX);
			continue;
		}
		if (rc < 0)
			return proxy_fail(p,
					  rc == SKT_ETOOBIG ? rc : SKT_EPROTO,
					  "a malformed HTTP answer: %s",
					  skt_http_rule_str(r.why));
		/* The head ends inside this piece: what follows is the
		 * tunnel's (or the next head's, after a 1xx). */
		used += (size_t)rc - old;
		p->in_len = 0;
		if (r.status >= 200)
			return (rc = answer(p, &r)) < 0 ? rc : (ssize_t)used;
	}
	return (ssize_t)used;
}
