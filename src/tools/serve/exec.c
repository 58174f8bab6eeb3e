/* exec.c - `sockit serve exec -- CMD [ARGS]`: a program per connection,
 * inetd's "nowait" (and tcpserver's, ncat --exec's): each admitted
 * connection runs CMD with the socket as its stdin and stdout
 * (tools/exec/spawn.h), and the server's limits hold as for any service:
 * a connection counts against --max-conns and --max-per-ip until its
 * program ends, so they bound the programs running at once.
 *
 * A connection's states:
 *   RUNNING  spawned; the server's stream stays open but idle (it never
 *            reads: the fd now belongs to the program, blocking) and the
 *            idle timeout is off, since only the program sees traffic;
 *            the child's pidfd is watched on the worker's loop;
 *   EXITED   the pidfd was readable: the child is reaped and the stream
 *            closed, which ends the server's copy of the socket (the
 *            client sees the end once the program's copies are gone too);
 *   CLOSED   closed(): a child still running (the drain's deadline, or
 *            the loop freed at the end) is killed with SIGKILL and reaped
 *            there, so no zombie and no orphan outlives the server.
 * stop() (the server is stopping) sends SIGTERM: programs get the drain's
 * SKT_SERVER_DRAIN_MS to end, then the deadline resets the connection and
 * closed() kills what is left.
 */
#include "tools/exec/spawn.h"
#include "tools/serve/services.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
	pid_t pid; /* 0 once reaped */
	int pidfd; /* -1 when none */
	skt_io *io;
	skt_server_conn *c;
};

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void forget(struct child *ch)
{
	skt_io_free(ch->io);
	ch->io = NULL;
	if (ch->pidfd >= 0)
		close(ch->pidfd);
	ch->pidfd = -1;
}

static void on_exit_io(skt_io *w, unsigned events, void *arg)
{
	struct child *ch = arg;
	if (waitpid(ch->pid, NULL, WNOHANG) != ch->pid)
		return; /* not yet (a spurious wake-up) */
	ch->pid = 0;
	forget(ch);
	skt_stream_close(ch->c->s);
}

static int exec_open(skt_server_conn *c)
{
	struct child *ch = skt_server_conn_state(c);
	const skt_server_opts *o = skt_server_worker_opts(c->w);
	const spawn_cmd *cmd = o->service_arg;
	ch->c = c;
	ch->pidfd = -1;
	skt_stream_set_timeouts(c->s, 0, 0);
	int fd = skt_stream_fd(c->s);
	skt_addr local;
	bool have_local = skt_sock_local(fd, &local) == 0;
	int r = spawn_start(cmd, fd, have_local ? &local : NULL, &c->peer,
			    &ch->pid);
	if (r < 0) {
		ch->pid = 0;
		return r;
	}
	/* From here closed() owns the child, whatever fails. */
	ch->pidfd = pidfd_open(ch->pid);
	if (ch->pidfd < 0)
		return -errno;
	r = skt_io_new(skt_server_worker_loop(c->w), &ch->io, ch->pidfd,
		       on_exit_io, ch);
	if (r == 0)
		r = skt_io_start(ch->io, SKT_READABLE);
	return r;
}

static void exec_stop(skt_server_conn *c)
{
	struct child *ch = skt_server_conn_state(c);
	if (ch->pid > 0)
		kill(ch->pid, SIGTERM);
}

static void exec_closed(skt_server_conn *c)
{
	struct child *ch = skt_server_conn_state(c);
	forget(ch);
	if (ch->pid <= 0)
		return;
	kill(ch->pid, SIGKILL);
	while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
		;
	ch->pid = 0;
}

const skt_service svc_exec = {
	.name = "exec",
	.what = "a program per connection, on its stdin and stdout (inetd)",
	.port = 7070,
	.flags = SKT_SERVICE_TCP,
	.idle_s = 0,
	.conn_size = sizeof(struct child),
	.open = exec_open,
	.stop = exec_stop,
	.closed = exec_closed,
};
