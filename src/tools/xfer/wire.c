/* wire.c - the frames of docs/transfer.md. Big-endian integers, lengths
 * checked against their limits before use, paths and links checked here
 * so that neither end trusts the other's. */
#include "tools/xfer/wire.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int xf_alg_hash_len(int alg)
{
	switch (alg) {
	case XF_ALG_NONE:
		return 0;
	case XF_ALG_XXH3:
		return 16;
	case XF_ALG_SHA256:
		return 32;
	}
	return -1;
}

static const char *const alg_names[] = {"none", "xxh3", "sha256"};

const char *xf_alg_name(int alg)
{
	return alg >= 0 && alg <= XF_ALG_SHA256 ? alg_names[alg] : NULL;
}

int xf_alg_parse(const char *name)
{
	for (int i = 0; i <= XF_ALG_SHA256; i++)
		if (strcmp(name, alg_names[i]) == 0)
			return i;
	return -1;
}

static uint32_t type_limit(uint8_t type)
{
	switch (type) {
	case XF_DATA:
		return XF_DATA_MAX;
	case XF_HELLO:
	case XF_ENTRY:
	case XF_RESUME:
	case XF_END:
	case XF_DONE:
	case XF_ACK:
	case XF_ERROR:
		return XF_CTRL_MAX;
	case XF_NONCE:
	case XF_PROOF:
	case XF_MAC:
		return XF_AUTH_LEN;
	}
	return 0;
}

int xf_head_decode(const uint8_t *p, size_t n, uint8_t *type, uint32_t *len)
{
	if (n < XF_HEAD_LEN)
		return 0;
	uint32_t limit = type_limit(p[0]);
	uint32_t l = get32(p + 1);
	if (limit == 0 || l > limit)
		return -1;
	*type = p[0];
	*len = l;
	return XF_HEAD_LEN;
}

size_t xf_head_encode(uint8_t *p, uint8_t type, uint32_t len)
{
	p[0] = type;
	put32(p + 1, len);
	return XF_HEAD_LEN;
}

int xf_hello_decode(const uint8_t *p, size_t n, xf_hello *h)
{
	if (n != XF_HELLO_LEN || memcmp(p, "SKXF", 4) != 0)
		return -1;
	h->version = p[4];
	h->alg = p[5];
	if (h->version != XF_VERSION || xf_alg_hash_len(h->alg) < 0 ||
	    get16(p + 6) != 0)
		return -1;
	h->files = get64(p + 8);
	h->bytes = get64(p + 16);
	return 0;
}

size_t xf_hello_encode(uint8_t *out, size_t cap, const xf_hello *h)
{
	if (cap < XF_HEAD_LEN + XF_HELLO_LEN || xf_alg_hash_len(h->alg) < 0)
		return 0;
	uint8_t *p = out + xf_head_encode(out, XF_HELLO, XF_HELLO_LEN);
	memcpy(p, "SKXF", 4);
	p[4] = XF_VERSION;
	p[5] = h->alg;
	put16(p + 6, 0);
	put64(p + 8, h->files);
	put64(p + 16, h->bytes);
	return XF_HEAD_LEN + XF_HELLO_LEN;
}

bool xf_path_ok(const char *p, size_t n)
{
	if (n == 0 || n > XF_PATH_MAX || memchr(p, '\0', n) != NULL)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		size_t len = i - start;
		if (len == 0 || len > XF_NAME_MAX)
			return false; /* leading, trailing or double '/' */
		if ((len == 1 && p[start] == '.') ||
		    (len == 2 && p[start] == '.' && p[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

bool xf_link_ok(const char *path, size_t path_len, const char *target,
		size_t target_len)
{
	if (target_len == 0 || target_len > XF_PATH_MAX ||
	    memchr(target, '\0', target_len) != NULL || target[0] == '/')
		return false;
	/* The link lives in path's directory: as deep as path has '/'s. */
	long depth = 0;
	for (size_t i = 0; i < path_len; i++)
		depth += path[i] == '/';
	size_t start = 0;
	for (size_t i = 0; i <= target_len; i++) {
		if (i < target_len && target[i] != '/')
			continue;
		size_t len = i - start;
		if (len == 2 && target[start] == '.' &&
		    target[start + 1] == '.')
			depth--;
		else if (len > 0 && !(len == 1 && target[start] == '.'))
			depth++;
		if (depth < 0)
			return false;
		start = i + 1;
	}
	return true;
}

int xf_entry_decode(const uint8_t *p, size_t n, xf_entry *e)
{
	if (n < XF_ENTRY_FIXED)
		return -1;
	*e = (xf_entry){0};
	e->kind = p[0];
	e->alg = p[1];
	e->path_len = get16(p + 2);
	e->link_len = get16(p + 4);
	e->first_len = p[6];
	e->mode = get32(p + 8);
	e->chunk = get32(p + 12);
	e->mtime_ns = get32(p + 16);
	e->mtime_s = (int64_t)get64(p + 20);
	e->size = get64(p + 28);
	int hl = xf_alg_hash_len(e->alg);
	if (hl < 0 || p[7] != 0 || e->mode > 07777 ||
	    e->mtime_ns >= 1000000000u || e->chunk < XF_CHUNK_MIN ||
	    e->chunk > XF_CHUNK_MAX || (e->chunk & (e->chunk - 1)) != 0)
		return -1;
	if (n != XF_ENTRY_FIXED + e->path_len + e->link_len + e->first_len)
		return -1;
	e->path = (const char *)p + XF_ENTRY_FIXED;
	e->link = e->path + e->path_len;
	if (!xf_path_ok(e->path, e->path_len))
		return -1;
	switch (e->kind) {
	case XF_FILE:
		if (e->link_len != 0 ||
		    (e->first_len != 0 &&
		     (e->first_len != (size_t)hl || e->size == 0)))
			return -1;
		memcpy(e->first, e->link, e->first_len);
		break;
	case XF_DIR:
		if (e->link_len != 0 || e->first_len != 0 || e->size != 0)
			return -1;
		break;
	case XF_LINK:
		if (e->first_len != 0 || e->size != 0 ||
		    !xf_link_ok(e->path, e->path_len, e->link, e->link_len))
			return -1;
		break;
	default:
		return -1;
	}
	if (e->link_len == 0)
		e->link = NULL;
	return 0;
}

size_t xf_entry_encode(uint8_t *out, size_t cap, const xf_entry *e)
{
	size_t plen = XF_ENTRY_FIXED + e->path_len + e->link_len + e->first_len;
	if (e->path_len > XF_PATH_MAX || e->link_len > XF_PATH_MAX ||
	    e->first_len > XF_HASH_MAX || cap < XF_HEAD_LEN + plen)
		return 0;
	uint8_t *p = out + xf_head_encode(out, XF_ENTRY, (uint32_t)plen);
	p[0] = e->kind;
	p[1] = e->alg;
	put16(p + 2, (uint16_t)e->path_len);
	put16(p + 4, (uint16_t)e->link_len);
	p[6] = (uint8_t)e->first_len;
	p[7] = 0;
	put32(p + 8, e->mode);
	put32(p + 12, e->chunk);
	put32(p + 16, e->mtime_ns);
	put64(p + 20, (uint64_t)e->mtime_s);
	put64(p + 28, e->size);
	memcpy(p + XF_ENTRY_FIXED, e->path, e->path_len);
	if (e->link_len > 0)
		memcpy(p + XF_ENTRY_FIXED + e->path_len, e->link, e->link_len);
	memcpy(p + XF_ENTRY_FIXED + e->path_len + e->link_len, e->first,
	       e->first_len);
	/* What a decoder would refuse is not sent. */
	xf_entry back;
	if (xf_entry_decode(p, plen, &back) != 0)
		return 0;
	return XF_HEAD_LEN + plen;
}

/* How many counts each summary frame carries. */
static int sum_counts(uint8_t type)
{
	switch (type) {
	case XF_RESUME:
		return 1;
	case XF_END:
		return 0;
	case XF_DONE:
		return 2;
	case XF_ACK:
		return 3;
	}
	return -1;
}

int xf_sum_decode(uint8_t type, const uint8_t *p, size_t n, size_t hl,
		  xf_sum *s)
{
	int counts = sum_counts(type);
	if (counts < 0 || hl > XF_HASH_MAX || n != (size_t)counts * 8 + hl)
		return -1;
	*s = (xf_sum){0};
	uint64_t *v[3] = {&s->a, &s->b, &s->c};
	for (int i = 0; i < counts; i++)
		*v[i] = get64(p + 8 * i);
	memcpy(s->hash, p + 8 * counts, hl);
	return 0;
}

size_t xf_sum_encode(uint8_t *out, size_t cap, uint8_t type, size_t hl,
		     const xf_sum *s)
{
	int counts = sum_counts(type);
	if (counts < 0 || hl > XF_HASH_MAX)
		return 0;
	size_t plen = (size_t)counts * 8 + hl;
	if (cap < XF_HEAD_LEN + plen)
		return 0;
	uint8_t *p = out + xf_head_encode(out, type, (uint32_t)plen);
	const uint64_t v[3] = {s->a, s->b, s->c};
	for (int i = 0; i < counts; i++)
		put64(p + 8 * i, v[i]);
	memcpy(p + 8 * counts, s->hash, hl);
	return XF_HEAD_LEN + plen;
}

int xf_error_decode(const uint8_t *p, size_t n, uint16_t *code,
		    const char **msg, size_t *msg_len)
{
	if (n < 2 || n - 2 > XF_ERRMSG_MAX)
		return -1;
	*code = get16(p);
	*msg = (const char *)p + 2;
	*msg_len = n - 2;
	return 0;
}

size_t xf_error_encode(uint8_t *out, size_t cap, uint16_t code, const char *msg)
{
	size_t len = strlen(msg);
	if (len > XF_ERRMSG_MAX)
		len = XF_ERRMSG_MAX;
	if (cap < XF_HEAD_LEN + 2 + len)
		return 0;
	uint8_t *p = out + xf_head_encode(out, XF_ERROR, (uint32_t)(2 + len));
	put16(p, code);
	memcpy(p + 2, msg, len);
	return XF_HEAD_LEN + 2 + len;
}

uint64_t xf_chunks(uint64_t size, uint32_t chunk)
{
	return size / chunk + (size % chunk != 0);
}

uint32_t xf_chunk_len(uint64_t size, uint32_t chunk, uint64_t i)
{
	if (i > size / chunk)
		return 0; /* before the multiplication can wrap */
	uint64_t off = i * chunk;
	if (off >= size)
		return 0;
	return size - off < chunk ? (uint32_t)(size - off) : chunk;
}
