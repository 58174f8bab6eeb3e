/* cmd_send.c - `sockit send HOST PORT FILE|DIR...`: send files and trees
 * to `sockit recv` (docs/transfer.md). Exit 0 only when the receiver
 * acknowledged everything, verified. */
#include "cmds.h"
#include "xfer_cli.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum { OPT_VERIFY = 256, OPT_CHUNK, OPT_JSON, OPT_SECRET, OPT_SECRET_FILE };

static int validate(struct send_opts *o)
{
	if (o->npaths == 0)
		return cli_usage_error("send", "no FILE or DIR to send");
	int rc = cli_tls_check(&o->tls, "send", SKT_TLS_CLIENT);
	if (rc != CLI_OK)
		return rc;
	return cli_family("send", o->v4, o->v6, &o->family);
}

int cmd_send_parse(int argc, char **argv, struct send_opts *o)
{
	static const struct option longopts[] = {
		{"verify", required_argument, NULL, OPT_VERIFY},
		{"chunk", required_argument, NULL, OPT_CHUNK},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"secret", required_argument, NULL, OPT_SECRET},
		{"secret-file", required_argument, NULL, OPT_SECRET_FILE},
		/* cli_tls.h's, less the server's and --no-resume. */
		{"tls", no_argument, NULL, CLI_TLS_OPT_TLS},
		{"ca", required_argument, NULL, CLI_TLS_OPT_CA},
		{"pin", required_argument, NULL, CLI_TLS_OPT_PIN},
		{"insecure", no_argument, NULL, CLI_TLS_OPT_INSECURE},
		{"sni", required_argument, NULL, CLI_TLS_OPT_SNI},
		{"no-sni", no_argument, NULL, CLI_TLS_OPT_NO_SNI},
		{"cert", required_argument, NULL, CLI_TLS_OPT_CERT},
		{"key", required_argument, NULL, CLI_TLS_OPT_KEY},
		{"tls-min", required_argument, NULL, CLI_TLS_OPT_MIN},
		{NULL, 0, NULL, 0},
	};
	*o = (struct send_opts){.alg = XF_ALG_XXH3,
				.chunk = XF_CHUNK_DEFAULT,
				.timeout_ms = 30000};
	cli_args a;
	cli_args_init(&a, "send", argc, argv, "46qw:", longopts);
	int ch, rc;
	uint64_t v;
	while ((ch = cli_args_next(&a)) >= 0) {
		rc = cli_tls_option(&o->tls, "send", ch, a.arg);
		if (rc >= 0) {
			if (rc != CLI_OK)
				return rc;
			continue;
		}
		switch (ch) {
		case OPT_SECRET:
		case OPT_SECRET_FILE:
			rc = xfer_secret_option(&o->secret, "send",
						ch == OPT_SECRET_FILE, a.arg);
			if (rc != CLI_OK)
				return rc;
			break;
		case '4':
			o->v4 = true;
			break;
		case '6':
			o->v6 = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'w':
			rc = cli_opt_duration("send", "-w", a.arg, 1000, 1,
					      86400000, &o->timeout_ms);
			if (rc != CLI_OK)
				return rc;
			break;
		case OPT_VERIFY:
			o->alg = xf_alg_parse(a.arg);
			if (o->alg < 0)
				return cli_usage_error(
					"send",
					"--verify '%s': expected xxh3, "
					"sha256 or none",
					a.arg);
			break;
		case OPT_CHUNK:
			rc = cli_opt_size("send", "--chunk", a.arg,
					  XF_CHUNK_MIN, XF_CHUNK_MAX, &v);
			if (rc != CLI_OK)
				return rc;
			if ((v & (v - 1)) != 0)
				return cli_usage_error(
					"send",
					"--chunk %s: expected a power of two",
					a.arg);
			o->chunk = (uint32_t)v;
			break;
		}
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	int nops = argc - a.next;
	if (nops < 2)
		return cli_usage_error("send", "expected HOST PORT FILE...");
	rc = cli_parse_target("send", 2, argv + a.next, 0, SOCK_STREAM, &o->ep);
	if (rc != CLI_OK)
		return rc;
	o->paths = argv + a.next + 2;
	o->npaths = (size_t)(nops - 2);
	return validate(o);
}

static int run(int argc, char **argv)
{
	struct send_opts o;
	int rc = cmd_send_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.family = o.family;
	co.timeout_ms = o.timeout_ms;
	int fd = skt_endpoint_connect(&o.ep, &co);
	if (fd < 0) {
		char target[SKT_ADDRSTRLEN + SKT_HOST_MAX];
		snprintf(target, sizeof(target), "%s %s", o.ep.host,
			 o.ep.service);
		return cli_fail("send", target, fd);
	}
	skt_tls *t = NULL;
	if (o.tls.on) {
		char target[SKT_ADDRSTRLEN + SKT_HOST_MAX];
		snprintf(target, sizeof(target), "%s %s", o.ep.host,
			 o.ep.service);
		/* A pin or --insecure stands for the name check. */
		const char *host = o.tls.npins > 0 || o.tls.insecure ? NULL
				   : o.ep.host[0] != '\0'            ? o.ep.host
							  : "localhost";
		skt_tls_ctx *ctx;
		rc = cli_tls_ctx(&o.tls, "send", SKT_TLS_CLIENT, NULL, 0, &ctx);
		if (rc == CLI_OK) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			rc = cli_tls_handshake(&o.tls, ctx, "send", target, fd,
					       host, o.timeout_ms, &t);
		}
		skt_tls_ctx_free(ctx);
		if (rc != CLI_OK) {
			skt_close(fd);
			return rc;
		}
	}
	xf_send_opts so = {
		.tls = t,
		.secret = o.secret.on ? o.secret.v : NULL,
		.secret_len = o.secret.len,
		.alg = o.alg,
		.chunk = o.chunk,
		.timeout_ms = o.timeout_ms,
		.progress = !o.quiet && !o.json && isatty(2),
		.paths = o.paths,
		.npaths = o.npaths,
	};
	xf_stats st;
	skt_addr peer;
	bool have_peer = skt_sock_peer(fd, &peer) == 0;
	int r = xf_send(fd, &so, &st);
	if (t != NULL && r == 0)
		skt_tls_shutdown(t, 2000); /* after the ACK: only politeness */
	skt_tls_free(t);
	skt_close(fd);
	return xfer_report("send", r, &st, o.json, o.quiet,
			   have_peer ? &peer : NULL);
}

const cli_cmd cli_cmd_send = {
	.name = "send",
	.summary = "send files and trees to sockit recv, verified",
	.usage =
		"usage: sockit send [options] HOST PORT FILE|DIR...\n"
		"  Send files and whole trees (modes, mtimes, empty "
		"directories,\n"
		"  symlinks as links) to `sockit recv`; exit 0 only when the "
		"receiver\n"
		"  has acknowledged every byte, verified. Rerunning after a "
		"failure\n"
		"  resumes from the first chunk the receiver has not "
		"verified.\n"
		"  --verify ALG       xxh3 (default: XXH3-128), sha256 or "
		"none\n"
		"  --chunk SIZE       chunk size, a power of two, 4k..16M "
		"(1M)\n"
		"  --secret S         a pre-shared secret: both ends "
		"authenticated,\n"
		"                     every byte MACed (not encrypted)\n"
		"  --secret-file F    the secret from a file\n"
		"  --tls              over TLS, verified as by connect --tls:\n"
		"  --pin sha256:HEX   the pin recv --tls prints\n"
		"  --ca FILE|DIR      trust these CAs\n"
		"  --insecure         no verification (said on stderr)\n"
		"  --sni NAME         (--no-sni) the name sent in SNI\n"
		"  --cert FILE        a client certificate (--key FILE)\n"
		"  --tls-min 1.3      refuse TLS 1.2\n"
		"  -w SECS            connect and idle timeout (30)\n"
		"  -4, -6             only IPv4 / only IPv6\n"
		"  -q, --quiet        no progress, no summary\n"
		"  --json             the summary as JSON on stdout\n",
	.run = run,
};
