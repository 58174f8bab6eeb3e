/* sktest.c - fd and allocation accounting, peers for network tests. */
#include "sktest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int baseline_fds;
static atomic_long live_allocs;
static atomic_long alloc_calls;
static long fail_at;

int sktest_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* Counting allocator: a header in front of each block keeps the count
 * exact across realloc. */
typedef union {
	size_t n;
	max_align_t align;
} hdr;

static bool should_fail(void)
{
	long k = atomic_fetch_add(&alloc_calls, 1) + 1;
	return fail_at > 0 && k >= fail_at;
}

static void *count_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	hdr *h = malloc(sizeof(hdr) + n);
	if (h == NULL)
		return NULL;
	h->n = n;
	atomic_fetch_add(&live_allocs, 1);
	return h + 1;
}

static void *count_realloc(void *p, size_t n)
{
	if (p == NULL)
		return count_malloc(n);
	if (should_fail())
		return NULL;
	hdr *h = realloc((hdr *)p - 1, sizeof(hdr) + n);
	if (h == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void count_free(void *p)
{
	if (p == NULL)
		return;
	atomic_fetch_sub(&live_allocs, 1);
	free((hdr *)p - 1);
}

long sktest_live_allocs(void)
{
	return atomic_load(&live_allocs);
}

void sktest_fail_alloc_at(long n)
{
	atomic_store(&alloc_calls, 0);
	fail_at = n;
}

void sktest_setup(void)
{
	signal(SIGPIPE,
	       SIG_DFL); /* a SIGPIPE would kill the test: it must not come */
	skt_set_allocator(count_malloc, count_realloc, count_free);
	baseline_fds = sktest_count_fds();
}

void sktest_teardown(void)
{
	int fds = sktest_count_fds();
	long live = sktest_live_allocs();
	cr_expect_eq(fds, baseline_fds, "fd leak: %d open at end, %d at start",
		     fds, baseline_fds);
	cr_expect_eq(live, 0, "allocation leak: %ld library blocks live", live);
}

int sktest_listen_tcp(bool v6, uint16_t *port)
{
	skt_listen_opts o = {.family = v6 ? AF_INET6 : AF_INET};
	int fd = skt_listen(NULL, "0", &o);
	cr_assert_geq(fd, 0, "listen: %s", skt_strerror(fd));
	skt_addr a;
	cr_assert_eq(skt_sock_local(fd, &a), 0);
	*port = skt_addr_port(&a);
	return fd;
}

pid_t sktest_python(const char *source, const char *const argv[], int *out_fd)
{
	const char *args[32] = {"python3", "-c", source};
	size_t n = 3;
	for (size_t i = 0; argv != NULL && argv[i] != NULL && n < 31; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	int p[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd != NULL) {
		cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	}
	pid_t pid;
	int rc = posix_spawnp(&pid, "python3", &fa, NULL, (char *const *)args,
			      environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn python3: %s", strerror(rc));
	if (out_fd != NULL) {
		close(p[1]);
		*out_fd = p[0];
	}
	return pid;
}

int sktest_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

size_t sktest_slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	return n;
}

bool sktest_can_netns(void)
{
	if (geteuid() != 0)
		return false;
	return system("unshare -n true >/dev/null 2>&1") == 0;
}

int64_t sktest_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sktest_guarded(const char *s)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = strlen(s) + 1;
	cr_assert_leq(n, pg);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	SKT_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
	SKT_CHECK(mprotect(m + pg, pg, PROT_NONE) == 0, "mprotect: %s",
		  strerror(errno));
	memcpy(m + pg - n, s, n);
	return m + pg - n;
}

const char *sktest_guarded_n(const void *s, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t room = (n + pg - 1) / pg * pg;
	if (room == 0)
		room = pg;
	char *m = mmap(NULL, room + pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* SKT_CHECK: parser tests call this thousands of times. */
	SKT_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
	SKT_CHECK(mprotect(m + room, pg, PROT_NONE) == 0, "mprotect: %s",
		  strerror(errno));
	memcpy(m + room - n, s, n);
	return m + room - n;
}

const char *sktest_repeat(char c, size_t n)
{
	static char buf[2][1024];
	static int which;
	char *b = buf[which ^= 1];
	cr_assert_lt(n, sizeof(buf[0]));
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

const char *sktest_addr_text(const skt_addr *a)
{
	static char buf[SKT_ADDRSTRLEN];
	int n = skt_addr_format(a, buf, sizeof(buf));
	cr_assert_geq(n, 0, "format: %s", skt_errname(n));
	cr_assert_eq((size_t)n, strlen(buf));
	return buf;
}
