/* http_files_test.c - serve http's pure pieces (src/tools/serve/
 * http_files.c, mime.c): targets to paths, HTTP dates in their three
 * forms, validators, If-None-Match / If-Modified-Since, Range and
 * If-Range, the HTML and URI escapes of the listing, MIME lookup. */
#include "sktest.h"

#include "tools/serve/http_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int path(const char *t, bool dot, http_path *p)
{
	return http_path_parse(p, t, strlen(t), dot);
}

SKT_TEST(http_files, targets_become_paths_under_dir)
{
	http_path p;
	cr_assert_eq(path("/", false, &p), 0);
	cr_assert_str_eq(p.rel, ".");
	cr_assert(p.slash);
	cr_assert_eq(path("/a%20b//c/./d?x=1&y", false, &p), 0);
	cr_assert_str_eq(p.rel, "a b/c/d");
	cr_assert(!p.slash);
	cr_assert_eq(p.query_len, 5);
	cr_assert_eq(memcmp(p.query, "x=1&y", 5), 0);
	cr_assert_eq(path("http://host:80/x/y/", false, &p), 0);
	cr_assert_str_eq(p.rel, "x/y");
	cr_assert(p.slash);
	cr_assert_eq(path("/%C3%BC%25", false, &p), 0);
	cr_assert_str_eq(p.rel, "\xc3\xbc%");
	/* "%2f" splits as "/" does. */
	cr_assert_eq(path("/a%2fb", false, &p), 0);
	cr_assert_str_eq(p.rel, "a/b");
}

SKT_TEST(http_files, traversal_and_bad_targets_are_refused)
{
	http_path p;
	static const char *const bad[] = {
		"/..",         "/../x",          "/a/../../x", "/%2e%2e/x",
		"/%2E%2e%2Fx", "/a/..%2f..%2fx", "/x%00",      "/%",
		"/%4",         "/%g0",           "x",          "*",
		"http://h",    "http://h?x",     "/a#frag",    "",
		"/a b",        "/a\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(path(bad[i], true, &p), 400, "%s", bad[i]);
	cr_assert_eq(path("/.git/config", false, &p), 404);
	cr_assert_eq(path("/a/.env", false, &p), 404);
	cr_assert_eq(path("/.git/config", true, &p), 0);
	cr_assert_str_eq(p.rel, ".git/config");
	char longt[HTTP_TARGET_MAX + 2];
	memset(longt, 'a', sizeof(longt) - 1);
	longt[0] = '/';
	longt[sizeof(longt) - 1] = '\0';
	cr_assert_eq(path(longt, false, &p), 414);
}

SKT_TEST(http_files, dates_in_three_forms)
{
	/* RFC 9110 5.6.7's example, each way. */
	const time_t t = 784111777;
	static const char *const forms[] = {"Sun, 06 Nov 1994 08:49:37 GMT",
					    "Sunday, 06-Nov-94 08:49:37 GMT",
					    "Sun Nov  6 08:49:37 1994"};
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(http_date_parse(forms[i], strlen(forms[i])), t,
			     "%s", forms[i]);
	char out[32];
	http_date(t, out);
	cr_assert_str_eq(out, forms[0]);
	cr_assert_eq(http_date_parse("yesterday", 9), -1);
	cr_assert_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT x", 31),
		     -1);
}

static struct stat file(off_t size, time_t mtime)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_ino = 42;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	return st;
}

SKT_TEST(http_files, conditional_requests)
{
	struct stat st = file(100, 784111777);
	char etag[64];
	http_etag(&st, etag);
	cr_assert_str_eq(etag, "\"2a-64-ae1b981bc490a00\"");
	http_conds c = {0};
	cr_assert(!http_not_modified(&c, &st, etag));
	c.inm = etag;
	c.inm_len = strlen(etag);
	cr_assert(http_not_modified(&c, &st, etag));
	char list[128];
	snprintf(list, sizeof(list), "\"a\", W/%s", etag);
	c.inm = list;
	c.inm_len = strlen(list);
	cr_assert(http_not_modified(&c, &st, etag)); /* weak compare */
	c.inm = "\"other\"";
	c.inm_len = 7;
	/* If-None-Match decides alone, even with a matching date. */
	c.ims = "Sun, 06 Nov 1994 08:49:37 GMT";
	c.ims_len = strlen(c.ims);
	cr_assert(!http_not_modified(&c, &st, etag));
	c.inm = NULL;
	cr_assert(http_not_modified(&c, &st, etag));
	struct stat newer = file(100, 784111778);
	cr_assert(!http_not_modified(&c, &newer, etag));
}

static int range(const char *r, const char *if_range, off_t size,
		 uint64_t *first, uint64_t *len)
{
	struct stat st = file(size, 784111777);
	char etag[64];
	http_etag(&st, etag);
	http_conds c = {.range = r, .range_len = r ? strlen(r) : 0};
	if (if_range != NULL) {
		c.if_range = strcmp(if_range, "ETAG") == 0 ? etag : if_range;
		c.if_range_len = strlen(c.if_range);
	}
	*first = *len = 0;
	return http_range(&c, &st, etag, first, len);
}

SKT_TEST(http_files, ranges)
{
	uint64_t f, n;
	cr_assert_eq(range(NULL, NULL, 100, &f, &n), 200);
	cr_assert_eq(range("bytes=0-0", NULL, 100, &f, &n), 206);
	cr_assert_eq(f, 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(range("bytes=10-19", NULL, 100, &f, &n), 206);
	cr_assert_eq(f, 10);
	cr_assert_eq(n, 10);
	cr_assert_eq(range("bytes=90-", NULL, 100, &f, &n), 206);
	cr_assert_eq(n, 10);
	cr_assert_eq(range("bytes=50-1000", NULL, 100, &f, &n), 206);
	cr_assert_eq(n, 50);
	cr_assert_eq(range("bytes=-30", NULL, 100, &f, &n), 206);
	cr_assert_eq(f, 70);
	cr_assert_eq(range("bytes=-1000", NULL, 100, &f, &n), 206);
	cr_assert_eq(f, 0);
	cr_assert_eq(n, 100);
	cr_assert_eq(range("bytes=100-", NULL, 100, &f, &n), 416);
	cr_assert_eq(range("bytes=-0", NULL, 100, &f, &n), 416);
	cr_assert_eq(range("bytes=0-", NULL, 0, &f, &n), 416);
	/* Ignored: the whole file. */
	static const char *const ignored[] = {
		"bytes=5-3",
		"bytes=1-2,4-5",
		"bytes=-",
		"bytes= 1-2",
		"items=1-2",
		"bytes=1-2x",
		"bytes=9999999999999999999-",
	};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		cr_assert_eq(range(ignored[i], NULL, 100, &f, &n), 200, "%s",
			     ignored[i]);
	/* If-Range: the same ETag or date applies the range. */
	cr_assert_eq(range("bytes=0-9", "ETAG", 100, &f, &n), 206);
	cr_assert_eq(range("bytes=0-9", "\"stale\"", 100, &f, &n), 200);
	cr_assert_eq(range("bytes=0-9", "Sun, 06 Nov 1994 08:49:37 GMT", 100,
			   &f, &n),
		     206);
	cr_assert_eq(range("bytes=0-9", "Sun, 06 Nov 1994 08:49:38 GMT", 100,
			   &f, &n),
		     200);
}

SKT_TEST(http_files, escapes)
{
	http_buf b = {0};
	http_buf_html(&b, "a&b<c>\"d'e", 10);
	http_buf_put(&b, "|", 1);
	http_buf_uri(&b, "a b%/\xc3\xbc~", 8);
	http_buf_put(&b, "", 1);
	cr_assert_str_eq(b.p,
			 "a&amp;b&lt;c&gt;&quot;d&#39;e|a%20b%25%2F%C3%BC~");
	skt_free(b.p);
}

SKT_TEST(http_files, mime_types)
{
	svc_mime m;
	cr_assert_eq(mime_load(&m, "/nonexistent/mime.types"), 0);
	cr_assert_str_eq(mime_type(&m, "a/b.HTML"), "text/html; charset=utf-8");
	cr_assert_str_eq(mime_type(&m, "x.png"), "image/png");
	cr_assert_str_eq(mime_type(&m, "x.unknownext"),
			 "application/octet-stream");
	cr_assert_str_eq(mime_type(&m, "dir.d/noext"),
			 "application/octet-stream");
	mime_free(&m);
	char path[] = "/tmp/sockit-mime-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	static const char text[] = "# comment\n"
				   "application/x-test\ttst  TST2\n"
				   "image/x-override png\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1),
		     (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(mime_load(&m, path), 0);
	unlink(path);
	cr_assert_str_eq(mime_type(&m, "a.tst"), "application/x-test");
	cr_assert_str_eq(mime_type(&m, "a.tst2"), "application/x-test");
	cr_assert_str_eq(mime_type(&m, "a.png"), "image/x-override");
	cr_assert_str_eq(mime_type(&m, "a.css"), "text/css; charset=utf-8");
	mime_free(&m);
}
