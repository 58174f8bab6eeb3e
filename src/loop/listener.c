/* listener.c - accepting connections on a loop.
 *
 * The listening fd is a level watch: each wake-up accepts up to BATCH
 * connections with accept4 (non-blocking, close-on-exec from birth) and,
 * if more wait, the next epoll_wait reports the fd again, so a flood of
 * connects shares the loop with the connections already open.
 *
 * Out of fds (EMFILE, ENFILE) or memory, the pending connection cannot be
 * accepted and a level-triggered listener would wake the loop forever.
 * Two things stop that (libuv's and nginx's answers combined): a spare fd,
 * opened on /dev/null in advance, is closed to accept the oldest waiting
 * client and close it at once (it learns now instead of hanging), then
 * reopened; and accepting pauses for SKT_ACCEPT_PAUSE_MS, the watch
 * switched off, so a stall costs ten wake-ups a second, not a spinning CPU.
 *
 * States: ACCEPTING (watch on) and PAUSED (watch off, timer running).
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Benchmarks of connect storms show no gain past a few dozen. */
#define BATCH 64

struct skt_listener {
	skt__watch w;
	skt_loop *loop;
	skt_accept_cb cb;
	void *arg;
	int spare;
	bool paused;
	bool freed;
	int refs;
	skt_timer pause;
	skt__handle h;
};

static int open_spare(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void release(skt_listener *ls)
{
	skt__timer_fini(&ls->pause);
	skt__handle_del(&ls->h);
	skt_free(ls);
}

/* Close the oldest waiting connection with the spare fd's slot. */
static void shed_one(skt_listener *ls)
{
	if (ls->spare < 0)
		return;
	close(ls->spare);
	int fd = accept4(ls->w.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		close(fd);
	int sp = open_spare();
	ls->spare = sp < 0 ? -1 : sp; /* retried when accepting resumes */
}

static void pause_accepting(skt_listener *ls)
{
	ls->paused = true;
	skt__watch_set(ls->loop, &ls->w, 0);
	skt__timer_start_at(&ls->pause, ls->loop->now + SKT_ACCEPT_PAUSE_MS);
}

static void resume(skt_timer *t, void *arg)
{
	skt_listener *ls = arg;
	ls->paused = false;
	if (ls->spare < 0) {
		int sp = open_spare();
		ls->spare = sp < 0 ? -1 : sp;
	}
	if (skt__watch_set(ls->loop, &ls->w, SKT_READABLE) < 0)
		pause_accepting(ls);
}

/* Linux hands over errors of the new connection from accept(2); for TCP
 * its man page says to treat these like EAGAIN and try again. */
static bool transient(int e)
{
	switch (e) {
	case EINTR:
	case ECONNABORTED:
	case ENETDOWN:
	case EPROTO:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* Returns false when accepting must stop for this wake-up. */
static bool accept_one(skt_listener *ls)
{
	int fd = accept4(ls->w.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == EAGAIN)
			return false;
		if (transient(e))
			return true;
		if (e == EMFILE || e == ENFILE)
			shed_one(ls);
		pause_accepting(ls);
		ls->cb(ls, NULL, -e, ls->arg);
		return false;
	}
	skt_stream *s;
	int r = skt__stream_adopt(ls->loop, &s, fd, false);
	if (r < 0) {
		close(fd);
		pause_accepting(ls);
		ls->cb(ls, NULL, r, ls->arg);
		return false;
	}
	ls->cb(ls, s, 0, ls->arg);
	return true;
}

static void listener_io(skt_loop *l, skt__watch *w, unsigned events)
{
	skt_listener *ls = SKT__CONTAINER(w, skt_listener, w);
	ls->refs++;
	for (int i = 0; i < BATCH && !ls->freed && !ls->paused; i++)
		if (!accept_one(ls))
			break;
	if (--ls->refs == 0 && ls->freed)
		release(ls);
}

/* Nothing dispatches while the loop is freed, so this releases at once. */
static void listener_destroy(skt__handle *h)
{
	skt_listener_free(SKT__CONTAINER(h, skt_listener, h));
}

int skt_listener_new(skt_loop *l, skt_listener **out, int lfd, skt_accept_cb cb,
		     void *arg)
{
	*out = NULL;
	if (lfd < 0)
		return SKT_EBADF;
	if (cb == NULL)
		return SKT_EINVAL;
	skt_listener *ls = skt_calloc(1, sizeof(*ls));
	if (ls == NULL)
		return SKT_ENOMEM;
	int r = skt__timer_init(l, &ls->pause, resume, ls, true);
	if (r < 0) {
		skt_free(ls);
		return r;
	}
	ls->spare = open_spare();
	skt__watch_init(&ls->w, lfd, false, listener_io);
	if (ls->spare >= 0)
		r = skt__watch_set(l, &ls->w, SKT_READABLE);
	if (ls->spare < 0 || r < 0) {
		if (ls->spare >= 0)
			close(ls->spare);
		skt__timer_fini(&ls->pause);
		skt_free(ls);
		return r < 0 ? r : SKT_EMFILE;
	}
	ls->loop = l;
	ls->cb = cb;
	ls->arg = arg;
	ls->h.destroy = listener_destroy;
	skt__handle_add(l, &ls->h);
	l->alive++;
	*out = ls;
	return 0;
}

void skt_listener_free(skt_listener *ls)
{
	if (ls == NULL || ls->freed)
		return;
	ls->freed = true;
	skt_timer_stop(&ls->pause);
	skt__watch_remove(ls->loop, &ls->w);
	close(ls->w.fd);
	if (ls->spare >= 0)
		close(ls->spare);
	ls->loop->alive--;
	if (ls->refs == 0)
		release(ls);
}

int skt_listener_fd(const skt_listener *ls)
{
	return ls->w.fd;
}

skt_loop *skt_listener_loop(const skt_listener *ls)
{
	return ls->loop;
}
