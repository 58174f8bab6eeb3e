/* cli_opt.c - the option loop every subcommand runs, and the one parser
 * each for counts, durations, sizes and escaped text (see cli.h), so that
 * every command names a bad option and a bad value the same way. */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- The option loop ---- */

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv,
		   const char *shortopts, const struct option *longopts)
{
	*a = (cli_args){.cmd = cmd,
			.argc = argc,
			.argv = argv,
			.longopts = longopts,
			.next = argc};
	/* ':' first: getopt tells a missing value (':') from an unknown
	 * option ('?'), and prints nothing itself. */
	snprintf(a->shortopts, sizeof(a->shortopts), ":%sh", shortopts);
	opterr = 0;
	/* 0, not 1: glibc then also forgets the rest of a cluster and the
	 * permutation bounds a previous parse left behind. */
	optind = 0;
}

/* "--name" of "--name=value". */
static int long_name_len(const char *el)
{
	return (int)strcspn(el, "=");
}

static bool is_long(const char *el)
{
	return el != NULL && el[0] == '-' && el[1] == '-' && el[2] != '\0';
}

static bool is_cluster(const char *el)
{
	return el != NULL && el[0] == '-' && el[1] != '-' && el[1] != '\0';
}

/* The long options el (without "--" and "=value") abbreviates. */
static int long_matches(const struct option *lo, const char *el,
			const struct option **match)
{
	size_t n = (size_t)long_name_len(el + 2);
	int count = 0;
	for (; lo != NULL && lo->name != NULL; lo++) {
		if (strncmp(lo->name, el + 2, n) != 0)
			continue;
		*match = lo;
		if (lo->name[n] == '\0')
			return 1; /* an exact name wins over longer ones */
		count++;
	}
	return count;
}

/* The argv element holding short option c. getopt leaves optind past the
 * element when c was its last character, on it when more of it remains:
 * "-4x" is argv[optind - 1], "-x4" argv[optind]. */
static const char *cluster_of(const cli_args *a, int c)
{
	const char *prev = optind >= 1 && optind - 1 < a->argc
				   ? a->argv[optind - 1]
				   : NULL;
	if (is_cluster(prev) && prev[strlen(prev) - 1] == c)
		return prev;
	const char *cur = optind < a->argc ? a->argv[optind] : NULL;
	if (is_cluster(cur) && strchr(cur + 1, c) != NULL)
		return cur;
	return NULL;
}

/* "'-x'", or "'-x' (in '-4x')" inside a cluster. */
static void short_name(const cli_args *a, int c, char *buf, size_t cap)
{
	/* glibc stores the character as a char: above 0x7f it is negative. */
	unsigned char uc = (unsigned char)c;
	char name[8];
	if (isprint(uc))
		snprintf(name, sizeof(name), "-%c", uc);
	else
		snprintf(name, sizeof(name), "-\\x%02x", (unsigned)uc);
	const char *el = cluster_of(a, c);
	if (el != NULL && strlen(el) > 2)
		snprintf(buf, cap, "'%s' (in '%.*s')", name, 64, el);
	else
		snprintf(buf, cap, "'%s'", name);
}

static int option_error(const cli_args *a, int ch)
{
	const char *el = optind >= 1 && optind - 1 < a->argc
				 ? a->argv[optind - 1]
				 : NULL;
	const struct option *lo = NULL;
	char name[96];
	if (ch == ':') {
		/* A value can only be missing at the end of argv, so the
		 * element is the one getopt just stepped past. */
		if (is_long(el))
			return cli_usage_error(a->cmd,
					       "option '%.*s' needs a value",
					       long_name_len(el), el);
		short_name(a, optopt, name, sizeof(name));
		return cli_usage_error(a->cmd, "option %s needs a value", name);
	}
	if (optopt == 0 && is_long(el)) {
		int n = long_matches(a->longopts, el, &lo);
		return cli_usage_error(a->cmd, "%s option '%.*s'",
				       n > 1 ? "ambiguous" : "unknown",
				       long_name_len(el), el);
	}
	/* "--crlf=1": a known long option given a value; optopt holds its
	 * value, which may also be a short option's character. */
	if (is_long(el) && strchr(el, '=') != NULL &&
	    long_matches(a->longopts, el, &lo) == 1 &&
	    lo->has_arg == no_argument && lo->val == optopt)
		return cli_usage_error(a->cmd, "option '--%s' takes no value",
				       lo->name);
	short_name(a, optopt, name, sizeof(name));
	return cli_usage_error(a->cmd, "unknown option %s", name);
}

int cli_args_next(cli_args *a)
{
	int ch = getopt_long(a->argc, a->argv, a->shortopts, a->longopts, NULL);
	a->arg = optarg;
	a->next = optind;
	if (ch == -1)
		return CLI_ARGS_END;
	const char *el = optind >= 1 && optind - 1 < a->argc
				 ? a->argv[optind - 1]
				 : NULL;
	if (ch == 'h' || (ch == '?' && optopt == 0 && el != NULL &&
			  strcmp(el, "--help") == 0))
		return CLI_ARGS_HELP;
	if (ch != '?' && ch != ':')
		return ch;
	option_error(a, ch);
	return CLI_ARGS_BAD;
}

int cli_args_status(int ch)
{
	return ch == CLI_ARGS_HELP  ? CLI_HELP
	       : ch == CLI_ARGS_BAD ? CLI_USAGE
				    : CLI_OK;
}

/* ---- Numbers, durations, sizes ---- */

/* At most 18 digits: below 2^63, so no sum or product here overflows. */
#define DIGITS_MAX 18

int cli_parse_u64(const char *text, uint64_t *out)
{
	size_t n = strspn(text, "0123456789");
	if (n == 0 || n > DIGITS_MAX || text[n] != '\0')
		return -1;
	*out = strtoull(text, NULL, 10);
	return 0;
}

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
	{"ms", 1},
	{"s", 1000},
	{"m", 60000},
	{"h", 3600000},
};

int cli_parse_duration(const char *text, int unit_ms, int64_t *ms)
{
	/* Digits with an optional fraction: no locale, no "1e3" or "inf"
	 * surprises from strtod. Nine digits each side at most, so that
	 * whole * 3600000 and frac * 3600000 stay far below 2^63. */
	size_t ip = strspn(text, "0123456789");
	if (ip == 0 || ip > 9)
		return -1;
	int64_t whole = strtoll(text, NULL, 10), frac = 0, scale = 1;
	const char *p = text + ip;
	if (*p == '.') {
		size_t fp = strspn(++p, "0123456789");
		if (fp == 0 || fp > 9)
			return -1;
		for (size_t i = 0; i < fp; i++) {
			frac = frac * 10 + (p[i] - '0');
			scale *= 10;
		}
		p += fp;
	}
	int64_t unit = unit_ms;
	if (*p != '\0') {
		unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(p, units[i].name) == 0)
				unit = units[i].ms;
		if (unit == 0)
			return -1;
	}
	/* Whole milliseconds only: "1.5ms" is no duration a timer keeps. */
	if (frac * unit % scale != 0)
		return -1;
	*ms = whole * unit + frac * unit / scale;
	return 0;
}

int cli_parse_size(const char *text, uint64_t *bytes)
{
	size_t n = strspn(text, "0123456789");
	if (n == 0 || n > DIGITS_MAX)
		return -1;
	uint64_t v = strtoull(text, NULL, 10);
	const char *u = text + n;
	unsigned shift = 0;
	if (*u != '\0') {
		const char *p = strchr("kKmMgG", *u);
		if (p == NULL || u[1] != '\0')
			return -1;
		shift = 10 * (unsigned)(1 + (p - "kKmMgG") / 2);
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}

int cli_opt_count(const char *cmd, const char *opt, const char *text,
		  uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (cli_parse_u64(text, &v) < 0 || v < min || v > max)
		return cli_usage_error(cmd,
				       "%s '%s': want a number from %llu "
				       "to %llu",
				       opt, text, (unsigned long long)min,
				       (unsigned long long)max);
	*out = v;
	return CLI_OK;
}

/* ms in the largest unit that keeps it whole: "1h", "90s", "1500ms". */
static void duration_text(int64_t ms, char *buf, size_t cap)
{
	size_t i = sizeof(units) / sizeof(units[0]);
	while (--i > 0 && (ms == 0 || ms % units[i].ms != 0))
		;
	snprintf(buf, cap, "%lld%s", (long long)(ms / units[i].ms),
		 units[i].name);
}

int cli_opt_duration(const char *cmd, const char *opt, const char *text,
		     int unit_ms, int64_t min_ms, int64_t max_ms, int *ms)
{
	int64_t v;
	char lo[32], hi[32];
	duration_text(min_ms, lo, sizeof(lo));
	duration_text(max_ms, hi, sizeof(hi));
	if (cli_parse_duration(text, unit_ms, &v) < 0)
		return cli_usage_error(
			cmd,
			"%s '%s': want a duration such as "
			"500ms, 2s or 1m (a bare number is %s)",
			opt, text, unit_ms == 1 ? "milliseconds" : "seconds");
	if (v == 0 && min_ms > 0)
		return cli_usage_error(cmd, "%s '%s': must be more than 0", opt,
				       text);
	if (v < min_ms || v > max_ms)
		return cli_usage_error(cmd, "%s '%s': want %s to %s", opt, text,
				       lo, hi);
	*ms = (int)v;
	return CLI_OK;
}

int cli_opt_size(const char *cmd, const char *opt, const char *text,
		 uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (cli_parse_size(text, &v) < 0 || v < min || v > max)
		return cli_usage_error(cmd,
				       "%s '%s': want a size from %llu to "
				       "%llu bytes (a number, or with k, M, G: "
				       "64k is 65536)",
				       opt, text, (unsigned long long)min,
				       (unsigned long long)max);
	*out = v;
	return CLI_OK;
}

/* ---- Escaped text (--send) ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long cli_unescape(char *s, size_t *bad)
{
	char *out = s;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p != '\\') {
			*out++ = *p;
			continue;
		}
		const char *esc = p++;
		const char *from = "nrt\\0", *to = "\n\r\t\\\0";
		const char *k = *p != '\0' ? strchr(from, *p) : NULL;
		if (k != NULL) {
			*out++ = to[k - from];
		} else if (*p == 'x' && hexval(p[1]) >= 0) {
			int v = hexval(*++p);
			if (hexval(p[1]) >= 0)
				v = v * 16 + hexval(*++p);
			*out++ = (char)v;
		} else {
			*bad = (size_t)(esc - s);
			return -1;
		}
	}
	*out = '\0';
	return (long)(out - s);
}
