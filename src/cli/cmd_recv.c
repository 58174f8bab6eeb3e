/* cmd_recv.c - `sockit recv [--dir DIR] [HOST] PORT`: listen (loopback
 * unless HOST says otherwise, "*" for every address), take one transfer
 * from `sockit send` (or one after another with -k) into DIR, and exit 0
 * only when everything arrived and was verified (docs/transfer.md). */
#include "cmds.h"
#include "xfer_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_DIR = 256,
	OPT_OVERWRITE,
	OPT_NO_RESUME,
	OPT_MAX_SIZE,
	OPT_MAX_FILES,
	OPT_JSON,
	OPT_SECRET,
	OPT_SECRET_FILE
};

static int option(struct recv_opts *o, int ch, const char *arg)
{
	int rc = cli_tls_option(&o->tls, "recv", ch, arg);
	if (rc >= 0)
		return rc;
	switch (ch) {
	case OPT_SECRET:
	case OPT_SECRET_FILE:
		return xfer_secret_option(&o->secret, "recv",
					  ch == OPT_SECRET_FILE, arg);
	case '4':
		o->v4 = true;
		return CLI_OK;
	case '6':
		o->v6 = true;
		return CLI_OK;
	case 'k':
		o->keep = true;
		return CLI_OK;
	case 'q':
		o->quiet = true;
		return CLI_OK;
	case OPT_JSON:
		o->json = true;
		return CLI_OK;
	case OPT_DIR:
		o->dir = arg;
		return CLI_OK;
	case OPT_OVERWRITE:
		o->overwrite = true;
		return CLI_OK;
	case OPT_NO_RESUME:
		o->no_resume = true;
		return CLI_OK;
	case 'w':
		return cli_opt_duration("recv", "-w", arg, 1000, 1, 86400000,
					&o->timeout_ms);
	case OPT_MAX_SIZE:
		return cli_opt_size("recv", "--max-size", arg, 0, UINT64_MAX,
				    &o->max_size);
	case OPT_MAX_FILES:
		return cli_opt_count("recv", "--max-files", arg, 1, UINT64_MAX,
				     &o->max_files);
	}
	return CLI_USAGE;
}

int cmd_recv_parse(int argc, char **argv, struct recv_opts *o)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, OPT_DIR},
		{"overwrite", no_argument, NULL, OPT_OVERWRITE},
		{"no-resume", no_argument, NULL, OPT_NO_RESUME},
		{"max-size", required_argument, NULL, OPT_MAX_SIZE},
		{"max-files", required_argument, NULL, OPT_MAX_FILES},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"keep-open", no_argument, NULL, 'k'},
		{"secret", required_argument, NULL, OPT_SECRET},
		{"secret-file", required_argument, NULL, OPT_SECRET_FILE},
		/* cli_tls.h's server options; --no-resume is recv's own. */
		{"tls", no_argument, NULL, CLI_TLS_OPT_TLS},
		{"cert", required_argument, NULL, CLI_TLS_OPT_CERT},
		{"key", required_argument, NULL, CLI_TLS_OPT_KEY},
		{"tls-min", required_argument, NULL, CLI_TLS_OPT_MIN},
		{"verify-client", required_argument, NULL,
		 CLI_TLS_OPT_VERIFY_CLIENT},
		{NULL, 0, NULL, 0},
	};
	*o = (struct recv_opts){.dir = ".",
				.timeout_ms = 30000,
				.max_size = UINT64_MAX,
				.max_files = 1000000};
	cli_args a;
	cli_args_init(&a, "recv", argc, argv, "46kqw:", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		int rc = option(o, ch, a.arg);
		if (rc != CLI_OK)
			return rc;
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	int nops = argc - a.next;
	if (nops < 1 || nops > 2)
		return cli_usage_error("recv", "expected [HOST] PORT");
	o->host = nops == 2 ? argv[a.next] : NULL;
	o->port_text = argv[a.next + nops - 1];
	int rc = cli_opt_port("recv", "port", o->port_text, SOCK_STREAM,
			      SKT_PARSE_PORT_ZERO, &o->port);
	if (rc != CLI_OK)
		return rc;
	if (o->host != NULL && strcmp(o->host, "*") != 0) {
		skt_endpoint ep;
		if ((rc = cli_parse_host("recv", o->host, &ep)) != CLI_OK)
			return rc;
	}
	if ((rc = cli_tls_check(&o->tls, "recv", SKT_TLS_SERVER)) != CLI_OK)
		return rc;
	return cli_family("recv", o->v4, o->v6, &o->family);
}

static void print_listening(int fd)
{
	skt_addr me;
	char text[SKT_ADDRSTRLEN];
	if (skt_sock_local(fd, &me) < 0 ||
	    skt_addr_format(&me, text, sizeof(text)) < 0)
		return;
	/* Scripts wait for this line to learn the port: flush it now. */
	fprintf(stderr, "sockit: recv: listening on %s\n", text);
	fflush(stderr);
}

static int open_listeners(const struct recv_opts *o, int fds[2])
{
	char port[8];
	snprintf(port, sizeof(port), "%u", o->port);
	skt_listen_opts lo = {.family = o->family};
	fds[0] = fds[1] = -1;
	if (o->host == NULL)
		return skt_listen_loopback(port, &lo, fds);
	fds[0] = skt_listen(o->host, port, &lo);
	return fds[0] < 0 ? fds[0] : 1;
}

static int one(const struct recv_opts *o, skt_tls_ctx *ctx, int lfds[2], int n,
	       int dirfd)
{
	skt_addr peer;
	int fd = skt_accept_any(lfds, (size_t)n, &peer, SKT_TIMEOUT_NONE, NULL);
	if (fd < 0)
		return cli_fail("recv", "accept", fd);
	skt_tls *t = NULL;
	if (ctx != NULL) {
		char who[SKT_ADDRSTRLEN];
		if (skt_addr_format(&peer, who, sizeof(who)) < 0)
			snprintf(who, sizeof(who), "a client");
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		int rc = cli_tls_handshake(&o->tls, ctx, "recv", who, fd, NULL,
					   o->timeout_ms, &t);
		if (rc != CLI_OK) {
			skt_close(fd);
			return rc;
		}
	}
	xf_recv_opts ro = {
		.tls = t,
		.secret = o->secret.on ? o->secret.v : NULL,
		.secret_len = o->secret.len,
		.dirfd = dirfd,
		.overwrite = o->overwrite,
		.no_resume = o->no_resume,
		.max_size = o->max_size,
		.max_files = o->max_files,
		.timeout_ms = o->timeout_ms,
		.progress = !o->quiet && !o->json && isatty(2),
	};
	xf_stats st;
	int r = xf_recv(fd, &ro, &st);
	if (t != NULL && r == 0)
		skt_tls_shutdown(t, 2000); /* close_notify: the end is ours */
	skt_tls_free(t);
	skt_close(fd);
	return xfer_report("recv", r, &st, o->json, o->quiet, &peer);
}

static int run(int argc, char **argv)
{
	struct recv_opts o;
	int rc = cmd_recv_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	int dirfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return cli_fail("recv", o.dir, -errno);
	int lfds[2];
	int n = open_listeners(&o, lfds);
	if (n < 0) {
		close(dirfd);
		return cli_fail("recv", o.port_text, n);
	}
	skt_tls_ctx *ctx = NULL;
	if (o.tls.on) {
		const char *names[4];
		size_t nn = cli_tls_listen_names(o.host, names);
		if (cli_tls_ctx(&o.tls, "recv", SKT_TLS_SERVER, names, nn,
				&ctx) != CLI_OK) {
			for (int i = 0; i < n; i++)
				skt_close(lfds[i]);
			close(dirfd);
			return CLI_FAIL;
		}
	}
	for (int i = 0; i < n; i++)
		print_listening(lfds[i]);
	do {
		rc = one(&o, ctx, lfds, n, dirfd);
	} while (o.keep);
	skt_tls_ctx_free(ctx);
	for (int i = 0; i < n; i++)
		skt_close(lfds[i]);
	close(dirfd);
	return rc;
}

const cli_cmd cli_cmd_recv = {
	.name = "recv",
	.summary = "receive files and trees from sockit send, verified",
	.usage = "usage: sockit recv [options] [HOST] PORT\n"
		 "  Listen (loopback unless HOST is given; '*' for every "
		 "address),\n"
		 "  receive one transfer from `sockit send` into DIR and exit "
		 "0 only\n"
		 "  when everything arrived and was verified. A file cut short "
		 "stays\n"
		 "  as NAME.part (with NAME.part.sxf) for the next attempt to "
		 "resume.\n"
		 "  --dir DIR          where files land (default .)\n"
		 "  -k, --keep-open    one transfer after another\n"
		 "  --overwrite        replace files that exist\n"
		 "  --no-resume        start every .part over\n"
		 "  --max-size SIZE    refuse a transfer over SIZE bytes in "
		 "all\n"
		 "  --max-files N      refuse more than N entries "
		 "(1000000)\n"
		 "  --secret S         a pre-shared secret: both ends "
		 "authenticated,\n"
		 "                     every byte MACed (not encrypted)\n"
		 "  --secret-file F    the secret from a file\n"
		 "  --tls              over TLS; without --cert, an ephemeral "
		 "identity\n"
		 "                     whose pin goes to stderr (send --pin)\n"
		 "  --cert FILE        the identity (--key FILE)\n"
		 "  --tls-min 1.3      refuse TLS 1.2\n"
		 "  --verify-client CA require client certificates from CA\n"
		 "  -w SECS            idle timeout once connected (30)\n"
		 "  -4, -6             only IPv4 / only IPv6\n"
		 "  -q, --quiet        no progress, no summary\n"
		 "  --json             the summary as JSON on stdout\n",
	.run = run,
};
