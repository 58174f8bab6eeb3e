/* cli_tls.h - the TLS options every command that speaks TLS takes
 * (connect, listen, serve, check, bench), parsed and checked in one place,
 * and the one way to turn them into an skt_tls_ctx and to show what a
 * handshake agreed on (-v lines, --json fields).
 *
 *   --tls                 speak TLS
 *   --ca FILE|DIR         trust these CAs (a client's server, a server's
 *                         clients) instead of the system store
 *   --pin sha256:HEX      trust a peer whose key or certificate hashes to
 *                         this (repeatable, at most SKT_TLS_PINS_MAX)
 *   --insecure            no verification (said on stderr)
 *   --sni NAME, --no-sni  the name sent in SNI (default: the host, never
 *                         for an IP literal)
 *   --alpn LIST           "h2,http/1.1"
 *   --cert FILE --key FILE  our certificate (a server's identity, a
 *                         client's certificate)
 *   --tls-min 1.2|1.3     the lowest version accepted
 *   --verify-client CA    server: require client certificates from CA
 *   --no-resume           no session tickets
 * Any of them without --tls is a usage error, as are contradictions
 * (--insecure with --pin, --sni with --no-sni). */
#ifndef SOCKIT_CLI_TLS_H
#define SOCKIT_CLI_TLS_H

#include "cli.h"
#include "json.h"

#include "sockit/tls.h"

/* Option values: 0x200 on, clear of bridge's and each command's own. */
enum {
	CLI_TLS_OPT_TLS = 0x200,
	CLI_TLS_OPT_CA,
	CLI_TLS_OPT_PIN,
	CLI_TLS_OPT_INSECURE,
	CLI_TLS_OPT_SNI,
	CLI_TLS_OPT_NO_SNI,
	CLI_TLS_OPT_ALPN,
	CLI_TLS_OPT_CERT,
	CLI_TLS_OPT_KEY,
	CLI_TLS_OPT_MIN,
	CLI_TLS_OPT_VERIFY_CLIENT,
	CLI_TLS_OPT_NO_RESUME,
};

#define CLI_TLS_LONGOPTS                                                       \
	{"tls", no_argument, NULL, CLI_TLS_OPT_TLS},                           \
		{"ca", required_argument, NULL, CLI_TLS_OPT_CA},               \
		{"pin", required_argument, NULL, CLI_TLS_OPT_PIN},             \
		{"insecure", no_argument, NULL, CLI_TLS_OPT_INSECURE},         \
		{"sni", required_argument, NULL, CLI_TLS_OPT_SNI},             \
		{"no-sni", no_argument, NULL, CLI_TLS_OPT_NO_SNI},             \
		{"alpn", required_argument, NULL, CLI_TLS_OPT_ALPN},           \
		{"cert", required_argument, NULL, CLI_TLS_OPT_CERT},           \
		{"key", required_argument, NULL, CLI_TLS_OPT_KEY},             \
		{"tls-min", required_argument, NULL, CLI_TLS_OPT_MIN},         \
		{"verify-client", required_argument, NULL,                     \
		 CLI_TLS_OPT_VERIFY_CLIENT},                                   \
	{                                                                      \
		"no-resume", no_argument, NULL, CLI_TLS_OPT_NO_RESUME          \
	}

struct cli_tls {
	bool on; /* --tls (or implied, as by an https:// URL) */
	const char *ca;
	const char *pins[SKT_TLS_PINS_MAX];
	size_t npins;
	bool insecure;
	const char *sni;
	bool no_sni;
	const char *alpn;
	const char *cert, *key;
	int min_version; /* 0 or SKT_TLS_1_* */
	const char *verify_client;
	bool no_resume;
	const char *first; /* the first TLS option given, for messages */
};

/* Take option ch with value arg when it is a TLS option: returns CLI_OK or
 * CLI_USAGE (a bad value, one usage line), or -1 when ch is not one. */
int cli_tls_option(struct cli_tls *t, const char *cmd, int ch, const char *arg);
/* The conflicts, for a command acting as role: options without --tls, a
 * client's --verify-client, a server's --sni/--no-sni/--pin/--insecure,
 * --key without --cert, --insecure with --pin, --sni with --no-sni.
 * Returns CLI_OK or CLI_USAGE after one usage line. */
int cli_tls_check(const struct cli_tls *t, const char *cmd, skt_tls_role role);

/* Make the context. A client with --insecure says so on stderr. A server
 * with no --cert gets an ephemeral self-signed identity for names (n of
 * them; none: localhost, 127.0.0.1, ::1) and prints its pin on stderr
 * ("sockit: CMD: TLS identity sha256:HEX (self-signed, ...)"), so a peer
 * can --pin it. Returns CLI_OK, or CLI_FAIL after one error line. */
int cli_tls_ctx(const struct cli_tls *t, const char *cmd, skt_tls_role role,
		const char *const *names, size_t n, skt_tls_ctx **out);
/* The SNI argument of skt_tls_new for these options: NULL (from the
 * host), "" (none), or --sni's name. */
const char *cli_tls_sni(const struct cli_tls *t);

/* Why a handshake on t failed with rc, in words, into buf of cap bytes:
 * the TLS reason ("certificate verify failed: self-signed certificate"),
 * else the error's, prefixed "tls handshake failed: " where the words
 * alone would not say TLS (a reset, a peer that closed, "wrong version
 * number"); "tls handshake timed out". t may be NULL. Returns buf. */
const char *cli_tls_why(const skt_tls *t, int rc, char *buf, size_t cap);
/* Run the handshake on fd (connected, non-blocking; it stays the
 * caller's) within timeout_ms (-1: none): a client checks host (NULL:
 * no name, as with a pin) and sends SNI as the options say; a server
 * passes host NULL. Returns CLI_OK with *out set, or CLI_FAIL after one
 * line "sockit: CMD: WHAT: why" (cli_tls_why), with nothing left. */
int cli_tls_handshake(const struct cli_tls *o, skt_tls_ctx *ctx,
		      const char *cmd, const char *what, int fd,
		      const char *host, int timeout_ms, skt_tls **out);
/* The names an ephemeral identity of a server listening on host names:
 * localhost, 127.0.0.1 and ::1, after host itself when it is neither
 * empty, a wildcard ("*", "0.0.0.0", "::") nor one of them. Returns how
 * many (at most 4) went into names. */
size_t cli_tls_listen_names(const char *host, const char *names[4]);

/* -v: the handshake on stderr, one "sockit: CMD: tls ..." line per
 * fact: version and cipher, ALPN, resumed, the peer's subject, issuer,
 * SAN, expiry and fingerprint, kernel TLS. */
void cli_tls_print_info(const char *cmd, const skt_tls_info *i);
/* The same as fields of an open JSON object: "tls_version",
 * "tls_cipher", "alpn", "resumed", "verified", "pinned", "subject",
 * "issuer", "san", "not_after", "days_left", "fingerprint", "spki",
 * "ktls_tx", "ktls_rx" (docs/json.md). */
void cli_tls_json_info(cli_json *j, const skt_tls_info *i);
/* Whole days from now until not_after (negative once expired). */
long cli_tls_days_left(const skt_tls_info *i);

#endif
