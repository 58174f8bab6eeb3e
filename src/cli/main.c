/* main.c - `sockit CMD ...`: find the subcommand and run it. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The command table: each cmd_<name>.c defines its own entry. */
static const cli_cmd *const cmds[] = {
	&cli_cmd_resolve,  &cli_cmd_service,
	&cli_cmd_hostname, &cli_cmd_check,
	&cli_cmd_scan,     &cli_cmd_connect,
	&cli_cmd_listen,   &cli_cmd_serve,
	&cli_cmd_relay,    &cli_cmd_bench,
	&cli_cmd_http,     &cli_cmd_send,
	&cli_cmd_recv,     NULL,
};

const cli_cmd *cli_find(const char *name)
{
	for (size_t i = 0; cmds[i] != NULL; i++)
		if (strcmp(cmds[i]->name, name) == 0)
			return cmds[i];
	return NULL;
}

static void print_help(FILE *out)
{
	fputs("usage: sockit [--version] [--help] CMD [ARGS...]\n\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; cmds[i] != NULL; i++)
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(out, "  %-10s %s\n", "help",
		"this list; 'sockit help CMD': CMD's "
		"options");
	fputs("\n'sockit help CMD' or 'sockit CMD --help' shows a command's "
	      "options.\nExit status: 0 success, 1 failure, 2 usage error.\n",
	      out);
}

static int help(int argc, char **argv)
{
	/* "help help" asks about help itself: the list it explains. */
	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		print_help(stdout);
		return CLI_OK;
	}
	const cli_cmd *c = cli_find(argv[1]);
	if (c == NULL)
		return cli_usage_error("help", "unknown command '%s'", argv[1]);
	cli_print_usage(c, stdout);
	return CLI_OK;
}

/* A process started with fd 0, 1 or 2 closed (`sockit connect H P <&-`)
 * would get its first socket there: connect would relay the socket into
 * itself, a message would go to the peer. Put /dev/null in each hole, in
 * order, so open() fills the lowest one (as OpenBSD's and glibc's setuid
 * start-up does). Returns false when one cannot be filled. */
static bool fill_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nfd != fd) {
			if (nfd >= 0)
				close(nfd);
			return false;
		}
	}
	return true;
}

static int dispatch(int argc, char **argv)
{
	if (!fill_std_fds())
		return CLI_FAIL; /* nowhere safe to say why */
	/* The library never raises SIGPIPE (MSG_NOSIGNAL), but stdout may be a
	 * pipe whose reader left: report EPIPE instead of dying silently. */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		print_help(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_help(stdout);
		return CLI_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("sockit %s\n", skt_version());
		return CLI_OK;
	}
	if (strcmp(name, "help") == 0)
		return help(argc - 1, argv + 1);
	const cli_cmd *c = cli_find(name);
	if (c == NULL) {
		fprintf(stderr,
			"sockit: unknown command '%s' (see 'sockit --help')\n",
			name);
		return CLI_USAGE;
	}
	/* -h and --help are options like the others (cli_args_next): as
	 * the value of one ("--send -h"), they are only text. */
	int rc = c->run(argc - 1, argv + 1);
	if (rc == CLI_HELP) {
		cli_print_usage(c, stdout);
		return CLI_OK;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *name = argc >= 2 ? argv[1] : NULL;
	if (name != NULL && cli_find(name) == NULL)
		name = NULL; /* options, help, or an unknown command */
	return cli_finish_stdout(name, dispatch(argc, argv));
}
