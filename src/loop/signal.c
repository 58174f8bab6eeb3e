/* signal.c - signals delivered as loop events.
 *
 * Why not signalfd: it only sees signals blocked in every thread, and a
 * library cannot block signals in threads it did not make, so a SIGINT
 * would still kill the process through some other thread. Instead (as
 * libuv and the classic self-pipe trick do) one process-wide handler
 * records the signal in the table below and writes the eventfd of each
 * loop that watches it; the loop wakes, takes the recorded set and runs
 * its watchers. Any thread may take the signal.
 *
 * The table is static (the handler must not chase freed memory). A loop
 * owns one slot while it has signal watchers: its eventfd (stored +1, so 0
 * means none), the signals it wants, the signals pending. Releasing a slot
 * clears it, then waits for handlers still inside it (busy), so a handler
 * never writes an fd number that has been closed and reused.
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#define SLOTS  64
#define MAXSIG 63

struct slot {
	atomic_int fd1; /* eventfd + 1; 0 when free */
	atomic_uint_least64_t want;
	atomic_uint_least64_t pending;
	atomic_int busy;
	bool used; /* under lock */
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned watchers[MAXSIG + 1]; /* per signal, all loops */
static struct sigaction previous[MAXSIG + 1];

struct skt_signal {
	skt_loop *loop;
	int signum;
	bool dead; /* freed while the loop was dispatching: unlink later */
	skt_signal_cb cb;
	void *arg;
	skt_signal *next;
	skt__handle h;
};

static uint64_t bit(int signum)
{
	return UINT64_C(1) << (signum - 1);
}

static void on_signal(int signum)
{
	int saved = errno;
	uint64_t b = bit(signum);
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!(atomic_load(&s->want) & b))
			continue;
		atomic_fetch_add(&s->busy, 1);
		int fd = atomic_load(&s->fd1) - 1;
		if (fd >= 0) {
			atomic_fetch_or(&s->pending, b);
			uint64_t one = 1;
			ssize_t r = write(fd, &one, sizeof(one));
			(void)r; /* EAGAIN: a wake-up is already pending */
		}
		atomic_fetch_sub(&s->busy, 1);
	}
	errno = saved;
}

static bool catchable(int signum)
{
	switch (signum) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
		return false;
	default:
		return signum >= 1 && signum <= MAXSIG;
	}
}

/* Under lock: a slot for l, its eventfd published. */
static int take_slot(skt_loop *l)
{
	if (l->sig_slot >= 0)
		return 0;
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].used)
			continue;
		slots[i].used = true;
		atomic_store(&slots[i].pending, 0);
		atomic_store(&slots[i].want, 0);
		atomic_store(&slots[i].fd1, l->wakefd + 1);
		l->sig_slot = i;
		return 0;
	}
	return SKT_EBUSY;
}

/* Under lock: the wanted set follows the live watchers; the slot goes back
 * once there are none. */
static void refresh_slot(skt_loop *l)
{
	uint64_t want = 0;
	for (skt_signal *s = l->sigs; s != NULL; s = s->next)
		if (!s->dead)
			want |= bit(s->signum);
	struct slot *sl = &slots[l->sig_slot];
	atomic_store(&sl->want, want);
	if (want != 0)
		return;
	atomic_store(&sl->fd1, 0);
	while (atomic_load(&sl->busy) != 0)
		; /* a handler on another CPU is finishing its write */
	sl->used = false;
	l->sig_slot = -1;
}

/* Under lock: the process-wide handler, installed for the first watcher. */
static int install(int signum)
{
	if (watchers[signum]++ > 0)
		return 0;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signum, &sa, &previous[signum]) < 0) {
		watchers[signum]--;
		return -errno;
	}
	return 0;
}

static void uninstall(int signum)
{
	if (--watchers[signum] == 0)
		sigaction(signum, &previous[signum], NULL);
}

static void unlink_sig(skt_signal *s)
{
	skt_signal **pp = &s->loop->sigs;
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
}

static void sig_destroy(skt__handle *h)
{
	skt_signal_free(SKT__CONTAINER(h, skt_signal, h));
}

int skt_signal_new(skt_loop *l, skt_signal **out, int signum, skt_signal_cb cb,
		   void *arg)
{
	*out = NULL;
	if (!catchable(signum) || cb == NULL)
		return SKT_EINVAL;
	skt_signal *s = skt_calloc(1, sizeof(*s));
	if (s == NULL)
		return SKT_ENOMEM;
	s->loop = l;
	s->signum = signum;
	s->cb = cb;
	s->arg = arg;
	pthread_mutex_lock(&lock);
	int r = take_slot(l);
	if (r == 0)
		r = install(signum);
	if (r == 0) {
		s->next = l->sigs;
		l->sigs = s;
	}
	if (l->sig_slot >= 0)
		refresh_slot(l); /* publishes the new want, or frees the slot */
	pthread_mutex_unlock(&lock);
	if (r < 0) {
		skt_free(s);
		return r;
	}
	s->h.destroy = sig_destroy;
	skt__handle_add(l, &s->h);
	l->alive++;
	*out = s;
	return 0;
}

void skt_signal_free(skt_signal *s)
{
	if (s == NULL || s->dead)
		return;
	skt_loop *l = s->loop;
	pthread_mutex_lock(&lock);
	s->dead = true;
	uninstall(s->signum);
	refresh_slot(l);
	pthread_mutex_unlock(&lock);
	skt__handle_del(&s->h);
	l->alive--;
	if (l->sig_dispatching == 0) {
		unlink_sig(s);
		skt_free(s);
	}
}

/* Run the watchers of the signals recorded since the last look. Watchers
 * freed meanwhile stay linked (dead) until the walk ends. */
void skt__signals_dispatch(skt_loop *l)
{
	if (l->sig_slot < 0)
		return;
	uint64_t got = atomic_exchange(&slots[l->sig_slot].pending, 0);
	if (got == 0)
		return;
	l->sig_dispatching++;
	for (skt_signal *s = l->sigs; s != NULL; s = s->next)
		if (!s->dead && (got & bit(s->signum)))
			s->cb(s, s->signum, s->arg);
	if (--l->sig_dispatching > 0)
		return;
	skt_signal **pp = &l->sigs;
	while (*pp != NULL) {
		skt_signal *s = *pp;
		if (s->dead) {
			*pp = s->next;
			skt_free(s);
		} else {
			pp = &s->next;
		}
	}
}
