/* xfer.h - the two ends of sockit send/recv (docs/transfer.md) over a
 * connected TCP socket the CLI made. Each runs one transfer to its end and
 * says how it went in xf_stats; the CLI prints. */
#ifndef SOCKIT_TOOLS_XFER_H
#define SOCKIT_TOOLS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/xfer/wire.h"

#define XF_ERRLEN 1200
/* --secret's longest (a file's worth of key material is plenty). */
#define XF_SECRET_MAX 1024

typedef struct xf_stats {
	uint64_t files;   /* entries: files, directories and links */
	uint64_t bytes;   /* the files' sizes */
	uint64_t moved;   /* data bytes that crossed the wire this run */
	uint64_t resumed; /* bytes the receiver had from an earlier run */
	uint64_t skipped; /* send: entries left out (special files, links
			     out of the tree) */
	double seconds;   /* HELLO to ACK */
	int alg;          /* XF_ALG_* */
	uint8_t root[XF_HASH_MAX]; /* the transfer's root (docs/transfer.md) */
	/* On failure: one line for people, naming the file when there is
	 * one, and whether the peer said it (an ERROR frame). */
	char err[XF_ERRLEN];
	bool verify_failed; /* a hash did not match */
	bool auth_failed;   /* --secret: a proof or a MAC did not match */
	bool tls, secret;   /* what carried and authenticated it */
} xf_stats;

typedef struct skt_tls skt_tls;

typedef struct xf_send_opts {
	int alg;
	skt_tls *tls; /* the session on fd, its handshake done; or NULL */
	const uint8_t *secret; /* --secret (auth.h); NULL: none */
	size_t secret_len;
	uint32_t chunk;     /* XF_CHUNK_MIN..XF_CHUNK_MAX, a power of two */
	int timeout_ms;     /* each read and write */
	bool progress;      /* a line on stderr, rewritten */
	char *const *paths; /* files and directories, as given */
	size_t npaths;
} xf_send_opts;

/* Send paths over fd (connected, blocking or not): walks the trees, sends
 * them, and waits for the receiver's ACK. Returns 0 when the receiver
 * acknowledged every entry, byte and (with a hash) the transfer's root;
 * else -1 with st->err set. fd stays the caller's. */
int xf_send(int fd, const xf_send_opts *o, xf_stats *st);

typedef struct xf_recv_opts {
	int dirfd;    /* where the transfer lands */
	skt_tls *tls; /* as in xf_send_opts */
	const uint8_t *secret;
	size_t secret_len;
	bool overwrite;     /* replace existing files */
	bool no_resume;     /* start every .part over */
	uint64_t max_size;  /* total bytes; UINT64_MAX: none */
	uint64_t max_files; /* entries */
	int timeout_ms;
	bool progress;
} xf_recv_opts;

/* Receive one transfer from fd into o->dirfd. Returns 0 when everything
 * arrived and was verified (and the ACK went out), else -1 with st->err
 * set; a file cut short keeps its NAME.part and sidecar for a resume. */
int xf_recv(int fd, const xf_recv_opts *o, xf_stats *st);

#endif
