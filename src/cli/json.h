/* json.h - the --json output of every command, in the one vocabulary of
 * docs/json.md: an object per line, written key by key, so that a key's
 * type and unit are decided here once (durations are seconds as floats,
 * keys ending in _s; an error is null or an error object) and never by
 * each printf. Also the error object a failing command prints. */
#ifndef SOCKIT_CLI_JSON_H
#define SOCKIT_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sockit/sockit.h"

#define CLI_JSON_DEPTH 8

/* One object being written. Nested objects and arrays open and close
 * inside it; deeper than CLI_JSON_DEPTH is a programming error and is
 * written flat rather than overflowing. */
typedef struct cli_json {
	FILE *f;
	int depth;
	bool first[CLI_JSON_DEPTH];
	char close[CLI_JSON_DEPTH];
} cli_json;

/* Start a line's object on f with its "type" key: every object of every
 * command says what it is first. */
void cli_json_begin(cli_json *j, FILE *f, const char *type);
/* Close every open level and end the line. */
void cli_json_end(cli_json *j);

/* Members. key is NULL for an element of an array. */
/* v NULL writes null. */
void cli_json_text(cli_json *j, const char *key, const char *v);
void cli_json_int(cli_json *j, const char *key, long long v);
void cli_json_uint(cli_json *j, const char *key, unsigned long long v);
void cli_json_bool(cli_json *j, const char *key, bool v);
void cli_json_null(cli_json *j, const char *key);
/* A ratio or rate, printed with digits decimals. */
void cli_json_num(cli_json *j, const char *key, double v, int digits);
/* A duration in microseconds, written as seconds: key must end in _s. */
void cli_json_us(cli_json *j, const char *key, int64_t us);
/* The same from seconds, to the microsecond. */
void cli_json_secs(cli_json *j, const char *key, double s);
/* An address as two members: "address" (the IP without port or brackets,
 * or "unix:PATH") and "port" (a number, null for Unix sockets); prefix,
 * when not NULL, names them prefix_address and prefix_port. */
void cli_json_addr(cli_json *j, const char *prefix, const skt_addr *a);
/* null for err 0, else {"code": "ECONNREFUSED", "message": "connection
 * refused"} plus "what" when what is not NULL. */
void cli_json_error(cli_json *j, const char *key, int err, const char *what);
/* The same with why as the message (NULL: skt_strerror's). */
void cli_json_error_why(cli_json *j, const char *key, int err, const char *what,
			const char *why);

/* Open a nested object or array as a member; cli_json_close ends it. */
void cli_json_object(cli_json *j, const char *key);
void cli_json_array(cli_json *j, const char *key);
void cli_json_close(cli_json *j);

/* Failures as JSON: after cli_json_errors(f), cli_fail also writes
 *   {"type": "error", "command": CMD, "error": {"code", "message", "what"}}
 * on f: stdout for the commands that print JSON there, stderr for serve,
 * whose JSON is its log. The one-line message still goes to stderr, unless
 * f is stderr itself (a JSON Lines log stays JSON). */
void cli_json_errors(FILE *f);
/* The stream set by cli_json_errors, or NULL. */
FILE *cli_json_error_stream(void);

#endif
