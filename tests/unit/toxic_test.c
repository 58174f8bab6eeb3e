/* toxic_test.c - sockit relay's --toxic specs: every toxic's keys,
 * defaults and units, the shares of toxicity, and the refusals. */
#include "sktest.h"

#include "tools/relay/toxic.h"

#include <string.h>

static relay_toxic ok(const char *spec)
{
	relay_toxic t;
	char why[160] = "";
	int rc = toxic_parse(&t, spec, why, sizeof(why));
	cr_assert_eq(rc, 0, "%s: %s", spec, why);
	return t;
}

static void refused(const char *spec, const char *want)
{
	relay_toxic t;
	char why[160] = "";
	cr_assert_eq(toxic_parse(&t, spec, why, sizeof(why)), SKT_EINVAL,
		     "%s accepted", spec);
	cr_assert(strstr(why, want) != NULL, "%s: '%s' lacks '%s'", spec, why,
		  want);
}

SKT_TEST(toxic, every_toxic_with_its_units)
{
	relay_toxic t = ok("latency:ms=50,jitter=10,dir=down");
	cr_expect_eq(t.kind, TOXIC_LATENCY);
	cr_expect_eq(t.ms, 50);
	cr_expect_eq(t.jitter_ms, 10);
	cr_expect_eq(t.dir, TOXIC_DOWNSTREAM);
	t = ok("bandwidth:rate=500");
	cr_expect_eq(t.rate, 500 * 1024, "KB/s are 1024 bytes");
	cr_expect_eq(t.dir, TOXIC_BOTH);
	t = ok("slicer");
	cr_expect_eq(t.bytes, 64, "slicer's default slice");
	t = ok("limit_data:bytes=1000,dir=up");
	cr_expect_eq(t.bytes, 1000);
	cr_expect_eq(t.dir, TOXIC_UP);
	t = ok("reset_peer");
	cr_expect_eq(t.ms, 0);
	t = ok("timeout:ms=0");
	cr_expect_eq(t.kind, TOXIC_TIMEOUT);
	t = ok("down");
	cr_expect_eq(t.toxicity, 1000000, "toxicity defaults to 1");
	t = ok("fail_first:n=3");
	cr_expect_eq(t.n, 3);
	t = ok("slow_close:ms=500");
	cr_expect_eq(t.ms, 500);
}

SKT_TEST(toxic, toxicity_is_exact_in_millionths)
{
	cr_expect_eq(ok("down:toxicity=0").toxicity, 0);
	cr_expect_eq(ok("down:toxicity=0.0").toxicity, 0);
	cr_expect_eq(ok("down:toxicity=1").toxicity, 1000000);
	cr_expect_eq(ok("down:toxicity=1.000000").toxicity, 1000000);
	cr_expect_eq(ok("down:toxicity=0.25").toxicity, 250000);
	cr_expect_eq(ok("down:toxicity=.5").toxicity, 500000);
	cr_expect_eq(ok("down:toxicity=0.000001").toxicity, 1);
	refused("down:toxicity=1.5", "toxicity");
	refused("down:toxicity=0.0000001", "toxicity");
	refused("down:toxicity=2", "toxicity");
	refused("down:toxicity=.", "toxicity");
	refused("down:toxicity=", "toxicity");
	refused("down:toxicity=-0", "toxicity");
}

SKT_TEST(toxic, limits_checked_before_arithmetic)
{
	cr_expect_eq(ok("latency:ms=3600000").ms, 3600000);
	refused("latency:ms=3600001", "latency: ms");
	refused("latency:ms=99999999999999999999999", "latency: ms");
	refused("limit_data:bytes=18446744073709551616", "bytes");
	refused("bandwidth:rate=10000001", "rate");
	refused("bandwidth:rate=0", "rate");
	refused("slicer:bytes=0", "slicer: bytes");
}

SKT_TEST(toxic, refusals_name_the_part)
{
	refused("", "unknown toxic ''");
	refused("nope", "unknown toxic 'nope'");
	refused("latency", "latency: needs ms=");
	refused("bandwidth", "bandwidth: needs rate=");
	refused("latency:ms=10,jitter=11", "jitter above ms");
	refused("latency:rate=1", "latency: unknown key 'rate'");
	refused("down:ms=1", "down: unknown key 'ms'");
	refused("latency:ms", "expected KEY=VALUE");
	refused("latency:", "nothing after ':'");
	refused("latency:ms=1,", "',' at the end");
	refused("latency:ms=1,ms=2", "'ms' given twice");
	refused("latency:ms=1,dir=left", "dir: up, down or both");
	refused("nope\n", "unknown toxic 'nope?'");
	char big[TOXIC_SPEC_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than");
}

SKT_TEST(toxic, udp_toxics)
{
	relay_toxic t = ok("loss");
	cr_expect_eq(t.kind, TOXIC_LOSS);
	cr_expect_eq(t.p, 1000000);
	cr_expect_eq(t.burst, 0);
	t = ok("loss:p=0.05,burst=0.3,dir=up");
	cr_expect_eq(t.p, 50000);
	cr_expect_eq(t.burst, 300000);
	cr_expect_eq(t.dir, TOXIC_UP);
	cr_expect(toxic_is_udp(t.kind));
	cr_expect(!toxic_is_udp(ok("latency:ms=1").kind));
	cr_expect_eq(ok("duplicate").n, 1);
	cr_expect_eq(ok("duplicate:n=3").n, 3);
	cr_expect_eq(ok("reorder").n, 1);
	t = ok("reorder:ms=20");
	cr_expect_eq(t.n, 0);
	cr_expect_eq(t.ms, 20);
	t = ok("delay:ms=50,jitter=10");
	cr_expect_eq(t.ms, 50);
	cr_expect_eq(t.jitter_ms, 10);
	cr_expect_eq(ok("truncate:bytes=4").bytes, 4);
	refused("loss:p=1.5", "loss: p:");
	refused("loss:burst=1", "burst: below 1");
	refused("duplicate:n=0", "duplicate: n: a count 1..100");
	refused("duplicate:n=101", "duplicate: n");
	refused("reorder:n=1,ms=5", "not both");
	refused("delay", "delay: needs ms=");
	refused("delay:ms=1,jitter=2", "delay: jitter above ms");
	refused("truncate", "truncate: needs bytes=");
	refused("loss:ms=1", "loss: unknown key 'ms'");
}
