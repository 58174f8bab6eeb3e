/* sockit/addr.h - addresses: parse, format, resolve, services, host names.
 *
 * Two kinds of value:
 *   skt_addr      a concrete socket address (IPv4, IPv6, Unix), ready for
 *                 bind()/connect(); parsing it never touches the network.
 *   skt_endpoint  what a user typed: a host (name or literal) and a service
 *                 (port number or name), or a Unix path; resolved later.
 * Text forms, everywhere in sockit:
 *   host:port   1.2.3.4:80   localhost:http   [::1]:80   [fe80::1%eth0]:80
 *   port alone  8080  or  :8080   (when the caller allows no host)
 *   unix:/path  a filesystem Unix socket
 *   unix:@name  a Linux abstract Unix socket
 * Parsing is precise: port 0 (unless allowed), 65536 and "80abc" are
 * SKT_EBADPORT; an unterminated "[" or an unbracketed IPv6 literal with a
 * port is SKT_EBADADDR; a Unix path that does not fit is SKT_ENAMETOOLONG,
 * never truncated.
 */
#ifndef SOCKIT_ADDR_H
#define SOCKIT_ADDR_H

#include "sockit/export.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_storage ss;
	} u;
	socklen_t len; /* meaningful bytes of u; 0 for an empty address */
} skt_addr;

/* Buffer size that holds any formatted skt_addr, including an abstract Unix
 * name whose every byte is escaped as \xNN. */
#define SKT_ADDRSTRLEN 512
/* Longest host (a DNS name is at most 253 bytes) and service name. */
#define SKT_HOST_MAX    253
#define SKT_SERVICE_MAX 63
/* Longest Unix path, without its terminating NUL (sun_path holds 108). */
#define SKT_UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Parsing flags. */
#define SKT_PARSE_PORT_ZERO 0x1 /* accept port 0 (a listener's "any port") */
#define SKT_PARSE_NO_HOST   0x2 /* accept a port alone: "8080" or ":8080" */
#define SKT_PARSE_NO_PORT   0x4 /* accept a host alone: "example.com" */

/* Parse a decimal port "1".."65535" (and "0" with SKT_PARSE_PORT_ZERO).
 * Returns the port, or SKT_EBADPORT for anything else: empty, sign, spaces,
 * trailing characters, leading zeros beyond one digit are accepted ("080"). */
SKT_EXTERN int skt_port_parse(const char *text, int flags);

/* Fill a from a numeric IP literal (v4 dotted quad, or v6 with an optional
 * %zone) and a port. Returns 0, or SKT_EBADHOST when ip is not a literal. */
SKT_EXTERN int skt_addr_from_ip(skt_addr *a, const char *ip, uint16_t port);

/* Fill a with a Unix socket address. A path starting with '@' names an
 * abstract socket (Linux). Returns 0, SKT_EBADADDR for an empty path (or
 * "@" alone), or SKT_ENAMETOOLONG when the path does not fit sun_path. */
SKT_EXTERN int skt_addr_unix(skt_addr *a, const char *path);

/* Parse a numeric address text: "1.2.3.4:80", "[::1]:80", "unix:/path",
 * "unix:@name" (flags as above; never resolves names: a host name is
 * SKT_EBADHOST). A port alone (SKT_PARSE_NO_HOST) gives 127.0.0.1:port, as
 * skt_listen does with no host; a host alone (SKT_PARSE_NO_PORT) gives
 * port 0. Returns 0 or an error from this file's header comment; a is left
 * unchanged on error. */
SKT_EXTERN int skt_addr_parse(skt_addr *a, const char *text, int flags);

/* Fill a from a struct sockaddr (as returned by accept or recvfrom).
 * Returns 0, or SKT_EAFNOSUPPORT / SKT_EINVAL for a bad length. */
SKT_EXTERN int skt_addr_from_sockaddr(skt_addr *a, const struct sockaddr *sa,
				      socklen_t len);

/* Format a as text (the forms in this file's header comment); an unbound
 * Unix socket formats as "unix:" and an empty address as "-". Returns the
 * length written (without NUL) or SKT_ETOOBIG when cap is too small
 * (SKT_ADDRSTRLEN is always enough). */
SKT_EXTERN int skt_addr_format(const skt_addr *a, char *buf, size_t cap);

/* Format only the host part of an IP address, without brackets
 * ("::1", "127.0.0.1"). Returns the length or SKT_ETOOBIG/SKT_EAFNOSUPPORT. */
SKT_EXTERN int skt_addr_format_host(const skt_addr *a, char *buf, size_t cap);

/* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for an empty address. */
SKT_EXTERN int skt_addr_family(const skt_addr *a);
/* The port of an IP address in host order; 0 for other families. */
SKT_EXTERN uint16_t skt_addr_port(const skt_addr *a);
/* Set the port of an IP address; does nothing for other families. */
SKT_EXTERN void skt_addr_set_port(skt_addr *a, uint16_t port);
/* True when both are the same family, address, port (and scope/path). */
SKT_EXTERN bool skt_addr_equal(const skt_addr *a, const skt_addr *b);
/* If a is an IPv4-mapped IPv6 address (::ffff:1.2.3.4), turn it into the
 * plain IPv4 address with the same port. Returns true if it changed a. */
SKT_EXTERN bool skt_addr_unmap(skt_addr *a);

/* ---- Endpoints: what a user typed, before resolution ---- */

/* SKT_EP_UNIX is a stream socket, SKT_EP_UNIX_DGRAM a datagram one
 * ("unix-dgram:PATH"); both keep the address in unix_addr. */
enum { SKT_EP_INET = 1, SKT_EP_UNIX = 2, SKT_EP_UNIX_DGRAM = 3 };

typedef struct skt_endpoint {
	int kind;                    /* SKT_EP_* */
	char host[SKT_HOST_MAX + 1]; /* no brackets; "" when absent */
	char service[SKT_SERVICE_MAX +
		     1];    /* port digits or a name; "" when absent */
	skt_addr unix_addr; /* for SKT_EP_UNIX */
} skt_endpoint;

/* Parse "host:port", "[v6]:port", "port", "unix:/path", "unix:@name",
 * "unix-dgram:/path", "unix-dgram:@name".
 * A service may be a name ("localhost:http"); it is checked for shape here
 * and looked up at resolution. Returns 0 or SKT_EBADADDR, SKT_EBADHOST,
 * SKT_EBADPORT, SKT_ENAMETOOLONG. */
SKT_EXTERN int skt_endpoint_parse(skt_endpoint *ep, const char *text,
				  int flags);

/* The two-argument form, "HOST PORT": host may be NULL or "" (when
 * SKT_PARSE_NO_HOST), or "unix:/path" / "unix-dgram:/path" (then
 * service must be NULL);
 * brackets around an IPv6 host are accepted and removed. */
SKT_EXTERN int skt_endpoint_set(skt_endpoint *ep, const char *host,
				const char *service, int flags);

/* ---- Address ranges (CIDR), for allow and deny lists ---- */

typedef struct skt_cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared */
	unsigned prefix;  /* 0..32 or 0..128 */
} skt_cidr;

/* Parse "10.0.0.0/8", "fd00::/8", "::ffff:10.0.0.0/104" or an address
 * alone (a /32 or /128). A v4-mapped IPv6 range becomes the IPv4 range it
 * denotes, so one rule covers a client whether it arrives as 10.1.2.3 or
 * as ::ffff:10.1.2.3 on a dual-stack socket. Host bits set below the prefix
 * are cleared ("10.1.2.3/8" is 10.0.0.0/8). Returns 0, SKT_EBADHOST for a
 * bad address, SKT_EBADADDR for a bad or out-of-range prefix. */
SKT_EXTERN int skt_cidr_parse(skt_cidr *c, const char *text);

/* True when a (an IPv4 or IPv6 address; v4-mapped counts as IPv4) lies in
 * c. Unix and empty addresses never match. */
SKT_EXTERN bool skt_cidr_match(const skt_cidr *c, const skt_addr *a);

/* Format c as "10.0.0.0/8". Returns the length or SKT_ETOOBIG. */
SKT_EXTERN int skt_cidr_format(const skt_cidr *c, char *buf, size_t cap);

/* ---- Resolution ---- */

#define SKT_RESOLVE_PASSIVE 0x1 /* NULL host means the wildcard address */
#define SKT_RESOLVE_NUMERIC 0x2 /* host must be a literal: never asks DNS */
#define SKT_RESOLVE_CANON   0x4 /* fill canonname */

typedef struct skt_addrlist {
	skt_addr *addrs; /* n addresses, in the order the system prefers */
	size_t n;
	char *canonname; /* with SKT_RESOLVE_CANON, else NULL */
} skt_addrlist;

/* Resolve host and service (either may be NULL, not both) to every address
 * of family (AF_UNSPEC, AF_INET, AF_INET6) for socktype (0 means
 * SOCK_STREAM), in getaddrinfo's order, duplicates removed. On success
 * fills *out (free it with skt_addrlist_fini) and returns the count (> 0).
 * Errors: resolver codes (SKT_EAI_NONAME, SKT_EAI_AGAIN, SKT_EAI_SERVICE,
 * ...; skt_strerror gives the resolver's message), SKT_EBADPORT for a
 * numeric service outside 0..65535 or with trailing characters, SKT_ENOMEM.
 * Blocks for as long as the system resolver does. */
SKT_EXTERN int skt_resolve(skt_addrlist *out, const char *host,
			   const char *service, int family, int socktype,
			   int flags);

/* Free what skt_resolve put in l and zero it; a zeroed list is fine. */
SKT_EXTERN void skt_addrlist_fini(skt_addrlist *l);

/* Reverse lookup: the name of a's host. With SKT_RESOLVE_NUMERIC, the
 * numeric form. Returns the length, or SKT_EAI_NONAME when a has no name. */
SKT_EXTERN int skt_resolve_reverse(const skt_addr *a, char *host, size_t cap,
				   int flags);

/* The local host name (gethostname). Returns the length or an error. */
SKT_EXTERN int skt_hostname(char *buf, size_t cap);

/* The local host's fully qualified name, like Python's socket.getfqdn():
 * the canonical name of the host name, or the host name itself when the
 * resolver knows no better. May consult the resolver. Returns the length. */
SKT_EXTERN int skt_fqdn(char *buf, size_t cap);

/* Service name to port for socktype SOCK_STREAM or SOCK_DGRAM ("http" ->
 * 80). Decimal text is accepted as is. Returns the port or SKT_EAI_SERVICE. */
SKT_EXTERN int skt_service_port(const char *name, int socktype);

/* The first n distinct ports the services database (/etc/services) names
 * for socktype (SOCK_STREAM or SOCK_DGRAM), in the database's order, into
 * out. A stand-in for a "most used ports" list that carries no one else's
 * measurements: the database lists the well-known services, and on Debian
 * and most systems in port order. Not thread-safe (setservent's cursor is
 * the process's). Returns the count stored (fewer than n when the database
 * names fewer ports), or SKT_EINVAL. */
SKT_EXTERN int skt_service_ports(uint16_t *out, size_t n, int socktype);

/* Port to service name ("53", SOCK_DGRAM -> "domain"). Returns the length,
 * SKT_EAI_SERVICE when the port has no name, or SKT_ETOOBIG. */
SKT_EXTERN int skt_service_name(uint16_t port, int socktype, char *buf,
				size_t cap);

#ifdef __cplusplus
}
#endif
#endif
