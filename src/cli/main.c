/* main.c - `sockit CMD ...`: find the subcommand and run it. */
#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>

const cli_cmd cli_cmds[] = {
	{"resolve", "look up a name's addresses, or an address's name",
	 "usage: sockit resolve [-4|-6] [--json] NAME|ADDRESS\n"
	 "  Print every address of NAME in the order the system would try\n"
	 "  them, with family and canonical name; for an ADDRESS, its name.\n"
	 "  -4, -6     only IPv4 / only IPv6 addresses\n"
	 "  --json     one JSON object per line\n",
	 cmd_resolve},
	{"service", "service name <-> port",
	 "usage: sockit service [-u] NAME|PORT\n"
	 "  `http` -> `http 80/tcp`; `53 -u` -> `domain 53/udp`.\n"
	 "  -u         UDP instead of TCP\n",
	 cmd_service},
	{"hostname", "print this host's name",
	 "usage: sockit hostname [--fqdn]\n"
	 "  --fqdn     the fully qualified name (may ask the resolver)\n",
	 cmd_hostname},
	{NULL, NULL, NULL, NULL},
};

const cli_cmd *cli_find(const char *name)
{
	for (const cli_cmd *c = cli_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void cli_print_usage(const cli_cmd *c, FILE *out)
{
	fputs(c->usage, out);
}

int cli_fail(const char *cmd, const char *what, int err)
{
	fprintf(stderr, "sockit: %s: %s: %s\n", cmd, what, skt_strerror(err));
	return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sockit: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sockit help %s')\n", cmd);
	return CLI_USAGE;
}

void cli_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_help(FILE *out)
{
	fputs("usage: sockit [--version] [--help] CMD [ARGS...]\n\n"
	      "commands:\n", out);
	for (const cli_cmd *c = cli_cmds; c->name != NULL; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\n'sockit help CMD' or 'sockit CMD --help' shows a command's "
	      "options.\nExit status: 0 success, 1 failure, 2 usage error.\n",
	      out);
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stdout);
		return CLI_OK;
	}
	const cli_cmd *c = cli_find(argv[1]);
	if (c == NULL)
		return cli_usage_error("help", "unknown command '%s'", argv[1]);
	cli_print_usage(c, stdout);
	return CLI_OK;
}

int main(int argc, char **argv)
{
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
		fprintf(stderr, "sockit: unknown command '%s' (see 'sockit --help')\n",
			name);
		return CLI_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_print_usage(c, stdout);
			return CLI_OK;
		}
	}
	return c->run(argc - 1, argv + 1);
}
