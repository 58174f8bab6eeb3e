/* chat_room.c - the room of chat_room.h: who is in it, what they say,
 * who is cut off, and how much each may say.
 *
 * Every line the room sends is built here, and a member's own bytes
 * reach the others only through chat_clean: a CR would let a member
 * forge a server line ("hi\r* admin: ..."), an escape sequence retitle or
 * reprogram the others' terminals (OSC "\x1b]0;owned\x07").
 */
#include "tools/serve/chat_room.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void chat_room_init(chat_room *r, const chat_hooks *io, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->all.next = r->all.prev = &r->all;
	r->io = io;
	r->arg = arg;
}

static void set_nick(chat_room *r, chat_member *m, const char *nick)
{
	snprintf(m->nick, sizeof(m->nick), "%s", nick);
	if (r->io->named != NULL)
		r->io->named(r, m);
}

void chat_unlink(chat_room *r, chat_member *m)
{
	if (!m->in_room)
		return;
	m->prev->next = m->next;
	m->next->prev = m->prev;
	m->prev = m->next = NULL;
	m->in_room = false;
	r->n--;
	if (m->dead)
		r->ndead--;
}

/* Write to every member but from (NULL: to all); a member whose queue
 * passes the cap turns DEAD. */
static void broadcast(chat_room *r, const chat_member *from, const char *msg,
		      size_t len)
{
	for (chat_member *m = r->all.next; m != &r->all; m = m->next) {
		if (m == from || m->dead)
			continue;
		if (r->io->write(r, m, msg, len) == 1) {
			m->dead = true;
			r->ndead++;
		}
	}
}

static void announce(chat_room *r, const chat_member *from, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static void announce(chat_room *r, const chat_member *from, const char *fmt,
		     ...)
{
	char msg[CHAT_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	broadcast(r, from, msg, len);
}

/* Cut off the DEAD, telling the others; telling them may kill more. */
static void reap(chat_room *r)
{
	while (r->ndead > 0) {
		chat_member *m = r->all.next;
		while (!m->dead)
			m = m->next;
		chat_unlink(r, m);
		r->io->cut(r, m);
		announce(r, NULL, "* %s left (cut off: too slow)\n", m->nick);
	}
}

void chat_leave(chat_room *r, chat_member *m)
{
	if (!m->in_room)
		return;
	chat_unlink(r, m);
	announce(r, NULL, "* %s left\n", m->nick);
	reap(r);
}

void chat_tell(chat_room *r, chat_member *m, const char *text)
{
	r->io->write(r, m, text, strlen(text));
}

void chat_join(chat_room *r, chat_member *m, uint64_t id, int64_t now_ms)
{
	char nick[CHAT_NICK_MAX + 1];
	snprintf(nick, sizeof(nick), "user%llu", (unsigned long long)id);
	set_nick(r, m, nick);
	m->budget = CHAT_BURST * 1000;
	m->budget_at = now_ms;
	m->turn_writes = 0;
	char hello[128];
	snprintf(hello, sizeof(hello),
		 "* you are %s, %zu other%s here; "
		 "/nick NAME, /who, /quit\n",
		 m->nick, r->n, r->n == 1 ? "" : "s");
	chat_tell(r, m, hello);
	announce(r, NULL, "* %s joined\n", m->nick);
	m->next = &r->all;
	m->prev = r->all.prev;
	m->prev->next = m;
	r->all.prev = m;
	m->in_room = true;
	r->n++;
	reap(r);
}

/* ---- Commands ---- */

bool chat_nick_ok(const char *s, size_t len)
{
	if (len == 0 || len > CHAT_NICK_MAX)
		return false;
	size_t digits = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
		digits += i >= 4 && isdigit((unsigned char)s[i]);
	}
	/* "user<digits>" are the names given at join: keep them unique. */
	return !(len > 4 && strncasecmp(s, "user", 4) == 0 &&
		 digits == len - 4);
}

static void cmd_nick(chat_room *r, chat_member *m, const char *arg, size_t len)
{
	char nick[CHAT_NICK_MAX + 1];
	if (!chat_nick_ok(arg, len)) {
		chat_tell(r, m,
			  "* nick: 1 to 32 letters, digits, _ or -, "
			  "and not user<digits>\n");
		return;
	}
	memcpy(nick, arg, len);
	nick[len] = '\0';
	for (chat_member *o = r->all.next; o != &r->all; o = o->next) {
		if (o != m && strcasecmp(o->nick, nick) == 0) {
			chat_tell(r, m, "* nick: that name is taken\n");
			return;
		}
	}
	announce(r, NULL, "* %s is now %s\n", m->nick, nick);
	set_nick(r, m, nick);
	reap(r);
}

static void cmd_who(chat_room *r, chat_member *m)
{
	char msg[CHAT_MSG_MAX];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "* here (%zu):", r->n);
	size_t shown = 0;
	/* CHAT_WHO_MAX names of CHAT_NICK_MAX fit in msg with room to
	 * spare. */
	for (chat_member *o = r->all.next; o != &r->all && shown < CHAT_WHO_MAX;
	     o = o->next, shown++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " %s", o->nick);
	if (r->n > shown)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " and %zu more",
				      r->n - shown);
	snprintf(msg + n, sizeof(msg) - n, "\n");
	chat_tell(r, m, msg);
}

static bool command(chat_room *r, chat_member *m, const char *line, size_t len)
{
	if (len >= 6 && strncmp(line, "/nick ", 6) == 0) {
		cmd_nick(r, m, line + 6, len - 6);
	} else if (len == 4 && strncmp(line, "/who", 4) == 0) {
		cmd_who(r, m);
	} else if (len == 5 && strncmp(line, "/quit", 5) == 0) {
		chat_leave(r, m);
		r->io->quit(r, m);
		return false;
	} else {
		chat_tell(r, m, "* commands: /nick NAME, /who, /quit\n");
	}
	return m->in_room;
}

bool chat_line(chat_room *r, chat_member *m, const char *line, size_t len)
{
	if (!m->in_room)
		return false;
	if (len > CHAT_LINE_MAX)
		len = CHAT_LINE_MAX; /* the stream never gives more */
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > 0 && line[0] == '/')
		return command(r, m, line, len);
	if (len > 0) {
		char msg[CHAT_MSG_MAX];
		size_t n = (size_t)snprintf(msg, sizeof(msg), "<%s> ", m->nick);
		n += chat_clean(msg + n, line, len);
		msg[n++] = '\n';
		broadcast(r, m, msg, n);
		reap(r);
	}
	return m->in_room;
}

/* ---- Flood control ---- */

int64_t chat_charge(const chat_room *r, chat_member *m, size_t len,
		    int64_t now_ms)
{
	const int64_t full = CHAT_BURST * 1000;
	/* Refill, CHAT_RATE thousandths a millisecond. Time enough to fill
	 * what is missing fills it, before any product: nothing overflows
	 * however long the member was quiet. */
	int64_t dt = now_ms - m->budget_at;
	if (dt > 0) {
		int64_t missing = full - m->budget; /* debt included */
		if (dt > missing / CHAT_RATE)
			m->budget = full;
		else
			m->budget += dt * CHAT_RATE;
		m->budget_at = now_ms;
	}
	size_t to = r->n > 1 ? r->n - 1 : 1;
	if (to > CHAT_MEMBERS_MAX)
		to = CHAT_MEMBERS_MAX;
	if (len > CHAT_LINE_MAX)
		len = CHAT_LINE_MAX;
	/* At most 2^24 * 5 * 1000 < 2^37: far from overflowing. */
	int64_t cost = (int64_t)to * (int64_t)(1 + len / CHAT_WRITE_BYTES);
	m->budget -= cost * 1000;
	m->turn_writes += to;
	if (m->budget < 0) {
		m->turn_writes = 0;
		/* Until the debt is paid: ceil(-budget / rate), >= 1. */
		return (-m->budget + CHAT_RATE - 1) / CHAT_RATE;
	}
	/* Would the next line, as costly as this one, pass the share? */
	if (m->turn_writes + to > CHAT_TURN_WRITES) {
		m->turn_writes = 0;
		return 0;
	}
	return CHAT_GO_ON;
}

/* ---- Neutralising ---- */

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0 when
 * p[0] starts none (RFC 3629 section 4: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* c (below 0x80) as cat -v shows it: "^X" for a control, else itself. */
static size_t caret(char *out, unsigned char c)
{
	if (c < 0x20 || c == 0x7f) {
		out[0] = '^';
		out[1] = (char)(c == 0x7f ? '?' : c + 0x40);
		return 2;
	}
	out[0] = (char)c;
	return 1;
}

size_t chat_clean(char *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		if (c < 0x80) {
			if (c == '\t')
				out[o++] = '\t';
			else
				o += caret(out + o, c);
			i++;
			continue;
		}
		size_t n = utf8_len(p + i, len - i);
		if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
			/* A C1 control: U+009B is CSI, as "\x1b[" is. */
			c = p[i + 1];
			n = 0;
			i++;
		}
		if (n == 0) {
			out[o++] = 'M';
			out[o++] = '-';
			o += caret(out + o, c & 0x7f);
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	return o;
}
