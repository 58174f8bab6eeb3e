/* chat_room.h - the chat room of `sockit serve chat`, without the sockets:
 * members, nicknames, /who, broadcasts, the cut-off of slow readers, the
 * neutralising of control bytes and each member's flood budget. chat.c
 * runs it on the server's streams; the fuzz harness (fuzz/chat.c) runs it
 * on fake members. Pure: no fd, no clock (the caller passes the time), no
 * allocation.
 *
 * Writes go out through the room's hooks, so a broadcast is one loop over
 * the members and the caller decides what a write is.
 */
#ifndef SOCKIT_TOOLS_CHAT_ROOM_H
#define SOCKIT_TOOLS_CHAT_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAT_LINE_MAX 2048 /* a member's line, newline included */
#define CHAT_NICK_MAX 32
#define CHAT_WHO_MAX  50 /* names listed by /who */
/* The longest line the room sends: a member's line with every byte
 * escaped (4 bytes at most each, "M-^["), its nick and "<> \n". */
#define CHAT_MSG_MAX (4 * CHAT_LINE_MAX + CHAT_NICK_MAX + 8)

/* Flood control (docs/limits.md). A line costs the server a write to
 * every other member, so that is what its sender is charged: one write
 * per member it goes to, and one more per CHAT_WRITE_BYTES of its length
 * beyond the first (a line of 2 KiB costs 5). Each member's budget
 * refills at CHAT_RATE writes a second, up to CHAT_BURST: in a room of 3
 * nobody typing meets it (2000 lines a second), in a room of 1000 a
 * member may send 4 short lines a second after a burst of 16. A member past its
 * budget is not read until the budget is back above zero: its input waits in
 * the kernel and TCP pushes back on it; nothing is dropped. Apart from the
 * budget, a member's lines are served for at most CHAT_TURN_WRITES
 * writes per loop turn (one line a turn in a room of 1000), so that a
 * burst cannot hold the loop while the others wait. */
#define CHAT_RATE        4096  /* writes a second */
#define CHAT_BURST       16384 /* writes */
#define CHAT_WRITE_BYTES 512
#define CHAT_TURN_WRITES 1024
/* Members counted in a charge at most: more than --max-conns allows. */
#define CHAT_MEMBERS_MAX ((size_t)1 << 24)

/* A member's states: IN_ROOM (linked, hears broadcasts), DEAD (a write in
 * the middle of a broadcast passed its cap: still linked, skipped, reaped
 * once the broadcast ends, so the list never changes under a walk) and
 * GONE (unlinked: left, cut off, or its stream closed). */
typedef struct chat_member {
	struct chat_member *prev, *next;
	void *owner; /* the caller's: its connection */
	bool in_room;
	bool dead;
	char nick[CHAT_NICK_MAX + 1];
	/* The flood budget, in thousandths of a write (refills of
	 * CHAT_RATE / 1000 writes a millisecond stay exact), as of
	 * budget_at (ms). */
	int64_t budget;
	int64_t budget_at;
	size_t turn_writes; /* writes caused since the member last yielded */
} chat_member;

typedef struct chat_room chat_room;

typedef struct chat_hooks {
	/* Send len bytes to m. Returns 0, 1 when m's output queue passed its
	 * cap (m turns DEAD and is cut off after the broadcast), or an error
	 * (m is closing; ignored). */
	int (*write)(chat_room *r, chat_member *m, const char *buf, size_t len);
	/* m was too slow and is cut off: reset it (m is already unlinked). */
	void (*cut)(chat_room *r, chat_member *m);
	/* m said /quit: close it gracefully (m is already unlinked). */
	void (*quit)(chat_room *r, chat_member *m);
	/* m's nick changed (for the logs); may be NULL. */
	void (*named)(chat_room *r, chat_member *m);
} chat_hooks;

struct chat_room {
	chat_member all; /* sentinel */
	size_t n;        /* members in the room */
	size_t ndead;
	const chat_hooks *io;
	void *arg; /* the caller's */
};

/* An empty room writing through io (kept: must outlive the room). */
void chat_room_init(chat_room *r, const chat_hooks *io, void *arg);

/* m (zeroed by the caller, owner set) joins as user<id>: it is greeted,
 * the others are told, and its budget is full as of now_ms. */
void chat_join(chat_room *r, chat_member *m, uint64_t id, int64_t now_ms);

/* m leaves by its own doing (end of stream, an error, a line too long):
 * unlinked, the others told. Nothing when m is not in the room. */
void chat_leave(chat_room *r, chat_member *m);

/* m leaves without the others being told (the server is stopping). */
void chat_unlink(chat_room *r, chat_member *m);

/* Send text to m alone. */
void chat_tell(chat_room *r, chat_member *m, const char *text);

/* One line from m: len bytes, line end included or not (CR and LF at the
 * end are dropped); a command (/nick NAME, /who, /quit) or a message for
 * the others, its control bytes neutralised (chat_clean). Returns false
 * when m is no longer in the room (it quit, or was cut off meanwhile). */
bool chat_line(chat_room *r, chat_member *m, const char *line, size_t len);

/* Charge m for a line of len bytes at now_ms (now_ms never goes back),
 * sent to the room's other members, and say when to read its next one:
 * CHAT_GO_ON (now), else a delay in ms (0: the next loop turn, as its
 * turn's share is spent; more: until its budget is positive again). */
#define CHAT_GO_ON (-1)
int64_t chat_charge(const chat_room *r, chat_member *m, size_t len,
		    int64_t now_ms);

/* A name is 1 to CHAT_NICK_MAX letters, digits, _ or -, and not
 * user<digits> (the names given at join). s need not be NUL-terminated. */
bool chat_nick_ok(const char *s, size_t len);

/* Copy in[0, len) to out, neutralising what a terminal would act on, as
 * cat -v shows it: C0 controls but tab, and DEL, in caret notation ("^M",
 * "^[", "^?"); C1 controls written in UTF-8 (U+0080..U+009F) as "M-^["
 * etc.; bytes that are not UTF-8 as "M-" and their low 7 bits shown the
 * same way. Valid UTF-8 text, tab included, passes unchanged. out holds at
 * least 4 * len bytes; returns the bytes written (no NUL added). */
size_t chat_clean(char *out, const char *in, size_t len);

#endif
