/* cli_tls.c - the TLS options of connect, listen, serve, check and bench:
 * parsed, checked for conflicts, made into a context, and a handshake's
 * outcome shown (cli_tls.h). */
#include "cli_tls.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void seen(struct cli_tls *t, const char *opt)
{
	if (t->first == NULL)
		t->first = opt;
}

int cli_tls_option(struct cli_tls *t, const char *cmd, int ch, const char *arg)
{
	switch (ch) {
	case CLI_TLS_OPT_TLS:
		t->on = true;
		return CLI_OK;
	case CLI_TLS_OPT_CA:
		seen(t, "--ca");
		t->ca = arg;
		return CLI_OK;
	case CLI_TLS_OPT_PIN:
		seen(t, "--pin");
		if (t->npins == SKT_TLS_PINS_MAX)
			return cli_usage_error(cmd, "--pin: at most %d pins",
					       SKT_TLS_PINS_MAX);
		t->pins[t->npins++] = arg;
		return CLI_OK;
	case CLI_TLS_OPT_INSECURE:
		seen(t, "--insecure");
		t->insecure = true;
		return CLI_OK;
	case CLI_TLS_OPT_SNI:
		seen(t, "--sni");
		if (arg[0] == '\0' || strlen(arg) > 255)
			return cli_usage_error(cmd,
					       "--sni '%s': expected a host "
					       "name of 1 to 255 bytes",
					       arg);
		t->sni = arg;
		return CLI_OK;
	case CLI_TLS_OPT_NO_SNI:
		seen(t, "--no-sni");
		t->no_sni = true;
		return CLI_OK;
	case CLI_TLS_OPT_ALPN:
		seen(t, "--alpn");
		t->alpn = arg;
		return CLI_OK;
	case CLI_TLS_OPT_CERT:
		seen(t, "--cert");
		t->cert = arg;
		return CLI_OK;
	case CLI_TLS_OPT_KEY:
		seen(t, "--key");
		t->key = arg;
		return CLI_OK;
	case CLI_TLS_OPT_MIN:
		seen(t, "--tls-min");
		if (strcmp(arg, "1.2") == 0)
			t->min_version = SKT_TLS_1_2;
		else if (strcmp(arg, "1.3") == 0)
			t->min_version = SKT_TLS_1_3;
		else
			return cli_usage_error(cmd,
					       "--tls-min '%s': expected 1.2 "
					       "or 1.3",
					       arg);
		return CLI_OK;
	case CLI_TLS_OPT_VERIFY_CLIENT:
		seen(t, "--verify-client");
		t->verify_client = arg;
		return CLI_OK;
	case CLI_TLS_OPT_NO_RESUME:
		seen(t, "--no-resume");
		t->no_resume = true;
		return CLI_OK;
	default:
		return -1;
	}
}

int cli_tls_check(const struct cli_tls *t, const char *cmd, skt_tls_role role)
{
	if (!t->on && t->first != NULL)
		return cli_usage_error(cmd, "%s needs --tls", t->first);
	if (!t->on)
		return CLI_OK;
	if (t->key != NULL && t->cert == NULL)
		return cli_usage_error(cmd, "--key needs --cert");
	if (t->insecure && t->npins > 0)
		return cli_usage_error(cmd, "--insecure and --pin conflict: a "
					    "pin is a verification");
	if (t->sni != NULL && t->no_sni)
		return cli_usage_error(cmd, "--sni and --no-sni conflict");
	if (role == SKT_TLS_CLIENT && t->verify_client != NULL)
		return cli_usage_error(cmd, "--verify-client is for servers");
	if (role == SKT_TLS_SERVER) {
		const char *bad = t->sni != NULL  ? "--sni"
				  : t->no_sni     ? "--no-sni"
				  : t->npins > 0  ? "--pin"
				  : t->insecure   ? "--insecure"
				  : t->ca != NULL ? "--ca"
						  : NULL;
		if (bad != NULL)
			return cli_usage_error(cmd,
					       "%s is for clients (a server "
					       "verifies clients with "
					       "--verify-client CA)",
					       bad);
	}
	return CLI_OK;
}

/* --ca names a PEM bundle or a c_rehash'ed directory. */
static void set_trust(skt_tls_opts *o, const char *ca)
{
	struct stat st;
	if (ca != NULL && stat(ca, &st) == 0 && S_ISDIR(st.st_mode))
		o->ca_dir = ca;
	else
		o->ca_file = ca;
}

static int ephemeral(const char *cmd, const char *const *names, size_t n,
		     skt_tls_id **id)
{
	static const char *const loopback[] = {"localhost", "127.0.0.1", "::1"};
	if (n == 0) {
		names = loopback;
		n = sizeof(loopback) / sizeof(loopback[0]);
	}
	int rc = skt_tls_selfsigned(id, names, n, 0);
	if (rc < 0)
		return cli_fail(cmd, "TLS identity", rc);
	char pin[SKT_TLS_PIN_STRLEN];
	skt_tls_id_fingerprint(*id, pin);
	fprintf(stderr,
		"sockit: %s: TLS identity %s (self-signed for %s%s, "
		"30 days; clients: --pin %s)\n",
		cmd, pin, names[0], n > 1 ? " and more" : "", pin);
	return CLI_OK;
}

/* A file the options name must be there to be read: OpenSSL's own word
 * for a missing one is "system lib". */
static int readable(const char *cmd, const char *opt, const char *path)
{
	if (path == NULL || access(path, R_OK) == 0)
		return CLI_OK;
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "%s %s", opt, path);
	return cli_fail(cmd, what, -errno);
}

int cli_tls_ctx(const struct cli_tls *t, const char *cmd, skt_tls_role role,
		const char *const *names, size_t n, skt_tls_ctx **out)
{
	skt_tls_opts o = {.role = role};
	skt_tls_id *id = NULL;
	*out = NULL;
	if (readable(cmd, "--ca", role == SKT_TLS_CLIENT ? t->ca : NULL) ||
	    readable(cmd, "--verify-client", t->verify_client) ||
	    readable(cmd, "--cert", t->cert) || readable(cmd, "--key", t->key))
		return CLI_FAIL;
	if (role == SKT_TLS_CLIENT) {
		set_trust(&o, t->ca);
		for (size_t i = 0; i < t->npins; i++)
			o.pins[i] = t->pins[i];
		o.npins = t->npins;
		o.insecure = t->insecure;
	} else {
		set_trust(&o, t->verify_client);
		o.client_auth = t->verify_client != NULL
					? SKT_TLS_CLIENT_AUTH_REQUIRE
					: SKT_TLS_CLIENT_AUTH_NONE;
		if (t->cert == NULL && ephemeral(cmd, names, n, &id) != CLI_OK)
			return CLI_FAIL;
		o.id = id;
	}
	o.cert_file = t->cert;
	o.key_file = t->key != NULL ? t->key : t->cert;
	o.min_version = t->min_version;
	o.alpn = t->alpn;
	o.no_tickets = t->no_resume;
	int rc = skt_tls_ctx_new(out, &o);
	skt_tls_id_free(id); /* the context holds its own references */
	if (rc < 0) {
		const char *why = skt_tls_ctx_error();
		return cli_fail_why(cmd, "TLS", rc,
				    why[0] != '\0' ? why : NULL);
	}
	if (role == SKT_TLS_CLIENT && t->insecure)
		fprintf(stderr,
			"sockit: %s: --insecure: the peer's "
			"certificate is not verified; anyone on the path "
			"can read and change this connection\n",
			cmd);
	return CLI_OK;
}

const char *cli_tls_sni(const struct cli_tls *t)
{
	return t->no_sni ? "" : t->sni;
}

const char *cli_tls_why(const skt_tls *t, int rc, char *buf, size_t cap)
{
	const char *reason = t != NULL ? skt_tls_reason(t) : "";
	if (rc == SKT_ETIMEDOUT) {
		snprintf(buf, cap, "tls handshake timed out");
		return buf;
	}
	if (rc == SKT_ETRUNCATED)
		reason = "the peer closed the connection";
	else if (reason[0] == '\0')
		reason = skt_strerror(rc);
	/* "certificate verify failed: ..." says TLS; "connection reset by
	 * peer" or "wrong version number" alone would not. */
	if (strncmp(reason, "certificate", 11) == 0 ||
	    strncmp(reason, "the peer's certificate", 22) == 0 ||
	    strcmp(reason, skt_strerror(SKT_ETLS)) == 0)
		snprintf(buf, cap, "%s", reason);
	else
		snprintf(buf, cap, "tls handshake failed: %s", reason);
	return buf;
}

int cli_tls_handshake(const struct cli_tls *o, skt_tls_ctx *ctx,
		      const char *cmd, const char *what, int fd,
		      const char *host, int timeout_ms, skt_tls **out)
{
	*out = NULL;
	skt_tls *t;
	int rc = skt_tls_new(&t, ctx, fd, host, cli_tls_sni(o));
	if (rc < 0)
		return cli_fail_why(cmd, what, rc, "tls: bad host name or SNI");
	rc = skt_tls_handshake(t, timeout_ms);
	if (rc < 0) {
		char why[320];
		cli_tls_why(t, rc, why, sizeof(why));
		skt_tls_free(t);
		return cli_fail_why(cmd, what, rc, why);
	}
	*out = t;
	return CLI_OK;
}

size_t cli_tls_listen_names(const char *host, const char *names[4])
{
	static const char *const loopback[] = {"localhost", "127.0.0.1", "::1"};
	size_t n = 0;
	bool own = host != NULL && host[0] != '\0' && strcmp(host, "*") != 0 &&
		   strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0;
	for (size_t i = 0; own && i < 3; i++)
		own = strcmp(host, loopback[i]) != 0;
	if (own)
		names[n++] = host;
	for (size_t i = 0; i < 3; i++)
		names[n++] = loopback[i];
	return n;
}

long cli_tls_days_left(const skt_tls_info *i)
{
	int64_t left = i->not_after - (int64_t)time(NULL);
	/* Round towards minus infinity: a certificate expired an hour ago is
	 * at -1 days, not 0. */
	return (long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
}

static void utc(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
}

void cli_tls_print_info(const char *cmd, const skt_tls_info *i)
{
	fprintf(stderr, "sockit: %s: tls %s %s%s%s%s\n", cmd, i->version_name,
		i->cipher, i->alpn[0] ? ", alpn " : "", i->alpn,
		i->resumed ? ", resumed" : "");
	if (i->peer_cert) {
		char when[32];
		utc(i->not_after, when, sizeof(when));
		fprintf(stderr, "sockit: %s: tls subject %s\n", cmd,
			i->subject);
		fprintf(stderr, "sockit: %s: tls issuer %s\n", cmd, i->issuer);
		if (i->san[0] != '\0')
			fprintf(stderr, "sockit: %s: tls san %s\n", cmd,
				i->san);
		fprintf(stderr, "sockit: %s: tls expires %s (%ld days)\n", cmd,
			when, cli_tls_days_left(i));
		fprintf(stderr, "sockit: %s: tls fingerprint %s\n", cmd,
			i->fingerprint);
		fprintf(stderr, "sockit: %s: tls key %s\n", cmd, i->spki);
	}
	fprintf(stderr, "sockit: %s: tls %s, kernel tls tx %s rx %s\n", cmd,
		i->pinned      ? "pinned"
		: i->verified  ? "verified"
		: i->peer_cert ? "not verified"
			       : "no peer certificate",
		i->ktls_tx ? "on" : "off", i->ktls_rx ? "on" : "off");
}

void cli_tls_json_info(cli_json *j, const skt_tls_info *i)
{
	cli_json_text(j, "tls_version", i->version_name);
	cli_json_text(j, "tls_cipher", i->cipher);
	if (i->alpn[0] != '\0')
		cli_json_text(j, "alpn", i->alpn);
	else
		cli_json_null(j, "alpn");
	cli_json_bool(j, "resumed", i->resumed);
	cli_json_bool(j, "verified", i->verified);
	cli_json_bool(j, "pinned", i->pinned);
	if (i->peer_cert) {
		char when[32];
		utc(i->not_after, when, sizeof(when));
		cli_json_text(j, "subject", i->subject);
		cli_json_text(j, "issuer", i->issuer);
		cli_json_text(j, "san", i->san);
		cli_json_text(j, "not_after", when);
		cli_json_int(j, "days_left", cli_tls_days_left(i));
		cli_json_text(j, "fingerprint", i->fingerprint);
		cli_json_text(j, "spki", i->spki);
	}
	cli_json_bool(j, "ktls_tx", i->ktls_tx);
	cli_json_bool(j, "ktls_rx", i->ktls_rx);
}
