/* tokens.c - the HTTP codec's shared pieces: character classes (one table
 * lookup per byte, as picohttpparser's token_char_map), caseless compare,
 * comma lists, and the table of rules a message can break.
 */
#include "http/http_int.h"
#include "internal.h"

/* Bits: 1 TCHAR, 2 TEXT, 4 VCHAR, 8 HOST (http_int.h). */
/* clang-format off */
const uint8_t skt__http_cls[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0,  0, /* 0x00 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x10 */
	 2, 15,  6,  7, 15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15,  6, /* 0x20 */
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 14,  6, 14,  6,  6, /* 0x30 */
	 6, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x40 */
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14,  6, 14,  7, 15, /* 0x50 */
	 7, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x60 */
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  6,  7,  6, 15,  0, /* 0x70 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0x80 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0x90 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xa0 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xb0 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xc0 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xd0 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xe0 */
	 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xf0 */
};
/* clang-format on */

bool skt__http_list_next(const char *v, size_t n, size_t *i, const char **el,
			 size_t *ellen)
{
	while (*i < n) {
		size_t s = *i, e;
		while (*i < n && v[*i] != ',')
			(*i)++;
		e = *i;
		if (*i < n)
			(*i)++;
		while (s < e && skt__http_ows(v[s]))
			s++;
		while (e > s && skt__http_ows(v[e - 1]))
			e--;
		if (e > s) {
			*el = v + s;
			*ellen = e - s;
			return true;
		}
	}
	return false;
}

static const struct {
	int code;
	int status;
	const char *text;
} rules[] = {
#define XX(name, code, status, text) {code, status, text},
	SKT_HTTP_RULE_MAP(XX)
#undef XX
};

const char *skt_http_rule_str(skt_http_rule rule)
{
	if ((unsigned)rule >= SKT__ARRAY_SIZE(rules))
		return "unknown rule";
	return rules[rule].text;
}

int skt_http_rule_status(skt_http_rule rule)
{
	if ((unsigned)rule >= SKT__ARRAY_SIZE(rules))
		return 400;
	return rules[rule].status;
}

int skt__http_rule_code(skt_http_rule rule)
{
	return rules[rule].code;
}
