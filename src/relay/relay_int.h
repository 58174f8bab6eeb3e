/* relay_int.h - what the relay's files share: the state of one relay
 * and the moves that relay.c (streams) and relay_dgram.c (datagrams) are
 * built from. The moves live in relay_move.c. Not installed. */
#ifndef SOCKIT_RELAY_INTERNAL_H
#define SOCKIT_RELAY_INTERNAL_H

#include "internal.h"
#include "relay/relay_tx.h"
#include "sockit/relay.h"

#include <sys/types.h>

/* What a local fd is, which decides how bytes reach or leave it. */
enum relay_kind {
	KIND_NONE,  /* -1: no input, or output discarded */
	KIND_FILE,  /* regular file: sendfile from it, splice into it */
	KIND_PIPE,  /* pipe or FIFO: splice straight from it, or into it */
	KIND_NULL,  /* /dev/null: nothing to write at all */
	KIND_OTHER, /* terminal, socket, device: read/write after poll() */
};

/* How upstream (input -> socket) moves bytes. */
enum relay_up {
	UP_BUF,      /* read into ub, send from it (also opts.data, crlf) */
	UP_SENDFILE, /* sendfile(sock, in): no copy through user space */
	UP_SPLICE,   /* splice(in pipe, sock) */
};

/* How downstream (socket -> output) moves bytes. */
enum relay_down {
	DOWN_BUF,     /* recv into db, write from it */
	DOWN_SPLICE,  /* splice(sock, private pipe), splice(pipe, out) */
	DOWN_DISCARD, /* received and dropped (MSG_TRUNC on TCP: no copy) */
};

typedef struct relay_buf {
	uint8_t *p;
	size_t cap;
	size_t off; /* first byte still to go */
	size_t len; /* bytes still to go, from off */
} relay_buf;

typedef struct relay {
	const skt_relay_opts *o;
	skt_relay_stats *st;
	int in, out, sock;
	bool tcp; /* MSG_TRUNC discards without a copy only on TCP */
	/* The socket side's transport (relay_tx.h), or NULL for the socket
	 * itself; with one, what a send and a receive wait for. */
	const skt__relay_tx *tx;
	void *tx_arg;
	short wr_want; /* POLLOUT, or POLLIN: a send waits to read */
	short rd_want; /* POLLIN, or POLLOUT: a receive waits to write */

	/* upstream: input -> socket */
	int up; /* enum relay_up */
	relay_buf ub;
	size_t data_off; /* next byte of o->data */
	bool cr_last;    /* crlf: the last input byte was a CR */
	bool in_ready;   /* input known readable (or never blocks) */
	bool in_blocks;  /* a read of input may block: poll before each */
	bool sock_wr;    /* socket known writable */
	bool in_eof;     /* input ended */
	bool shut_wait;  /* the transport's shutdown waits for the socket */
	bool up_done;    /* its end was acted on (shutdown, or closing) */

	/* downstream: socket -> output */
	int down; /* enum relay_down */
	relay_buf db;
	int pipe[2];     /* DOWN_SPLICE's private pipe, -1 when none */
	size_t pcap;     /* its capacity */
	size_t pfill;    /* bytes in it */
	bool pipe_room;  /* a splice into it may not find room (slots are
			    pages, so it can fill before pfill == pcap) */
	bool sock_rd;    /* socket known readable */
	bool peer_eof;   /* the socket reached end of stream */
	bool out_ready;  /* output known writable */
	bool out_blocks; /* a write to output may block: poll before each */
	bool down_done;  /* peer closed and everything was delivered */

	bool closing;      /* no more reading: deliver what is held, end */
	int64_t idle_at;   /* deadline of the idle timeout, -1 none */
	int64_t linger_at; /* deadline of EOF_WAIT, -1 none */
} relay;

/* Largest UDP payload over IPv4 (65535 - 20 - 8); IPv6 allows 20 more, but
 * one limit for both keeps a datagram that fits one family fitting both. */
#define RELAY_DGRAM_MAX 65507

/* What fd is (fstat). */
int skt__relay_kind(int fd);

/* Set st->where and return err (< 0), for one-line error returns. */
int skt__relay_fail(relay *r, skt_relay_side where, int err);

/* Read at most max bytes of input (opts.data or in_fd) into an empty ub,
 * turning bare LF into CRLF when opts.crlf (ub then needs 2 * max).
 * Returns bytes read (ub.len may be more with crlf), 0 at end of input,
 * SKT_EAGAIN, or an error with st->where set. in_fd is read only after
 * poll() said so: a plain read() may block. */
ssize_t skt__relay_fill(relay *r, size_t max);

/* One zero-copy move of upstream (sendfile or splice). Returns bytes
 * moved, 0 at end of input, SKT_EAGAIN (ready flags cleared), SKT_ENOSYS
 * when the kernel refuses this pair (nothing moved: use UP_BUF), or an
 * error with st->where set. */
ssize_t skt__relay_up_zero(relay *r);

/* Downstream moves. Each returns bytes moved, 0 at the socket's end of
 * stream (receiving moves only), SKT_EAGAIN with the ready flag cleared,
 * SKT_ENOSYS when splice is refused (nothing moved: use DOWN_BUF), or an
 * error with st->where set. */
ssize_t skt__relay_discard(relay *r);    /* socket -> nowhere */
ssize_t skt__relay_splice_in(relay *r);  /* socket -> private pipe */
ssize_t skt__relay_splice_out(relay *r); /* private pipe -> output */
ssize_t skt__relay_recv(relay *r);       /* private pipe or socket -> db */
ssize_t skt__relay_write(relay *r);      /* db -> output */

/* The datagram relay (relay_dgram.c), on a prepared relay. */
int skt__relay_dgram(relay *r);

/* poll() for what the flags ask (input readable, socket writable and/or
 * readable, output writable) until the nearer deadline, and set the ready
 * flags of what is ready. Returns 0 (also on EINTR and on a deadline),
 * -errno, or SKT_EIO when asked to wait for nothing with no deadline (a
 * bug in the caller's bookkeeping: an error beats a hang). In relay.c,
 * with the deadline checks below. */
int skt__relay_wait(relay *r, bool in, bool sock_wr, bool sock_rd, bool out);

/* Bring the idle deadline forward after bytes moved. */
void skt__relay_moved(relay *r);

/* Check the deadlines: a passed linger deadline (EOF_WAIT) sets closing;
 * returns SKT_ETIMEDOUT when the idle one has passed, else 0. */
int skt__relay_deadlines(relay *r);

#endif
