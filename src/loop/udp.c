/* udp.c - datagram endpoints on a loop, batched both ways.
 *
 * Receiving: one recvmmsg takes up to SKT_UDP_BATCH datagrams into slots
 * of max_dgram bytes each, and the callback gets them as one array (a few
 * rounds per wake-up, then the level watch reports again).
 *
 * Sending: skt_udp_send copies the datagram into an arena and queues it;
 * the endpoint's task sends the queue with one sendmmsg at the end of the
 * iteration, so an echo answering a batch of 32 datagrams makes one
 * syscall, not 32. A full socket buffer (EAGAIN) keeps the queue and waits
 * for writability; while it waits, datagrams that do not fit are refused
 * with SKT_ENOBUFS, as a full kernel queue would drop them. A datagram the
 * kernel refuses (EMSGSIZE, a refused port) is dropped and the error goes
 * to the receive callback, which is the endpoint's one report channel.
 *
 * States of the sending side: FLOWING (the queue goes out at the end of
 * each iteration) and BLOCKED (the socket was full: the queue waits for
 * the watch to report it writable, then FLOWING again).
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define B             SKT_UDP_BATCH
#define DGRAM_DEFAULT 2048
#define DGRAM_MAX     65536
#define ARENA         ((size_t)64 << 10)
#define ROUNDS        4 /* recvmmsg calls per wake-up */

struct skt_udp {
	skt__watch w;
	skt_loop *loop;
	skt_udp_cb cb;
	void *udata;
	int refs;
	int err; /* a send error for the next callback */
	bool freed;
	bool reading;
	bool blocked; /* the socket is full: the queue waits for POLLOUT */
	size_t max;
	uint8_t *rx; /* B slots of max bytes */
	struct mmsghdr rmsg[B];
	struct iovec riov[B];
	skt_dgram d[B];
	unsigned sn; /* datagrams queued */
	size_t soff[B], slen[B];
	skt_addr sto[B];
	uint8_t *arena;
	size_t used, cap;
	skt__task task;
	skt__handle h;
};

static void interest(skt_udp *u)
{
	unsigned want = (u->reading ? SKT_READABLE : 0) |
			(u->blocked ? SKT_WRITABLE : 0);
	if (!u->freed && skt__watch_set(u->loop, &u->w, want) < 0)
		u->err = SKT_ENOMEM;
}

static void release(skt_udp *u)
{
	skt__task_cancel(&u->task);
	skt__handle_del(&u->h);
	skt_free(u->rx);
	skt_free(u->arena);
	skt_free(u);
}

/* Send the queue; whatever the kernel cannot take now stays, in order. */
static void flush_now(skt_udp *u)
{
	struct mmsghdr m[B];
	struct iovec iov[B];
	unsigned done = 0;
	for (unsigned i = 0; i < u->sn; i++) {
		iov[i].iov_base = u->arena + u->soff[i];
		iov[i].iov_len = u->slen[i];
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		if (u->sto[i].len > 0) {
			m[i].msg_hdr.msg_name = &u->sto[i].u;
			m[i].msg_hdr.msg_namelen = u->sto[i].len;
		}
	}
	while (done < u->sn) {
		int n = sendmmsg(u->w.fd, m + done, u->sn - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (unsigned)n;
		} else if (errno == EAGAIN) {
			u->blocked = true;
			break;
		} else if (errno != EINTR) {
			u->err = -errno; /* this one is lost; go on */
			done++;
		}
	}
	u->sn -= done;
	memmove(u->soff, u->soff + done, u->sn * sizeof(u->soff[0]));
	memmove(u->slen, u->slen + done, u->sn * sizeof(u->slen[0]));
	memmove(u->sto, u->sto + done, u->sn * sizeof(u->sto[0]));
	if (u->sn == 0) {
		u->used = 0;
		u->blocked = false;
	}
	interest(u);
}

static void recv_batch(skt_udp *u)
{
	for (int round = 0; round < ROUNDS && u->reading && !u->freed;
	     round++) {
		for (unsigned i = 0; i < B; i++) {
			struct msghdr *h = &u->rmsg[i].msg_hdr;
			u->riov[i].iov_base = u->rx + i * u->max;
			u->riov[i].iov_len = u->max;
			memset(h, 0, sizeof(*h));
			h->msg_name = &u->d[i].from.u;
			h->msg_namelen = sizeof(u->d[i].from.u);
			h->msg_iov = &u->riov[i];
			h->msg_iovlen = 1;
		}
		int n = recvmmsg(u->w.fd, u->rmsg, B, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				u->cb(u, -errno, NULL, 0);
			return;
		}
		for (int i = 0; i < n; i++) {
			u->d[i].data = u->rx + (size_t)i * u->max;
			u->d[i].len = u->rmsg[i].msg_len;
			u->d[i].truncated =
				u->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC;
			u->d[i].from.len = u->rmsg[i].msg_hdr.msg_namelen;
		}
		u->cb(u, 0, u->d, (size_t)n);
		if (n < B)
			return;
	}
}

static void report(skt_udp *u)
{
	if (u->err == 0 || u->freed)
		return;
	int e = u->err;
	u->err = 0;
	if (u->reading)
		u->cb(u, e, NULL, 0);
}

static void udp_io(skt_loop *l, skt__watch *w, unsigned events)
{
	skt_udp *u = SKT__CONTAINER(w, skt_udp, w);
	u->refs++;
	if (u->blocked && (events & (SKT_WRITABLE | SKT__ERR))) {
		u->blocked = false;
		flush_now(u);
	}
	if (u->reading && (events & (SKT_READABLE | SKT__ERR)))
		recv_batch(u);
	report(u);
	if (--u->refs == 0 && u->freed)
		release(u);
}

static void udp_task(skt_loop *l, skt__task *t)
{
	skt_udp *u = SKT__CONTAINER(t, skt_udp, task);
	u->refs++;
	if (!u->blocked && u->sn > 0)
		flush_now(u);
	report(u);
	if (--u->refs == 0 && u->freed)
		release(u);
}

static void udp_destroy(skt__handle *h)
{
	skt_udp_free(SKT__CONTAINER(h, skt_udp, h));
}

int skt_udp_new(skt_loop *l, skt_udp **out, int fd, size_t max_dgram)
{
	*out = NULL;
	if (fd < 0)
		return SKT_EBADF;
	if (max_dgram > DGRAM_MAX)
		return SKT_EINVAL;
	skt_udp *u = skt_calloc(1, sizeof(*u));
	if (u == NULL)
		return SKT_ENOMEM;
	u->max = max_dgram != 0 ? max_dgram : DGRAM_DEFAULT;
	u->rx = skt_malloc(B * u->max);
	if (u->rx == NULL) {
		skt_free(u);
		return SKT_ENOMEM;
	}
	skt__watch_init(&u->w, fd, false, udp_io);
	u->loop = l;
	u->task.fn = udp_task;
	u->h.destroy = udp_destroy;
	skt__handle_add(l, &u->h);
	l->alive++;
	*out = u;
	return 0;
}

int skt_udp_recv_start(skt_udp *u, skt_udp_cb cb)
{
	if (cb == NULL)
		return SKT_EINVAL;
	bool was = u->reading;
	u->cb = cb;
	u->reading = true;
	unsigned want = SKT_READABLE | (u->blocked ? SKT_WRITABLE : 0);
	int r = skt__watch_set(u->loop, &u->w, want);
	if (r < 0)
		u->reading = was;
	return r;
}

int skt_udp_recv_stop(skt_udp *u)
{
	u->reading = false;
	interest(u);
	return 0;
}

int skt_udp_send(skt_udp *u, const void *buf, size_t len, const skt_addr *to)
{
	if (len > DGRAM_MAX - 1)
		return SKT_EMSGSIZE;
	if (u->sn == B || u->used + len > u->cap) {
		if (!u->blocked && u->sn > 0)
			flush_now(u);
		if (u->sn == B || (u->sn > 0 && u->used + len > u->cap))
			return SKT_ENOBUFS;
	}
	if (u->used + len > u->cap) { /* the queue is empty here */
		size_t cap = len > ARENA ? len : ARENA;
		uint8_t *a = skt_realloc(u->arena, cap);
		if (a == NULL)
			return SKT_ENOMEM;
		u->arena = a;
		u->cap = cap;
	}
	memcpy(u->arena + u->used, buf, len);
	u->soff[u->sn] = u->used;
	u->slen[u->sn] = len;
	if (to != NULL)
		u->sto[u->sn] = *to;
	else
		u->sto[u->sn].len = 0;
	u->sn++;
	u->used += len;
	if (!u->blocked && u->sn == B)
		flush_now(u); /* a full batch goes at once */
	if (!u->blocked || u->err != 0)
		skt__task_queue(u->loop, &u->task); /* the rest, or a report */
	return 0;
}

void skt_udp_set_udata(skt_udp *u, void *udata)
{
	u->udata = udata;
}

void *skt_udp_udata(const skt_udp *u)
{
	return u->udata;
}

int skt_udp_fd(const skt_udp *u)
{
	return u->w.fd;
}

void skt_udp_free(skt_udp *u)
{
	if (u == NULL || u->freed)
		return;
	if (!u->blocked && u->sn > 0)
		flush_now(u);
	u->freed = true;
	u->reading = false;
	skt__task_cancel(&u->task);
	skt__watch_remove(u->loop, &u->w);
	close(u->w.fd);
	u->loop->alive--;
	if (u->refs == 0)
		release(u);
}
