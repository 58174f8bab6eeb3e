/* chat.c - fuzz the chat room of `sockit serve chat` (chat_room.c): up to
 * 8 members joining, talking (commands and messages, any bytes), being
 * slow readers until cut off, leaving and quitting, in any order.
 *
 * Input: a byte choosing each member's output cap (how many bytes a fake
 * member holds before its write says "over the cap"), then operations of
 * three bytes and a payload: op, member, payload length.
 *
 * Properties: every line a member receives is one line ending in LF,
 * under CHAT_MSG_MAX, holding no control byte but tab (no CR, no ESC, no
 * C1 control in UTF-8, no DEL); nobody is written to after it left, quit
 * or was cut off; the room's count is the members in it and no DEAD one
 * is left after a call; nicknames in the room are unique ignoring case;
 * a charge returns CHAT_GO_ON, 0 or a delay under 10 s (a line in this
 * room). chat_clean leaves UTF-8 text without controls as it is and never
 * writes more than 4 bytes per byte.
 */
#include "fuzz.h"

#include "tools/serve/chat_room.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEMBERS 8

struct fake {
	chat_member m;
	bool joined; /* joined and not yet gone */
	size_t queued, cap;
};

static struct fake fakes[MEMBERS];

static struct fake *fake_of(chat_member *m)
{
	return (struct fake *)m;
}

/* Control bytes a terminal acts on, in what the room sends. */
static void check_line(const char *buf, size_t len)
{
	FUZZ_CHECK(len > 0 && len <= CHAT_MSG_MAX);
	FUZZ_CHECK(buf[len - 1] == '\n');
	const unsigned char *p = (const unsigned char *)buf;
	for (size_t i = 0; i + 1 < len; i++) {
		FUZZ_CHECK(p[i] != '\n' && p[i] != 0x7f);
		FUZZ_CHECK(p[i] >= 0x20 || p[i] == '\t');
		FUZZ_CHECK(
			!(p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] < 0xa0));
	}
}

static int hook_write(chat_room *r, chat_member *m, const char *buf, size_t len)
{
	struct fake *f = fake_of(m);
	FUZZ_CHECK(f->joined);
	check_line(buf, len);
	f->queued += len;
	return f->queued > f->cap ? 1 : 0;
}

static void hook_gone(chat_room *r, chat_member *m)
{
	struct fake *f = fake_of(m);
	FUZZ_CHECK(f->joined && !m->in_room);
	f->joined = false;
}

static const chat_hooks hooks = {
	.write = hook_write,
	.cut = hook_gone,
	.quit = hook_gone,
};

static void check_room(const chat_room *r)
{
	size_t n = 0;
	FUZZ_CHECK(r->ndead == 0);
	for (const chat_member *m = r->all.next; m != &r->all; m = m->next) {
		FUZZ_CHECK(m->in_room && !m->dead);
		FUZZ_CHECK(fake_of((chat_member *)m)->joined);
		for (const chat_member *o = m->next; o != &r->all; o = o->next)
			FUZZ_CHECK(strcasecmp(m->nick, o->nick) != 0);
		n++;
	}
	FUZZ_CHECK(n == r->n);
}

/* Valid UTF-8 without controls passes chat_clean unchanged. */
static bool plain_utf8(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] >= 0x80)
			return false; /* ASCII only: the simple case */
	return true;
}

static void check_clean(const uint8_t *p, size_t n)
{
	char *out = malloc(4 * n + 1);
	FUZZ_CHECK(out != NULL);
	size_t o = chat_clean(out, (const char *)p, n);
	FUZZ_CHECK(o <= 4 * n);
	if (plain_utf8(p, n))
		FUZZ_CHECK(o == n && memcmp(out, p, n) == 0);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	chat_room r;
	chat_room_init(&r, &hooks, NULL);
	memset(fakes, 0, sizeof(fakes));
	size_t cap = 64 + (size_t)fuzz_u8(&in) * 16;
	uint64_t next_id = 1;
	int64_t now = 0;
	while (in.n > 0) {
		uint8_t op = fuzz_u8(&in);
		struct fake *f = &fakes[fuzz_u8(&in) % MEMBERS];
		size_t len = fuzz_u8(&in);
		const uint8_t *p = fuzz_bytes(&in, &len);
		now += op >> 4; /* time goes on, a little */
		switch (op & 7) {
		case 0: /* join, when not in */
			if (!f->joined && !f->m.in_room) {
				memset(f, 0, sizeof(*f));
				f->cap = cap;
				f->joined = true;
				chat_join(&r, &f->m, next_id++, now);
			}
			break;
		case 1: /* leave */
			if (f->joined) {
				chat_leave(&r, &f->m);
				f->joined = false;
			}
			break;
		case 2: /* its reader catches up */
			f->queued = 0;
			break;
		default: { /* a line: command or message */
			if (!f->joined)
				break;
			bool stay = chat_line(&r, &f->m, (const char *)p, len);
			FUZZ_CHECK(stay == f->m.in_room);
			if (stay) {
				int64_t wait = chat_charge(&r, &f->m, len, now);
				FUZZ_CHECK(wait == CHAT_GO_ON ||
					   (wait >= 0 && wait < 10000));
			} else {
				f->joined = false;
			}
			break;
		}
		}
		check_room(&r);
		check_clean(p, len);
	}
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
