/* recv.c - the receiving end of docs/transfer.md. States: HELLO, then
 * entries until DONE; a regular file is ENTRY -> RESUME out -> DATA for
 * each remaining chunk -> END. Each chunk is read whole into one buffer
 * (grown with the bytes that came, never to a size the sender claims),
 * hashed, compared, and written with one pwrite. Any failure sends an
 * ERROR that names the file, so the sender's exit status says the same. */
#include "tools/xfer/part.h"
#include "tools/xfer/xfer_int.h"

#include "sockit/sockit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A directory's mode and mtime, set once everything inside it is
 * written (a 0555 directory cannot be filled). */
typedef struct dir_meta {
	char *path;
	uint32_t mode, mtime_ns;
	int64_t mtime_s;
} dir_meta;

typedef struct receiver {
	xf_io io;
	const xf_recv_opts *o;
	xf_stats *st;
	xf_progress pg;
	int alg, hl;
	uint64_t entries, bytes; /* so far */
	uint8_t T[XF_HASH_MAX];
	uint8_t *buf; /* one DATA payload */
	size_t cap;
	dir_meta *dirs;
	size_t ndirs, dircap;
	char path[XF_PATH_MAX + 1];
	int pdir; /* the parent directory of the entry before, or -1 */
	size_t pdir_len;
	char pdir_path[XF_PATH_MAX + 1];
	xf_auth auth; /* --secret */
} receiver;

/* Fail with code: st->err set, an ERROR to the sender. Returns -1. */
static int refuse(receiver *r, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(receiver *r, uint16_t code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (r->st->err[0] == '\0')
		vsnprintf(r->st->err, sizeof(r->st->err), fmt, ap);
	va_end(ap);
	if (code == XF_E_VERIFY)
		r->st->verify_failed = true;
	xf_io_error(&r->io, code, r->st->err);
	return -1;
}

/* A read failed or brought the wrong frame. Returns -1. */
static int read_failed(receiver *r, int rc, uint8_t type, uint32_t len,
		       const char *where)
{
	if (rc == 0 && type == XF_ERROR) {
		xf_fail_peer(r->st, "sender", r->io.ctrl + XF_HEAD_LEN, len);
		return -1;
	}
	if (rc == SKT_EOF || rc == SKT_EPARTIAL) {
		xf_fail(r->st, "the sender closed the connection %s", where);
		return -1;
	}
	if (rc < 0 && rc != SKT_EMALFORMED) {
		xf_fail(r->st, "receiving %s: %s", where, skt_strerror(rc));
		return -1;
	}
	return refuse(r, XF_E_PROTO, "a malformed or unexpected frame %s",
		      where);
}

/* len bytes of DATA payload into r->buf, which grows as they arrive. */
static int read_payload(receiver *r, uint32_t len)
{
	size_t got = 0;
	while (got < len) {
		if (got == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64 << 10;
			if (cap > len)
				cap = len;
			uint8_t *b = skt_realloc(r->buf, cap);
			if (b == NULL)
				return SKT_ENOMEM;
			r->buf = b;
			r->cap = cap;
		}
		size_t want = (r->cap < len ? r->cap : len) - got;
		int rc = xf_io_read(&r->io, r->buf + got, want);
		if (rc < 0)
			return rc == SKT_EOF ? SKT_EPARTIAL : rc;
		got += want;
	}
	return 0;
}

/* --secret: the sender's MAC of everything it sent so far, checked before
 * what came is acted on. 0 or -1. */
static int check_mark(receiver *r, const char *where)
{
	uint8_t type = 0;
	uint32_t len = 0;
	int rc = xf_io_check_mark(&r->io, &type, &len);
	if (rc == 0)
		return 0;
	if (rc == 1) {
		r->st->auth_failed = true;
		return refuse(r, XF_E_AUTH,
			      "%s: the sender's MAC does not match: tampered "
			      "in flight, or not this --secret",
			      where);
	}
	return read_failed(r, rc == SKT_EMALFORMED ? 0 : rc, type, len,
			   "where a MAC was due");
}

static int check_limits(receiver *r, const xf_entry *e)
{
	if (e->alg != r->alg)
		return refuse(r, XF_E_PROTO,
			      "%s: a hash other than the "
			      "transfer's",
			      r->path);
	if (r->entries >= r->o->max_files)
		return refuse(r, XF_E_REFUSED,
			      "%s: more than %llu entries (--max-files)",
			      r->path, (unsigned long long)r->o->max_files);
	if (e->size > r->o->max_size - r->bytes)
		return refuse(r, XF_E_REFUSED,
			      "%s: more than %llu bytes in all (--max-size)",
			      r->path, (unsigned long long)r->o->max_size);
	return 0;
}

/* Chunk i of e into r->buf, checked against its hash; c, the chain, moves
 * on. Returns the chunk's length, or -1 (the sender told). */
static int64_t recv_chunk(receiver *r, const xf_entry *e, uint64_t i,
			  uint8_t c[XF_HASH_MAX])
{
	uint8_t type, h[XF_HASH_MAX];
	uint32_t len, want = xf_chunk_len(e->size, e->chunk, i);
	int rc = xf_io_head(&r->io, &type, &len);
	if (rc == 0 && type == XF_ERROR)
		rc = xf_io_read(&r->io, r->io.ctrl + XF_HEAD_LEN, len);
	if (rc < 0 || type != XF_DATA || len != want + (uint32_t)r->hl)
		return read_failed(r, rc, type, len, "in a file");
	if ((rc = read_payload(r, len)) < 0)
		return read_failed(r, rc, type, len, "in a file");
	if (xf_hash(r->alg, r->buf, want, h) < 0)
		return refuse(r, XF_E_IO, "%s: hashing failed", r->path);
	if (memcmp(h, r->buf + want, (size_t)r->hl) != 0)
		return refuse(r, XF_E_VERIFY,
			      "%s: chunk %llu does not match its hash "
			      "(corrupted in flight)",
			      r->path, (unsigned long long)i);
	if (check_mark(r, r->path) < 0)
		return -1;
	xf_chain(r->alg, c, h);
	r->st->moved += want;
	r->pg.done_bytes += want;
	xf_progress_tick(&r->pg, false);
	return want;
}

/* END, checked against the chain c. 0 or -1. */
static int recv_end(receiver *r, const uint8_t c[XF_HASH_MAX])
{
	uint8_t type;
	uint32_t len;
	xf_sum end;
	int rc = xf_io_ctrl(&r->io, &type, &len);
	if (rc < 0 || type != XF_END ||
	    xf_sum_decode(XF_END, r->io.ctrl + XF_HEAD_LEN, len, (size_t)r->hl,
			  &end) < 0)
		return read_failed(r, rc, type, len, "at the end of a file");
	if (check_mark(r, r->path) < 0)
		return -1;
	if (memcmp(end.hash, c, (size_t)r->hl) != 0)
		return refuse(r, XF_E_VERIFY,
			      "%s: the file's root hash does not match",
			      r->path);
	xf_chain(r->alg, r->T, c);
	return 0;
}

/* Chunks from p->k on, then END. */
static int recv_chunks(receiver *r, xf_part *p, const xf_entry *e)
{
	uint64_t n = xf_chunks(e->size, e->chunk);
	uint8_t c[XF_HASH_MAX];
	memcpy(c, p->c, sizeof(c));
	for (uint64_t i = p->k; i < n; i++) {
		int64_t want = recv_chunk(r, e, i, c);
		if (want < 0)
			return -1;
		int rc = xf_part_chunk(p, i, e->chunk, r->buf, (uint32_t)want,
				       c);
		if (rc < 0)
			return refuse(r, XF_E_IO, "%s: %s (the .part is kept)",
				      r->path, skt_strerror(rc));
	}
	return recv_end(r, c);
}

/* A file of one chunk or none, without --overwrite: it is whole in
 * memory and verified before anything is created, then written to NAME
 * directly (O_EXCL: never over a file), with no .part and no rename. A
 * write that fails removes what it made. */
static int recv_small(receiver *r, int dir, const char *name, const xf_entry *e)
{
	uint8_t c[XF_HASH_MAX] = {0};
	int64_t n = 0;
	if (e->size > 0 && (n = recv_chunk(r, e, 0, c)) < 0)
		return -1;
	if (recv_end(r, c) < 0)
		return -1;
	int fd = openat(dir, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0)
		return refuse(r, errno == EEXIST ? XF_E_EXISTS : XF_E_IO,
			      "%s: %s", r->path,
			      errno == EEXIST ? "exists"
					      : skt_strerror(-errno));
	struct timespec ts[2] = {
		{.tv_nsec = UTIME_OMIT},
		{.tv_sec = e->mtime_s, .tv_nsec = e->mtime_ns}};
	ssize_t w = n > 0 ? write(fd, r->buf, (size_t)n) : 0;
	int rc = w == n && fchmod(fd, e->mode & 01777) == 0 &&
				 futimens(fd, ts) == 0
			 ? 0
			 : (w >= 0 && w < n ? -ENOSPC : -errno);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dir, name, 0);
		return refuse(r, XF_E_IO, "%s: %s", r->path, skt_strerror(rc));
	}
	return 0;
}

static int recv_file(receiver *r, int dir, const char *name, const xf_entry *e)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (!r->o->overwrite || S_ISDIR(st.st_mode))) {
		return refuse(r, XF_E_EXISTS, "%s: exists%s", r->path,
			      S_ISDIR(st.st_mode)
				      ? " as a directory"
				      : " (--overwrite replaces it)");
	}
	if (!r->o->overwrite && xf_chunks(e->size, e->chunk) <= 1)
		return recv_small(r, dir, name, e);
	xf_part p;
	int rc = xf_part_open(&p, dir, name, e, !r->o->no_resume);
	if (rc < 0) {
		xf_part_close(&p);
		return refuse(r, XF_E_IO, "%s: %s", r->path, skt_strerror(rc));
	}
	uint64_t had = p.k * e->chunk < e->size ? p.k * e->chunk : e->size;
	r->st->resumed += had;
	r->pg.done_bytes += had;
	/* A file of one chunk or none gets no RESUME: its DATA follows its
	 * ENTRY at once (docs/transfer.md), which saves a round trip a file
	 * in a tree of small ones. */
	if (xf_chunks(e->size, e->chunk) > 1) {
		uint8_t f[XF_HEAD_LEN + 8 + XF_HASH_MAX];
		xf_sum res = {.a = p.k};
		memcpy(res.hash, p.c, sizeof(res.hash));
		size_t n = xf_sum_encode(f, sizeof(f), XF_RESUME, (size_t)r->hl,
					 &res);
		rc = xf_io_write_flags(&r->io, f, n, r->io.auth ? MSG_MORE : 0);
		if (rc == 0)
			rc = xf_io_mark(&r->io, 0);
		if (rc < 0) {
			xf_part_close(&p);
			xf_fail(r->st, "%s: sending: %s", r->path,
				skt_strerror(rc));
			return -1;
		}
	}
	rc = recv_chunks(r, &p, e);
	if (rc == 0 && (rc = xf_part_finish(&p, e, r->o->overwrite)) < 0)
		rc = refuse(r, rc == -EEXIST ? XF_E_EXISTS : XF_E_IO, "%s: %s",
			    r->path, skt_strerror(rc));
	xf_part_close(&p);
	return rc;
}

static int keep_dir(receiver *r, const xf_entry *e)
{
	if (r->ndirs == r->dircap) {
		size_t cap = r->dircap ? r->dircap * 2 : 16;
		dir_meta *d = skt_realloc(r->dirs, cap * sizeof(*d));
		if (d == NULL)
			return -ENOMEM;
		r->dirs = d;
		r->dircap = cap;
	}
	char *path = xf_strdup(r->path);
	if (path == NULL)
		return -ENOMEM;
	r->dirs[r->ndirs++] = (dir_meta){.path = path,
					 .mode = e->mode & 01777,
					 .mtime_s = e->mtime_s,
					 .mtime_ns = e->mtime_ns};
	return 0;
}

static int recv_dir(receiver *r, int dir, const char *name, const xf_entry *e)
{
	struct stat st;
	int rc = 0;
	if (mkdirat(dir, name, 0700) < 0 &&
	    (errno != EEXIST ||
	     fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	     !S_ISDIR(st.st_mode)))
		rc = refuse(r, errno == EEXIST ? XF_E_EXISTS : XF_E_IO,
			    "%s: %s", r->path,
			    errno == EEXIST ? "exists and is not a directory"
					    : skt_strerror(-errno));
	else if (keep_dir(r, e) < 0)
		rc = refuse(r, XF_E_IO, "%s: out of memory", r->path);
	return rc;
}

static int recv_link(receiver *r, int dir, const char *name, const xf_entry *e)
{
	char target[XF_PATH_MAX + 1];
	memcpy(target, e->link, e->link_len);
	target[e->link_len] = '\0';
	struct stat st;
	int rc = 0;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!r->o->overwrite || S_ISDIR(st.st_mode))
			rc = refuse(r, XF_E_EXISTS, "%s: exists", r->path);
		else if (unlinkat(dir, name, 0) < 0)
			rc = refuse(r, XF_E_IO, "%s: %s", r->path,
				    skt_strerror(-errno));
	}
	struct timespec ts[2] = {
		{.tv_nsec = UTIME_OMIT},
		{.tv_sec = e->mtime_s, .tv_nsec = e->mtime_ns}};
	if (rc == 0 && symlinkat(target, dir, name) < 0)
		rc = refuse(r, XF_E_IO, "%s: %s", r->path,
			    skt_strerror(-errno));
	if (rc == 0)
		utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW);
	return rc;
}

/* The directory holding r->path's last component: the one of the entry
 * before when it is the same (a tree's files come together), else walked
 * afresh by xf_fs_parent. A borrowed fd, or -errno. The cached fd stays
 * right: a directory is never replaced during a transfer, and it was
 * reached without following a link. */
static int parent(receiver *r, const char **name)
{
	const char *slash = strrchr(r->path, '/');
	size_t plen = slash != NULL ? (size_t)(slash - r->path) : 0;
	if (r->pdir >= 0 && plen == r->pdir_len &&
	    memcmp(r->pdir_path, r->path, plen) == 0) {
		*name = slash != NULL ? slash + 1 : r->path;
		return r->pdir;
	}
	int fd = xf_fs_parent(r->o->dirfd, r->path, name);
	if (fd < 0)
		return fd;
	if (r->pdir >= 0)
		close(r->pdir);
	r->pdir = fd;
	r->pdir_len = plen;
	memcpy(r->pdir_path, r->path, plen);
	return fd;
}

static int recv_entry(receiver *r, uint32_t len)
{
	xf_entry e;
	if (xf_entry_decode(r->io.ctrl + XF_HEAD_LEN, len, &e) < 0)
		return refuse(r, XF_E_REFUSED,
			      "an entry with a bad path, link or field");
	memcpy(r->path, e.path, e.path_len);
	r->path[e.path_len] = '\0';
	if (check_limits(r, &e) < 0)
		return -1;
	if (e.kind != XF_FILE && check_mark(r, r->path) < 0)
		return -1;
	r->entries++;
	r->bytes += e.size;
	const char *name;
	int dir = parent(r, &name);
	if (dir < 0)
		return refuse(r, XF_E_REFUSED, "%s: %s", r->path,
			      dir == -ELOOP || dir == -ENOTDIR
				      ? "a component is not a directory "
					"(links are not followed)"
				      : skt_strerror(dir));
	int rc;
	if (e.kind == XF_FILE)
		rc = recv_file(r, dir, name, &e);
	else if (e.kind == XF_DIR)
		rc = recv_dir(r, dir, name, &e);
	else
		rc = recv_link(r, dir, name, &e);
	if (rc == 0) {
		r->pg.done_files++;
		xf_progress_tick(&r->pg, false);
	}
	return rc;
}

/* Directories' modes and mtimes, deepest last written first. */
static void finish_dirs(receiver *r)
{
	for (size_t i = r->ndirs; i-- > 0;) {
		dir_meta *d = &r->dirs[i];
		const char *name;
		int dir = xf_fs_parent(r->o->dirfd, d->path, &name);
		if (dir < 0)
			continue;
		int fd =
			openat(dir, name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			struct timespec ts[2] = {
				{.tv_nsec = UTIME_OMIT},
				{.tv_sec = d->mtime_s, .tv_nsec = d->mtime_ns}};
			fchmod(fd, d->mode);
			futimens(fd, ts);
			close(fd);
		}
		close(dir);
	}
}

static int finish(receiver *r, uint32_t len)
{
	xf_sum done;
	if (xf_sum_decode(XF_DONE, r->io.ctrl + XF_HEAD_LEN, len, (size_t)r->hl,
			  &done) < 0)
		return refuse(r, XF_E_PROTO, "a malformed end of transfer");
	if (check_mark(r, "the end of the transfer") < 0)
		return -1;
	if (done.a != r->entries || done.b != r->bytes ||
	    memcmp(done.hash, r->T, (size_t)r->hl) != 0)
		return refuse(r, XF_E_VERIFY,
			      "the end of transfer does not match what came "
			      "(%llu entries, %llu bytes)",
			      (unsigned long long)r->entries,
			      (unsigned long long)r->bytes);
	finish_dirs(r);
	uint8_t f[XF_HEAD_LEN + 24 + XF_HASH_MAX];
	xf_sum ack = {.a = r->entries, .b = r->bytes, .c = r->st->resumed};
	memcpy(ack.hash, r->T, sizeof(ack.hash));
	size_t n = xf_sum_encode(f, sizeof(f), XF_ACK, (size_t)r->hl, &ack);
	int rc = xf_io_write_flags(&r->io, f, n, r->io.auth ? MSG_MORE : 0);
	if (rc == 0)
		rc = xf_io_mark(&r->io, 0);
	if (rc < 0) {
		xf_fail(r->st, "sending the acknowledgement: %s",
			skt_strerror(rc));
		return -1;
	}
	memcpy(r->st->root, r->T, sizeof(r->st->root));
	return 0;
}

/* --secret, before HELLO (send.c's authenticate). The sender's proof is
 * checked before anything else is read: a wrong secret stops here. */
static int authenticate(receiver *r)
{
	uint8_t nr[XF_AUTH_LEN], ns[XF_AUTH_LEN], proof[XF_AUTH_LEN], type;
	uint32_t len;
	int rc = xf_io_ctrl(&r->io, &type, &len);
	if (rc == 0 && type == XF_HELLO)
		return refuse(r, XF_E_AUTH, "the sender has no --secret");
	if (rc < 0 || type != XF_NONCE || len != XF_AUTH_LEN)
		return read_failed(r, rc, type, len, "at the start");
	memcpy(ns, r->io.ctrl + XF_HEAD_LEN, sizeof(ns));
	if (xf_auth_nonce(nr) < 0 ||
	    xf_auth_init(&r->auth, r->o->secret, r->o->secret_len, ns, nr,
			 false) < 0)
		return refuse(r, XF_E_IO, "--secret: deriving the keys failed");
	if ((rc = xf_io_auth(&r->io, XF_NONCE, nr, 0)) < 0) {
		xf_fail(r->st, "sending: %s", skt_strerror(rc));
		return -1;
	}
	rc = xf_io_ctrl(&r->io, &type, &len);
	if (rc < 0 || type != XF_PROOF || len != XF_AUTH_LEN)
		return read_failed(r, rc, type, len, "at the start");
	xf_auth_proof(&r->auth, true, proof);
	if (!xf_auth_equal(proof, r->io.ctrl + XF_HEAD_LEN)) {
		r->st->auth_failed = true;
		return refuse(r, XF_E_AUTH,
			      "the sender does not know this --secret "
			      "(its proof does not match)");
	}
	xf_auth_proof(&r->auth, false, proof);
	if ((rc = xf_io_auth(&r->io, XF_PROOF, proof, 0)) < 0) {
		xf_fail(r->st, "sending: %s", skt_strerror(rc));
		return -1;
	}
	r->io.auth = &r->auth;
	return 0;
}

static int run(receiver *r)
{
	uint8_t type;
	uint32_t len;
	xf_hello h;
	if (r->o->secret != NULL && authenticate(r) < 0)
		return -1;
	int rc = xf_io_ctrl(&r->io, &type, &len);
	if (rc == 0 && type == XF_NONCE)
		return refuse(r, XF_E_AUTH,
			      "the sender uses --secret; give this receiver "
			      "the same");
	if (rc < 0 || type != XF_HELLO)
		return read_failed(r, rc, type, len, "at the start");
	if (xf_hello_decode(r->io.ctrl + XF_HEAD_LEN, len, &h) < 0)
		return refuse(r, XF_E_PROTO, "not a sockit send of version %d",
			      XF_VERSION);
	r->alg = r->st->alg = h.alg;
	r->hl = xf_alg_hash_len(h.alg);
	if (h.files > r->o->max_files || h.bytes > r->o->max_size)
		return refuse(r, XF_E_REFUSED,
			      "the transfer of %llu entries and %llu bytes is "
			      "over --max-files or --max-size",
			      (unsigned long long)h.files,
			      (unsigned long long)h.bytes);
	xf_progress_start(&r->pg, r->o->progress, "recv", h.files, h.bytes);
	for (;;) {
		rc = xf_io_ctrl(&r->io, &type, &len);
		if (rc == 0 && type == XF_ENTRY)
			rc = recv_entry(r, len);
		else if (rc == 0 && type == XF_DONE)
			return finish(r, len);
		else
			return read_failed(r, rc, type, len, "between files");
		if (rc < 0)
			return -1;
	}
}

/* After an ERROR: take what the sender still has in flight for a
 * moment, so it reads our ERROR instead of a reset. */
static void drain(receiver *r)
{
	skt_shutdown_write(r->io.fd);
	int64_t until = xf_now_us() + 2000000;
	while (xf_now_us() < until) {
		ssize_t n = skt_recv(r->io.fd, r->buf ? r->buf : r->io.ctrl,
				     r->buf ? r->cap : sizeof(r->io.ctrl), 200);
		if (n == 0 || (n < 0 && n != SKT_ETIMEDOUT))
			break;
	}
}

int xf_recv(int fd, const xf_recv_opts *o, xf_stats *st)
{
	*st = (xf_stats){.tls = o->tls != NULL, .secret = o->secret != NULL};
	receiver *r = skt_calloc(1, sizeof(*r));
	if (r == NULL) {
		xf_fail(st, "out of memory");
		return -1;
	}
	int64_t t0 = xf_now_us();
	xf_io_init(&r->io, fd, o->tls, o->timeout_ms);
	r->pdir = -1;
	skt_sock_set_opt(fd, SKT_OPT_NODELAY, 1); /* RESUME, ACK: see send.c */
	r->o = o;
	r->st = st;
	int rc = run(r);
	if (rc < 0)
		drain(r);
	st->files = r->entries;
	st->bytes = r->bytes;
	st->seconds = (double)(xf_now_us() - t0) / 1e6;
	if (rc == 0)
		xf_progress_end(&r->pg);
	else if (r->pg.on)
		fputc('\n', stderr);
	if (r->pdir >= 0)
		close(r->pdir);
	for (size_t i = 0; i < r->ndirs; i++)
		skt_free(r->dirs[i].path);
	skt_free(r->dirs);
	skt_free(r->buf);
	xf_auth_free(&r->auth);
	skt_free(r);
	return rc;
}
