/* scen_unit.c - torture scenarios of the parsers and codecs, and of the
 * buffered I/O over a socketpair: every failure point of each runs in
 * `make check`. Each returns 0 or the first error (torture.h). */
#include "torture.h"

#include <string.h>

static int addr_parse(void)
{
	int rc = 0;
	skt_addr a;
	skt_endpoint ep;
	char buf[SKT_ADDRSTRLEN];
	TRY(skt_addr_parse(&a, "127.0.0.1:80", 0));
	TRY(skt_addr_format(&a, buf, sizeof(buf)));
	TRY(skt_addr_parse(&a, "[fe80::1%lo]:443", 0));
	TRY(skt_addr_format(&a, buf, sizeof(buf)));
	TRY(skt_addr_parse(&a, "unix:@torture", 0));
	TRY(skt_endpoint_parse(&ep, "localhost:http", 0));
	TRY(skt_endpoint_set(&ep, "[::1]", "8080", 0));
	TRY(skt_port_parse("65535", 0));
	TRY_EXPECT_ERR(skt_addr_parse(&a, "[::1", 0), SKT_EBADADDR);
out:
	return rc;
}

/* Names that never leave the host: literals, and localhost from
 * /etc/hosts. */
static int resolve_local(void)
{
	int rc = 0;
	skt_addrlist l = {0};
	char name[SKT_HOST_MAX + 1];
	TRY(skt_resolve(&l, "127.0.0.1", "80", AF_UNSPEC, 0,
			SKT_RESOLVE_NUMERIC));
	EXPECT(l.n == 1 && skt_addr_port(&l.addrs[0]) == 80);
	skt_addrlist_fini(&l);
	TRY(skt_resolve(&l, "::1", NULL, AF_INET6, SOCK_DGRAM,
			SKT_RESOLVE_NUMERIC | SKT_RESOLVE_CANON));
	skt_addrlist_fini(&l);
	TRY(skt_resolve(&l, "localhost", "http", AF_UNSPEC, 0,
			SKT_RESOLVE_CANON));
	EXPECT(l.n >= 1 && l.canonname != NULL);
	TRY(skt_resolve_reverse(&l.addrs[0], name, sizeof(name),
				SKT_RESOLVE_NUMERIC));
	skt_addrlist_fini(&l);
	TRY_EXPECT_ERR(skt_resolve(&l, NULL, "99999", AF_UNSPEC, 0, 0),
		       SKT_EBADPORT);
out:
	skt_addrlist_fini(&l);
	return rc;
}

static int services(void)
{
	int rc = 0;
	char name[SKT_SERVICE_MAX + 1];
	int port;
	TRY(port = skt_service_port("http", SOCK_STREAM));
	EXPECT(port == 80);
	TRY(skt_service_name(53, SOCK_DGRAM, name, sizeof(name)));
	EXPECT(strcmp(name, "domain") == 0);
out:
	return rc;
}

static int cidr(void)
{
	int rc = 0;
	skt_cidr c;
	skt_addr a;
	char buf[64];
	TRY(skt_cidr_parse(&c, "::ffff:10.0.0.0/104"));
	TRY(skt_addr_from_ip(&a, "10.1.2.3", 0));
	EXPECT(skt_cidr_match(&c, &a));
	TRY(skt_cidr_format(&c, buf, sizeof(buf)));
	EXPECT(strcmp(buf, "10.0.0.0/8") == 0);
out:
	return rc;
}

static int portset(void)
{
	int rc = 0;
	static skt_portset s;
	static const char text[] = "22, 80,8000-8100,all";
	TRY(skt_portset_parse(&s, text, sizeof(text) - 1, NULL));
	EXPECT(rc == 0 && skt_portset_count(&s) == 65535);
out:
	return rc;
}

/* Frames split across inputs, so the decoder gathers (and allocates). */
static int frame_decoder(void)
{
	static const uint8_t in[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0,
				     0, 0, 0, 0, 0,   0,   3,   'a', 'b', 'c'};
	int rc = 0;
	size_t got = 0;
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	for (size_t i = 0; i < sizeof(in); i += 3) {
		size_t n = sizeof(in) - i < 3 ? sizeof(in) - i : 3, off = 0;
		while (off < n) {
			const uint8_t *msg;
			size_t len;
			ssize_t r;
			TRY(r = skt_frame_decode(&d, in + i + off, n - off,
						 &msg, &len));
			off += (size_t)r;
			got += msg != NULL;
		}
	}
	EXPECT(got == 3);
out:
	skt_frame_decoder_fini(&d);
	return rc;
}

static int line_decoder(void)
{
	static const char in[] = "first line\nsecond\n\nlast one\n";
	int rc = 0;
	size_t got = 0;
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, '\n');
	for (size_t i = 0; i < sizeof(in) - 1; i += 4) {
		size_t n = sizeof(in) - 1 - i < 4 ? sizeof(in) - 1 - i : 4;
		size_t off = 0;
		while (off < n) {
			const uint8_t *line;
			size_t len;
			ssize_t r;
			TRY(r = skt_line_decode(&d, in + i + off, n - off,
						&line, &len));
			off += (size_t)r;
			got += line != NULL;
		}
	}
	EXPECT(got == 4);
out:
	skt_line_decoder_fini(&d);
	return rc;
}

/* Frame send and receive over a socketpair, one small and one larger
 * than the receiver's first chunk (so its buffer grows). */
static int frame_io(void)
{
	static uint8_t big[100 << 10];
	int rc = 0, sv[2] = {-1, -1};
	uint8_t *msg = NULL;
	size_t len;
	memset(big, 'x', sizeof(big));
	TRY(skt_socketpair(SOCK_STREAM, sv));
	TRY(skt_frame_send(sv[0], "hi", 2, 0, 1000));
	TRY(skt_frame_send(sv[0], big, sizeof(big), 0, 1000));
	TRY(skt_frame_recv(sv[1], &msg, &len, 0, 1000));
	EXPECT(len == 2 && memcmp(msg, "hi", 2) == 0);
	skt_free(msg);
	msg = NULL;
	TRY(skt_frame_recv(sv[1], &msg, &len, 0, 1000));
	EXPECT(len == sizeof(big) && memcmp(msg, big, len) == 0);
	skt_free(msg);
	msg = NULL;
	skt_close(sv[0]);
	sv[0] = -1;
	TRY_EXPECT_ERR(skt_frame_recv(sv[1], &msg, &len, 0, 1000), SKT_EOF);
out:
	skt_free(msg);
	skt_close(sv[0]);
	skt_close(sv[1]);
	return rc;
}

/* skt_conn over a socketpair: lines, a frame and exact reads, with a tiny
 * buffer so that read_until and read_frame have to grow it. */
static int conn_reads(void)
{
	static const char wire[] = "hello\nworld\n\0\0\0\x04"
				   "abcdtail";
	int rc = 0, sv[2] = {-1, -1};
	skt_conn *c = NULL;
	const uint8_t *p;
	char tail[4];
	TRY(skt_socketpair(SOCK_STREAM, sv));
	TRY(skt_send_all(sv[0], wire, sizeof(wire) - 1, 1000, NULL));
	TRY(skt_shutdown_write(sv[0]));
	TRY(skt_conn_new(&c, sv[1], 4));
	sv[1] = -1; /* the connection owns it now */
	skt_conn_set_timeout(c, 1000);
	ssize_t n;
	TRY(n = skt_conn_read_line(c, 0, &p));
	EXPECT(n == 6 && memcmp(p, "hello\n", 6) == 0);
	TRY(n = skt_conn_read_until(c, "d\n", 2, 64, &p));
	EXPECT(n == 6);
	TRY(n = skt_conn_read_frame(c, 0, &p));
	EXPECT(n == 4 && memcmp(p, "abcd", 4) == 0);
	TRY(skt_conn_read_exact(c, tail, sizeof(tail), NULL));
	EXPECT(memcmp(tail, "tail", 4) == 0);
	TRY_EXPECT_ERR(skt_conn_read_line(c, 0, &p), SKT_EOF);
out:
	skt_conn_free(c);
	skt_close(sv[0]);
	skt_close(sv[1]);
	return rc;
}

const torture_scenario torture_unit[] = {
	{"addr_parse", TORTURE_UNIT, addr_parse},
	{"resolve_local", TORTURE_UNIT, resolve_local},
	{"services", TORTURE_UNIT, services},
	{"cidr", TORTURE_UNIT, cidr},
	{"portset", TORTURE_UNIT, portset},
	{"frame_decoder", TORTURE_UNIT, frame_decoder},
	{"line_decoder", TORTURE_UNIT, line_decoder},
	{"frame_io", TORTURE_UNIT, frame_io},
	{"conn_reads", TORTURE_UNIT, conn_reads},
	{NULL, 0, NULL},
};
