/* xfer_cli.h - what sockit send and sockit recv share in the CLI: the
 * summary (a line on stderr, or --json's "transfer" object on stdout). */
#ifndef SOCKIT_CLI_XFER_CLI_H
#define SOCKIT_CLI_XFER_CLI_H

#include "cli.h"
#include "tools/xfer/xfer.h"

/* Print how a transfer went; returns CLI_OK when rc is 0, else CLI_FAIL
 * after "sockit: CMD: why" on stderr. quiet: no summary line on success. */
int xfer_report(const char *cmd, int rc, const xf_stats *st, bool json,
		bool quiet, const skt_addr *peer);

#endif
