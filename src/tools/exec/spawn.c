/* spawn.c - a program per connection: posix_spawn with the socket on fds 0
 * and 1 and the peer's address in the environment (spawn.h).
 *
 * posix_spawn, not fork: glibc's is a vfork-style clone that reports the
 * exec's failure to the caller and is safe in a threaded server (a fork in
 * one worker thread would copy every other thread's locks mid-use).
 */
#include "tools/exec/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The variables spawn_start sets; inherited ones of these names are left
 * out, so a child never sees a stale address from serve's own caller. */
static const char *const OWN[] = {
	"PROTO",        "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP",
	"TCPLOCALPORT", "REMOTE_ADDR", "REMOTE_PORT",
};
#define NOWN    (sizeof(OWN) / sizeof(OWN[0]))
#define VAR_MAX 96 /* "TCPREMOTEIP=" and an IPv6 address with a zone */

static bool own_name(const char *kv)
{
	for (size_t i = 0; i < NOWN; i++) {
		size_t n = strlen(OWN[i]);
		if (strncmp(kv, OWN[i], n) == 0 && kv[n] == '=')
			return true;
	}
	return false;
}

struct vars {
	char v[NOWN][VAR_MAX];
	size_t n;
};

static void add_var(struct vars *vs, const char *name, const char *value)
{
	snprintf(vs->v[vs->n++], VAR_MAX, "%s=%s", name, value);
}

static void ip_vars(struct vars *vs, const skt_addr *a, const char *ip_name,
		    const char *port_name, bool remote)
{
	char host[64], port[8];
	if (a == NULL || skt_addr_format_host(a, host, sizeof(host)) < 0)
		return;
	snprintf(port, sizeof(port), "%u", (unsigned)skt_addr_port(a));
	add_var(vs, ip_name, host);
	add_var(vs, port_name, port);
	if (remote) {
		add_var(vs, "REMOTE_ADDR", host);
		add_var(vs, "REMOTE_PORT", port);
	}
}

static void make_vars(struct vars *vs, const skt_addr *local,
		      const skt_addr *peer)
{
	vs->n = 0;
	const skt_addr *a = peer != NULL ? peer : local;
	if (a != NULL && skt_addr_family(a) == AF_UNIX) {
		add_var(vs, "PROTO", "UNIX");
		return;
	}
	add_var(vs, "PROTO", "TCP");
	ip_vars(vs, peer, "TCPREMOTEIP", "TCPREMOTEPORT", true);
	ip_vars(vs, local, "TCPLOCALIP", "TCPLOCALPORT", false);
}

/* environ less our names, plus vs: an array of borrowed pointers. */
static char **make_env(struct vars *vs)
{
	size_t n = 0;
	for (char **e = environ; e != NULL && *e != NULL; e++)
		n++;
	char **env = skt_calloc(n + vs->n + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!own_name(environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < vs->n; i++)
		env[k++] = vs->v[i];
	env[k] = NULL;
	return env;
}

/* Every signal back to its default, none blocked: a child must not
 * inherit SIGPIPE ignored (a pipeline in it would never end) or the
 * server's mask. */
static int child_attrs(posix_spawnattr_t *at)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	int r = posix_spawnattr_init(at);
	if (r != 0)
		return -r;
	r = posix_spawnattr_setsigdefault(at, &all);
	if (r == 0)
		r = posix_spawnattr_setsigmask(at, &none);
	if (r == 0)
		r = posix_spawnattr_setflags(
			at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (r != 0)
		posix_spawnattr_destroy(at);
	return -r;
}

static int child_fds(posix_spawn_file_actions_t *fa, int fd)
{
	int r = posix_spawn_file_actions_init(fa);
	if (r != 0)
		return -r;
	/* dup2 clears close-on-exec on 0 and 1; fd itself (close-on-exec,
	 * like every fd sockit makes) and anything else above 2 goes. */
	r = posix_spawn_file_actions_adddup2(fa, fd, STDIN_FILENO);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(fa, fd, STDOUT_FILENO);
	if (r == 0)
		r = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	if (r != 0)
		posix_spawn_file_actions_destroy(fa);
	return -r;
}

int spawn_start(const spawn_cmd *cmd, int fd, const skt_addr *local,
		const skt_addr *peer, pid_t *pid)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	struct vars vs;
	make_vars(&vs, local, peer);
	char **env = make_env(&vs);
	if (env == NULL)
		return SKT_ENOMEM;
	posix_spawnattr_t at;
	posix_spawn_file_actions_t fa;
	int r = child_attrs(&at);
	if (r == 0) {
		r = child_fds(&fa, fd);
		if (r == 0) {
			r = -posix_spawnp(pid, cmd->argv[0], &fa, &at,
					  cmd->argv, env);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&at);
	}
	skt_free(env);
	return r;
}

static bool runnable(const char *path)
{
	return access(path, X_OK) == 0;
}

bool spawn_found(const spawn_cmd *cmd)
{
	const char *name = cmd->argv[0];
	if (name == NULL || name[0] == '\0')
		return false;
	if (strchr(name, '/') != NULL)
		return runnable(name);
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin"; /* execvp's default, less "." */
	char buf[4096];
	while (*path != '\0') {
		size_t n = strcspn(path, ":");
		/* An empty entry means the current directory. */
		int len = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, path,
				   n > 0 ? "/" : "", name);
		if (len > 0 && (size_t)len < sizeof(buf) && runnable(buf))
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

int spawn_wait(pid_t pid)
{
	int st;
	for (;;) {
		if (waitpid(pid, &st, 0) == pid)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
