/* bench_tls.c - `sockit bench` over TLS, the command's side: where TLS
 * can go, the context every connection's session comes from (cli_tls),
 * and one handshake before the run, as `sockit connect --tls` makes it: a
 * server the options do not trust (a wrong pin, another name, an expired
 * certificate, no common version) fails there, exit 1, with the reason in
 * one line, rather than as a run of counted errors. A server that does
 * not accept is left to the run, which counts what it does. What the
 * handshake agreed on goes in the report. The handshakes of the run are
 * the engine's (src/tools/bench/tls.c). */
#include "cmds.h"

/* The TLS options (cli_tls's checks), and where TLS can go: a stream,
 * with a name to check or a pin (a Unix socket has no host name). */
int bench_cli_tls_check(const struct bench_cli *b)
{
	if (cli_tls_check(&b->tls, "bench", SKT_TLS_CLIENT) != CLI_OK)
		return CLI_USAGE;
	if (!b->tls.on)
		return CLI_OK;
	if (b->o.udp)
		return cli_usage_error("bench", "--tls needs a stream: not "
						"with --udp");
	if (b->ep.kind == SKT_EP_UNIX && b->tls.sni == NULL &&
	    b->tls.npins == 0 && !b->tls.insecure)
		return cli_usage_error("bench",
				       "--tls to a Unix socket: no host name "
				       "to check; give --sni NAME, --pin or "
				       "--insecure");
	return CLI_OK;
}

/* The name the server's certificate must hold: the host given, or for a
 * Unix socket --sni's (NULL with a pin or --insecure). */
static const char *tls_host(const struct bench_cli *b)
{
	return b->ep.kind == SKT_EP_INET ? b->ep.host : b->tls.sni;
}

int bench_cli_tls_context(struct bench_cli *b)
{
	if (cli_tls_ctx(&b->tls, "bench", SKT_TLS_CLIENT, NULL, 0, &b->o.tls) !=
	    CLI_OK)
		return CLI_FAIL;
	b->o.tls_host = tls_host(b);
	b->o.tls_sni = cli_tls_sni(&b->tls);
	b->t.tls = true;
	b->t.resumption = !b->tls.no_resume;
	return CLI_OK;
}

int bench_cli_tls_probe(struct bench_cli *b)
{
	int ms = (int)b->o.timeout_ms;
	int fd = skt_connect_one(&b->o.target, SOCK_STREAM, ms);
	if (fd < 0)
		return CLI_OK;
	skt_tls *t;
	int rc = cli_tls_handshake(&b->tls, b->o.tls, "bench", b->t.text, fd,
				   b->o.tls_host, ms, &t);
	if (rc == CLI_OK) {
		b->t.tls_probed = skt_tls_get_info(t, &b->t.tls_info) == 0;
		skt_tls_shutdown(t, 0);
		skt_tls_free(t);
	}
	skt_close(fd);
	return rc;
}
