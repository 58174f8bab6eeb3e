/* scan_targets.c - the target set of `sockit scan`: operands, -iL and
 * --exclude-file lines, --exclude lists, names resolved (every address
 * with --all-addresses, the others named as not scanned), -4 / -6 as
 * exclusions of the other family; into the library's skt_targets. */
#include "scan_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int name_keep(scan_build *b, const skt_addr *a, const char *name)
{
	if (b->nnames == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		scan_name *v = realloc(b->names, cap * sizeof(*v));
		if (v == NULL)
			return SKT_ENOMEM;
		b->names = v;
		b->cap = cap;
	}
	scan_rec r;
	skt_scan_result res = {.addr = *a};
	scan_rec_of(&r, &res);
	memcpy(b->names[b->nnames].ip, r.ip, 16);
	b->names[b->nnames++].name = name;
	return 0;
}

static void print_others(struct scan_opts *o, const char *name,
			 const skt_addrlist *l)
{
	if (l->n < 2 || o->all_addresses)
		return;
	for (size_t i = 1; i < l->n && o->nothers < 16; i++)
		skt_addr_format_host(&l->addrs[i], o->others[o->nothers++],
				     SKT_ADDRSTRLEN);
	if (o->json)
		return;
	printf("# other addresses for %s (not scanned):", name);
	for (size_t i = 1; i < l->n; i++) {
		char host[SKT_ADDRSTRLEN];
		skt_addr_format_host(&l->addrs[i], host, sizeof(host));
		printf("%s %s", i > 1 ? "," : "", host);
	}
	printf("\n");
}

/* A name: its first address (every one with --all-addresses), the
 * others named as not scanned, as nmap names them, so that a closed port
 * on ::1 is not taken for the whole of "localhost". */
static int add_name(scan_build *b, const char *name, const char *where)
{
	struct scan_opts *o = b->o;
	skt_endpoint ep;
	if (cli_parse_host("scan", name, &ep) != CLI_OK)
		return CLI_USAGE;
	skt_addrlist l;
	int type = o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int rc = skt_resolve(&l, ep.host, NULL, o->family, type, 0);
	/* The name is what failed; a file's line says where it was. */
	char what[600];
	if (strcmp(where, "target") == 0)
		snprintf(what, sizeof(what), "%s", ep.host);
	else
		snprintf(what, sizeof(what), "%s '%s'", where, ep.host);
	if (rc < 0)
		return cli_fail("scan", what, rc);
	char *keep = strdup(ep.host);
	char **owned = realloc(b->owned, (b->nowned + 1) * sizeof(char *));
	if (keep == NULL || owned == NULL) {
		free(keep);
		if (owned != NULL)
			b->owned = owned;
		skt_addrlist_fini(&l);
		return cli_fail("scan", where, SKT_ENOMEM);
	}
	b->owned = owned;
	b->owned[b->nowned++] = keep;
	print_others(o, ep.host, &l);
	for (size_t i = 0; i < (o->all_addresses ? l.n : 1) && rc >= 0; i++) {
		rc = skt_targets_add_addr(b->t, &l.addrs[i]);
		if (rc >= 0)
			rc = name_keep(b, &l.addrs[i], keep);
	}
	skt_addrlist_fini(&l);
	if (rc == SKT_ETOOBIG)
		return cli_usage_error(
			"scan",
			"%s: more targets than --max-targets "
			"(%llu)",
			where, (unsigned long long)skt_targets_count(b->t));
	return rc < 0 ? cli_fail("scan", where, rc) : CLI_OK;
}

/* One item: an address form, or a name (not for an exclusion: those are
 * addresses, as nmap's are). where names it in a message. */
static int add_item(scan_build *b, const char *s, size_t n, bool exclude,
		    const char *where)
{
	skt_target_error e = {0, 0, ""};
	/* [v6] as every command takes it; a broken bracket gets the
	 * message every command gives. */
	if (n > 0 && s[0] == '[') {
		skt_endpoint ep;
		char text[SKT_HOST_MAX + 3];
		snprintf(text, sizeof(text), "%.*s", (int)(n < 255 ? n : 255),
			 s);
		if ((s[n - 1] != ']' || n < 3) &&
		    cli_parse_host("scan", text, &ep) == CLI_OK)
			return cli_usage_error(
				"scan", "%s '%s': not an address", where, text);
		if (s[n - 1] != ']' || n < 3)
			return CLI_USAGE;
		s++;
		n -= 2;
	}
	int rc = exclude ? skt_targets_exclude(b->t, s, n, &e)
			 : skt_targets_add(b->t, s, n, &e);
	if (rc == 0)
		return CLI_OK;
	if (rc == SKT_EBADHOST && !exclude && memchr(s, '%', n) == NULL) {
		char name[SKT_HOST_MAX + 3];
		if (n >= sizeof(name))
			return cli_usage_error("scan", "%s '%.*s': too long",
					       where, (int)(n > 64 ? 64 : n),
					       s);
		snprintf(name, sizeof(name), "%.*s", (int)n, s);
		return add_name(b, name, where);
	}
	if (rc == SKT_ETOOBIG && strcmp(e.why, "too many intervals") != 0)
		return cli_usage_error(
			"scan",
			"%s '%.*s': more addresses than --max-targets "
			"(%llu)",
			where, (int)n, s,
			(unsigned long long)(b->o->max_targets
						     ? b->o->max_targets
						     : SKT_TARGETS_MAX_DEFAULT));
	if (rc == SKT_ENOMEM)
		return cli_fail("scan", where, rc);
	if (e.len > 0 && e.len < n)
		return cli_usage_error("scan", "%s '%.*s': %s ('%.*s')", where,
				       (int)n, s, e.why, (int)e.len, s + e.off);
	return cli_usage_error("scan", "%s '%.*s': %s", where, (int)n, s,
			       e.why);
}

/* --exclude A,B: the whole value as one item when it is one (nmap's
 * octet lists "10.0.1,3.*" hold commas), else its comma-separated
 * items. */
static int add_exclude(scan_build *b, const char *text)
{
	skt_target_error e;
	skt_targets *probe = skt_targets_new(0);
	if (probe == NULL)
		return cli_fail("scan", "--exclude", SKT_ENOMEM);
	bool whole = skt_targets_exclude(probe, text, strlen(text), &e) == 0;
	skt_targets_free(probe);
	if (whole)
		return add_item(b, text, strlen(text), true, "--exclude");
	for (const char *p = text;; p++) {
		size_t n = strcspn(p, ",");
		int rc = add_item(b, p, n, true, "--exclude");
		if (rc != CLI_OK)
			return rc;
		p += n;
		if (*p == '\0')
			return CLI_OK;
	}
}

/* -iL FILE or --exclude-file FILE: one target per line; blank lines and
 * "#" comments are skipped, blanks around an item ignored. */
static int add_file(scan_build *b, const char *path, bool exclude)
{
	bool in = strcmp(path, "-") == 0;
	FILE *f = in ? stdin : fopen(path, "re");
	if (f == NULL)
		return cli_fail("scan", path, -errno);
	char *line = NULL;
	size_t cap = 0, items = 0, lineno = 0;
	ssize_t len;
	int rc = CLI_OK;
	while (rc == CLI_OK && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = strcspn(s, "#\r\n");
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		char where[300];
		snprintf(where, sizeof(where), "%s:%zu: %s",
			 in ? "stdin" : path, lineno,
			 exclude ? "exclusion" : "target");
		rc = add_item(b, s, n, exclude, where);
		items++;
	}
	if (rc == CLI_OK && ferror(f))
		rc = cli_fail("scan", path, -EIO);
	free(line);
	if (!in)
		fclose(f);
	if (rc == CLI_OK && items == 0 && !exclude)
		rc = cli_usage_error("scan", "%s: no target in the file",
				     in ? "stdin" : path);
	return rc;
}

/* -4 / -6 keep one family: the other's part of the 128-bit space is
 * excluded (IPv4 is ::ffff:0:0/96). */
static int family_only(scan_build *b)
{
	static const char *const not_v4[] = {
		"::-::fffe:ffff:ffff",
		"0:0:0:0:1::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
	static const char *const not_v6[] = {"::ffff:0:0/96"};
	const char *const *v = b->o->family == AF_INET ? not_v4 : not_v6;
	size_t n = b->o->family == AF_INET ? 2 : 1;
	for (size_t i = 0; i < n && b->o->family != AF_UNSPEC; i++)
		if (skt_targets_exclude(b->t, v[i], strlen(v[i]), NULL) < 0)
			return cli_fail("scan", "targets", SKT_ENOMEM);
	return CLI_OK;
}

int scan_build_targets(scan_build *b)
{
	struct scan_opts *o = b->o;
	b->t = skt_targets_new(o->max_targets);
	if (b->t == NULL)
		return cli_fail("scan", "targets", SKT_ENOMEM);
	int rc = CLI_OK;
	for (size_t i = 0; i < o->ntargets && rc == CLI_OK; i++)
		rc = add_item(b, o->targets[i], strlen(o->targets[i]), false,
			      "target");
	if (rc == CLI_OK && o->host == o->host_buf)
		rc = add_item(b, o->host, strlen(o->host), false, "target");
	if (rc == CLI_OK && o->input_list != NULL)
		rc = add_file(b, o->input_list, false);
	for (size_t i = 0; i < o->nexcludes && rc == CLI_OK; i++)
		rc = add_exclude(b, o->excludes[i]);
	for (size_t i = 0; i < o->nexclude_files && rc == CLI_OK; i++)
		rc = add_file(b, o->exclude_files[i], true);
	if (rc == CLI_OK)
		rc = family_only(b);
	if (rc != CLI_OK)
		return rc;
	rc = skt_targets_finish(b->t);
	if (rc == SKT_ETOOBIG)
		return cli_usage_error(
			"scan",
			"targets: more addresses than "
			"--max-targets (%llu)",
			(unsigned long long)(o->max_targets
						     ? o->max_targets
						     : SKT_TARGETS_MAX_DEFAULT));
	if (rc < 0)
		return cli_fail("scan", "targets", rc);
	if (skt_targets_count(b->t) == 0)
		return cli_fail_why("scan", "targets", SKT_EINVAL,
				    "every target is excluded");
	return CLI_OK;
}

void scan_build_free(scan_build *b)
{
	skt_targets_free(b->t);
	free(b->names);
	for (size_t i = 0; i < b->nowned; i++)
		free(b->owned[i]);
	free(b->owned);
}

int scan_name_cmp(const void *a, const void *b)
{
	return memcmp(((const scan_name *)a)->ip, ((const scan_name *)b)->ip,
		      16);
}
