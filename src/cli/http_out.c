/* http_out.c - `sockit http`'s bytes: the request head it sends, and
 * where a response goes (the sink): heads to the output with -i/-I,
 * bodies straight to the output fd with write(2) (stdio would copy each
 * piece once more), every byte with --raw; the progress bar on a
 * terminal; the --json object. */
#include "http_cli.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- The request ---- */

static bool given(const struct http_opts *o, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, n) == 0 &&
		    o->headers[i][n] == ':')
			return true;
	return false;
}

/* Credentials are not sent to a host that the user did not name (curl
 * drops them on a redirect to another host, as browsers do). */
static bool dropped(const struct http_req *rq, const char *h)
{
	return rq->cross_host && (strncasecmp(h, "authorization:", 14) == 0 ||
				  strncasecmp(h, "cookie:", 7) == 0);
}

static bool add(struct http_run *r, const char *fmt, const char *a,
		const char *b)
{
	size_t cap = sizeof(r->req) - r->req_len;
	int n = snprintf(r->req + r->req_len, cap, fmt, a, b);
	if (n < 0 || (size_t)n >= cap)
		return false;
	r->req_len += (size_t)n;
	return true;
}

int http_build(struct http_run *r, const struct http_req *rq)
{
	const struct http_opts *o = r->o;
	char ua[64], len[24];
	snprintf(ua, sizeof(ua), "sockit/%s", skt_version());
	snprintf(len, sizeof(len), "%llu", (unsigned long long)r->body_len);
	r->req_len = 0;
	bool ok = add(r, "%s %s", rq->method, rq->url.target) &&
		  add(r, " HTTP/1.%s\r\n%s", o->http10 ? "0" : "1", "");
	if (ok && !given(o, "Host"))
		ok = add(r, "Host: %s\r\n%s", rq->url.authority, "");
	if (ok && !given(o, "User-Agent"))
		ok = add(r, "User-Agent: %s\r\n%s", ua, "");
	if (ok && !given(o, "Accept"))
		ok = add(r, "Accept: */*\r\n%s%s", "", "");
	if (ok && rq->body && !given(o, "Content-Length"))
		ok = add(r, "Content-Length: %s\r\n%s", len, "");
	if (ok && rq->body && o->data != NULL && !given(o, "Content-Type"))
		ok = add(r,
			 "Content-Type: application/x-www-form-urlencoded"
			 "\r\n%s%s",
			 "", "");
	for (size_t i = 0; ok && i < o->nheaders; i++) {
		const char *h = o->headers[i];
		const char *colon = strchr(h, ':');
		/* "Name:" with nothing after it removes a default. */
		if (colon[1 + strspn(colon + 1, " \t")] == '\0' ||
		    dropped(rq, h))
			continue;
		ok = add(r, "%s\r\n%s", h, "");
	}
	if (ok)
		ok = add(r, "\r\n%s%s", "", "");
	if (!ok)
		return cli_fail_why("http", rq->url.authority, SKT_ETOOBIG,
				    "the request head is over 64 KiB");
	return CLI_OK;
}

void http_print_request(const struct http_run *r)
{
	const char *p = r->req, *end = r->req + r->req_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0)
			fprintf(stderr, "> %.*s\n", (int)n, p);
		p = eol + 1;
	}
}

/* ---- Where the response goes ---- */

static int out(struct http_run *r, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(r->out_fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r->out_err = -errno;
			return r->out_err;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void human(double v, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* One line, redrawn in place: bytes (of the length, with a bar and the
 * share), the rate, the time left. */
static void draw(struct http_run *r, int64_t now)
{
	char got[24], total[24], rate[24], eta[64] = "";
	uint64_t done = r->rp.body_bytes;
	double secs = (double)(now - r->body_start_us) / 1e6;
	double bps = secs > 0 ? (double)done / secs : 0;
	human((double)done, got, sizeof(got));
	human(bps, rate, sizeof(rate));
	int64_t len = r->rp.length;
	if (len > 0) {
		human((double)len, total, sizeof(total));
		int pct = (int)(done * 100 / (uint64_t)len);
		char bar[21];
		int fill = pct / 5;
		for (int i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[20] = '\0';
		if (bps > 0) {
			long left =
				(long)((double)((uint64_t)len - done) / bps);
			snprintf(eta, sizeof(eta), "ETA %ld:%02ld:%02ld",
				 left / 3600, left / 60 % 60, left % 60);
		}
		fprintf(stderr, "\r%3d%% [%s] %s / %s  %s/s  %s\033[K", pct,
			bar, got, total, rate, eta);
	} else {
		fprintf(stderr, "\r%s  %s/s\033[K", got, rate);
	}
}

static void progress(struct http_run *r)
{
	int64_t now = httpc_now_us();
	if (r->body_start_us == 0)
		r->body_start_us = now;
	if (now - r->shown_us < 200000) /* five redraws a second */
		return;
	r->shown_us = now;
	draw(r, now);
}

void http_progress_end(struct http_run *r)
{
	if (!r->progress || r->body_start_us == 0)
		return;
	draw(r, httpc_now_us());
	fputc('\n', stderr);
	r->body_start_us = r->shown_us = 0;
}

/* A redirect that will be followed, or a failure under -f: its body is
 * read (the connection stays in step) but not shown. */
static bool followed(const struct http_run *r)
{
	int s = r->rp.r.status;
	bool redirect =
		s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
	return r->o->follow && redirect &&
	       httpc_field(&r->rp, "Location") != NULL;
}

static void verbose_head(const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		size_t k = (size_t)(eol - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k > 0)
			fprintf(stderr, "< %.*s\n", (int)k, p);
		p = eol + 1;
	}
}

static int on_head(void *arg, const char *p, size_t n, bool final)
{
	struct http_run *r = arg;
	const struct http_opts *o = r->o;
	if (o->verbose)
		verbose_head(p, n);
	if (final) {
		r->discard = o->json || followed(r) ||
			     (o->fail && r->rp.r.status >= 400);
	}
	bool show = (o->include || o->head) && !o->json &&
		    !(o->fail && final && r->rp.r.status >= 400);
	return show ? out(r, p, n) : 0;
}

static int on_body(void *arg, const char *p, size_t n)
{
	struct http_run *r = arg;
	if (r->discard)
		return 0;
	int rc = out(r, p, n);
	if (r->progress)
		progress(r);
	return rc;
}

static int on_raw(void *arg, const char *p, size_t n)
{
	struct http_run *r = arg;
	if (r->o->verbose && r->rp.head == p)
		verbose_head(p, n);
	return out(r, p, n);
}

void http_sink(struct http_run *r, httpc_sink *s)
{
	s->head = on_head;
	s->body = on_body;
	s->raw = r->o->raw ? on_raw : NULL;
	s->arg = r;
}

/* ---- --json ---- */

static const char *framing(int f)
{
	static const char *const names[] = {"none", "length", "chunked",
					    "close"};
	return names[f];
}

/* "headers": {"name": ["value", ...]}, names lowercased, in the order
 * of their first field, as curl's %{header_json}. */
static void headers(cli_json *j, const httpc_resp *rp)
{
	cli_json_object(j, "headers");
	for (size_t i = 0; i < rp->nfields; i++) {
		const skt_http_field *f = &rp->fields[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = rp->fields[k].name_len == f->name_len &&
			       strncasecmp(rp->fields[k].name, f->name,
					   f->name_len) == 0;
		if (seen)
			continue;
		char name[256];
		size_t nl = f->name_len < sizeof(name) - 1 ? f->name_len
							   : sizeof(name) - 1;
		for (size_t k = 0; k < nl; k++)
			name[k] = (char)(f->name[k] |
					 (f->name[k] >= 'A' && f->name[k] <= 'Z'
						  ? 0x20
						  : 0));
		name[nl] = '\0';
		cli_json_array(j, name);
		for (size_t k = i; k < rp->nfields; k++) {
			const skt_http_field *g = &rp->fields[k];
			if (g->name_len != f->name_len ||
			    strncasecmp(g->name, f->name, f->name_len) != 0)
				continue;
			char v[8192];
			size_t vl = g->value_len < sizeof(v) - 1
					    ? g->value_len
					    : sizeof(v) - 1;
			memcpy(v, g->value, vl);
			v[vl] = '\0';
			cli_json_text(j, NULL, v);
		}
		cli_json_close(j);
	}
	cli_json_close(j);
}

static void times(cli_json *j, const struct http_run *r,
		  const struct http_req *rq)
{
	const httpc_times *t = &rq->t;
	cli_json_object(j, "times");
	cli_json_us(j, "resolve_s", t->resolve_us);
	cli_json_us(j, "connect_s", t->connect_us);
	cli_json_us(j, "tls_s", t->tls_us);
	cli_json_us(j, "first_byte_s", t->first_byte_us);
	cli_json_us(j, "redirect_s", r->redirect_us);
	cli_json_us(j, "total_s", r->redirect_us + t->total_us);
	cli_json_close(j);
}

void http_json(struct http_run *r, const struct http_req *rq, int err,
	       const char *what, const char *why)
{
	const httpc_resp *rp = &r->rp;
	bool got = rp->head != NULL && rp->r.status != 0;
	char url[HTTPC_URL_MAX + 16];
	if (httpc_url_format(&rq->url, url, sizeof(url)) < 0)
		url[0] = '\0';
	cli_json j;
	cli_json_begin(&j, stdout, "response");
	cli_json_text(&j, "url", url);
	cli_json_text(&j, "method", rq->method);
	if (got) {
		char reason[1024];
		size_t n = rp->r.reason_len < sizeof(reason) - 1
				   ? rp->r.reason_len
				   : sizeof(reason) - 1;
		memcpy(reason, rp->r.reason, n);
		reason[n] = '\0';
		cli_json_int(&j, "status", rp->r.status);
		cli_json_text(&j, "http_version", rp->r.minor ? "1.1" : "1.0");
		cli_json_text(&j, "reason", reason);
		headers(&j, rp);
		cli_json_text(&j, "framing", framing(rp->framing));
	} else {
		cli_json_null(&j, "status");
		cli_json_null(&j, "http_version");
		cli_json_null(&j, "reason");
		cli_json_object(&j, "headers");
		cli_json_close(&j);
		cli_json_null(&j, "framing");
	}
	if (rp->length >= 0)
		cli_json_int(&j, "content_length", rp->length);
	else
		cli_json_null(&j, "content_length");
	cli_json_uint(&j, "header_bytes", rp->head_bytes);
	cli_json_uint(&j, "body_bytes", rp->body_bytes);
	cli_json_uint(&j, "sent_bytes", r->sent);
	if (r->c.peer.len > 0)
		cli_json_addr(&j, NULL, &r->c.peer);
	else {
		cli_json_null(&j, "address");
		cli_json_null(&j, "port");
	}
	cli_json_bool(&j, "reused", rq->reused);
	cli_json_int(&j, "redirects", r->redirects);
	if (rq->url.https && r->tls_have) {
		cli_json_object(&j, "tls");
		cli_tls_json_info(&j, &r->tls_info);
		cli_json_close(&j);
	} else {
		cli_json_null(&j, "tls");
	}
	times(&j, r, rq);
	cli_json_error_why(&j, "error", err, what, why);
	cli_json_end(&j);
}
