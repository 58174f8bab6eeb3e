/* pace.c - how fast the scanner starts probes: a token bucket for the
 * rate, a cap on probes in flight, and the adaptive back-off that lowers
 * the rate when timeouts rise or the path is seen to drop. Pure code on a clock
 * the caller passes in, so the unit tests drive it with made-up time.
 *
 * Why cohorts: a probe's fate is known only up to a timeout after it was
 * sent, and answers come back long before silences do. Judged in the
 * order results arrive, the first second of any scan looks healthy
 * (every answer, no timeout yet) and the next one sick (the timeouts of
 * the first), and a space that is 99% filtered would back off for
 * nothing. So probes are judged by when they were sent: time is cut into
 * cohorts one timeout long, each probe counts in the cohort of its
 * (last) send, and a cohort is judged once every probe of it has ended.
 * Its timeout fraction is compared with the lowest fraction any cohort
 * had (the space's own share of silent ports): more than
 * SKT__PACE_RISE_PERMILLE above it means something on the way drops
 * probes for being too many (a rate limiter, a full conntrack table);
 * then the rate halves, and cohorts sent before the cut are not judged. A calm
 * cohort after a back-off raises them by an eighth, as TCP's congestion
 * avoidance grows after a loss.
 *
 * The rise alone misses a path that drops from the first probe on (a
 * rate limiter whose burst the scan exceeds at once): the lowest
 * fraction is then the sick one. A second signal needs no history: a
 * probe answered when sent again was dropped the first time, not
 * filtered (a filter drops every try), which is how nmap tells loss
 * from filtering. A cohort whose resent probes come back answered, more
 * than LOSS_PERMILLE of what it holds, backs off too, and to no more
 * than what got through of it: the limiter's own rate, found in one
 * step where halving would take many timeouts while the probes' tries
 * run out.
 */
#include "internal.h"
#include "scan_int.h"

#include <string.h>

/* A rate-limited scan may start this much of a second's probes at once
 * (20 ms worth), so a small timer slip does not cost throughput. */
#define BURST_DIVISOR 50
/* Cohorts with fewer ended probes say too little to act on. */
#define COHORT_MIN 16
/* Answered resends that say the path drops: at least this many, and
 * this share (per mille) of the cohort's ended probes. */
#define LOSS_MIN      4
#define LOSS_PERMILLE 20
/* Back-off never goes below this many probes per second or in flight. */
#define RATE_FLOOR 10

static void bucket_set(skt__pace *p, int64_t rate, int64_t now)
{
	int64_t burst = rate / BURST_DIVISOR < 1 ? 1 : rate / BURST_DIVISOR;
	p->rate = rate;
	p->burst = burst * 1000000;
	if (p->tokens > p->burst || p->last_us == 0)
		p->tokens = p->burst;
	p->last_us = now;
}

void skt__pace_init(skt__pace *p, int rate, int cap, bool adaptive,
		    int64_t timeout_us, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->user_rate = rate;
	p->cap = p->cap_max = cap;
	p->adaptive = adaptive;
	p->cohort_us = timeout_us < 100000 ? 100000 : timeout_us;
	p->t0_us = now;
	p->base = 1001; /* no cohort judged yet */
	bucket_set(p, rate, now);
	p->last_us = now;
}

bool skt__pace_take(skt__pace *p, int64_t now)
{
	if (p->rate == 0)
		return true;
	int64_t dt = now - p->last_us;
	p->last_us = now;
	/* A long pause refills the bucket; capping dt first keeps dt * rate
	 * far from overflow whatever the rate. */
	if (dt > 0)
		p->tokens += (dt > 1000000 ? 1000000 : dt) * p->rate;
	if (p->tokens > p->burst)
		p->tokens = p->burst;
	if (p->tokens < 1000000)
		return false;
	p->tokens -= 1000000;
	return true;
}

void skt__pace_untake(skt__pace *p)
{
	if (p->rate != 0)
		p->tokens += 1000000;
}

int skt__pace_wait_ms(const skt__pace *p)
{
	int64_t need = 1000000 - p->tokens;
	if (p->rate == 0 || need <= 0)
		return 0;
	int64_t us = (need + p->rate - 1) / p->rate;
	return (int)((us + 999) / 1000);
}

/* ---- Cohorts ---- */

static void judge(skt__pace *p, skt__cohort *c, int64_t now);

uint32_t skt__pace_sent(skt__pace *p, int64_t now)
{
	uint32_t id = (uint32_t)((now - p->t0_us) / p->cohort_us);
	skt__cohort *c = &p->ring[id % SKT__PACE_RING];
	if (c->id != id || !c->used) {
		/* A new cohort: the earlier ones whose probes all ended
		 * (answers on a fast path come back within their own
		 * cohort) are judged now, oldest first. */
		for (uint32_t k = SKT__PACE_RING - 1; k > 0; k--) {
			skt__cohort *old = &p->ring[(id - k) % SKT__PACE_RING];
			if (id >= k && old->used && old->id == id - k &&
			    old->ended >= old->sent)
				judge(p, old, now);
		}
		/* A cohort still unjudged in this ring slot is dropped: it
		 * had probes out for SKT__PACE_RING timeouts, which only a
		 * scan stalled for that long sees. */
		*c = (skt__cohort){.id = id, .used = true};
	}
	c->sent++;
	return id;
}

static void back_off(skt__pace *p, const skt__cohort *c, int64_t now)
{
	/* Below both the pace the cohort was sent at, halved, and what the
	 * path let through of it (answers per second: a rate limiter's own
	 * rate), whatever the user asked. */
	int64_t sent_rate = (int64_t)c->sent * 1000000 / p->cohort_us;
	int64_t through = (int64_t)c->answered * 1000000 / p->cohort_us;
	int64_t cur = p->rate != 0 && p->rate < sent_rate ? p->rate : sent_rate;
	int64_t rate = cur / 2;
	if (c->recovered > 0 && through < rate)
		rate = through;
	bucket_set(p, rate < RATE_FLOOR ? RATE_FLOOR : rate, now);
	p->backoffs++;
	/* Cohorts sent at the old pace would only say it again. */
	p->judge_from = (uint32_t)((now - p->t0_us) / p->cohort_us) + 1;
}

static void recover(skt__pace *p, int64_t now)
{
	if (p->rate != 0 && p->rate != p->user_rate) {
		int64_t rate = p->rate + p->rate / 8 + 1;
		if (p->user_rate != 0 && rate >= p->user_rate)
			rate = p->user_rate;
		bucket_set(p, rate, now);
	}
}

/* The timeout fraction counts first tries only: a resent probe is one
 * that timed out already, so a cohort of resends says little about the
 * path, except when they come back answered. */
static void judge(skt__pace *p, skt__cohort *c, int64_t now)
{
	c->used = false;
	if (!p->adaptive || c->id < p->judge_from || c->ended < COHORT_MIN)
		return;
	bool lost = c->recovered >= LOSS_MIN &&
		    (int64_t)c->recovered * 1000 / c->ended > LOSS_PERMILLE;
	int64_t f = c->first >= COHORT_MIN
			    ? (int64_t)c->timeouts * 1000 / c->first
			    : -1;
	if (lost || (f > p->base + SKT__PACE_RISE_PERMILLE &&
		     c->timeouts >= COHORT_MIN)) {
		back_off(p, c, now);
		return;
	}
	if (f < 0)
		return;
	if (f < p->base)
		p->base = f;
	if (f <= p->base + SKT__PACE_RISE_PERMILLE / 5)
		recover(p, now);
}

void skt__pace_ended(skt__pace *p, uint32_t id, bool timed_out, bool resent,
		     int64_t now)
{
	skt__cohort *c = &p->ring[id % SKT__PACE_RING];
	if (!c->used || c->id != id)
		return;
	c->ended++;
	c->answered += !timed_out;
	c->first += !resent;
	c->timeouts += timed_out && !resent;
	c->recovered += resent && !timed_out;
	/* Judged once all its probes ended and no more can join it. */
	uint32_t cur = (uint32_t)((now - p->t0_us) / p->cohort_us);
	if (c->ended >= c->sent && cur > id)
		judge(p, c, now);
}

void skt__pace_shortage(skt__pace *p, int inflight)
{
	/* The cap was too high for what this process may open: keep what
	 * is in flight, less a margin for the fds the caller needs. */
	p->cap = inflight - inflight / 8;
	if (p->cap < 1)
		p->cap = 1;
	p->cap_max = p->cap;
}
