/* err_test.c - the error table: codes, names, messages. */
#include "sktest.h"

#include <stdio.h>
#include <string.h>

SKT_TEST(err, os_errors_are_negative_errno)
{
	cr_assert_eq(SKT_ECONNREFUSED, -ECONNREFUSED);
	cr_assert_eq(SKT_ETIMEDOUT, -ETIMEDOUT);
	cr_assert_str_eq(skt_errname(SKT_ECONNREFUSED), "ECONNREFUSED");
	cr_assert_str_eq(skt_strerror(SKT_ECONNREFUSED), "connection refused");
}

SKT_TEST(err, own_codes_have_names_and_messages)
{
	cr_assert_str_eq(skt_errname(SKT_EOF), "EOF");
	cr_assert_str_eq(skt_errname(SKT_EPARTIAL), "EPARTIAL");
	cr_assert_str_eq(skt_errname(SKT_ETOOBIG), "ETOOBIG");
	cr_assert_str_eq(skt_strerror(SKT_EBADPORT), "invalid port");
}

SKT_TEST(err, resolver_codes_carry_resolver_message)
{
	int e = skt_eai_to_err(EAI_NONAME);
	cr_assert_eq(e, SKT_EAI_NONAME);
	cr_assert_str_eq(skt_errname(e), "EAI_NONAME");
	cr_assert_str_eq(skt_strerror(e), gai_strerror(EAI_NONAME));
	cr_assert_eq(skt_eai_to_err(0), 0);
}

SKT_TEST(err, eai_system_becomes_errno)
{
	errno = ENOMEM;
	cr_assert_eq(skt_eai_to_err(EAI_SYSTEM), SKT_ENOMEM);
}

SKT_TEST(err, ranges_never_collide)
{
	/* Every code in every table maps back to its own name. */
#define XX(name, msg) cr_assert_str_eq(skt_errname(SKT_##name), #name);
	SKT_OS_ERRNO_MAP(XX)
#undef XX
#define XX(name, idx)                                                          \
	cr_assert_str_eq(skt_errname(SKT_##name), #name);                      \
	cr_assert_gt(SKT_##name, -4000);                                       \
	cr_assert_lt(SKT_##name, -2000);
	SKT_EAI_ERRNO_MAP(XX)
#undef XX
#define XX(name, code, msg) cr_assert_str_eq(skt_errname(SKT_##name), #name);
	SKT_OWN_ERRNO_MAP(XX)
#undef XX
}

SKT_TEST(err, unknown_codes_are_safe)
{
	cr_assert_str_eq(skt_errname(-99999), "UNKNOWN");
	cr_assert_str_eq(skt_strerror(-99999), "unknown error");
	cr_assert_str_eq(skt_strerror(1), "unknown error");
	cr_assert_not_null(skt_strerror(-EDOM));
	cr_assert_str_eq(skt_errname(-EDOM), "EDOM");
}

/* docs/errors.md must list every code of the table, and nothing else. */
SKT_TEST(err, docs_list_every_code)
{
	FILE *f = fopen("docs/errors.md", "r");
	cr_assert_not_null(f, "run from the repository root");
	static char doc[64 << 10];
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = '\0';
	char want[64];
#define CHECK(str)                                                             \
	snprintf(want, sizeof want, "`SKT_%s`", str);                          \
	cr_expect_not_null(strstr(doc, want), "docs/errors.md lacks %s", want);
#define XX(name, ...) CHECK(#name)
	SKT_OS_ERRNO_MAP(XX)
	SKT_EAI_ERRNO_MAP(XX)
	SKT_OWN_ERRNO_MAP(XX)
#undef XX
#undef CHECK
	/* ...and every `SKT_E...` the page names is a real code. */
	for (char *p = strstr(doc, "`SKT_E"); p != NULL;
	     p = strstr(p + 1, "`SKT_E")) {
		char name[48];
		if (sscanf(p + 5, "%47[A-Z_0-9]", name) != 1)
			continue;
		bool found = false;
#define XX(nm, ...) found = found || strcmp(name, #nm) == 0;
		SKT_OS_ERRNO_MAP(XX)
		SKT_EAI_ERRNO_MAP(XX)
		SKT_OWN_ERRNO_MAP(XX)
#undef XX
		cr_expect(found || strcmp(name, "EAI_BASE") == 0,
			  "docs/errors.md names unknown code %s", name);
	}
}
