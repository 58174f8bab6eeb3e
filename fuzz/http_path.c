/* http_path.c - fuzz how `sockit serve http` turns a request target into
 * a path under DIR (http_path_parse, src/tools/serve/http_files.c), the
 * first of its two walls against traversal.
 *
 * Input: a flags byte (bit 0: dotfiles served), then the target.
 *
 * Properties: a path is returned only with status 0, else 400, 404 or
 * 414; it is NUL-terminated inside its buffer, relative (no leading
 * "/"), "." or segments that are neither empty, ".", nor ".." (so no
 * way up); without dotfiles no segment starts with "."; the query and
 * the raw path, when there, lie inside the target. http_open then opens
 * it under DIR's fd with RESOLVE_BENEATH, the second wall.
 */
#include "fuzz.h"

#include "tools/serve/http_files.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static http_path p;
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	bool dotfiles = fuzz_u8(&in) & 1;
	const char *t = (const char *)in.p;
	int st = http_path_parse(&p, t, in.n, dotfiles);
	FUZZ_CHECK(st == 0 || st == 400 || st == 404 || st == 414);
	if (st != 0)
		return 0;
	size_t n = strnlen(p.rel, sizeof(p.rel));
	FUZZ_CHECK(n > 0 && n < sizeof(p.rel));
	FUZZ_CHECK(p.rel[0] != '/');
	if (strcmp(p.rel, ".") != 0) {
		const char *s = p.rel;
		for (;;) {
			const char *e = strchr(s, '/');
			size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
			FUZZ_CHECK(len > 0);
			FUZZ_CHECK(!(len == 1 && s[0] == '.'));
			FUZZ_CHECK(!(len == 2 && s[0] == '.' && s[1] == '.'));
			FUZZ_CHECK(dotfiles || s[0] != '.');
			if (e == NULL)
				break;
			s = e + 1;
		}
	}
	if (p.query != NULL)
		FUZZ_CHECK(p.query >= t && p.query + p.query_len <= t + in.n);
	FUZZ_CHECK(p.raw >= t && p.raw + p.raw_len <= t + in.n);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
