/* unix.c - what Unix sockets need beyond IP's calls: a datagram client
 * that can be answered, and replacing a socket file that nobody serves.
 *
 * A Unix datagram server answers to the sender's address; a client that
 * never bound has none (recvfrom gives an empty address, and sendto to it
 * fails), so the client binds first. Linux's autobind (bind with only the
 * family, unix(7)) picks a unique abstract name and leaves no file behind.
 */
#include "internal.h"
#include "sockit/addr.h"
#include "sockit/sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int skt_unix_dgram_connect(const skt_addr *a)
{
	if (a == NULL || skt_addr_family(a) != AF_UNIX)
		return SKT_EINVAL;
	int fd = skt_socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	struct sockaddr_un me = {.sun_family = AF_UNIX};
	int r = 0;
	if (bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) < 0 ||
	    connect(fd, &a->u.sa, a->len) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Is someone serving a? A non-blocking connect answers at once for Unix
 * sockets: done (or EAGAIN, a full backlog) means a live server, and
 * EPROTOTYPE a live one of the other type; ECONNREFUSED means the file
 * is bound by no socket. Returns 1 (served), 0 (stale) or an error. */
static int served(const skt_addr *a, int type)
{
	int fd = skt_socket(AF_UNIX, type, 0);
	if (fd < 0)
		return fd;
	int r = connect(fd, &a->u.sa, a->len) == 0 ? 0 : -errno;
	close(fd);
	if (r == 0 || r == SKT_EAGAIN || r == SKT_EINPROGRESS ||
	    r == SKT_EPROTOTYPE)
		return 1;
	return r == SKT_ECONNREFUSED ? 0 : r;
}

int skt_unix_unlink_stale(const skt_addr *a, int socktype)
{
	if (a == NULL || skt_addr_family(a) != AF_UNIX)
		return SKT_EINVAL;
	int type = socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	const char *path = a->u.un.sun_path;
	size_t max = a->len - offsetof(struct sockaddr_un, sun_path);
	/* An abstract name has no file: it goes with its last socket. */
	if (max == 0 || path[0] == '\0')
		return 0;
	char p[sizeof(a->u.un.sun_path) + 1];
	size_t n = strnlen(path, max);
	memcpy(p, path, n);
	p[n] = '\0';
	struct stat st;
	if (lstat(p, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return SKT_ENOTSOCK;
	int r = served(a, type);
	if (r == 1)
		return SKT_EADDRINUSE;
	if (r < 0)
		return r;
	if (unlink(p) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}
