/* err.c - messages and names for every sockit error code. */
#include "sockit/err.h"
#include "internal.h"

#include <string.h>

/* The C library's own EAI_* value for each row of SKT_EAI_ERRNO_MAP. */
static int eai_value(int idx)
{
	switch (idx) {
#define XX(name, i)                                                            \
	case i:                                                                \
		return name;
		SKT_EAI_ERRNO_MAP(XX)
#undef XX
	}
	return 0;
}

const char *skt_strerror(int err)
{
	switch (err) {
#define XX(name, msg)                                                          \
	case SKT_##name:                                                       \
		return msg;
		SKT_OS_ERRNO_MAP(XX)
#undef XX
#define XX(name, code, msg)                                                    \
	case SKT_##name:                                                       \
		return msg;
		SKT_OWN_ERRNO_MAP(XX)
#undef XX
	}
	if (err <= SKT_EAI_BASE && err > SKT_EAI_BASE - 100) {
		int eai = eai_value(SKT_EAI_BASE - err);
		if (eai != 0)
			return gai_strerror(eai);
	}
	if (err < 0 && err > -4096) {
		const char *d = strerrordesc_np(-err);
		if (d != NULL)
			return d;
	}
	return "unknown error";
}

const char *skt_errname(int err)
{
	switch (err) {
#define XX(name, msg)                                                          \
	case SKT_##name:                                                       \
		return #name;
		SKT_OS_ERRNO_MAP(XX)
#undef XX
#define XX(name, idx)                                                          \
	case SKT_##name:                                                       \
		return #name;
		SKT_EAI_ERRNO_MAP(XX)
#undef XX
#define XX(name, code, msg)                                                    \
	case SKT_##name:                                                       \
		return #name;
		SKT_OWN_ERRNO_MAP(XX)
#undef XX
	}
	if (err < 0 && err > -4096) {
		const char *n = strerrorname_np(-err);
		if (n != NULL)
			return n;
	}
	return "UNKNOWN";
}

int skt_eai_to_err(int eai)
{
	if (eai == 0)
		return 0;
	if (eai == EAI_SYSTEM)
		return errno > 0 ? -errno : SKT_EAI_FAIL;
	switch (eai) {
#define XX(name, i)                                                            \
	case name:                                                             \
		return SKT_##name;
		SKT_EAI_ERRNO_MAP(XX)
#undef XX
	}
	return SKT_EAI_FAIL;
}
