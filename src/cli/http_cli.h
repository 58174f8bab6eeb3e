/* http_cli.h - what cmd_http.c (options, the transfers) and http_out.c
 * (the request's bytes, where the response goes: stdout, -o's file, the
 * progress bar, the --json object) share. */
#ifndef SOCKIT_CLI_HTTP_CLI_H
#define SOCKIT_CLI_HTTP_CLI_H

#include "cmds.h"

/* A request head is at most this long (curl allows 100 KiB of -H). */
#define HTTP_REQ_MAX 65536

/* One request of a transfer (a URL, or a redirect it led to). */
struct http_req {
	httpc_url url;
	const char *method;
	bool to_head;
	bool body;        /* -d or --data-file goes with it */
	bool cross_host;  /* after a redirect to another host */
	bool reused;      /* it went on a connection kept alive */
	httpc_times t;    /* from its own start */
	int64_t start_us; /* monotonic */
};

struct http_run {
	const struct http_opts *o;
	skt_tls_ctx *ctx;
	httpc_dial dial;
	skt_connect_report rep;
	httpc_conn c;
	int out_fd;            /* stdout or -o's file */
	const char *out_name;  /* "stdout" or the file, for messages */
	int out_err;           /* a write to out_fd failed with this */
	int body_fd;           /* --data-file, or -1 */
	uint64_t body_len;     /* -d's or the file's length */
	bool progress;         /* -o FILE with stderr a terminal */
	skt_tls_info tls_info; /* of the connection, once its handshake is
				  done (tls_have) */
	bool tls_have;
	/* The response being read. */
	httpc_resp rp;
	bool discard;     /* its body is not output (a redirect, --json, -f) */
	int64_t shown_us; /* the progress bar's last redraw */
	int64_t body_start_us;
	int redirects;
	int64_t redirect_us; /* spent before the final request began */
	char req[HTTP_REQ_MAX];
	size_t req_len;
	uint64_t sent;
};

/* The request head of rq into r->req (r->req_len). Returns CLI_OK, or
 * CLI_FAIL after one line when it would be over HTTP_REQ_MAX. */
int http_build(struct http_run *r, const struct http_req *rq);
/* The sink that puts a response where the options say. */
void http_sink(struct http_run *r, httpc_sink *s);
/* The progress bar's last line (a newline after it). */
void http_progress_end(struct http_run *r);
/* -v: the request head, "> " before each line, on stderr. */
void http_print_request(const struct http_run *r);
/* --json: one object for the transfer that ended with rq (err its error,
 * why the words for it, NULL for skt_strerror's). */
void http_json(struct http_run *r, const struct http_req *rq, int err,
	       const char *what, const char *why);

#endif
