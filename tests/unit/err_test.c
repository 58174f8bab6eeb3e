/* err_test.c - the error table: codes, names, messages. */
#include "sktest.h"

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
#define XX(name, idx)                                                        \
	cr_assert_str_eq(skt_errname(SKT_##name), #name);                    \
	cr_assert_gt(SKT_##name, -4000);                                     \
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
