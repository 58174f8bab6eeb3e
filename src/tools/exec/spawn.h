/* spawn.h - run a program with a connection as its stdin and stdout, as
 * inetd, tcpserver (ucspi-tcp) and ncat --exec do: the shared part of
 * `sockit serve exec` and of connect/listen --exec. Part of the command's
 * tools, not of libsockit.
 *
 * Never through a shell: argv[0] is looked up in $PATH (execvp's rule: a
 * name with a slash is used as is) and run with argv. --sh-exec is the
 * caller's business: it passes {"/bin/sh", "-c", LINE, NULL}.
 */
#ifndef SOCKIT_TOOLS_SPAWN_H
#define SOCKIT_TOOLS_SPAWN_H

#include "sockit/sockit.h"

#include <stdbool.h>
#include <sys/types.h>

/* What to run: argv ends with NULL; the strings are borrowed for as long
 * as spawns happen. */
typedef struct spawn_cmd {
	char *const *argv;
} spawn_cmd;

/* Start cmd with fd (a connected socket) as its stdin and stdout; its
 * stderr is the caller's. fd is made blocking first, since programs such
 * as cat(1) expect a blocking stdin; O_NONBLOCK belongs to the open file,
 * so the caller must not do I/O on fd through a loop afterwards. Every
 * other fd the child could inherit is closed (sockit's are close-on-exec
 * already; closefrom makes it hold for any). The environment is the
 * caller's, less any inherited variables of the names below, plus, for an
 * IP connection (local and peer may be NULL when unknown):
 *   PROTO=TCP, TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT
 *     (ucspi-tcp's names, also for IPv6),
 *   REMOTE_ADDR, REMOTE_PORT (the names CGI and many scripts read);
 * for a Unix socket PROTO=UNIX only. Returns 0 with *pid set, SKT_ENOMEM,
 * or -errno (SKT_ENOENT: no such program; the spawn reports the exec's
 * failure, so no child is left). Safe from any thread. */
int spawn_start(const spawn_cmd *cmd, int fd, const skt_addr *local,
		const skt_addr *peer, pid_t *pid);

/* True when cmd's program exists and may be executed (a usage check made
 * once, before serving, so that a typo is an error at start and not a
 * reset per connection). */
bool spawn_found(const spawn_cmd *cmd);

/* Wait for pid to end. Returns its exit status (0..255), 128 + the signal
 * that killed it, or -errno. */
int spawn_wait(pid_t pid);

#endif
