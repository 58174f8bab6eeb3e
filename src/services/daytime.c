/* daytime.c - the services that tell the time: daytime (RFC 867), a line
 * of text, and time (RFC 868), 32 bits of seconds since 1900.
 *
 * Over TCP each answers at once and hangs up (gracefully: skt__svc_tell);
 * over UDP each answers any datagram, whatever it holds, as the RFCs say.
 */
#include "services/services.h"

#include <string.h>
#include <time.h>

/* RFC 868: seconds from 1900-01-01 to the Unix epoch (70 years, 17 of
 * them leap). */
#define EPOCH_1900 UINT64_C(2208988800)

/* RFC 867 leaves the syntax free and suggests "Weekday, Month Day, Year
 * Time-Zone" ("Tuesday, February 22, 1982 17:37:43-PST"). The same, in
 * UTC, so that the answer does not depend on the server's zone. The
 * English names come from the C locale, which sockit never changes. */
static size_t daytime_text(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		return 0;
	return strftime(buf, cap, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
}

/* Big-endian, as RFC 868 says ("a 32 bit binary number"). It wraps in
 * February 2036, and clients of the RFC expect that wrap. */
static void time_bytes(uint8_t out[4])
{
	uint32_t t = (uint32_t)((uint64_t)time(NULL) + EPOCH_1900);
	out[0] = (uint8_t)(t >> 24);
	out[1] = (uint8_t)(t >> 16);
	out[2] = (uint8_t)(t >> 8);
	out[3] = (uint8_t)t;
}

static int daytime_open(skt__svc_conn *c)
{
	char buf[128];
	size_t n = daytime_text(buf, sizeof(buf));
	return skt__svc_tell(c, buf, n);
}

static long daytime_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap)
{
	return (long)daytime_text((char *)out, cap);
}

static int time_open(skt__svc_conn *c)
{
	uint8_t b[4];
	time_bytes(b);
	return skt__svc_tell(c, b, sizeof(b));
}

static long time_dgram(skt__svc_worker *w, const uint8_t *in, size_t len,
		       uint8_t *out, size_t cap)
{
	time_bytes(out);
	return 4;
}

const skt__svc skt__svc_daytime = {
	.name = "daytime",
	.what = "RFC 867: the date and time as a line of text",
	.port = 1313,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.open = daytime_open,
	.datagram = daytime_dgram,
};

const skt__svc skt__svc_time = {
	.name = "time",
	.what = "RFC 868: seconds since 1900 as 4 big-endian bytes",
	.port = 3737,
	.flags = SKT__SVC_TCP | SKT__SVC_UDP,
	.idle_s = 300,
	.open = time_open,
	.datagram = time_dgram,
};
