/* http.c - http: a static file server (RFC 9110, 9112) for DIR, on the
 * server framework: GET and HEAD of files and directories (index.html,
 * else a listing), validators and 304, single ranges with 206 and 416,
 * keep-alive, pipelining, HTTP/1.0, and the strict request parsing of the
 * library's codec (http_conn.c). What a file is and how it is opened
 * safely is in http_files.c, the listing in http_dir.c; this file turns
 * requests into responses and moves them.
 *
 * A connection's states: READING (bytes go to http_conn_input, which
 * calls answer() for each head) and PAUSED (an answer is still going
 * out: a file part of the stream, or a queue above its high-water mark
 * - a client that pipelines without reading). While paused nothing is
 * read, so the client is held back by TCP, not by our memory; a flush
 * mark ends the pause, and what arrived with the head that paused is
 * parsed then. A file goes out with skt_server_conn_sendfile (sendfile,
 * SSL_sendfile under kTLS, TLS writes otherwise), at most
 * SKT_STREAM_FILE_CHUNK per turn of the loop, so one fast client cannot
 * hold a worker. An answer that ends the connection (Connection: close,
 * HTTP/1.0 without keep-alive, an error of framing) goes out with
 * skt_server_conn_tell.
 *
 * As hello does, the server is told when a connection waits for a head
 * (skt_server_conn_set_head): the head deadline then applies (slowloris)
 * and an idle waiting connection may be shed when the server is full.
 */
#include "tools/serve/http_conn.h"
#include "tools/serve/http_files.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct hreq {
	http_conn h;
	bool paused;
	bool waiting;  /* the server was told: waiting for a head */
	bool answered; /* an answer went out since the server was told */
	bool last;     /* the answer being sent ends the connection */
	int fd;        /* the file being sent, or -1 */
	/* The file answer's log line, written once it is sent. */
	int status, minor;
	int64_t bytes, t0;
	char method[16], target[512];
	size_t method_len, target_len;
};

struct http_worker {
	time_t date_at;
	char date[32];
};

static int http_worker_new(skt_server_worker *w, void **state)
{
	*state = skt_calloc(1, sizeof(struct http_worker));
	return *state == NULL ? SKT_ENOMEM : 0;
}

static void http_worker_free(void *state)
{
	skt_free(state);
}

static const svc_http_opts *opts_of(const skt_server_conn *c)
{
	return skt_server_worker_opts(c->w)->service_arg;
}

static const char *date_now(skt_server_worker *w)
{
	struct http_worker *hw = skt_server_worker_state(w);
	time_t now = time(NULL);
	if (now != hw->date_at) {
		http_date(now, hw->date);
		hw->date_at = now;
	}
	return hw->date;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* ---- The log ---- */

static void log_req(skt_server_conn *c, const char *m, size_t ml, const char *t,
		    size_t tl, int minor, int status, int64_t bytes, int64_t t0)
{
	const svc_http_opts *o = opts_of(c);
	if (o->log == NULL)
		return;
	svc_http_log l = {.method = m,
			  .method_len = ml,
			  .target = t,
			  .target_len = tl,
			  .minor = minor,
			  .status = status,
			  .bytes = bytes,
			  .us = now_us() - t0,
			  .peer = &c->peer};
	o->log(&l, o->log_arg);
}

/* ---- Answers ---- */

/* What one answer says, gathered before its head is formatted. */
typedef struct answer {
	int status;
	bool keep, v10, head_only;
	const char *type;      /* Content-Type, or NULL */
	const char *extra;     /* more header lines, each with CRLF, or "" */
	uint64_t length;       /* Content-Length */
	const struct stat *st; /* the file's: Last-Modified, ETag */
	const char *etag;
	uint64_t first, size; /* 206: Content-Range */
	bool unsatisfied;     /* 416: Content-Range: bytes * / size */
} answer;

static size_t head_fmt(skt_server_conn *c, const answer *a, char *buf,
		       size_t cap)
{
	char lm[32] = "", cr[96] = "", val[160] = "";
	if (a->st != NULL) {
		http_date(a->st->st_mtim.tv_sec, lm);
		snprintf(val, sizeof(val),
			 "Last-Modified: %s\r\nETag: %s\r\n"
			 "Accept-Ranges: bytes\r\n",
			 lm, a->etag);
	}
	if (a->status == 206)
		snprintf(cr, sizeof(cr),
			 "Content-Range: bytes %llu-%llu/%llu\r\n",
			 (unsigned long long)a->first,
			 (unsigned long long)(a->first + a->length - 1),
			 (unsigned long long)a->size);
	else if (a->unsatisfied)
		snprintf(cr, sizeof(cr), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)a->size);
	const char *conn = !a->keep ? "Connection: close\r\n"
			   : a->v10 ? "Connection: keep-alive\r\n"
				    : "";
	char type[160] = "";
	if (a->type != NULL)
		snprintf(type, sizeof(type), "Content-Type: %s\r\n", a->type);
	/* 304 has no Content-Length of its own (RFC 9110 15.4.5). */
	char len[48] = "";
	if (a->status != 304)
		snprintf(len, sizeof(len), "Content-Length: %llu\r\n",
			 (unsigned long long)a->length);
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: sockit\r\nDate: %s\r\n"
			 "%s%s%s%s%s%s\r\n",
			 a->status, reason(a->status), date_now(c->w), type,
			 len, val, cr, a->extra, conn);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void on_data(skt_stream *s, int status, const uint8_t *data, size_t len);
static void on_sent(skt_stream *s, int status);

/* After an answer was handed over: pause on a full queue (r == 1). */
static bool after_write(skt_server_conn *c, int r)
{
	struct hreq *q = skt_server_conn_state(c);
	if (r < 0)
		return false;
	q->answered = true;
	if (r == 1 && skt_stream_flush(c->s, on_sent) == 0) {
		q->paused = true;
		return false;
	}
	return true;
}

/* An answer held in memory (head, then body unless HEAD). Returns
 * whether to go on reading requests. */
static bool send_mem(skt_server_conn *c, const answer *a, const char *body)
{
	char head[HTTP_TARGET_MAX * 3 + 1024]; /* a Location, encoded */
	size_t hn = head_fmt(c, a, head, sizeof(head));
	if (hn == 0) { /* cannot be: the buffer holds the longest head */
		skt_stream_abort(c->s);
		return false;
	}
	size_t bn = a->head_only ? 0 : (size_t)a->length;
	if (!a->keep) {
		/* One buffer: tell sends it, then ends the connection. */
		char small[2048];
		if (hn + bn <= sizeof(small)) {
			memcpy(small, head, hn);
			memcpy(small + hn, body, bn);
			skt_server_conn_tell(c, small, hn + bn);
		} else if (skt_server_conn_write(c, head, hn) >= 0 &&
			   skt_server_conn_write(c, body, bn) >= 0) {
			skt_server_conn_tell(c, NULL, 0);
		}
		return false;
	}
	struct iovec iov[2] = {{head, hn}, {(void *)body, bn}};
	return after_write(c, skt_server_conn_writev(c, iov, bn > 0 ? 2 : 1));
}

/* A short answer with a text body: errors, 301, 304. */
static bool send_status(skt_server_conn *c, answer *a, const char *detail)
{
	char body[320] = "";
	if (a->status != 304)
		snprintf(body, sizeof(body), "%d %s%s%s\n", a->status,
			 reason(a->status), detail[0] != '\0' ? ": " : "",
			 detail);
	a->type = a->status == 304 ? NULL : "text/plain; charset=utf-8";
	a->length = strlen(body);
	return send_mem(c, a, body);
}

/* ---- Requests ---- */

static const char *field(const http_in *in, const char *name, size_t *len)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < in->nfields; i++) {
		const skt_http_field *f = &in->fields[i];
		if (f->name_len == n && strncasecmp(f->name, name, n) == 0) {
			*len = f->value_len;
			return f->value;
		}
	}
	*len = 0;
	return NULL;
}

/* GET and HEAD answer; the others a server knows: 405 (with Allow); any
 * other method: 501 (RFC 9110 9.1). */
static int method_status(const skt_http_req *r, bool *head)
{
	static const char *const known[] = {"POST",    "PUT",   "DELETE",
					    "CONNECT", "TRACE", "OPTIONS",
					    "PATCH"};
	*head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
	if (*head || (r->method_len == 3 && memcmp(r->method, "GET", 3) == 0))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (r->method_len == strlen(known[i]) &&
		    memcmp(r->method, known[i], r->method_len) == 0)
			return 405;
	return 501;
}

/* A file: validators, 304, the range, then its bytes (sendfile). fd is
 * ours: closed here, or once sent (on_sent, closed). */
static bool send_file(skt_server_conn *c, const http_in *in, answer *a, int fd,
		      const struct stat *st, const char *name)
{
	struct hreq *q = skt_server_conn_state(c);
	char etag[64];
	http_etag(st, etag);
	http_conds cd;
	cd.inm = field(in, "if-none-match", &cd.inm_len);
	cd.ims = field(in, "if-modified-since", &cd.ims_len);
	cd.range = field(in, "range", &cd.range_len);
	cd.if_range = field(in, "if-range", &cd.if_range_len);
	a->st = st;
	a->etag = etag;
	a->size = (uint64_t)st->st_size;
	if (http_not_modified(&cd, st, etag)) {
		close(fd);
		a->status = 304;
		return send_status(c, a, "");
	}
	uint64_t first = 0, len = (uint64_t)st->st_size;
	a->status = http_range(&cd, st, etag, &first, &len);
	if (a->status == 416) {
		close(fd);
		a->unsatisfied = true;
		a->st = NULL;
		return send_status(c, a, "");
	}
	a->type = mime_type(&opts_of(c)->mime, name);
	a->first = first;
	a->length = len;
	char head[1024];
	size_t hn = head_fmt(c, a, head, sizeof(head));
	if (a->head_only || len == 0) {
		close(fd);
		return a->keep ? after_write(c,
					     skt_server_conn_write(c, head, hn))
			       : (skt_server_conn_tell(c, head, hn), false);
	}
	if (skt_server_conn_sendfile(c, head, hn, fd, (int64_t)first, len) <
	    0) {
		close(fd);
		return false; /* the stream is closing */
	}
	q->answered = true;
	q->last = !a->keep;
	if (!skt_stream_sending_file(c->s) && a->keep) {
		close(fd);   /* all of it went out at once */
		return true; /* logged by the caller */
	}
	q->status = a->status;
	q->fd = fd;
	q->bytes = (int64_t)len;
	if (skt_stream_flush(c->s, on_sent) < 0) {
		skt_stream_abort(c->s);
		return false;
	}
	q->paused = true;
	return false;
}

static bool send_dir(skt_server_conn *c, const http_in *in, answer *a,
		     const http_path *p, int fd)
{
	const svc_http_opts *o = opts_of(c);
	if (!p->slash) {
		/* The listing's links are relative to the directory. The
		 * location is made from the decoded path, not the target as
		 * sent: "//host" must not become a redirect to another site. */
		http_buf loc = {0};
		http_buf_put(&loc, "Location: /", 11);
		const char *rel = strcmp(p->rel, ".") == 0 ? "" : p->rel;
		for (const char *seg = rel; *seg != '\0';) {
			size_t n = strcspn(seg, "/");
			http_buf_uri(&loc, seg, n);
			http_buf_put(&loc, "/", 1);
			seg += n + (seg[n] == '/');
		}
		if (p->query != NULL) {
			http_buf_put(&loc, "?", 1);
			http_buf_put(&loc, p->query, p->query_len);
		}
		http_buf_put(&loc, "\r\n", 3);
		close(fd);
		a->status = 301;
		a->extra = loc.oom ? "" : loc.p;
		bool go = send_status(c, a, "");
		skt_free(loc.p);
		return go;
	}
	char index[sizeof(p->rel) + 16];
	snprintf(index, sizeof(index), "%s/index.html", p->rel);
	int ifd;
	struct stat ist;
	if (http_open(o, index, &ifd, &ist) == 0) {
		if (S_ISREG(ist.st_mode)) {
			close(fd);
			return send_file(c, in, a, ifd, &ist, index);
		}
		close(ifd);
	}
	http_buf b = {0};
	int st = http_listing(o, fd, p->rel, p->query, p->query_len, &b);
	close(fd);
	if (st != 0) {
		skt_free(b.p);
		a->status = st;
		return send_status(c, a, "");
	}
	a->status = 200;
	a->type = "text/html; charset=utf-8";
	a->length = b.len;
	a->extra = "Cache-Control: no-cache\r\n";
	bool go = send_mem(c, a, b.p);
	skt_free(b.p);
	return go;
}

static bool serve(skt_server_conn *c, const http_in *in, answer *a)
{
	const svc_http_opts *o = opts_of(c);
	const skt_http_req *r = in->req;
	int st = method_status(r, &a->head_only);
	if (st == 405) {
		a->status = 405;
		a->extra = "Allow: GET, HEAD\r\n";
		return send_status(c, a, "");
	}
	if (st != 0) {
		a->status = st;
		return send_status(c, a, "");
	}
	http_path p;
	st = http_path_parse(&p, r->target, r->target_len, o->dotfiles);
	int fd = -1;
	struct stat fs;
	if (st == 0)
		st = http_open(o, p.rel, &fd, &fs);
	if (st != 0) {
		a->status = st;
		return send_status(c, a, "");
	}
	if (S_ISDIR(fs.st_mode))
		return send_dir(c, in, a, &p, fd);
	if (p.slash && strcmp(p.rel, ".") != 0) {
		close(fd); /* "file/" names a directory that is not there */
		a->status = 404;
		return send_status(c, a, "");
	}
	return send_file(c, in, a, fd, &fs, p.rel);
}

/* Keep what the log needs of a request whose answer outlives its head. */
static void remember(struct hreq *q, const skt_http_req *r, int64_t t0)
{
	q->method_len = r->method_len < sizeof(q->method) ? r->method_len
							  : sizeof(q->method);
	memcpy(q->method, r->method, q->method_len);
	q->target_len = r->target_len < sizeof(q->target) ? r->target_len
							  : sizeof(q->target);
	memcpy(q->target, r->target, q->target_len);
	q->minor = r->minor;
	q->t0 = t0;
}

/* One head from http_conn: answer it. Returns whether to go on. */
static bool on_head(void *arg, const http_in *in)
{
	skt_server_conn *c = arg;
	struct hreq *q = skt_server_conn_state(c);
	int64_t t0 = now_us();
	answer a = {.keep = in->keep, .v10 = in->v10, .extra = ""};
	if (in->status > 0) {
		/* Framing broken: answer, and nothing after it is read. */
		if (in->limit > 0) {
			c->end = SKT_SERVER_END_TOOBIG;
			c->limit = in->limit;
		}
		a.status = in->status;
		a.keep = false;
		log_req(c, "-", 1, "-", 1, 1, a.status, 0, t0);
		send_status(c, &a,
			    in->why != SKT_HTTP_OK ? skt_http_rule_str(in->why)
						   : "");
		return false;
	}
	q->status = 0;
	q->fd = -1;
	remember(q, in->req, t0);
	/* A client that waits for 100 Continue sends the body only if asked:
	 * it is not asked (nothing here wants it), so the body may never
	 * come, and waiting to skip it would take its next request for the
	 * body. The answer ends the connection instead (RFC 9110 10.1.1). */
	const skt_http_req *r = in->req;
	if (r->expect_continue && (r->chunked || r->content_length > 0))
		a.keep = false;
	if (!a.keep)
		http_conn_end(&q->h);
	bool go = serve(c, in, &a);
	if (q->fd >= 0)
		return go; /* logged when the file is sent */
	uint64_t bytes = a.head_only || a.status == 304 ? 0 : a.length;
	log_req(c, q->method, q->method_len, q->target, q->target_len, q->minor,
		a.status, (int64_t)bytes, t0);
	return go;
}

/* ---- Moving bytes ---- */

static void mark_head(skt_server_conn *c)
{
	struct hreq *q = skt_server_conn_state(c);
	bool waiting = !q->paused && http_conn_in_head(&q->h);
	if (waiting != q->waiting || (waiting && q->answered))
		skt_server_conn_set_head(c, waiting);
	q->waiting = waiting;
	q->answered = false;
}

static void after(skt_server_conn *c, int rc)
{
	struct hreq *q = skt_server_conn_state(c);
	if (rc == SKT_ENOMEM) {
		skt_stream_close(c->s);
		return;
	}
	if (rc == HTTP_STOPPED && q->paused)
		skt_stream_read_stop(c->s);
	if (rc == HTTP_CLOSED && q->paused)
		skt_stream_read_stop(c->s);
	if (rc != HTTP_CLOSED)
		mark_head(c);
}

/* The file is sent (or the queue drained): log it, end the connection if
 * it was the last answer, else go on with what arrived meanwhile. */
static void on_sent(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct hreq *q = skt_server_conn_state(c);
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
		log_req(c, q->method, q->method_len, q->target, q->target_len,
			q->minor, q->status != 0 ? q->status : 200,
			status == 0 ? q->bytes : -1, q->t0);
	}
	if (status != 0 || !q->paused)
		return;
	q->paused = false;
	if (q->last) {
		skt_server_conn_tell(c, NULL, 0);
		return;
	}
	int rc = http_conn_input(&q->h, NULL, 0, on_head, c);
	if (rc == HTTP_MORE)
		skt_stream_read_start(s, on_data);
	after(c, rc);
}

static void on_data(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct hreq *q = skt_server_conn_state(c);
	if (status != 0) {
		if (status == SKT_EOF || status == SKT_EPARTIAL)
			skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	after(c, http_conn_input(&q->h, (const char *)data, len, on_head, c));
}

static int http_open_conn(skt_server_conn *c)
{
	struct hreq *q = skt_server_conn_state(c);
	http_conn_init(&q->h);
	q->fd = -1;
	q->waiting = true;
	skt_server_conn_set_head(c, true);
	return skt_stream_read_start(c->s, on_data);
}

static void http_closed(skt_server_conn *c)
{
	struct hreq *q = skt_server_conn_state(c);
	if (q->fd >= 0) { /* ended before the file was sent */
		close(q->fd);
		q->fd = -1;
		log_req(c, q->method, q->method_len, q->target, q->target_len,
			q->minor, q->status != 0 ? q->status : 200, -1, q->t0);
	}
	http_conn_fini(&q->h);
}

const skt_service svc_http = {
	.name = "http",
	.what = "static files of DIR (default .): GET, HEAD, ranges, "
		"listings",
	.port = 8080,
	.flags = SKT_SERVICE_TCP,
	.idle_s = 60,
	.conn_size = sizeof(struct hreq),
	.worker_new = http_worker_new,
	.worker_free = http_worker_free,
	.open = http_open_conn,
	.closed = http_closed,
	.datagram = NULL,
};
