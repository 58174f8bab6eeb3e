/* conn_int.h - a transport under skt_conn, for layers above it (TLS) to
 * carry a buffered connection's bytes without conn.c knowing them. Not
 * installed. */
#ifndef SOCKIT_CONN_INT_H
#define SOCKIT_CONN_INT_H

#include "internal.h"

/* Each call takes the caller's deadline (an skt__now_ms() value or -1)
 * and behaves as the plain socket call it replaces: recv as
 * skt__recv_by (0 at a clean end of stream), send_all as skt_send_all
 * (*sent may be NULL), shutdown as skt_shutdown_write. close runs once,
 * from skt_conn_close, before the fd is closed: it may try a last
 * non-blocking write (close_notify) and frees arg. */
typedef struct skt__conn_tx {
	ssize_t (*recv)(void *arg, void *buf, size_t cap, int64_t deadline);
	int (*send_all)(void *arg, const void *buf, size_t len,
			int64_t deadline, size_t *sent);
	int (*shutdown)(void *arg, int64_t deadline);
	void (*close)(void *arg);
} skt__conn_tx;

/* Route c's I/O through tx with arg (kept until skt_conn_close). */
void skt__conn_set_tx(skt_conn *c, const skt__conn_tx *tx, void *arg);
/* arg when c's transport is tx, else NULL. */
void *skt__conn_tx_arg(const skt_conn *c, const skt__conn_tx *tx);

#endif
