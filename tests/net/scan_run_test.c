/* scan_run_test.c - skt_scan_run over many loopback addresses: the open
 * set found equals the set the test opened, at every rate tried; shards
 * together equal the unsharded scan; a stopped scan resumes without a
 * loss; retries recover probes a lossy path dropped; the pace backs off
 * before a rate limiter; banners are read, or asked for with HEAD.
 *
 * Linux routes all of 127.0.0.0/8 to lo, so 127.x.y.z addresses are real
 * targets. Outside a namespace every (address, port) scanned is one this
 * test holds (a listener, or a socket bound but not listening, which
 * refuses), so results are exact beside other programs; tests that need
 * a whole /24, a packet filter or a quiet loopback make their own network
 * namespace as root (each Criterion test is a process: the namespace dies
 * with it) and skip with a message otherwise. One scans across a link: a
 * veth pair between two namespaces of its own, the targets added
 * addresses of the far end. */
#include "sktest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_TEST(name, ...)                                                    \
	Test(scan_run, name, .init = setup, .fini = teardown, .timeout = 120,  \
	     ##__VA_ARGS__)

/* Results of a scan by index, with a count of calls per index. */
typedef struct seen {
	uint64_t size;
	uint8_t *calls;
	skt_port_state *state;
	int *tries;
	size_t n, open;
	char banner[64][SKT_SCAN_BANNER_MAX + 1];
	bool probed[64];
	uint16_t banner_port[64];
	size_t nbanners;
	const volatile sig_atomic_t *stop_after_flag;
	volatile sig_atomic_t *stop;
	size_t stop_at;
} seen;

static seen *got;

static void setup(void)
{
	sktest_setup();
	got = calloc(1, sizeof(*got));
	cr_assert_not_null(got);
}

static void teardown(void)
{
	if (got != NULL) {
		free(got->calls);
		free(got->state);
		free(got->tries);
	}
	free(got);
	sktest_teardown();
}

static void seen_init(seen *s, uint64_t size)
{
	free(s->calls);
	free(s->state);
	free(s->tries);
	s->size = size;
	s->calls = calloc(size ? size : 1, 1);
	s->state = calloc(size ? size : 1, sizeof(*s->state));
	s->tries = calloc(size ? size : 1, sizeof(*s->tries));
	cr_assert(s->calls && s->state && s->tries);
	s->n = s->open = s->nbanners = 0;
}

static void on_result(const skt_scan_result *r, void *arg)
{
	seen *s = arg;
	SKT_CHECK(r->index < s->size, "index %llu of %llu",
		  (unsigned long long)r->index, (unsigned long long)s->size);
	s->calls[r->index]++;
	s->state[r->index] = r->state;
	s->tries[r->index] = r->tries;
	s->n++;
	s->open += r->state == SKT_PORT_OPEN;
	if (r->banner != NULL && s->nbanners < 64) {
		memcpy(s->banner[s->nbanners], r->banner, r->banner_len);
		s->banner[s->nbanners][r->banner_len] = '\0';
		s->probed[s->nbanners] = r->banner_probed;
		s->banner_port[s->nbanners++] = r->port;
	}
	if (s->stop != NULL && s->n == s->stop_at)
		*s->stop = 1;
}

/* A space from a target spec ("A B C": items separated by blanks). */
typedef struct space {
	skt_targets *t;
	skt_scan_space sp;
	skt_portset ports;
} space;

static void space_make(space *s, const char *items, const char *excludes,
		       const skt_portset *ports)
{
	s->t = skt_targets_new(1 << 20);
	cr_assert_not_null(s->t);
	const char *lists[2] = {items, excludes};
	for (int l = 0; l < 2; l++) {
		for (const char *p = lists[l]; p != NULL && *p != '\0';) {
			size_t n = strcspn(p, " ");
			skt_target_error e;
			int rc = l == 0 ? skt_targets_add(s->t, p, n, &e)
					: skt_targets_exclude(s->t, p, n, &e);
			/* e is set only on failure: formatted only then */
			SKT_CHECK(rc == 0, "'%.*s': %s", (int)n, p, e.why);
			p += n + (p[n] == ' ');
		}
	}
	cr_assert_eq(skt_targets_finish(s->t), 0);
	s->ports = *ports;
	cr_assert_eq(skt_scan_space_init(&s->sp, s->t, &s->ports), 0);
}

static void space_free(space *s)
{
	skt_targets_free(s->t);
}

/* Index of (ip, port) in the space: its address's rank times the ports,
 * plus the port's rank. The space's addresses here are one interval. */
static uint64_t index_of(const space *s, const char *ip, uint16_t port)
{
	skt_addr first, a;
	cr_assert_eq(skt_targets_get(s->t, 0, &first), 0);
	cr_assert_eq(skt_addr_from_ip(&a, ip, 0), 0);
	uint64_t host = ntohl(a.u.in4.sin_addr.s_addr) -
			ntohl(first.u.in4.sin_addr.s_addr);
	uint64_t rank = 0;
	for (uint16_t p = skt_portset_next(&s->ports, 1); p != port;
	     p = skt_portset_next(&s->ports, (unsigned)p + 1))
		rank++;
	return host * s->sp.nports + rank;
}

/* A TCP socket on ip:port (0: any), listening or only bound (refusing);
 * -1 when the port is taken. */
static int hold(const char *ip, uint16_t port, bool listening, uint16_t *out)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, ip, port), 0);
	int fd = skt_socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	if (bind(fd, &a.u.sa, a.len) < 0 ||
	    (listening && listen(fd, 512) < 0)) {
		skt_close(fd);
		return -1;
	}
	if (out != NULL) {
		cr_assert_eq(skt_sock_local(fd, &a), 0);
		*out = skt_addr_port(&a);
	}
	return fd;
}

static void enter_netns(void)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root and unshare(CLONE_NEWNET) for a "
			     "private network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
}

/* A packet filter inside the namespace, or a skip that says why. */
static void iptables(const char *rule)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "iptables -w %s 2>/dev/null", rule);
	if (system(cmd) != 0)
		cr_skip_test("iptables cannot add '%s' here", rule);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void iter(const space *s, skt_scan_iter *it, uint64_t seed,
		 uint32_t shard, uint32_t shards)
{
	skt_scan_order o;
	cr_assert_eq(skt_scan_order_init(&o, s->sp.size, seed, true), 0);
	cr_assert_eq(skt_scan_iter_init(it, &o, shard, shards, 0), 0);
}

/* ---- Many addresses, exact ---- */

/* Outside any namespace: 8 addresses x 6 ports, every pair held. */
RUN_TEST(many_addresses_open_set_exact)
{
	enum { HOSTS = 8, PORTS = 6 };
	int fds[HOSTS][PORTS];
	uint16_t ports[PORTS];
	bool opened[HOSTS][PORTS];
	char ip[HOSTS][16];
	for (int h = 0; h < HOSTS; h++)
		snprintf(ip[h], sizeof(ip[h]), "127.77.%u.%u",
			 (unsigned)getpid() % 200u, (unsigned)h + 1u);
	skt_portset set;
	skt_portset_clear(&set);
	for (int k = 0; k < PORTS; k++) {
		/* A port free on every address: the kernel's pick on the
		 * first, then the same number on the others. */
		for (int attempt = 0;; attempt++) {
			cr_assert_lt(attempt, 100, "no port free on all");
			bool ok = true;
			int h = 0;
			for (; h < HOSTS && ok; h++) {
				opened[h][k] = (h * 7 + k * 3) % 4 == 0;
				fds[h][k] = hold(ip[h], h == 0 ? 0 : ports[k],
						 opened[h][k],
						 h == 0 ? &ports[k] : NULL);
				ok = fds[h][k] >= 0;
			}
			if (ok)
				break;
			for (int j = 0; j < h - 1; j++)
				skt_close(fds[j][k]);
		}
		skt_portset_add(&set, ports[k]);
	}
	char spec[64];
	snprintf(spec, sizeof(spec), "%s-%d", ip[0], HOSTS);
	space s;
	space_make(&s, spec, NULL, &set);
	cr_assert_eq(s.sp.size, HOSTS * PORTS);
	seen_init(got, s.sp.size);
	skt_scan_iter it;
	iter(&s, &it, 42, 0, 1);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	o.retries = 1;
	cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
	cr_assert_eq(got->n, HOSTS * PORTS);
	cr_assert_eq(it.pos, it.len);
	for (int h = 0; h < HOSTS; h++)
		for (int k = 0; k < PORTS; k++) {
			uint64_t i = index_of(&s, ip[h], ports[k]);
			cr_assert_eq(got->calls[i], 1);
			cr_assert_eq(got->state[i],
				     opened[h][k] ? SKT_PORT_OPEN
						  : SKT_PORT_CLOSED,
				     "%s:%u: %s", ip[h], ports[k],
				     skt_port_state_name(got->state[i]));
			skt_close(fds[h][k]);
		}
	cr_assert_eq(st.resent, 0);
	space_free(&s);
}

/* Listeners on 200 random (address, port) pairs of a /24 x 100 ports;
 * the open set is exactly them, at every rate. */
RUN_TEST(slash24_by_100_ports_open_set_at_every_rate)
{
	enter_netns();
	raise_nofile();
	enum { NOPEN = 200, BASE = 30000, NPORTS = 100 };
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, BASE, BASE + NPORTS - 1);
	space s;
	space_make(&s, "127.0.3.0/24", NULL, &set);
	cr_assert_eq(s.sp.size, 25600);
	static int fds[NOPEN];
	static bool want[25600];
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	for (int k = 0; k < NOPEN;) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned host = (unsigned)(r >> 33) % 256;
		unsigned port = BASE + (unsigned)(r >> 45) % NPORTS;
		char ip[16];
		snprintf(ip, sizeof(ip), "127.0.3.%u", host);
		uint64_t i = (uint64_t)host * NPORTS + (port - BASE);
		if (want[i])
			continue;
		fds[k] = hold(ip, (uint16_t)port, true, NULL);
		cr_assert_geq(fds[k++], 0, "%s:%u taken", ip, port);
		want[i] = true;
	}
	static const int rates[] = {0, 50000, 20000};
	for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
		seen_init(got, s.sp.size);
		skt_scan_iter it;
		iter(&s, &it, 7 + ri, 0, 1);
		skt_scan_stats st;
		skt_scan_opts o = SKT_SCAN_OPTS_INIT;
		o.stats = &st;
		o.rate = rates[ri];
		o.retries = 1;
		o.timeout_ms = 500;
		cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
		cr_assert_eq(got->n, 25600, "rate %d: %zu results", rates[ri],
			     got->n);
		for (uint64_t i = 0; i < 25600; i++) {
			SKT_CHECK(got->calls[i] == 1, "index %llu: %u calls",
				  (unsigned long long)i, got->calls[i]);
			SKT_CHECK(got->state[i] == (want[i] ? SKT_PORT_OPEN
							    : SKT_PORT_CLOSED),
				  "rate %d, index %llu: %s", rates[ri],
				  (unsigned long long)i,
				  skt_port_state_name(got->state[i]));
		}
		cr_assert_eq(st.count[SKT_PORT_OPEN], NOPEN);
	}
	for (int k = 0; k < NOPEN; k++)
		skt_close(fds[k]);
	space_free(&s);
}

/* ---- Shards, stops ---- */

RUN_TEST(shards_merged_equal_the_whole_scan)
{
	enter_netns();
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, 40000, 40019);
	space s;
	space_make(&s, "127.0.4.0/26 127.0.4.100-110", "127.0.4.5", &set);
	cr_assert_eq(s.sp.size, (64 + 11 - 1) * 20);
	int l1 = hold("127.0.4.7", 40003, true, NULL);
	int l2 = hold("127.0.4.105", 40019, true, NULL);
	static const uint32_t ns[] = {1, 2, 3, 7, 16, 100, 2000};
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		seen_init(got, s.sp.size);
		for (uint32_t i = 0; i < ns[k]; i++) {
			skt_scan_iter it;
			iter(&s, &it, 99, i, ns[k]);
			cr_assert_eq(
				skt_scan_run(&s.sp, &it, NULL, on_result, got),
				0);
		}
		cr_assert_eq(got->n, s.sp.size, "%u shards: %zu results", ns[k],
			     got->n);
		for (uint64_t i = 0; i < s.sp.size; i++)
			SKT_CHECK(got->calls[i] == 1,
				  "%u shards: index %llu %u", ns[k],
				  (unsigned long long)i, got->calls[i]);
		cr_assert_eq(got->open, 2);
		cr_assert_eq(got->state[index_of(&s, "127.0.4.7", 40003) - 20],
			     SKT_PORT_OPEN);
	}
	skt_close(l1);
	skt_close(l2);
	space_free(&s);
}

RUN_TEST(stopped_scan_resumes_without_a_loss)
{
	enter_netns();
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, 1, 300);
	space s;
	space_make(&s, "127.0.6.1-20", NULL, &set);
	seen_init(got, s.sp.size);
	volatile sig_atomic_t stop = 0;
	got->stop = &stop;
	got->stop_at = 1000;
	skt_scan_iter it;
	iter(&s, &it, 5, 1, 3);
	uint64_t len = it.len;
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	o.stop = &stop;
	o.rate = 20000;
	cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
	cr_assert(st.stopped);
	cr_assert_lt(it.pos, len, "the stop ended nothing early");
	size_t first = got->n;
	cr_assert_geq(first, 1000);
	/* Go on from where it said, as --resume does. */
	skt_scan_order ord = it.o;
	skt_scan_iter again;
	cr_assert_eq(skt_scan_iter_init(&again, &ord, 1, 3, it.pos), 0);
	got->stop = NULL;
	cr_assert_eq(skt_scan_run(&s.sp, &again, NULL, on_result, got), 0);
	/* Every index of the shard exactly once, over the two runs. */
	skt_scan_iter whole;
	iter(&s, &whole, 5, 1, 3);
	uint64_t v, n = 0;
	while (skt_scan_iter_next(&whole, &v)) {
		SKT_CHECK(got->calls[v] == 1, "index %llu: %u calls",
			  (unsigned long long)v, got->calls[v]);
		n++;
	}
	cr_assert_eq(got->n, n, "%zu results for %llu indices", got->n,
		     (unsigned long long)n);
	space_free(&s);
}

/* ---- Loss, retries, back-off ---- */

/* Dropped hosts are filtered after every try; the others closed. */
RUN_TEST(dropped_hosts_filtered_after_retries)
{
	enter_netns();
	iptables("-A INPUT -d 127.0.5.128/25 -p tcp --syn -j DROP");
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, 22);
	skt_portset_add(&set, 80);
	space s;
	space_make(&s, "127.0.5.0/24", NULL, &set);
	seen_init(got, s.sp.size);
	skt_scan_iter it;
	iter(&s, &it, 3, 0, 1);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	o.timeout_ms = 200;
	o.retries = 2;
	cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
	for (uint64_t i = 0; i < s.sp.size; i++) {
		bool dropped = i / 2 >= 128;
		cr_assert_eq(got->state[i],
			     dropped ? SKT_PORT_FILTERED : SKT_PORT_CLOSED,
			     "index %llu", (unsigned long long)i);
		cr_assert_eq(got->tries[i], dropped ? 3 : 1);
	}
	cr_assert_eq(st.resent, 256 * 2);
	cr_assert_eq(st.resent_answered, 0);
	/* A space half filtered from the start is what it is: no reason
	 * to slow down. */
	cr_assert_eq(st.backoffs, 0);
	space_free(&s);
}

/* 30% of SYNs lost at random: without retries some open ports look
 * filtered; with enough, none is missed. */
RUN_TEST(retries_recover_random_loss)
{
	enter_netns();
	iptables("-A INPUT -p tcp --syn -m statistic --mode random "
		 "--probability 0.3 -j DROP");
	enum { NOPEN = 50 };
	skt_portset set;
	skt_portset_clear(&set);
	int fds[NOPEN];
	for (int k = 0; k < NOPEN; k++) {
		fds[k] = hold("127.0.0.1", (uint16_t)(20000 + 7 * k), true,
			      NULL);
		cr_assert_geq(fds[k], 0);
	}
	skt_portset_add_range(&set, 20000, 20399);
	space s;
	space_make(&s, "127.0.0.1", NULL, &set);
	size_t found[2];
	skt_scan_stats st[2];
	for (int pass = 0; pass < 2; pass++) {
		seen_init(got, s.sp.size);
		skt_scan_iter it;
		iter(&s, &it, 11, 0, 1);
		skt_scan_opts o = SKT_SCAN_OPTS_INIT;
		o.stats = &st[pass];
		o.timeout_ms = 150;
		o.retries = pass == 0 ? 0 : 10;
		o.fixed_pace = true;
		cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
		found[pass] = got->open;
	}
	/* 0.7^50: the first pass misses one all but surely. */
	cr_assert_lt(found[0], NOPEN, "no loss seen: is the filter on?");
	/* 50 * 0.3^11: about 9 in a million. */
	cr_assert_eq(found[1], NOPEN, "%zu of %d open found", found[1], NOPEN);
	cr_assert_gt(st[1].resent_answered, 0);
	cr_assert_eq(st[1].count[SKT_PORT_CLOSED], 400 - NOPEN);
	for (int k = 0; k < NOPEN; k++)
		skt_close(fds[k]);
	space_free(&s);
}

/* A rate limiter lets 400 SYNs a second through (bursts of 50) and drops
 * the rest. At full speed with a fixed pace, most probes die; adaptive,
 * the scan slows down until its retries get through, and finds every
 * listener. */
RUN_TEST(back_off_before_a_rate_limiter)
{
	enter_netns();
	raise_nofile();
	iptables("-A INPUT -p tcp --syn -m limit --limit 400/s "
		 "--limit-burst 50 -j ACCEPT");
	iptables("-A INPUT -p tcp --syn -j DROP");
	enum { NOPEN = 30, NPORTS = 1500 };
	int fds[NOPEN];
	for (int k = 0; k < NOPEN; k++) {
		fds[k] = hold("127.0.0.1", (uint16_t)(30000 + 50 * k), true,
			      NULL);
		cr_assert_geq(fds[k], 0);
	}
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, 30000, 30000 + NPORTS - 1);
	space s;
	space_make(&s, "127.0.0.1", NULL, &set);
	size_t found[2];
	skt_scan_stats st[2];
	for (int pass = 0; pass < 2; pass++) {
		seen_init(got, s.sp.size);
		skt_scan_iter it;
		iter(&s, &it, 13, 0, 1);
		skt_scan_opts o = SKT_SCAN_OPTS_INIT;
		o.stats = &st[pass];
		o.timeout_ms = 200;
		o.retries = 4;
		o.fixed_pace = pass == 0;
		cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
		found[pass] = got->open;
		/* The limiter's tokens come back while the next pass is set. */
		usleep(300000);
	}
	cr_assert_lt(found[0], NOPEN, "fixed pace found all %zu", found[0]);
	cr_assert_eq(st[0].backoffs, 0);
	cr_assert_gt(st[1].backoffs, 0, "never backed off");
	cr_assert_gt(st[1].rate_end, 0);
	cr_assert_eq(found[1], NOPEN,
		     "adaptive found %zu of %d (%zu back-offs, rate %d at the "
		     "end, %zu resent)",
		     found[1], NOPEN, st[1].backoffs, st[1].rate_end,
		     st[1].resent);
	for (int k = 0; k < NOPEN; k++)
		skt_close(fds[k]);
	space_free(&s);
}

/* ---- Across a link ---- */

/* Two namespaces joined by a veth pair (the dummy link type, the usual
 * home of added addresses, is missing from some kernels; veth is not):
 * this test's own, A, where the scanner runs from 198.18.0.1 on v0, and B,
 * which holds 198.18.0.2 and all of 198.18.1.0/24 as addresses of v1.
 * 198.18.0.0/15 is RFC 2544's benchmarking range, routed nowhere. A
 * reaches the /24 through 198.18.0.2, and both ends know each other's MAC
 * from the start: one neighbour entry serves every target, and no SYN
 * waits in an ARP queue (which holds a few hundred and drops the rest).
 * Every probe crosses the link, as on a network. */
#define LINK_MAC_A "02:00:00:00:00:01"
#define LINK_MAC_B "02:00:00:00:00:02"

typedef struct link_ns {
	int a, b; /* the namespaces, held open */
} link_ns;

static void sh_ok(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static void link_enter(int ns)
{
	cr_assert_eq(setns(ns, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
}

static void link_make(link_ns *l)
{
	enter_netns();
	l->a = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(l->a, 0, "%s", strerror(errno));
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	l->b = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(l->b, 0, "%s", strerror(errno));
	link_enter(l->a);
	/* iproute2 takes a netns NAME with a slash in it as a path and
	 * opens it (lib/namespace.c, netns_get_fd): the fd this test holds,
	 * as ip sees it. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "ip link add v0 address " LINK_MAC_A " type veth peer name v1 "
		 "address " LINK_MAC_B " netns /proc/%d/fd/%d 2>/dev/null",
		 (int)getpid(), l->b);
	if (system(cmd) != 0)
		cr_skip_test("cannot make a veth pair here: %s", cmd);
	sh_ok("ip addr add 198.18.0.1/30 dev v0 && ip link set v0 up && "
	      "ip neigh replace 198.18.0.2 lladdr " LINK_MAC_B
	      " dev v0 nud permanent && "
	      "ip route add 198.18.1.0/24 via 198.18.0.2");
	link_enter(l->b);
	FILE *ip = popen("ip -batch -", "w");
	cr_assert_not_null(ip);
	fprintf(ip, "link set lo up\naddr add 198.18.0.2/30 dev v1\n"
		    "link set v1 up\n"
		    "neigh replace 198.18.0.1 lladdr " LINK_MAC_A
		    " dev v1 nud permanent\n");
	for (int h = 0; h < 256; h++)
		fprintf(ip, "addr add 198.18.1.%d/32 dev v1\n", h);
	cr_assert_eq(pclose(ip), 0, "ip -batch failed");
	link_enter(l->a);
}

static void link_free(link_ns *l)
{
	close(l->a);
	close(l->b);
}

/* Packets v0 sent, from /proc/net/dev of this thread's namespace. */
static unsigned long long v0_tx_packets(void)
{
	FILE *f = fopen("/proc/thread-self/net/dev", "r");
	cr_assert_not_null(f);
	char line[512];
	unsigned long long v[10], tx = 0;
	bool found = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, ':');
		if (p == NULL || strncmp(line + strspn(line, " "), "v0:", 3))
			continue;
		cr_assert_eq(sscanf(p + 1,
				    "%llu %llu %llu %llu %llu %llu %llu %llu "
				    "%llu %llu",
				    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				    &v[6], &v[7], &v[8], &v[9]),
			     10, "'%s'", line);
		tx = v[9];
		found = true;
	}
	fclose(f);
	cr_assert(found, "no v0 in /proc/net/dev");
	return tx;
}

/* Listeners on 150 random (address, port) pairs of the far /24 x 100
 * ports; B drops the SYNs to ports 30090-30099 everywhere and to every
 * port of 198.18.1.240/28, listeners or not. Every probe's state is the
 * one the test made (open, closed or filtered), at every rate, and the
 * probes left through v0. */
RUN_TEST(veth_addresses_across_a_link_open_set_at_every_rate)
{
	link_ns l;
	link_make(&l);
	raise_nofile();
	enum { NOPEN = 150, BASE = 30000, NPORTS = 100, SIZE = 256 * NPORTS };
	link_enter(l.b);
	iptables("-A INPUT -p tcp --syn --dport 30090:30099 -j DROP");
	iptables("-A INPUT -d 198.18.1.240/28 -p tcp --syn -j DROP");
	static int fds[NOPEN];
	static skt_port_state want[SIZE];
	for (uint64_t i = 0; i < SIZE; i++) {
		bool dropped = i / NPORTS >= 240 || i % NPORTS >= 90;
		want[i] = dropped ? SKT_PORT_FILTERED : SKT_PORT_CLOSED;
	}
	uint64_t r = 0x2545f4914f6cdd1dULL;
	size_t nopen = 0, nfiltered = 0;
	static bool held[SIZE];
	for (int k = 0; k < NOPEN;) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned host = (unsigned)(r >> 33) % 256;
		unsigned port = BASE + (unsigned)(r >> 45) % NPORTS;
		uint64_t i = (uint64_t)host * NPORTS + (port - BASE);
		if (held[i])
			continue;
		char ip[16];
		snprintf(ip, sizeof(ip), "198.18.1.%u", host);
		fds[k] = hold(ip, (uint16_t)port, true, NULL);
		cr_assert_geq(fds[k++], 0, "%s:%u taken", ip, port);
		held[i] = true;
		/* A listener behind a drop is as filtered as any port. */
		if (want[i] == SKT_PORT_CLOSED)
			want[i] = SKT_PORT_OPEN;
	}
	link_enter(l.a);
	for (uint64_t i = 0; i < SIZE; i++) {
		nopen += want[i] == SKT_PORT_OPEN;
		nfiltered += want[i] == SKT_PORT_FILTERED;
	}
	cr_assert_gt(nopen, NOPEN / 2);
	cr_assert_lt(nopen, NOPEN, "no listener behind a drop");
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, BASE, BASE + NPORTS - 1);
	space s;
	space_make(&s, "198.18.1.0/24", NULL, &set);
	cr_assert_eq(s.sp.size, SIZE);
	static const int rates[] = {0, 20000};
	for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
		unsigned long long tx = v0_tx_packets();
		seen_init(got, s.sp.size);
		skt_scan_iter it;
		iter(&s, &it, 21 + ri, 0, 1);
		skt_scan_stats st;
		skt_scan_opts o = SKT_SCAN_OPTS_INIT;
		o.stats = &st;
		o.rate = rates[ri];
		o.retries = 1;
		o.timeout_ms = 300;
		cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
		cr_assert_eq(got->n, SIZE, "rate %d: %zu results", rates[ri],
			     got->n);
		for (uint64_t i = 0; i < SIZE; i++) {
			SKT_CHECK(got->calls[i] == 1, "index %llu: %u calls",
				  (unsigned long long)i, got->calls[i]);
			SKT_CHECK(got->state[i] == want[i],
				  "rate %d, 198.18.1.%llu:%llu: %s, want %s",
				  rates[ri], (unsigned long long)(i / NPORTS),
				  (unsigned long long)(BASE + i % NPORTS),
				  skt_port_state_name(got->state[i]),
				  skt_port_state_name(want[i]));
		}
		cr_assert_eq(st.count[SKT_PORT_OPEN], nopen);
		cr_assert_eq(st.count[SKT_PORT_FILTERED], nfiltered);
		cr_assert_eq(st.resent, nfiltered, "rate %d", rates[ri]);
		/* A SYN per probe and per retry, an ACK and a RST or FIN per
		 * handshake: the scan went through the link, not lo. */
		unsigned long long sent = v0_tx_packets() - tx;
		cr_assert_geq(sent, (unsigned long long)(SIZE + nfiltered),
			      "rate %d: %llu packets on v0", rates[ri], sent);
	}
	for (int k = 0; k < NOPEN; k++)
		skt_close(fds[k]);
	space_free(&s);
	link_free(&l);
}

/* ---- Banners ---- */

/* Three tutorial servers: a greeter that speaks first (as SSH, SMTP and
 * FTP do), an HTTP server that answers HEAD, and one that never speaks.
 * The scanner resets every connection it is done with: each server
 * shrugs that off. */
static const char py_banners[] =
	"import socket, threading\n"
	"def greeter(c):\n"
	"    c.sendall(b'SSH-2.0-OpenSSH_9.2 test\\r\\n'); c.recv(100)\n"
	"def http(c):\n"
	"    if c.recv(1000).startswith(b'HEAD '):\n"
	"        c.sendall(b'HTTP/1.0 200 OK\\r\\nServer: "
	"pytest\\r\\n\\r\\n')\n"
	"def mute(c):\n"
	"    c.recv(1000)\n"
	"def serve(s, f):\n"
	"    while True:\n"
	"        c = s.accept()[0]\n"
	"        try:\n"
	"            f(c)\n"
	"        except OSError:\n"
	"            pass\n"
	"        c.close()\n"
	"ls = []\n"
	"for f in (greeter, http, mute):\n"
	"    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
	"    ls.append(s)\n"
	"    threading.Thread(target=serve, args=(s, f), daemon=True).start()\n"
	"print(' '.join(str(s.getsockname()[1]) for s in ls), flush=True)\n"
	"threading.Event().wait(30)\n";

RUN_TEST(banners_greeting_http_head_and_silence)
{
	int out;
	pid_t pid = sktest_python(py_banners, NULL, &out);
	char line[64] = "";
	size_t n = 0;
	while (n < sizeof(line) - 1 && read(out, line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	line[n] = '\0';
	unsigned pg, ph, pm;
	cr_assert_eq(sscanf(line, "%u %u %u", &pg, &ph, &pm), 3, "'%s'", line);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, (uint16_t)pg);
	skt_portset_add(&set, (uint16_t)ph);
	skt_portset_add(&set, (uint16_t)pm);
	for (int probe = 0; probe < 2; probe++) {
		space s;
		space_make(&s, "127.0.0.1", NULL, &set);
		seen_init(got, s.sp.size);
		skt_scan_iter it;
		iter(&s, &it, 1, 0, 1);
		skt_scan_opts o = SKT_SCAN_OPTS_INIT;
		o.banner_ms = 600;
		o.http_probe = probe == 1;
		int64_t t0 = sktest_now_ms();
		cr_assert_eq(skt_scan_run(&s.sp, &it, &o, on_result, got), 0);
		cr_assert_lt(sktest_now_ms() - t0, 2000);
		cr_assert_eq(got->open, 3);
		bool greet = false, http = false;
		for (size_t k = 0; k < got->nbanners; k++) {
			if (got->banner_port[k] == pg) {
				cr_assert_str_eq(
					got->banner[k],
					"SSH-2.0-OpenSSH_9.2 test\r\n");
				cr_assert(!got->probed[k]);
				greet = true;
			}
			if (got->banner_port[k] == ph) {
				cr_assert_str_eq(got->banner[k],
						 "HTTP/1.0 200 OK\r\n"
						 "Server: pytest\r\n\r\n");
				cr_assert(got->probed[k]);
				http = true;
			}
			cr_assert_neq(got->banner_port[k], pm,
				      "the silent port said '%s'",
				      got->banner[k]);
		}
		cr_assert(greet, "no greeting");
		cr_assert_eq(http, probe == 1, "http banner %d with probe %d",
			     http, probe);
		space_free(&s);
	}
	kill(pid, SIGTERM);
	sktest_wait(pid);
	close(out);
}

/* ---- Bad calls ---- */

RUN_TEST(iterator_of_another_space_is_refused)
{
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, 9);
	space s;
	space_make(&s, "127.0.0.1-2", NULL, &set);
	skt_scan_order o;
	skt_scan_iter it;
	cr_assert_eq(skt_scan_order_init(&o, 3, 1, true), 0);
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 1, 0), 0);
	cr_assert_eq(skt_scan_run(&s.sp, &it, NULL, on_result, got),
		     SKT_EINVAL);
	skt_scan_opts bad = SKT_SCAN_OPTS_INIT;
	bad.retries = 11;
	iter(&s, &it, 1, 0, 1);
	cr_assert_eq(skt_scan_run(&s.sp, &it, &bad, on_result, got),
		     SKT_EINVAL);
	cr_assert_eq(got->n, 0);
	space_free(&s);
}
