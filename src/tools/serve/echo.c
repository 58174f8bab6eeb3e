/* echo.c - the byte-stream services: echo (RFC 862), upper (the
 * tutorials' upper-casing echo), discard (RFC 863) and chargen (RFC 864).
 * What they share is flow control: none of them may buffer without bound
 * for a client that does not read.
 *
 * Echo and upper send back what arrives, as it arrives, and must not
 * buffer without bound for a client that sends but does not read: when a
 * write leaves the queue above the stream's high-water mark, reading
 * stops (TCP flow control then holds the client back) until the queue has
 * drained. The signal to go on is a flush mark (skt_stream_flush): the
 * whole queue sent. A per-connection water callback would do as well;
 * the flush mark needs no state beyond the paused flag, and an echo
 * gains nothing from resuming at the low mark rather than at empty.
 *
 * A connection's states: FLOWING (reading, each chunk written back) and
 * PAUSED (not reading until the queue is sent). At the client's end of
 * stream the rest of the queue is sent, then the connection is closed, so
 * a client that half-closes still reads every byte of its echo.
 */
#include "tools/serve/services.h"

#include <string.h>

struct flow {
	skt_read_cb rd; /* echo_data or upper_data */
	bool paused;
};

/* Upper-casing works on this much at a time, on the stack. */
#define UPPER_CHUNK 16384

static uint8_t upper_ascii(uint8_t b)
{
	/* ASCII only, like Python's bytes.upper(): no locale, and UTF-8
	 * sequences pass through untouched. */
	return b >= 'a' && b <= 'z' ? (uint8_t)(b - 'a' + 'A') : b;
}

static void on_sent(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct flow *f = skt_server_conn_state(c);
	if (status != 0 || !f->paused)
		return;
	f->paused = false;
	skt_stream_read_start(s, f->rd);
}

/* Out of memory for the flush mark: go on reading rather than stall. */
static void pause_reading(skt_server_conn *c)
{
	struct flow *f = skt_server_conn_state(c);
	if (skt_stream_flush(c->s, on_sent) < 0)
		return;
	f->paused = true;
	skt_stream_read_stop(c->s);
}

/* The common ends of a read: the client's end of stream closes once the
 * queue is sent; an error closes the stream by itself. Returns true when
 * status carries data. */
static bool data_or_end(skt_stream *s, int status)
{
	if (status == SKT_EOF || status == SKT_EPARTIAL)
		skt_stream_close(s);
	return status == 0;
}

static void echo_data(skt_stream *s, int status, const uint8_t *data,
		      size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	if (!data_or_end(s, status))
		return;
	skt_server_conn_got(c, len);
	if (skt_server_conn_write(c, data, len) == 1)
		pause_reading(c);
}

static void upper_data(skt_stream *s, int status, const uint8_t *data,
		       size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	if (!data_or_end(s, status))
		return;
	skt_server_conn_got(c, len);
	uint8_t buf[UPPER_CHUNK];
	bool above = false;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = upper_ascii(data[off + i]);
		int r = skt_server_conn_write(c, buf, n);
		if (r < 0)
			return;
		above = above || r == 1;
		off += n;
	}
	if (above)
		pause_reading(c);
}

static int flow_open(skt_server_conn *c, skt_read_cb rd)
{
	struct flow *f = skt_server_conn_state(c);
	f->rd = rd;
	return skt_stream_read_start(c->s, rd);
}

static int echo_open(skt_server_conn *c)
{
	return flow_open(c, echo_data);
}

static int upper_open(skt_server_conn *c)
{
	return flow_open(c, upper_data);
}

static long echo_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
		       uint8_t *out, size_t cap)
{
	memcpy(out, in, len); /* len <= SKT_SERVER_DGRAM_MAX <= cap */
	return (long)len;
}

static long upper_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap)
{
	for (size_t i = 0; i < len; i++)
		out[i] = upper_ascii(in[i]);
	return (long)len;
}

/* ---- discard: read and count, never answer ---- */

static void discard_data(skt_stream *s, int status, const uint8_t *data,
			 size_t len)
{
	if (data_or_end(s, status))
		skt_server_conn_got(skt_stream_udata(s), len);
}

static int discard_open(skt_server_conn *c)
{
	return skt_stream_read_start(c->s, discard_data);
}

static long discard_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap)
{
	return -1;
}

const skt_service svc_echo = {
	.name = "echo",
	.what = "RFC 862: sends back what it receives",
	.port = 7007,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.conn_size = sizeof(struct flow),
	.open = echo_open,
	.datagram = echo_dgram,
};

const skt_service svc_upper = {
	.name = "upper",
	.what = "the tutorials' echo that upper-cases ASCII letters",
	.port = 8001,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.conn_size = sizeof(struct flow),
	.open = upper_open,
	.datagram = upper_dgram,
};

const skt_service svc_discard = {
	.name = "discard",
	.what = "RFC 863: reads and throws away",
	.port = 9009,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.open = discard_open,
	.datagram = discard_dgram,
};

/* ---- chargen ---- */

/* The Character Generator (RFC 864): over TCP, an endless stream of
 * 72-character lines, each starting one character further along the 95
 * printable ASCII characters; over UDP, a datagram of such lines for any
 * datagram received.
 *
 * The stream is as fast as the client reads, and no faster: a batch is
 * written, and the next one only once the kernel took the last
 * (skt_stream_flush). A batch is about the stream's high-water mark, so a
 * client that stops reading costs at most two of them in memory, however
 * long it stalls (then the idle timeout ends it). What the client sends
 * is read and thrown away, and its end of stream changes nothing (RFC
 * 864: the server sends "until the calling user terminates the
 * connection"): a half-closed client still reads.
 */

#define WIDTH  72              /* characters per line (RFC 864) */
#define LINE   (WIDTH + 2)     /* and CRLF */
#define NCHARS 95              /* ' ' to '~' */
#define CYCLE  (NCHARS * LINE) /* 7030 bytes, then the pattern repeats */
/* Cycles per write: 56 KiB, near the default high-water mark, so a fast
 * reader costs one writev per loop iteration and a slow one little. */
#define BATCH 8
/* Lines per datagram: 444 bytes, within RFC 864's "between 0 and 512". */
#define DGRAM_LINES 6

struct gen_worker {
	uint8_t cycle[CYCLE]; /* every line once: any line starts a cycle */
	size_t next_line;     /* UDP: where the next datagram starts */
};

static int gen_worker_new(skt_server_worker *w, void **state)
{
	struct gen_worker *g = skt_calloc(1, sizeof(*g));
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
	skt_free(state);
}

static void gen_pump(skt_server_conn *c);

static void gen_sent(skt_stream *s, int status)
{
	if (status == 0)
		gen_pump(skt_stream_udata(s));
}

/* Whole cycles keep the pattern in step across writes: every write
 * starts with the first line, right after the last line of the one
 * before. */
static void gen_pump(skt_server_conn *c)
{
	struct gen_worker *gw = skt_server_worker_state(c->w);
	struct iovec iov[BATCH];
	for (int i = 0; i < BATCH; i++)
		iov[i] = (struct iovec){gw->cycle, CYCLE};
	/* An error means the stream is closing (a reset, a stop): done. */
	if (skt_server_conn_writev(c, iov, BATCH) >= 0)
		skt_stream_flush(c->s, gen_sent);
}

static void gen_read(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	if (status == 0)
		skt_server_conn_got(skt_stream_udata(s), len);
}

static int gen_open(skt_server_conn *c)
{
	int r = skt_stream_read_start(c->s, gen_read);
	if (r == 0)
		gen_pump(c);
	return r;
}

static long gen_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
		      uint8_t *out, size_t cap)
{
	struct gen_worker *gw = skt_server_worker_state(w);
	for (size_t i = 0; i < DGRAM_LINES; i++) {
		size_t line = (gw->next_line + i) % NCHARS;
		memcpy(out + i * LINE, gw->cycle + line * LINE, LINE);
	}
	gw->next_line = (gw->next_line + DGRAM_LINES) % NCHARS;
	return DGRAM_LINES * LINE;
}

const skt_service svc_chargen = {
	.name = "chargen",
	.what = "RFC 864: endless lines of characters, at the reader's pace",
	.port = 1919,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.worker_new = gen_worker_new,
	.worker_free = gen_worker_free,
	.open = gen_open,
	.datagram = gen_dgram,
};
