/* echo.c - the services that pass a byte stream through: echo (RFC 862),
 * upper (the tutorials' upper-casing echo) and discard (RFC 863).
 *
 * Echo and upper send back what arrives, as it arrives, and must not
 * buffer without bound for a client that sends but does not read: when a
 * write leaves the queue above the stream's high-water mark, reading
 * stops (TCP flow control then holds the client back) until the water
 * callback says the queue drained to the low mark.
 *
 * A connection's states: FLOWING (reading, each chunk written back) and
 * PAUSED (not reading until the queue drains). At the client's end of
 * stream the rest of the queue is sent, then the connection is closed, so
 * a client that half-closes still reads every byte of its echo.
 */
#include "services/services.h"

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

static void on_water(skt_stream *s, bool above)
{
	skt__svc_conn *c = skt_stream_udata(s);
	struct flow *f = skt__svc_state(c);
	if (above || !f->paused)
		return;
	f->paused = false;
	skt_stream_read_start(s, f->rd);
}

static void pause_reading(skt__svc_conn *c)
{
	struct flow *f = skt__svc_state(c);
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
	skt__svc_conn *c = skt_stream_udata(s);
	if (!data_or_end(s, status))
		return;
	skt__svc_got(c, len);
	if (skt__svc_write(c, data, len) == 1)
		pause_reading(c);
}

static void upper_data(skt_stream *s, int status, const uint8_t *data,
		       size_t len)
{
	skt__svc_conn *c = skt_stream_udata(s);
	if (!data_or_end(s, status))
		return;
	skt__svc_got(c, len);
	uint8_t buf[UPPER_CHUNK];
	bool above = false;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = upper_ascii(data[off + i]);
		int r = skt__svc_write(c, buf, n);
		if (r < 0)
			return;
		above = above || r == 1;
		off += n;
	}
	if (above)
		pause_reading(c);
}

static int flow_open(skt__svc_conn *c, skt_read_cb rd)
{
	struct flow *f = skt__svc_state(c);
	f->rd = rd;
	int r = skt_stream_set_water(c->s, 0, 0, on_water);
	return r < 0 ? r : skt_stream_read_start(c->s, rd);
}

static int echo_open(skt__svc_conn *c)
{
	return flow_open(c, echo_data);
}

static int upper_open(skt__svc_conn *c)
{
	return flow_open(c, upper_data);
}

static long echo_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
		       uint8_t *out, size_t cap)
{
	memcpy(out, in, len); /* len <= SKT__SVC_DGRAM_MAX <= cap */
	return (long)len;
}

static long upper_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
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
		skt__svc_got(skt_stream_udata(s), len);
}

static int discard_open(skt__svc_conn *c)
{
	return skt_stream_read_start(c->s, discard_data);
}

static long discard_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap)
{
	return -1;
}

const skt__svc skt__svc_echo = {
	.name = "echo",
	.what = "RFC 862: sends back what it receives",
	.port = 7007,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.conn_size = sizeof(struct flow),
	.open = echo_open,
	.datagram = echo_dgram,
};

const skt__svc skt__svc_upper = {
	.name = "upper",
	.what = "the tutorials' echo that upper-cases ASCII letters",
	.port = 8001,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.conn_size = sizeof(struct flow),
	.open = upper_open,
	.datagram = upper_dgram,
};

const skt__svc skt__svc_discard = {
	.name = "discard",
	.what = "RFC 863: reads and throws away",
	.port = 9009,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.open = discard_open,
	.datagram = discard_dgram,
};
