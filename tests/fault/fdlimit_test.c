/* fdlimit_test.c - out of file descriptors (RLIMIT_NOFILE lowered to what
 * is open): every call that needs a new fd fails with SKT_EMFILE (or the
 * resolver's equivalent), leaves nothing behind, and works again once an
 * fd is free. In a namespace as root, on the host's loopback otherwise. */
#include "fault.h"

#include <fcntl.h>

static void unlimit_fds(void)
{
	struct rlimit r;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	r.rlim_cur = r.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &r), 0);
}

/* The highest fd open now, so the limit can sit right above it. */
static int max_fd(void)
{
	int top = -1;
	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			top = fd;
	return top;
}

/* Open fds, counted without opening one (sktest_count_fds reads
 * /proc/self/fd, which needs an fd of its own). */
static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* fds taken to fill the table: the limit bounds fd numbers, not counts,
 * so the free numbers below it must be used up too. */
static int filler[64];
static int nfiller;

/* Leave exactly room free fd numbers (0 or 1 here). */
static void exhaust_fds(int room)
{
	struct rlimit r;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	r.rlim_cur = (rlim_t)(max_fd() + 1 + room);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &r), 0, "setrlimit: %s",
		     strerror(errno));
	int fd;
	while (nfiller < 64 &&
	       (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		filler[nfiller++] = fd;
	cr_assert_eq(errno, EMFILE);
	for (int i = 0; i < room; i++)
		close(filler[--nfiller]);
}

static void release_fds(void)
{
	while (nfiller > 0)
		close(filler[--nfiller]);
	unlimit_fds();
}

SKT_TEST(fdlimit, listen_accept_connect_get_emfile)
{
	fault_netns(false);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", port);
	int c = skt_connect_one(&a, SOCK_STREAM, 1000);
	skt_assert_fd(c);
	/* No fd left: the connection waits in the accept queue. */
	exhaust_fds(0);

	int before = open_fds();
	skt_assert_err(skt_accept(l, NULL, 1000), SKT_EMFILE);
	skt_assert_err(skt_connect_one(&a, SOCK_STREAM, 1000), SKT_EMFILE);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 1000;
	skt_assert_err(skt_connect("127.0.0.1", service, &o), SKT_EMFILE);
	skt_assert_err(skt_listen(NULL, "0", NULL), SKT_EMFILE);
	int sv[2];
	skt_assert_err(skt_socketpair(SOCK_STREAM, sv), SKT_EMFILE);
	skt_loop *loop;
	skt_assert_err(skt_loop_new(&loop, NULL), SKT_EMFILE);
	/* A name needs /etc/hosts opened: the resolver's own failure. */
	skt_addrlist list;
	int rr = skt_resolve(&list, "localhost", "80", AF_UNSPEC, 0, 0);
	cr_assert_lt(rr, 0, "resolve worked without an fd");
	cr_assert_eq(open_fds(), before, "a failed call kept an fd");
	fault_report("fdlimit: accept, connect, connect (Happy Eyeballs), "
		     "listen, socketpair, loop_new: EMFILE; resolve: %s",
		     skt_errname(rr));

	/* Fds free again: the waiting connection is accepted after all. */
	release_fds();
	int s = skt_accept(l, NULL, 1000);
	skt_assert_fd(s);
	skt_close(s);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(fdlimit, happy_eyeballs_out_of_fds_midway_cleans_up)
{
	fault_netns(false);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	/* Room for one attempt's socket at a time. */
	int before = open_fds();
	exhaust_fds(1);
	skt_addr addrs[3];
	skt_addr_from_ip(&addrs[0], "::1", port);       /* refused */
	skt_addr_from_ip(&addrs[1], "127.0.0.2", 9);    /* refused */
	skt_addr_from_ip(&addrs[2], "127.0.0.1", port); /* would win */
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 1000;
	o.attempt_delay_ms = 50;
	int fd = skt_connect_any(addrs, 3, &o);
	/* Either it got through one attempt at a time, or it ran short: both
	 * clean. */
	cr_assert(fd >= 0 || fd == SKT_EMFILE || fd == SKT_ECONNREFUSED,
		  "connect_addrs: %s", skt_errname(fd));
	if (fd >= 0)
		skt_close(fd);
	release_fds();
	cr_assert_eq(open_fds(), before, "an attempt kept an fd");
	skt_close(l);
}
