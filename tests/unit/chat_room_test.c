/* chat_room_test.c - the chat room without sockets
 * (src/tools/serve/chat_room.c): what a message looks like once its
 * control bytes are neutralised, and the flood budget's arithmetic (the
 * share of a loop turn, the burst, the refill, the wait). */
#include "sktest.h"

#include "tools/serve/chat_room.h"

#include <string.h>

/* A room of members that hear everything into one buffer. */
static char heard[1 << 16];
static size_t nheard;

static int hear(chat_room *r, chat_member *m, const char *buf, size_t len)
{
	if (nheard + len <= sizeof(heard)) {
		memcpy(heard + nheard, buf, len);
		nheard += len;
	}
	return 0;
}

static void gone(chat_room *r, chat_member *m)
{
}

static const chat_hooks hooks = {.write = hear, .cut = gone, .quit = gone};

static const char *clean(const char *in, size_t len)
{
	static char out[256];
	size_t n = chat_clean(out, in, len);
	out[n] = '\0';
	return out;
}

SKT_TEST(chat_room, control_bytes_shown_as_cat_v_does)
{
	cr_assert_str_eq(clean("hi\r* admin", 10), "hi^M* admin");
	cr_assert_str_eq(clean("\x1b]0;owned\x07", 10), "^[]0;owned^G");
	cr_assert_str_eq(clean("a\tb\x7f", 4), "a\tb^?");
	cr_assert_str_eq(clean("nul\0!", 5), "nul^@!");
	/* CSI as a C1 control in UTF-8, and bytes that are not UTF-8. */
	cr_assert_str_eq(clean("\xc2\x9b"
			       "2J",
			       4),
			 "M-^[2J");
	cr_assert_str_eq(clean("\xff\xe9", 2), "M-^?M-i");
	/* An overlong NUL and a lone continuation byte are not UTF-8. */
	cr_assert_str_eq(clean("\xc0\x80", 2), "M-@M-^@");
	/* UTF-8 text passes: é, €, U+1F600, U+00A0. */
	const char *utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0";
	cr_assert_str_eq(clean(utf8, strlen(utf8)), utf8);
	/* Cut inside a sequence: the lead byte alone is not UTF-8. */
	cr_assert_str_eq(clean("\xe2\x82", 2), "M-bM-^B");
}

SKT_TEST(chat_room, messages_reach_the_others_neutralised)
{
	chat_room r;
	chat_member a = {0}, b = {0};
	chat_room_init(&r, &hooks, NULL);
	chat_join(&r, &a, 1, 0);
	chat_join(&r, &b, 2, 0);
	nheard = 0;
	const char line[] = "hi\r* user2 is now root\x1b[2J\r\n";
	cr_assert(chat_line(&r, &a, line, sizeof(line) - 1));
	heard[nheard] = '\0';
	cr_assert_str_eq(heard, "<user1> hi^M* user2 is now root^[[2J\n");
}

/* In a room of 3 a line goes to 2: 2 writes; 512 lines share a turn. */
SKT_TEST(chat_room, a_turn_holds_a_share_of_writes)
{
	chat_room r;
	chat_member m[3] = {{0}};
	chat_room_init(&r, &hooks, NULL);
	for (int i = 0; i < 3; i++)
		chat_join(&r, &m[i], (uint64_t)i + 1, 0);
	int lines = 0;
	int64_t w;
	while ((w = chat_charge(&r, &m[0], 10, 0)) == CHAT_GO_ON)
		lines++;
	cr_assert_eq(w, 0, "a yield, not a wait: %lld", (long long)w);
	cr_assert_eq(lines + 1, CHAT_TURN_WRITES / 2);
}

/* A room of 1001: each line costs 1000 writes, so one a turn, 16 in the
 * burst, then a wait until the debt is paid at 4096 writes a second. */
SKT_TEST(chat_room, a_flood_in_a_big_room_waits_for_its_budget)
{
	static chat_member m[1001];
	chat_room r;
	chat_room_init(&r, &hooks, NULL);
	for (int i = 0; i < 1001; i++)
		chat_join(&r, &m[i], (uint64_t)i + 1, 0);
	int64_t w = 0;
	int lines = 0;
	while ((w = chat_charge(&r, &m[0], 20, 0)) == 0)
		lines++;
	/* 16384 / 1000: 16 lines yield a turn each; the 17th is in debt
	 * by 616 writes, 151 ms at 4096 a second. */
	cr_assert_eq(lines, 16);
	cr_assert_eq(w, 151, "waits %lld ms", (long long)w);
	/* Later, the budget is back: a line again, then a wait. */
	cr_assert_eq(chat_charge(&r, &m[0], 20, 400), 0);
	/* Long lines cost more: 2048 bytes, 5 writes per member. */
	w = chat_charge(&r, &m[0], 2048, 400);
	cr_assert_gt(w, 1000, "a 2 KiB line waits %lld ms", (long long)w);
	/* Quiet for an hour: no overflow, a full burst only. */
	int64_t hour = 3600 * 1000;
	lines = 0;
	while (chat_charge(&r, &m[0], 20, hour) == 0)
		lines++;
	cr_assert_eq(lines, 16);
}
