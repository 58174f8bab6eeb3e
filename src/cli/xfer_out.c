/* xfer_out.c - the summary of a transfer (docs/json.md, "send and recv"). */
#include "json.h"
#include "xfer_cli.h"

#include "cmds.h"
#include "tools/xfer/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A secret from a file: its bytes, less one trailing newline (echo adds
 * one). */
static int secret_file(struct xfer_secret *s, const char *cmd, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cli_fail(cmd, path, -errno);
	size_t n = 0;
	ssize_t r;
	uint8_t extra;
	while (n < sizeof(s->v) &&
	       (r = read(fd, s->v + n, sizeof(s->v) - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			close(fd);
			return cli_fail(cmd, path, e);
		}
		n += (size_t)r;
	}
	bool more = n == sizeof(s->v) && read(fd, &extra, 1) > 0;
	close(fd);
	if (n > 0 && s->v[n - 1] == '\n')
		n--;
	if (n > 0 && s->v[n - 1] == '\r')
		n--;
	if (more || n == 0)
		return cli_usage_error(cmd,
				       "--secret-file %s: expected 1 to %d "
				       "bytes",
				       path, XF_SECRET_MAX);
	s->len = n;
	return CLI_OK;
}

int xfer_secret_option(struct xfer_secret *s, const char *cmd, bool file,
		       const char *arg)
{
	if (s->on)
		return cli_usage_error(cmd, "one --secret or --secret-file");
	s->on = true;
	s->first = file ? "--secret-file" : "--secret";
	if (file)
		return secret_file(s, cmd, arg);
	size_t n = strlen(arg);
	if (n == 0 || n > sizeof(s->v))
		return cli_usage_error(cmd, "--secret: expected 1 to %d bytes",
				       XF_SECRET_MAX);
	memcpy(s->v, arg, n);
	s->len = n;
	return CLI_OK;
}

int xfer_report(const char *cmd, int rc, const xf_stats *st, bool json,
		bool quiet, const skt_addr *peer)
{
	int hl = xf_alg_hash_len(st->alg);
	char root[2 * XF_HASH_MAX + 1] = "";
	if (hl > 0)
		xf_hex(st->root, (size_t)hl, root);
	double rate = st->seconds > 0 ? (double)st->moved / st->seconds : 0;
	if (json) {
		cli_json j;
		cli_json_begin(&j, stdout, "transfer");
		cli_json_text(&j, "command", cmd);
		if (peer != NULL)
			cli_json_addr(&j, "peer", peer);
		cli_json_uint(&j, "files", st->files);
		cli_json_uint(&j, "bytes", st->bytes);
		cli_json_uint(&j, "moved_bytes", st->moved);
		cli_json_uint(&j, "resumed_bytes", st->resumed);
		cli_json_uint(&j, "skipped", st->skipped);
		cli_json_secs(&j, "elapsed_s", st->seconds);
		cli_json_num(&j, "bytes_per_s", rate, 0);
		cli_json_text(&j, "hash", xf_alg_name(st->alg));
		cli_json_text(&j, "root_hash", rc == 0 && hl > 0 ? root : NULL);
		cli_json_bool(&j, "verified", rc == 0 && hl > 0);
		cli_json_bool(&j, "tls", st->tls);
		cli_json_bool(&j, "authenticated", rc == 0 && st->secret);
		if (rc == 0)
			cli_json_null(&j, "error");
		else
			cli_json_error_why(&j, "error",
					   st->verify_failed || st->auth_failed
						   ? SKT_EMALFORMED
						   : SKT_EIO,
					   NULL, st->err);
		cli_json_end(&j);
		cli_flush(stdout);
	}
	if (rc != 0) {
		fprintf(stderr, "sockit: %s: %s\n", cmd, st->err);
		return CLI_FAIL;
	}
	if (!quiet && !json)
		fprintf(stderr,
			"sockit: %s: %llu entries, %llu bytes (%llu resumed) "
			"in %.3f s, %.1f MB/s, %s%s\n",
			cmd, (unsigned long long)st->files,
			(unsigned long long)st->bytes,
			(unsigned long long)st->resumed, st->seconds,
			rate / 1e6,
			hl > 0 ? "verified " : "not verified (--verify none)",
			hl > 0 ? xf_alg_name(st->alg) : "");
	if (!quiet && !json && hl > 0)
		fprintf(stderr, "sockit: %s: root %s\n", cmd, root);
	return CLI_OK;
}
