/* tell.c - the services that tell one thing and hang up: qotd (RFC 865),
 * daytime (RFC 867) and time (RFC 868). Over TCP each answers at once and
 * ends the connection gracefully (skt_server_conn_tell: half-close, then read
 * until the client closes); over UDP each answers any datagram, whatever
 * it holds, as the RFCs say.
 *
 * qotd's quotes are built in, or read from a file (--file, a regular
 * file) in the fortune(6) format or one per line. RFC 865 asks for ASCII
 * printing characters, spaces, CR and LF, "less than 512 characters":
 * quotes are stored with CRLF line ends, tabs as spaces, and a file
 * holding anything else, or a longer quote, is refused at load, not cut
 * or cleaned at send. Each worker hands its quotes out in turn, so
 * clients see them all.
 */
#include "tools/serve/services.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- daytime and time ---- */

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

static int daytime_open(skt_server_conn *c)
{
	char buf[128];
	size_t n = daytime_text(buf, sizeof(buf));
	return skt_server_conn_tell(c, buf, n);
}

static long daytime_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap)
{
	return (long)daytime_text((char *)out, cap);
}

static int time_open(skt_server_conn *c)
{
	uint8_t b[4];
	time_bytes(b);
	return skt_server_conn_tell(c, b, sizeof(b));
}

static long time_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
		       uint8_t *out, size_t cap)
{
	time_bytes(out);
	return 4;
}

const skt_service svc_daytime = {
	.name = "daytime",
	.what = "RFC 867: the date and time as a line of text",
	.port = 1313,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.open = daytime_open,
	.datagram = daytime_dgram,
};

const skt_service svc_time = {
	.name = "time",
	.what = "RFC 868: seconds since 1900 as 4 big-endian bytes",
	.port = 3737,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.open = time_open,
	.datagram = time_dgram,
};

/* ---- qotd ---- */

#define QUOTE_MAX 512
#define FILE_MAX  ((size_t)1 << 20) /* a quote file is small; refuse more */

static const char *const builtin[] = {
	"\"Be conservative in what you do, be liberal in what you accept\r\n"
	"from others.\" - Jon Postel, RFC 761\r\n",
	"\"We reject: kings, presidents and voting. We believe in: rough\r\n"
	"consensus and running code.\" - David D. Clark, IETF, 1992\r\n",
	"\"A distributed system is one in which the failure of a computer\r\n"
	"you didn't even know existed can render your own computer\r\n"
	"unusable.\" - Leslie Lamport\r\n",
	"\"It Has To Work.\" - RFC 1925, The Twelve Networking Truths\r\n",
	"\"With sufficient thrust, pigs fly just fine. However, this is not\r\n"
	"necessarily a good idea.\" - RFC 1925\r\n",
	"\"Simplicity is prerequisite for reliability.\" - Edsger W. "
	"Dijkstra\r\n",
	"\"The cheapest, fastest, and most reliable components are those\r\n"
	"that aren't there.\" - Gordon Bell\r\n",
	"\"Measure. Don't tune for speed until you've measured.\" - Rob "
	"Pike\r\n",
};

struct qotd_worker {
	size_t next;
};

static int qotd_worker_new(skt_server_worker *w, void **state)
{
	*state = skt_calloc(1, sizeof(struct qotd_worker));
	return *state == NULL ? SKT_ENOMEM : 0;
}

static void qotd_worker_free(void *state)
{
	skt_free(state);
}

static const char *next_quote(skt_server_worker *w)
{
	struct qotd_worker *q = skt_server_worker_state(w);
	const svc_quotes *file = skt_server_worker_opts(w)->service_arg;
	size_t n = file != NULL ? file->n : ARRAY_SIZE(builtin);
	size_t i = q->next++ % n;
	return file != NULL ? file->v[i] : builtin[i];
}

static int qotd_open(skt_server_conn *c)
{
	const char *quote = next_quote(c->w);
	return skt_server_conn_tell(c, quote, strlen(quote));
}

static long qotd_dgram(skt_server_worker *w, const uint8_t *in, size_t len,
		       uint8_t *out, size_t cap)
{
	const char *quote = next_quote(w);
	size_t n = strlen(quote); /* <= QUOTE_MAX < cap */
	memcpy(out, quote, n);
	return (long)n;
}

/* ---- Quote files ---- */

/* What the file is when it is not a regular one, for the message. */
static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/* A regular file only: a FIFO would block start-up until a writer came
 * (so it is opened O_NONBLOCK, and refused after fstat), a directory
 * reads as EISDIR, a device may never end (/dev/zero). stat first, so
 * that a device is not even opened (opening some has side effects);
 * fstat again after opening, in case the path changed between. */
static int open_regular(const char *path, svc_quotes_fault *f)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		f->kind = kind_of(st.st_mode);
		return SKT_EINVAL;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode)) {
		f->kind = kind_of(st.st_mode);
		r = SKT_EINVAL;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int read_file(const char *path, char **text, size_t *len,
		     svc_quotes_fault *f)
{
	int fd = open_regular(path, f);
	if (fd < 0)
		return fd;
	char *buf = skt_malloc(FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return SKT_ENOMEM;
	}
	size_t n = 0;
	int r = 0;
	while (n < FILE_MAX + 1) {
		ssize_t got = read(fd, buf + n, FILE_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (r == 0 && n > FILE_MAX)
		r = SKT_ETOOBIG;
	if (r < 0) {
		skt_free(buf);
		return r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* RFC 865: "limited to the ASCII printing characters, space, carriage
 * return, and line feed". A tab is let in (fortune files indent with
 * them) and served as spaces; a CR only as part of a CRLF, since a bare
 * one would let the next text overwrite the line on a terminal. Returns
 * 0, or the 1-based line of the first byte that is none of these (a NUL
 * included: the file is not text). */
static size_t first_unprintable(const char *text, size_t len)
{
	size_t line = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			line++;
		else if (c == '\r' && (i + 1 == len || text[i + 1] == '\n'))
			continue;
		else if ((c < 0x20 || c > 0x7e) && c != '\t')
			return line;
	}
	return 0;
}

#define TAB_STOP 8

/* The length of line once its tabs are spaces. */
static size_t expanded_len(const char *line)
{
	size_t col = 0;
	for (; *line != '\0'; line++)
		col = *line == '\t' ? (col / TAB_STOP + 1) * TAB_STOP : col + 1;
	return col;
}

static char *put_expanded(char *p, const char *line)
{
	size_t col = 0;
	for (; *line != '\0'; line++) {
		if (*line != '\t') {
			*p++ = *line;
			col++;
			continue;
		}
		do
			*p++ = ' ';
		while (++col % TAB_STOP != 0);
	}
	return p;
}

/* Lines from first to last (exclusive) of a quote, CRLF each. */
static int add_quote(svc_quotes *q, char **lines, size_t first, size_t last)
{
	size_t len = 0;
	for (size_t i = first; i < last; i++) {
		/* Each line is under FILE_MAX: no overflow. */
		len += expanded_len(lines[i]) + 2;
		if (len > QUOTE_MAX)
			return SKT_ETOOBIG;
	}
	char *s = skt_malloc(len + 1), *p = s;
	char **v = skt_realloc(q->v, (q->n + 1) * sizeof(*v));
	if (s == NULL || v == NULL) {
		skt_free(s);
		if (v != NULL)
			q->v = v;
		return SKT_ENOMEM;
	}
	q->v = v;
	for (size_t i = first; i < last; i++) {
		p = put_expanded(p, lines[i]);
		memcpy(p, "\r\n", 2);
		p += 2;
	}
	*p = '\0';
	q->v[q->n++] = s;
	return 0;
}

/* Cut text into lines in place (LF or CRLF ends). Returns the count. */
static size_t split_lines(char *text, size_t len, char **lines)
{
	size_t n = 0;
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *stop = nl != NULL ? nl : end;
		if (stop > p && stop[-1] == '\r')
			stop[-1] = '\0';
		*stop = '\0';
		lines[n++] = p;
		p = stop + 1;
	}
	return n;
}

/* A quote is a run of lines between "%" lines (blank lines around it
 * dropped), or each non-empty line when the file has no "%" line. */
static int parse(svc_quotes *q, char **lines, size_t n, size_t *bad_line)
{
	bool fortune = false;
	for (size_t i = 0; i < n && !fortune; i++)
		fortune = strcmp(lines[i], "%") == 0;
	size_t i = 0;
	while (i < n) {
		size_t first = i, last = i + 1;
		if (fortune) {
			while (first < n && lines[first][0] == '\0')
				first++;
			last = first;
			while (last < n && strcmp(lines[last], "%") != 0)
				last++;
			i = last + 1;
			while (last > first && lines[last - 1][0] == '\0')
				last--;
		} else {
			i++;
		}
		if (last <= first || first >= n || lines[first][0] == '\0')
			continue;
		int r = add_quote(q, lines, first, last);
		if (r < 0) {
			*bad_line = first + 1;
			return r;
		}
	}
	return q->n > 0 ? 0 : SKT_EINVAL;
}

int quotes_load(svc_quotes *q, const char *path, svc_quotes_fault *f)
{
	*q = (svc_quotes){0};
	*f = (svc_quotes_fault){0};
	char *text = NULL;
	size_t len = 0;
	int r = read_file(path, &text, &len, f);
	if (r < 0)
		return r;
	f->line = first_unprintable(text, len);
	if (f->line > 0) {
		skt_free(text);
		return SKT_EMALFORMED;
	}
	/* At most one line per byte, plus one. */
	char **lines = skt_malloc((len + 1) * sizeof(*lines));
	if (lines == NULL) {
		skt_free(text);
		return SKT_ENOMEM;
	}
	r = parse(q, lines, split_lines(text, len, lines), &f->line);
	skt_free(lines);
	skt_free(text);
	if (r < 0)
		quotes_free(q);
	return r;
}

void quotes_free(svc_quotes *q)
{
	for (size_t i = 0; i < q->n; i++)
		skt_free(q->v[i]);
	skt_free(q->v);
	*q = (svc_quotes){0};
}

const skt_service svc_qotd = {
	.name = "qotd",
	.what = "RFC 865: a quote, built in or from --file",
	.port = 1717,
	.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
	.idle_s = 300,
	.worker_new = qotd_worker_new,
	.worker_free = qotd_worker_free,
	.open = qotd_open,
	.datagram = qotd_dgram,
};
