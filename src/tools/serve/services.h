/* services.h - the protocols of `sockit serve`: echo, discard, chargen,
 * qotd, daytime, time, upper, chat and hello, each an skt_service run by
 * the library's server (sockit/server.h). Part of the command's tools,
 * not of libsockit.
 *
 * echo.c: echo, upper, discard, chargen; tell.c: qotd, daytime, time;
 * chat.c: chat; hello.c: hello (HTTP); http*.c, mime.c: http (static
 * files); exec.c: exec (a program per
 * connection); socks5.c: socks5 (a SOCKS5 proxy); broker.c: listen
 * --broker's.
 */
#ifndef SOCKIT_TOOLS_SERVICES_H
#define SOCKIT_TOOLS_SERVICES_H

#include "sockit/sockit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

extern const skt_service svc_echo, svc_discard, svc_chargen, svc_qotd,
	svc_daytime, svc_time, svc_upper, svc_chat, svc_hello, svc_http,
	svc_exec, svc_socks5;
/* Not in svc_all: `sockit listen -k --broker` runs it (broker.c). */
extern const skt_service svc_broker;

/* The service called name, or NULL. */
const skt_service *svc_find(const char *name);
/* The services in the order `sockit serve --help` lists them; NULL ends. */
extern const skt_service *const svc_all[];

/* ---- qotd's quotes (tell.c) ---- */

typedef struct svc_quotes {
	char **v; /* each ends in CRLF, at most 512 characters (RFC 865) */
	size_t n;
} svc_quotes;

/* Why a quote file was refused, beyond the code quotes_load returns. */
typedef struct svc_quotes_fault {
	size_t line;      /* the line at fault (1-based), or 0 */
	const char *kind; /* "a FIFO", "a directory"...: not a regular file */
} svc_quotes_fault;

/* Read quotes from path, a regular file: separated by lines holding only
 * "%" (the fortune(6) format), or else one per non-empty line. Returns 0,
 * -errno, SKT_ENOMEM, SKT_EINVAL (not a regular file: f->kind says what
 * it is, and a FIFO or device is never read; or, kind NULL, no quote in
 * the file), SKT_EMALFORMED (a byte that is not printable ASCII, tab,
 * or a CR of a CRLF, RFC 865; f->line says where) or SKT_ETOOBIG (a quote
 * over 512 characters, f->line its first line; or, line 0, a file over
 * 1 MiB). */
int quotes_load(svc_quotes *q, const char *path, svc_quotes_fault *f);
void quotes_free(svc_quotes *q);

/* ---- serve http's settings (http.c, http_files.c, mime.c) ---- */

/* File name extensions and their MIME types, sorted by extension. */
typedef struct svc_mime_ent {
	char *ext; /* lowercase, without the dot */
	char *type;
} svc_mime_ent;
typedef struct svc_mime {
	svc_mime_ent *v;
	size_t n;
} svc_mime;

/* Read path in the mime.types(5) format ("type ext ext ..." lines, "#"
 * comments) into m, after the built-in table (whose entries it
 * overrides). A missing file leaves the built-in table: returns 0, or
 * SKT_ENOMEM, or -errno for a file that exists but cannot be read. */
int mime_load(svc_mime *m, const char *path);
void mime_free(svc_mime *m);

/* One request served, for the access log. Everything is valid during
 * the log call only. */
typedef struct svc_http_log {
	const char *method, *target; /* as sent */
	size_t method_len, target_len;
	int minor; /* HTTP/1.minor */
	int status;
	int64_t bytes; /* body bytes sent; -1 when the connection ended
			  before the body was all sent */
	int64_t us;    /* from the head's arrival to the answer's end */
	const skt_addr *peer;
} svc_http_log;

typedef struct svc_http_opts {
	int root;             /* an O_DIRECTORY fd of DIR, for openat2 */
	bool dotfiles;        /* serve and list names starting with "." */
	bool follow_symlinks; /* also those leading out of DIR */
	svc_mime mime;
	/* The access log, on any worker's thread (thread-safe); may be
	 * NULL. */
	void (*log)(const svc_http_log *l, void *arg);
	void *log_arg;
} svc_http_opts;

/* ---- serve socks5's settings (socks5.c) ---- */

typedef struct svc_socks5_opts {
	const char *user, *pass; /* RFC 1929 credentials; NULL: none */
} svc_socks5_opts;

#endif
