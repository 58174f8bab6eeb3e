/* send.c - the sending end of docs/transfer.md. Per regular file: ENTRY
 * (with the first chunk's hash, so the receiver can tell a changed file
 * from the one it has half of), wait for RESUME, then one DATA frame per
 * chunk from the chunk RESUME named: read with pread into one buffer,
 * hashed there and written with one sendmsg (head, bytes, hash); with
 * --verify none the bytes go by sendfile(2) and never enter user space.
 * The exit status comes from the receiver's ACK, not from the last write. */
#include "tools/xfer/walk.h"
#include "tools/xfer/xfer_int.h"

#include "sockit/sockit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct sender {
	xf_io io;
	const xf_send_opts *o;
	xf_stats *st;
	xf_progress pg;
	int hl;
	uint8_t *buf; /* one chunk */
	uint8_t T[XF_HASH_MAX];
	xf_auth auth; /* --secret */
} sender;

/* What the receiver sent instead of the frame we expected, or the error
 * that ended our read, into st->err. Returns -1. */
static int peer_failed(sender *s, int rc, uint8_t type, uint32_t len)
{
	if (rc == 0 && type == XF_ERROR)
		xf_fail_peer(s->st, "receiver", s->io.ctrl + XF_HEAD_LEN, len);
	else if (rc == SKT_EOF || rc == SKT_EPARTIAL)
		xf_fail(s->st, "the receiver closed the connection");
	else if (rc < 0)
		xf_fail(s->st, "receiving: %s", skt_strerror(rc));
	else
		xf_fail(s->st, "the receiver sent an unexpected frame");
	return -1;
}

/* A write failed: the receiver may have said why before it stopped
 * reading; read that rather than report a reset. */
static int write_failed(sender *s, int rc, const char *path)
{
	uint8_t type;
	uint32_t len;
	xf_io_timeout(&s->io, 1000);
	int r = xf_io_ctrl(&s->io, &type, &len);
	xf_io_timeout(&s->io, s->io.timeout_ms);
	if (r == 0 && type == XF_ERROR)
		return peer_failed(s, r, type, len);
	xf_fail(s->st, "%s: sending: %s", path, skt_strerror(rc));
	return -1;
}

/* Between chunks: has the receiver given up (an ERROR frame)? */
static int check_peer(sender *s)
{
	if (!xf_io_readable(&s->io))
		return 0;
	uint8_t type;
	uint32_t len;
	int rc = xf_io_ctrl(&s->io, &type, &len);
	return peer_failed(s, rc, type, len);
}

/* --secret: the receiver's MAC of all it sent so far (after RESUME and
 * ACK). 0 or -1. */
static int check_mark(sender *s)
{
	uint8_t type = 0;
	uint32_t len = 0;
	int rc = xf_io_check_mark(&s->io, &type, &len);
	if (rc == 0)
		return 0;
	if (rc == 1) {
		s->st->auth_failed = true;
		xf_fail(s->st, "the receiver's MAC does not match: tampered "
			       "in flight, or not this --secret");
		xf_io_error(&s->io, XF_E_AUTH, s->st->err);
		return -1;
	}
	return peer_failed(s, rc == SKT_EMALFORMED ? 0 : rc, type, len);
}

/* --secret, before HELLO: a nonce each way, then a proof each way
 * (docs/transfer.md); from here on every byte is MACed. 0 or -1. */
static int authenticate(sender *s)
{
	uint8_t ns[XF_AUTH_LEN], proof[XF_AUTH_LEN], type;
	uint32_t len;
	if (xf_auth_nonce(ns) < 0) {
		xf_fail(s->st, "no random bytes for the nonce");
		return -1;
	}
	int rc = xf_io_auth(&s->io, XF_NONCE, ns, 0);
	if (rc < 0)
		return write_failed(s, rc, "the start of the transfer");
	rc = xf_io_ctrl(&s->io, &type, &len);
	if (rc < 0 || type != XF_NONCE || len != XF_AUTH_LEN)
		return peer_failed(s, rc, type, len);
	if (xf_auth_init(&s->auth, s->o->secret, s->o->secret_len, ns,
			 s->io.ctrl + XF_HEAD_LEN, true) < 0) {
		xf_fail(s->st, "--secret: deriving the keys failed");
		return -1;
	}
	xf_auth_proof(&s->auth, true, proof);
	if ((rc = xf_io_auth(&s->io, XF_PROOF, proof, 0)) < 0)
		return write_failed(s, rc, "the start of the transfer");
	rc = xf_io_ctrl(&s->io, &type, &len);
	if (rc < 0 || type != XF_PROOF || len != XF_AUTH_LEN)
		return peer_failed(s, rc, type, len);
	xf_auth_proof(&s->auth, false, proof);
	if (!xf_auth_equal(proof, s->io.ctrl + XF_HEAD_LEN)) {
		s->st->auth_failed = true;
		xf_fail(s->st, "the receiver does not know this --secret "
			       "(its proof does not match)");
		xf_io_error(&s->io, XF_E_AUTH, s->st->err);
		return -1;
	}
	s->io.auth = &s->auth;
	return 0;
}

static int read_chunk(int fd, uint8_t *buf, uint32_t n, uint64_t off)
{
	uint32_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return SKT_EIO; /* it shrank */
		got += (uint32_t)r;
	}
	return 0;
}

/* first: the first chunk's hash, or NULL. more: the file's DATA and END
 * follow at once (MSG_MORE: one segment, not three, for a small file). */
static int send_entry(sender *s, const xf_item *it, int kind,
		      const uint8_t *first, bool more)
{
	xf_entry e = {
		.kind = (uint8_t)kind,
		.alg = (uint8_t)s->o->alg,
		.mode = it->st.st_mode & 07777,
		.chunk = s->o->chunk,
		.mtime_s = it->st.st_mtim.tv_sec,
		.mtime_ns = (uint32_t)it->st.st_mtim.tv_nsec,
		.size = kind == XF_FILE ? (uint64_t)it->st.st_size : 0,
		.path = it->rel,
		.path_len = strlen(it->rel),
		.link = it->link,
		.link_len = it->link != NULL ? strlen(it->link) : 0,
	};
	if (first != NULL) {
		memcpy(e.first, first, (size_t)s->hl);
		e.first_len = (size_t)s->hl;
	}
	uint8_t f[XF_HEAD_LEN + XF_CTRL_MAX];
	size_t n = xf_entry_encode(f, sizeof(f), &e);
	if (n == 0) {
		xf_fail(s->st, "%s: cannot be described in the protocol",
			it->src);
		return -1;
	}
	int rc = xf_io_write_flags(&s->io, f, n, more ? MSG_MORE : 0);
	/* A directory or a link is acted on as it comes: its MAC with it. */
	if (rc == 0 && kind != XF_FILE)
		rc = xf_io_mark(&s->io, 0);
	return rc < 0 ? write_failed(s, rc, it->src) : 0;
}

/* The chunks first..n-1 of fd; chunk 0's bytes and hash h0 may already be
 * in buf (have0). */
static int send_chunks(sender *s, const xf_item *it, int fd, uint64_t size,
		       uint64_t first, bool have0, const uint8_t *h0,
		       uint8_t c[XF_HASH_MAX])
{
	uint32_t chunk = s->o->chunk;
	uint64_t n = xf_chunks(size, chunk);
	for (uint64_t i = first; i < n; i++) {
		if (check_peer(s) < 0)
			return -1;
		uint32_t len = xf_chunk_len(size, chunk, i);
		uint8_t head[XF_HEAD_LEN], h[XF_HASH_MAX];
		xf_head_encode(head, XF_DATA, len + (uint32_t)s->hl);
		int rc;
		if (s->hl == 0 && xf_io_zerocopy(&s->io)) {
			/* MSG_MORE: the head leaves with the bytes
			 * sendfile adds, not in a segment of its own. */
			rc = xf_io_write_flags(&s->io, head, sizeof(head),
					       MSG_MORE);
			if (rc == 0)
				rc = xf_io_sendfile(&s->io, fd,
						    (off_t)(i * chunk), len);
		} else {
			if (i == 0 && have0) {
				memcpy(h, h0, (size_t)s->hl);
			} else if ((rc = read_chunk(fd, s->buf, len,
						    i * chunk)) < 0) {
				goto file_failed;
			} else if (s->hl > 0 &&
				   xf_hash(s->o->alg, s->buf, len, h) < 0) {
				xf_fail(s->st, "%s: hashing failed", it->src);
				return -1;
			}
			xf_chain(s->o->alg, c, h);
			struct iovec v[3] = {{head, sizeof(head)},
					     {s->buf, len},
					     {h, (size_t)s->hl}};
			/* END follows the last chunk: it pushes. */
			rc = xf_io_writev_flags(&s->io, v, 3,
						i + 1 == n ? MSG_MORE : 0);
		}
		/* --secret: each chunk's MAC follows it, so the receiver
		 * writes no byte it has not authenticated. */
		if (rc == 0)
			rc = xf_io_mark(&s->io, i + 1 == n ? MSG_MORE : 0);
		if (rc == SKT_EIO)
			goto file_failed;
		if (rc < 0)
			return write_failed(s, rc, it->src);
		s->st->moved += len;
		s->pg.done_bytes += len;
		xf_progress_tick(&s->pg, false);
		continue;
	file_failed:
		xf_fail(s->st, "%s: %s", it->src,
			rc == SKT_EIO ? "the file shrank while being sent"
				      : skt_strerror(rc));
		xf_io_error(&s->io, XF_E_SENDER, s->st->err);
		return -1;
	}
	return 0;
}

static int send_file(sender *s, const xf_item *it)
{
	int fd = open(it->src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != it->st.st_size) {
		xf_fail(s->st, "%s: %s", it->src,
			fd < 0 ? skt_strerror(-errno)
			       : "changed since it was listed");
		if (fd >= 0)
			close(fd);
		xf_io_error(&s->io, XF_E_SENDER, s->st->err);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t size = (uint64_t)st.st_size;
	uint8_t c[XF_HASH_MAX] = {0}, h0[XF_HASH_MAX];
	bool have0 = false;
	int rc = 0;
	if (size > 0 && s->hl > 0) {
		uint32_t len = xf_chunk_len(size, s->o->chunk, 0);
		rc = read_chunk(fd, s->buf, len, 0);
		if (rc < 0) {
			xf_fail(s->st, "%s: %s", it->src, skt_strerror(rc));
			xf_io_error(&s->io, XF_E_SENDER, s->st->err);
			goto out;
		}
		/* Read and hashed once: the ENTRY carries the hash, and
		 * the bytes stay in buf for chunk 0's DATA frame. */
		xf_hash(s->o->alg, s->buf, len, h0);
		have0 = true;
	}
	bool small = xf_chunks(size, s->o->chunk) <= 1;
	rc = send_entry(s, it, XF_FILE, have0 ? h0 : NULL, small);
	if (rc < 0)
		goto out;
	xf_sum r = {0};
	if (xf_chunks(size, s->o->chunk) > 1) {
		uint8_t type;
		uint32_t len;
		rc = xf_io_ctrl(&s->io, &type, &len);
		if (rc < 0 || type != XF_RESUME ||
		    xf_sum_decode(XF_RESUME, s->io.ctrl + XF_HEAD_LEN, len,
				  (size_t)s->hl, &r) < 0 ||
		    r.a > xf_chunks(size, s->o->chunk)) {
			rc = peer_failed(s, rc, type, len);
			goto out;
		}
		if ((rc = check_mark(s)) < 0)
			goto out;
	} else if (size == 0 && (rc = check_peer(s)) < 0) {
		goto out; /* no RESUME, no chunk: an ERROR may be there */
	}
	memcpy(c, r.hash, (size_t)s->hl);
	uint64_t resumed = r.a * s->o->chunk;
	s->pg.done_bytes += resumed < size ? resumed : size;
	rc = send_chunks(s, it, fd, size, r.a, have0, h0, c);
	if (rc < 0)
		goto out;
	uint8_t f[XF_HEAD_LEN + XF_HASH_MAX];
	xf_sum end = {0};
	memcpy(end.hash, c, (size_t)s->hl);
	size_t n = xf_sum_encode(f, sizeof(f), XF_END, (size_t)s->hl, &end);
	rc = xf_io_write_flags(&s->io, f, n, s->io.auth ? MSG_MORE : 0);
	if (rc == 0)
		rc = xf_io_mark(&s->io, 0);
	if (rc < 0) {
		rc = write_failed(s, rc, it->src);
		goto out;
	}
	xf_chain(s->o->alg, s->T, c);
out:
	close(fd);
	return rc < 0 ? -1 : 0;
}

static int finish(sender *s, const xf_walk *w)
{
	uint8_t f[XF_HEAD_LEN + 16 + XF_HASH_MAX];
	xf_sum done = {.a = w->n, .b = w->bytes};
	memcpy(done.hash, s->T, (size_t)s->hl);
	size_t n = xf_sum_encode(f, sizeof(f), XF_DONE, (size_t)s->hl, &done);
	int rc = xf_io_write_flags(&s->io, f, n, s->io.auth ? MSG_MORE : 0);
	if (rc == 0)
		rc = xf_io_mark(&s->io, 0);
	if (rc < 0)
		return write_failed(s, rc, "the end of the transfer");
	uint8_t type;
	uint32_t len;
	xf_sum ack;
	rc = xf_io_ctrl(&s->io, &type, &len);
	if (rc < 0 || type != XF_ACK ||
	    xf_sum_decode(XF_ACK, s->io.ctrl + XF_HEAD_LEN, len, (size_t)s->hl,
			  &ack) < 0)
		return peer_failed(s, rc, type, len);
	if (check_mark(s) < 0)
		return -1;
	if (ack.a != w->n || ack.b != w->bytes ||
	    memcmp(ack.hash, s->T, (size_t)s->hl) != 0) {
		s->st->verify_failed = true;
		xf_fail(s->st,
			"the receiver acknowledged %llu entries and "
			"%llu bytes, not what was sent",
			(unsigned long long)ack.a, (unsigned long long)ack.b);
		return -1;
	}
	s->st->resumed = ack.c;
	memcpy(s->st->root, s->T, (size_t)s->hl);
	return 0;
}

static int run(sender *s, xf_walk *w)
{
	if (s->o->secret != NULL && authenticate(s) < 0)
		return -1;
	uint8_t f[XF_HEAD_LEN + XF_HELLO_LEN];
	xf_hello h = {
		.alg = (uint8_t)s->o->alg, .files = w->n, .bytes = w->bytes};
	size_t n = xf_hello_encode(f, sizeof(f), &h);
	int rc = xf_io_write(&s->io, f, n);
	if (rc < 0)
		return write_failed(s, rc, "the start of the transfer");
	xf_progress_start(&s->pg, s->o->progress, "send", w->n, w->bytes);
	for (size_t i = 0; i < w->n; i++) {
		const xf_item *it = &w->v[i];
		if (S_ISREG(it->st.st_mode))
			rc = send_file(s, it);
		else
			rc = send_entry(s, it,
					S_ISDIR(it->st.st_mode) ? XF_DIR
								: XF_LINK,
					NULL, false);
		if (rc < 0)
			return -1;
		s->pg.done_files++;
		xf_progress_tick(&s->pg, false);
	}
	rc = finish(s, w);
	xf_progress_end(&s->pg);
	return rc;
}

int xf_send(int fd, const xf_send_opts *o, xf_stats *st)
{
	*st = (xf_stats){.alg = o->alg,
			 .tls = o->tls != NULL,
			 .secret = o->secret != NULL};
	int64_t t0 = xf_now_us();
	xf_walk w = {0};
	for (size_t i = 0; i < o->npaths; i++)
		if (xf_walk_add(&w, o->paths[i]) < 0) {
			xf_fail(st, "%s", w.err[0] ? w.err : "out of memory");
			xf_walk_free(&w);
			return -1;
		}
	sender *s = skt_calloc(1, sizeof(*s));
	if (s != NULL)
		s->buf = skt_malloc((size_t)o->chunk + XF_HASH_MAX);
	if (s == NULL || s->buf == NULL) {
		skt_free(s);
		xf_walk_free(&w);
		xf_fail(st, "out of memory");
		return -1;
	}
	xf_io_init(&s->io, fd, o->tls, o->timeout_ms);
	/* Small frames (ENTRY, END, DONE) wait for an answer: Nagle's
	 * algorithm with the peer's delayed ACK would hold each 40 ms.
	 * SO_SNDBUF and SO_RCVBUF are left alone on purpose: Linux's
	 * autotuning grows them to tcp_wmem/tcp_rmem's maximum (4 MiB and
	 * 32 MiB on Debian 12), and a fixed size would switch it off and cap
	 * them at wmem_max/rmem_max. */
	skt_sock_set_opt(fd, SKT_OPT_NODELAY, 1);
	s->o = o;
	s->st = st;
	s->hl = xf_alg_hash_len(o->alg);
	int rc = run(s, &w);
	st->files = w.n;
	st->bytes = w.bytes;
	st->skipped = w.skipped;
	st->seconds = (double)(xf_now_us() - t0) / 1e6;
	if (rc < 0 && s->pg.on)
		fputc('\n', stderr);
	if (s->io.auth != NULL || s->auth.tx != NULL)
		xf_auth_free(&s->auth);
	skt_free(s->buf);
	skt_free(s);
	xf_walk_free(&w);
	return rc;
}
