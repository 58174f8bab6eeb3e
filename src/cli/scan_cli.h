/* scan_cli.h - what the files of `sockit scan` share: cmd_scan.c parses
 * and runs, scan_out.c keeps the results and writes them (the table,
 * JSON Lines, nmap's grepable and XML formats), scan_merge.c reads shard
 * outputs back. */
#ifndef SOCKIT_CLI_SCAN_H
#define SOCKIT_CLI_SCAN_H

#include "cmds.h"

#include <stdio.h>

/* One result as the outputs need it: 56 bytes, so that a scan can keep
 * every result of a /16 x 16 ports in about 60 MB. */
typedef struct scan_rec {
	uint8_t ip[16]; /* IPv4 as ::ffff:a.b.c.d: sorts as targets do */
	uint16_t port;
	uint8_t state; /* skt_port_state */
	uint8_t tries;
	bool self_connect;
	bool banner_probed;
	int err;
	int32_t rtt_us;
	char *banner;     /* escaped text, heap; NULL when none */
	char *tls;        /* the certificate's subject (--banner), heap */
	const char *name; /* the name the address came from, or NULL */
} scan_rec;

/* What a scan (or a shard file) says of itself: its header. */
typedef struct scan_meta {
	uint64_t fingerprint;
	uint64_t seed;
	bool random;
	uint32_t shard, shards; /* 1-based shard of shards */
	uint64_t space;         /* targets x ports */
	uint64_t ntargets;
	uint32_t nports;
	int socktype;
	uint64_t start, len; /* exponents: where this run began, the shard's */
} scan_meta;

/* The end of a run: its summary. */
typedef struct scan_end {
	uint64_t pos; /* the resume position: every exponent before it done */
	bool stopped;
	skt_scan_stats st;
} scan_end;

/* Names typed as targets and the addresses they gave, for printing. */
typedef struct scan_name {
	uint8_t ip[16];
	const char *name;
} scan_name;

/* The target set being built (scan_targets.c). */
typedef struct scan_build {
	struct scan_opts *o;
	skt_targets *t;
	scan_name *names;
	size_t nnames, cap;
	char **owned; /* name strings, heap */
	size_t nowned;
} scan_build;

/* Build b->t from b->o's operands, files and exclusions, finished; names
 * resolved. Returns CLI_OK, or CLI_USAGE / CLI_FAIL after a message.
 * Free with scan_build_free, whatever it returned. */
int scan_build_targets(scan_build *b);
void scan_build_free(scan_build *b);
/* qsort/bsearch order of scan_name by address. */
int scan_name_cmp(const void *a, const void *b);

/* Results kept for the table and the files, sorted by address and port
 * at the end. keep_all false keeps open ports only (a space too big to
 * keep), counting the rest. */
typedef struct scan_report {
	const struct scan_opts *o;
	scan_meta meta;
	scan_rec *v;
	size_t n, cap;
	bool keep_all;
	size_t count[SKT_PORT_STATE_COUNT_];
	size_t total;
	scan_end end;
	int64_t t0_wall; /* seconds since the epoch, at the start */
	bool failed;     /* out of memory while keeping results */
} scan_report;

void scan_rec_of(scan_rec *rec, const skt_scan_result *r);
void scan_rec_addr(const scan_rec *rec, skt_addr *a);
void scan_rec_free(scan_rec *rec);
/* Escape n bytes as C does ("\r\n", "\x00"), NUL-terminated, heap. */
char *scan_escape(const uint8_t *b, size_t n);

void scan_report_init(scan_report *R, const struct scan_opts *o,
		      const scan_meta *meta, bool keep_all);
/* Keep rec (its strings move into the report); also prints its JSON line
 * with --json. Returns 0, or SKT_ENOMEM (the record is then freed). */
int scan_report_add(scan_report *R, scan_rec *rec);
/* The JSON header line ("scan"), with --json. */
void scan_report_header(const scan_report *R);
/* Sort, print the table (or the JSON summary) and write -oG / -oX.
 * Returns CLI_OK or CLI_FAIL (a file that cannot be written). */
int scan_report_finish(scan_report *R);
void scan_report_free(scan_report *R);

/* scan_nmap.c: R's sorted results in nmap's formats, into path ("-":
 * stdout). Return CLI_OK, or CLI_FAIL after a message. */
int scan_write_grep(const scan_report *R, const char *path);
int scan_write_xml(const scan_report *R, const char *path);

/* `sockit scan --merge FILE...`: returns CLI_OK, CLI_FAIL, CLI_USAGE. */
int scan_merge(const struct scan_opts *o);

#endif
