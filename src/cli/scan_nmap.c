/* scan_nmap.c - `sockit scan -oG FILE` and `-oX FILE`: nmap's grepable
 * and XML outputs (nmap 7's, xmloutputversion 1.05), in the subset that
 * ndiff, Metasploit's db_import and the common parsers read: one host
 * element per host that answered, its address and name, its ports with
 * state, reason and the services database's name, and nmap's folding of
 * a state with more than 25 ports into "extraports" (nmap's own
 * threshold, so that ndiff sees the same lists on both sides). Banners
 * go where nmap's banner script puts them: a script element with id
 * "banner" in XML, the version field in the grepable line. */
#include "scan_cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* nmap folds a state with more ports than this into extraports. */
#define EXTRA_OVER 25

typedef struct host {
	const scan_rec *v;
	size_t n;
	size_t count[SKT_PORT_STATE_COUNT_];
} host;

static size_t next_host(const scan_report *R, size_t i, host *h)
{
	size_t j = i;
	*h = (host){.v = &R->v[i]};
	while (j < R->n && memcmp(R->v[j].ip, R->v[i].ip, 16) == 0)
		h->count[R->v[j++].state]++;
	h->n = j - i;
	return j;
}

static bool up(const host *h)
{
	return h->count[SKT_PORT_OPEN] > 0 || h->count[SKT_PORT_CLOSED] > 0;
}

static bool folded(const host *h, int state)
{
	return state != SKT_PORT_OPEN && h->count[state] > EXTRA_OVER;
}

static const char *proto(const scan_report *R)
{
	return R->meta.socktype == SOCK_DGRAM ? "udp" : "tcp";
}

/* nmap's reason names. */
static const char *nmap_reason(const scan_report *R, const scan_rec *r)
{
	bool udp = R->meta.socktype == SOCK_DGRAM;
	switch (r->state) {
	case SKT_PORT_OPEN:
		return udp ? "udp-response" : "syn-ack";
	case SKT_PORT_CLOSED:
		return udp ? "port-unreach" : "conn-refused";
	case SKT_PORT_OPEN_FILTERED:
		return "no-response";
	default:
		return r->err == SKT_ETIMEDOUT ? "no-response" : "host-unreach";
	}
}

static void when(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, cap, "%a %b %e %H:%M:%S %Y", &tm);
}

static FILE *open_out(const char *path)
{
	return strcmp(path, "-") == 0 ? stdout : fopen(path, "we");
}

static int close_out(FILE *f, const char *path)
{
	int rc = CLI_OK;
	if (f == stdout)
		return cli_flush(stdout) < 0 ? cli_fail("scan", path, -EIO)
					     : CLI_OK;
	if (ferror(f) || fclose(f) != 0)
		rc = cli_fail("scan", path, -errno ? -errno : -EIO);
	return rc;
}

static void args_text(const scan_report *R, FILE *f,
		      void (*put)(FILE *f, const char *s))
{
	for (int i = 0; i < R->o->argc; i++) {
		if (i == 0)
			put(f, "sockit ");
		else
			put(f, " ");
		put(f, R->o->argv_given[i]);
	}
}

static void put_plain(FILE *f, const char *s)
{
	fputs(s, f);
}

/* ---- Grepable ---- */

/* A field of a grepable port entry may not hold '/' or ',': nmap
 * writes '|' for a slash; a comma becomes ';'. */
static void put_field(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; s != NULL && s[i] != '\0' && i < max; i++)
		fputc(s[i] == '/' ? '|' : s[i] == ',' ? ';' : s[i], f);
}

static void grep_host(const scan_report *R, FILE *f, const host *h)
{
	char ip[SKT_ADDRSTRLEN];
	skt_addr a;
	scan_rec_addr(h->v, &a);
	skt_addr_format_host(&a, ip, sizeof(ip));
	const char *name = h->v->name != NULL ? h->v->name : "";
	fprintf(f, "Host: %s (%s)\tStatus: Up\n", ip, name);
	fprintf(f, "Host: %s (%s)\tPorts: ", ip, name);
	const char *sep = "";
	for (size_t k = 0; k < h->n; k++) {
		const scan_rec *r = &h->v[k];
		if (folded(h, r->state))
			continue;
		char service[SKT_SERVICE_MAX + 1] = "";
		skt_service_name(r->port, R->meta.socktype, service,
				 sizeof(service));
		fprintf(f, "%s%u/%s/%s//", sep, r->port,
			skt_port_state_name((skt_port_state)r->state),
			proto(R));
		put_field(f, service, sizeof(service));
		fputs("//", f);
		put_field(f, r->banner != NULL ? r->banner : r->tls, 200);
		fputc('/', f);
		sep = ", ";
	}
	for (int s = 0; s < SKT_PORT_STATE_COUNT_; s++)
		if (folded(h, s)) {
			fprintf(f, "\tIgnored State: %s (%zu)",
				skt_port_state_name((skt_port_state)s),
				h->count[s]);
			break;
		}
	fputc('\n', f);
}

int scan_write_grep(const scan_report *R, const char *path)
{
	FILE *f = open_out(path);
	if (f == NULL)
		return cli_fail("scan", path, -errno);
	char start[64], end[64];
	int64_t t1 = R->t0_wall + R->end.st.elapsed_ms / 1000;
	when(R->t0_wall, start, sizeof(start));
	when(t1, end, sizeof(end));
	fprintf(f, "# sockit %s scan initiated %s as: ", SKT_VERSION_STRING,
		start);
	args_text(R, f, put_plain);
	fputc('\n', f);
	size_t nup = 0;
	for (size_t i = 0; i < R->n;) {
		host h;
		i = next_host(R, i, &h);
		if (!up(&h))
			continue;
		nup++;
		grep_host(R, f, &h);
	}
	fprintf(f,
		"# sockit done at %s -- %llu IP address%s (%zu host%s up) "
		"scanned in %.2f seconds\n",
		end, (unsigned long long)R->meta.ntargets,
		R->meta.ntargets == 1 ? "" : "es", nup, nup == 1 ? "" : "s",
		(double)R->end.st.elapsed_ms / 1000);
	return close_out(f, path);
}

/* ---- XML ---- */

static void put_xml(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* services="1-2,54451": the ports scanned, as ranges. */
static void services_attr(const scan_report *R, FILE *f)
{
	const char *sep = "";
	const skt_portset *ps = &R->o->ports;
	for (unsigned p = skt_portset_next(ps, 1); p != 0;) {
		unsigned q = p;
		while (q < 65535 && skt_portset_has(ps, (uint16_t)(q + 1)))
			q++;
		if (q == p)
			fprintf(f, "%s%u", sep, p);
		else
			fprintf(f, "%s%u-%u", sep, p, q);
		sep = ",";
		p = q < 65535 ? skt_portset_next(ps, q + 1) : 0;
	}
}

static void xml_port(const scan_report *R, FILE *f, const scan_rec *r)
{
	fprintf(f,
		"<port protocol=\"%s\" portid=\"%u\"><state state=\"%s\" "
		"reason=\"%s\" reason_ttl=\"0\"/>",
		proto(R), r->port,
		skt_port_state_name((skt_port_state)r->state),
		nmap_reason(R, r));
	char service[SKT_SERVICE_MAX + 1] = "";
	if (skt_service_name(r->port, R->meta.socktype, service,
			     sizeof(service)) == 0 &&
	    service[0] != '\0') {
		fputs("<service name=\"", f);
		put_xml(f, service);
		fputs("\" method=\"table\" conf=\"3\"/>", f);
	}
	if (r->banner != NULL || r->tls != NULL) {
		fputs("<script id=\"banner\" output=\"", f);
		put_xml(f, r->banner != NULL ? r->banner : "");
		if (r->tls != NULL) {
			fputs(r->banner != NULL ? " tls: " : "tls: ", f);
			put_xml(f, r->tls);
		}
		fputs("\"/>", f);
	}
	fputs("</port>\n", f);
}

static void xml_host(const scan_report *R, FILE *f, const host *h)
{
	char ip[SKT_ADDRSTRLEN];
	skt_addr a;
	scan_rec_addr(h->v, &a);
	skt_addr_format_host(&a, ip, sizeof(ip));
	const char *why =
		h->count[SKT_PORT_OPEN] > 0 ? "syn-ack" : "conn-refused";
	fprintf(f,
		"<host starttime=\"%lld\" endtime=\"%lld\"><status "
		"state=\"up\" reason=\"%s\" reason_ttl=\"0\"/>\n",
		(long long)R->t0_wall,
		(long long)(R->t0_wall + R->end.st.elapsed_ms / 1000), why);
	fprintf(f, "<address addr=\"%s\" addrtype=\"%s\"/>\n", ip,
		skt_addr_family(&a) == AF_INET ? "ipv4" : "ipv6");
	fputs("<hostnames>\n", f);
	if (h->v->name != NULL) {
		fputs("<hostname name=\"", f);
		put_xml(f, h->v->name);
		fputs("\" type=\"user\"/>\n", f);
	}
	fputs("</hostnames>\n<ports>", f);
	for (int s = 0; s < SKT_PORT_STATE_COUNT_; s++)
		if (folded(h, s))
			fprintf(f,
				"<extraports state=\"%s\" count=\"%zu\">\n"
				"<extrareasons reason=\"%s\" count=\"%zu\"/>\n"
				"</extraports>\n",
				skt_port_state_name((skt_port_state)s),
				h->count[s],
				s == SKT_PORT_CLOSED ? "conn-refused"
						     : "no-response",
				h->count[s]);
	for (size_t k = 0; k < h->n; k++)
		if (!folded(h, h->v[k].state))
			xml_port(R, f, &h->v[k]);
	fputs("</ports>\n</host>\n", f);
}

int scan_write_xml(const scan_report *R, const char *path)
{
	FILE *f = open_out(path);
	if (f == NULL)
		return cli_fail("scan", path, -errno);
	char start[64], end[64];
	int64_t t1 = R->t0_wall + R->end.st.elapsed_ms / 1000;
	when(R->t0_wall, start, sizeof(start));
	when(t1, end, sizeof(end));
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<!DOCTYPE nmaprun>\n",
	      f);
	fprintf(f, "<nmaprun scanner=\"sockit\" args=\"");
	args_text(R, f, put_xml);
	fprintf(f,
		"\" start=\"%lld\" startstr=\"%s\" version=\"%s\" "
		"xmloutputversion=\"1.05\">\n",
		(long long)R->t0_wall, start, SKT_VERSION_STRING);
	fprintf(f,
		"<scaninfo type=\"%s\" protocol=\"%s\" numservices=\"%u\" "
		"services=\"",
		R->meta.socktype == SOCK_DGRAM ? "udp" : "connect", proto(R),
		R->meta.nports);
	services_attr(R, f);
	fputs("\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n", f);
	size_t nup = 0;
	for (size_t i = 0; i < R->n;) {
		host h;
		i = next_host(R, i, &h);
		if (!up(&h))
			continue;
		nup++;
		xml_host(R, f, &h);
	}
	double secs = (double)R->end.st.elapsed_ms / 1000;
	fprintf(f,
		"<runstats><finished time=\"%lld\" timestr=\"%s\" "
		"summary=\"sockit done at %s; %llu IP address%s (%zu host%s "
		"up) scanned in %.2f seconds\" elapsed=\"%.2f\" "
		"exit=\"success\"/><hosts up=\"%zu\" down=\"%llu\" "
		"total=\"%llu\"/>\n</runstats>\n</nmaprun>\n",
		(long long)t1, end, end, (unsigned long long)R->meta.ntargets,
		R->meta.ntargets == 1 ? "" : "es", nup, nup == 1 ? "" : "s",
		secs, secs, nup,
		(unsigned long long)(R->meta.ntargets > nup
					     ? R->meta.ntargets - nup
					     : 0),
		(unsigned long long)R->meta.ntargets);
	return close_out(f, path);
}
