/* http_url.c - fuzz the URLs of `sockit http` (src/tools/http/url.c):
 * httpc_url_parse on the text up to its first NUL, then, when that was
 * accepted, httpc_url_resolve of the rest as a Location against it.
 *
 * Properties: every result is 0 or SKT_EINVAL with a reason; an accepted
 * URL has a host, a port above 0, a target that starts with '/' and
 * holds no fragment, space or control byte, and formats into text that
 * parses back to the same URL; a resolved Location is such a URL too.
 */
#include "fuzz.h"

#include "tools/http/httpc.h"

#include <string.h>

static void check_url(const httpc_url *u)
{
	FUZZ_CHECK(u->host[0] != '\0' && u->port > 0);
	FUZZ_CHECK(u->target[0] == '/');
	FUZZ_CHECK(strchr(u->target, '#') == NULL);
	for (const char *p = u->target; *p; p++)
		FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f);
	static char text[HTTPC_URL_MAX + 16];
	static httpc_url again;
	const char *why = NULL;
	if (httpc_url_format(u, text, sizeof(text)) < 0)
		return;
	if (strlen(text) >= HTTPC_URL_MAX)
		return;
	FUZZ_CHECK(httpc_url_parse(&again, text, &why) == 0);
	FUZZ_CHECK(again.https == u->https && again.port == u->port);
	FUZZ_CHECK(strcmp(again.host, u->host) == 0);
	FUZZ_CHECK(strcmp(again.target, u->target) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[HTTPC_URL_MAX + 1];
	static httpc_url u, next;
	size_t n = size < HTTPC_URL_MAX ? size : HTTPC_URL_MAX;
	memcpy(text, data, n);
	text[n] = '\0';
	size_t first = strlen(text);
	const char *why = NULL;
	int rc = httpc_url_parse(&u, text, &why);
	FUZZ_CHECK(rc == 0 || (rc == SKT_EINVAL && why != NULL));
	if (rc != 0)
		return 0;
	check_url(&u);
	if (first + 1 >= n)
		return 0;
	const char *loc = text + first + 1;
	why = NULL;
	rc = httpc_url_resolve(&next, &u, loc, strlen(loc), &why);
	FUZZ_CHECK(rc == 0 || (rc == SKT_EINVAL && why != NULL));
	if (rc == 0)
		check_url(&next);
	return 0;
}
