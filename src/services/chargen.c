/* chargen.c - the Character Generator (RFC 864): over TCP, an endless
 * stream of 72-character lines, each starting one character further along
 * the 95 printable ASCII characters; over UDP, a datagram of such lines
 * for any datagram received.
 *
 * The stream is as fast as the client reads, and no faster: a batch is
 * written, and the next one only once the kernel took the last
 * (skt_stream_flush) or, when a write left the queue above the high-water
 * mark, once the water callback says it drained. A client that stops
 * reading therefore costs at most a high-water mark and a batch of memory,
 * however long it stalls (then the idle timeout ends it).
 *
 * A connection's states: SENDING (a batch is out; the flush callback
 * asks for the next) and WAITING (above the high-water mark; the water
 * callback resumes). What the client sends is read and thrown away, and
 * its end of stream changes nothing (RFC 864: the server sends "until the
 * calling user terminates the connection"): a half-closed client still
 * reads.
 */
#include "services/services.h"

#include <string.h>

#define WIDTH 72                /* characters per line (RFC 864) */
#define LINE (WIDTH + 2)        /* and CRLF */
#define NCHARS 95               /* ' ' to '~' */
#define CYCLE (NCHARS * LINE)   /* 7030 bytes, then the pattern repeats */
/* Cycles per write: 56 KiB, near the default high-water mark, so a fast
 * reader costs one writev per loop iteration and a slow one little. */
#define BATCH 8
/* Lines per datagram: 444 bytes, within RFC 864's "between 0 and 512". */
#define DGRAM_LINES 6

struct gen_worker {
	uint8_t cycle[CYCLE]; /* every line once: any line starts a cycle */
	size_t next_line;     /* UDP: where the next datagram starts */
};

struct gen {
	bool waiting;
};

static int gen_worker_new(skt__svc_worker *w, void **state)
{
	struct gen_worker *g = skt__calloc(1, sizeof(*g));
	if (g == NULL)
		return SKT_ENOMEM;
	for (size_t i = 0; i < NCHARS; i++) {
		uint8_t *line = g->cycle + i * LINE;
		for (size_t j = 0; j < WIDTH; j++)
			line[j] = (uint8_t)(' ' + (i + j) % NCHARS);
		line[WIDTH] = '\r';
		line[WIDTH + 1] = '\n';
	}
	*state = g;
	return 0;
}

static void gen_worker_free(void *state)
{
	skt__free(state);
}

static void pump(skt__svc_conn *c);

static void on_flushed(skt_stream *s, int status)
{
	if (status == 0)
		pump(skt_stream_udata(s));
}

static void on_water(skt_stream *s, bool above)
{
	skt__svc_conn *c = skt_stream_udata(s);
	struct gen *g = skt__svc_state(c);
	if (above || !g->waiting)
		return;
	g->waiting = false;
	pump(c);
}

/* Whole cycles keep the pattern in step across writes: every write
 * starts with the first line, right after the last line of the one
 * before. */
static void pump(skt__svc_conn *c)
{
	struct gen_worker *gw = skt__svc_wstate(c->w);
	struct gen *g = skt__svc_state(c);
	struct iovec iov[BATCH];
	for (int i = 0; i < BATCH; i++)
		iov[i] = (struct iovec){gw->cycle, CYCLE};
	int r = skt__svc_writev(c, iov, BATCH);
	if (r == 1)
		g->waiting = true;
	else if (r == 0)
		skt_stream_flush(c->s, on_flushed);
	/* r < 0: the stream is closing (an error, a stop); nothing more. */
}

static void gen_read(skt_stream *s, int status, const uint8_t *data,
		     size_t len)
{
	if (status == 0)
		skt__svc_got(skt_stream_udata(s), len);
}

static int gen_open(skt__svc_conn *c)
{
	int r = skt_stream_set_water(c->s, 0, 0, on_water);
	if (r == 0)
		r = skt_stream_read_start(c->s, gen_read);
	if (r == 0)
		pump(c);
	return r;
}

static long gen_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
		      uint8_t *out, size_t cap)
{
	struct gen_worker *gw = skt__svc_wstate(w);
	for (size_t i = 0; i < DGRAM_LINES; i++) {
		size_t line = (gw->next_line + i) % NCHARS;
		memcpy(out + i * LINE, gw->cycle + line * LINE, LINE);
	}
	gw->next_line = (gw->next_line + DGRAM_LINES) % NCHARS;
	return DGRAM_LINES * LINE;
}

const skt__svc skt__svc_chargen = {
	.name = "chargen",
	.what = "RFC 864: endless lines of characters, at the reader's pace",
	.port = 1919,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.conn_size = sizeof(struct gen),
	.worker_new = gen_worker_new,
	.worker_free = gen_worker_free,
	.open = gen_open,
	.datagram = gen_dgram,
};
