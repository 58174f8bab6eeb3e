/* cli.c - fuzz the helpers every sockit subcommand parses with
 * (src/cli/cli.c): cli_parse_target (HOST PORT, HOST:PORT, unix:PATH),
 * cli_parse_seconds (-w, --eof wait:SECS, --udp-wait), cli_cidr_add
 * (--allow / --deny) and cli_json_str (every --json output).
 *
 * Input: one byte choosing the helper and its flags, then NUL-separated
 * arguments.
 *
 * Properties: each returns only its documented values; seconds are
 * digits with an optional fraction, at most a day; a CIDR list never
 * holds more than CLI_CIDR_MAX; JSON output is one string literal with
 * no raw control byte and every quote escaped.
 */
#include "fuzz.h"

#include "../src/cli/cli.h"

#include <string.h>

static void check_target(fuzz_in *in, int flags)
{
	char *args[3];
	size_t n = fuzz_strings(in, args, 3);
	skt_endpoint ep;
	int rc = cli_parse_target("fuzz", (int)n, args, flags, &ep);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE);
	if (rc == CLI_OK)
		FUZZ_CHECK(ep.kind == SKT_EP_INET || ep.kind == SKT_EP_UNIX);
	fuzz_strings_free(args, n);
}

static void check_seconds(fuzz_in *in)
{
	char *arg[1];
	size_t n = fuzz_strings(in, arg, 1);
	const char *text = n > 0 ? arg[0] : "";
	int ms = -7;
	int rc = cli_parse_seconds(text, &ms);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		size_t ip = strspn(text, "0123456789");
		FUZZ_CHECK(ip > 0);
		FUZZ_CHECK(text[ip] == '\0' ||
			   (text[ip] == '.' && text[ip + 1] != '\0' &&
			    strspn(text + ip + 1, "0123456789") ==
				    strlen(text + ip + 1)));
		FUZZ_CHECK(ms >= 0 && ms <= 86400 * 1000); /* "at most a day" */
		FUZZ_CHECK(ms / 1000 == atoi(text));
	} else {
		FUZZ_CHECK(ms == -7); /* untouched on error */
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
	switch (mode & 3) {
	case 0: check_target(&in, flags); break;
	case 1: check_seconds(&in); break;
	case 2: check_cidrs(&in); break;
	default: check_json(&in); break;
	}
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
