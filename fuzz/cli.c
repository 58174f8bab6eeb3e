/* cli.c - fuzz the helpers every sockit subcommand parses with
 * (src/cli/cli.c, src/cli/cli_opt.c): cli_parse_target (HOST PORT,
 * HOST:PORT, unix:PATH), cli_parse_duration (-w, --timeout, --eof
 * wait:SECS, ...), cli_cidr_add (--allow / --deny), cli_json_str (every
 * --json output), cli_unescape (--send), cli_parse_size (--size,
 * --max-queue), cli_parse_u64 (every count) and cli_opt_port.
 *
 * Input: one byte choosing the helper and its flags, then NUL-separated
 * arguments. Bit 7 clear: bits 0-1 pick target, duration, cidrs, json;
 * bits 2-4 are skt_endpoint flags, bits 5-6 a duration's bare unit (s,
 * ms). Bit 7 set: bits 0-1 pick unescape, size, count, port.
 *
 * Properties: each returns only its documented values; a duration is
 * digits with an optional fraction and a known unit, a whole number of
 * milliseconds; a CIDR list never holds more than CLI_CIDR_MAX; JSON
 * output is one string literal with no raw control byte and every quote
 * escaped; unescaping never grows the text and points at a backslash
 * when it fails; a size with a unit is a multiple of 1024; a port is
 * never 0 unless asked for.
 */
#include "fuzz.h"

#include "../src/cli/cli.h"

#include <stdlib.h>
#include <string.h>

static void check_target(fuzz_in *in, int flags)
{
	char *args[3];
	size_t n = fuzz_strings(in, args, 3);
	skt_endpoint ep;
	int rc = cli_parse_target("fuzz", (int)n, args, flags, 0, &ep);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE);
	if (rc == CLI_OK)
		FUZZ_CHECK(ep.kind == SKT_EP_INET || ep.kind == SKT_EP_UNIX ||
			   ep.kind == SKT_EP_UNIX_DGRAM);
	fuzz_strings_free(args, n);
}

static void check_duration(fuzz_in *in, int unit_ms)
{
	char *arg[1];
	size_t n = fuzz_strings(in, arg, 1);
	const char *text = n > 0 ? arg[0] : "";
	int64_t ms = -7;
	int rc = cli_parse_duration(text, unit_ms, &ms);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		size_t ip = strspn(text, "0123456789");
		FUZZ_CHECK(ip > 0 && ip <= 9);
		const char *p = text + ip;
		if (*p == '.') {
			size_t fp = strspn(p + 1, "0123456789");
			FUZZ_CHECK(fp > 0);
			p += 1 + fp;
		}
		FUZZ_CHECK(*p == '\0' || strcmp(p, "ms") == 0 ||
			   strcmp(p, "s") == 0 || strcmp(p, "m") == 0 ||
			   strcmp(p, "h") == 0);
		FUZZ_CHECK(ms >= 0);
		if (text[ip] == '\0') /* a bare whole number */
			FUZZ_CHECK(ms == atoll(text) * unit_ms);
	} else {
		FUZZ_CHECK(ms == -7); /* untouched on error */
	}
	fuzz_strings_free(arg, n);
}

static void check_unescape(fuzz_in *in)
{
	char *arg[1];
	size_t n = fuzz_strings(in, arg, 1);
	if (n == 0)
		return;
	size_t len = strlen(arg[0]), bad = (size_t)-1;
	char *copy = fuzz_strndup((const uint8_t *)arg[0], len);
	long rc = cli_unescape(arg[0], &bad);
	FUZZ_CHECK(rc >= -1 && rc <= (long)len);
	if (rc < 0)
		FUZZ_CHECK(bad < len && copy[bad] == '\\');
	else if (memchr(copy, '\\', len) == NULL)
		FUZZ_CHECK(rc == (long)len && memcmp(arg[0], copy, len) == 0);
	free(copy);
	fuzz_strings_free(arg, n);
}

static void check_numbers(fuzz_in *in, int which, int flags)
{
	char *arg[1];
	size_t n = fuzz_strings(in, arg, 1);
	const char *text = n > 0 ? arg[0] : "";
	uint64_t v = 7;
	uint16_t port = 7;
	int rc;
	switch (which) {
	case 1:
		rc = cli_parse_size(text, &v);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0 && strspn(text, "0123456789") < strlen(text))
			FUZZ_CHECK(v % 1024 == 0);
		break;
	case 2:
		rc = cli_parse_u64(text, &v);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0)
			FUZZ_CHECK(strspn(text, "0123456789") == strlen(text));
		break;
	default:
		rc = cli_opt_port("fuzz", "port", text, SOCK_STREAM, flags,
				  &port);
		FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE);
		if (rc == CLI_OK && !(flags & SKT_PARSE_PORT_ZERO))
			FUZZ_CHECK(port != 0);
	}
	fuzz_strings_free(arg, n);
}

static void check_cidrs(fuzz_in *in)
{
	static cli_cidrs list;
	char *args[CLI_CIDR_MAX + 2];
	size_t n = fuzz_strings(in, args, CLI_CIDR_MAX + 2);
	list.n = 0;
	for (size_t i = 0; i < n; i++) {
		size_t before = list.n;
		int rc = cli_cidr_add("fuzz", &list, args[i]);
		FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE);
		FUZZ_CHECK(list.n == before + (rc == CLI_OK));
		FUZZ_CHECK(list.n <= CLI_CIDR_MAX);
	}
	skt_addr a;
	skt_addr_from_ip(&a, "10.1.2.3", 80);
	cli_cidrs none = {.n = 0};
	(void)cli_cidrs_admit(&list, &none, &a);
	(void)cli_cidrs_admit(&none, &list, &a);
	fuzz_strings_free(args, n);
}

static void check_json(fuzz_in *in)
{
	char *arg[1];
	size_t n = fuzz_strings(in, arg, 1);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	FUZZ_CHECK(f != NULL);
	cli_json_str(f, n > 0 ? arg[0] : "");
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	for (size_t i = 1; i + 1 < len; i++) {
		FUZZ_CHECK((unsigned char)out[i] >= 0x20);
		if (out[i] == '\\') {
			FUZZ_CHECK(i + 2 < len); /* an escape never ends it */
			i++;
		} else {
			FUZZ_CHECK(out[i] != '"');
		}
	}
	free(out);
	fuzz_strings_free(arg, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_quiet();
	fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	int flags = (mode >> 2) & (SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST |
				   SKT_PARSE_NO_PORT);
	if (mode & 0x80) {
		if ((mode & 3) == 0)
			check_unescape(&in);
		else
			check_numbers(&in, mode & 3, flags);
	} else {
		switch (mode & 3) {
		case 0:
			check_target(&in, flags);
			break;
		case 1:
			check_duration(&in, (mode >> 5) & 1 ? 1 : 1000);
			break;
		case 2:
			check_cidrs(&in);
			break;
		default:
			check_json(&in);
			break;
		}
	}
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
