/* tls_info.c - what a finished handshake agreed on (skt_tls_get_info). */
#include "tls/tls_int.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

/* One line, RFC 2253, into buf. */
static void name_line(const X509_NAME *nm, char *buf, size_t cap)
{
	buf[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
		char *p;
		long n = BIO_get_mem_data(b, &p);
		size_t k = n > 0 ? (size_t)n : 0;
		if (k >= cap)
			k = cap - 1;
		memcpy(buf, p, k);
		buf[k] = '\0';
	}
	BIO_free(b);
}

static void append(char *buf, size_t cap, const char *kind, const char *v)
{
	size_t n = strlen(buf);
	if (n < cap)
		snprintf(buf + n, cap - n, "%s%s:%s", n > 0 ? ", " : "", kind,
			 v);
}

static void san_line(X509 *x, char *buf, size_t cap)
{
	buf[0] = '\0';
	GENERAL_NAMES *gens =
		X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char v[256];
		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *s = g->d.dNSName;
			int len = ASN1_STRING_length(s);
			if (len < 0 || (size_t)len >= sizeof(v))
				continue;
			memcpy(v, ASN1_STRING_get0_data(s), (size_t)len);
			v[len] = '\0';
			append(buf, cap, "DNS", v);
		} else if (g->type == GEN_IPADD) {
			char *ip = i2s_ASN1_OCTET_STRING(NULL, g->d.iPAddress);
			/* i2s gives hex pairs; the IP forms read better. */
			const unsigned char *d =
				ASN1_STRING_get0_data(g->d.iPAddress);
			int len = ASN1_STRING_length(g->d.iPAddress);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, d, v,
					  sizeof(v));
			else
				snprintf(v, sizeof(v), "%s", ip ? ip : "?");
			OPENSSL_free(ip);
			append(buf, cap, "IP", v);
		}
	}
	GENERAL_NAMES_free(gens);
}

static void peer_cert(const skt_tls *t, skt_tls_info *info)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl);
	if (x == NULL)
		return;
	info->peer_cert = true;
	name_line(X509_get_subject_name(x), info->subject,
		  sizeof(info->subject));
	name_line(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	san_line(x, info->san, sizeof(info->san));
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		info->not_after = (int64_t)timegm(&tm);
	uint8_t md[SKT_TLS_SHA256_LEN];
	if (skt__tls_cert_digest(x, md) == 0)
		skt__tls_hex_pin(md, info->fingerprint);
	if (skt__tls_spki_digest(x, md) == 0)
		skt__tls_hex_pin(md, info->spki);
}

int skt_tls_get_info(const skt_tls *t, skt_tls_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!t->handshaken)
		return SKT_EINVAL;
	SSL *s = t->ssl;
	info->version = SSL_version(s);
	snprintf(info->version_name, sizeof(info->version_name), "%s",
		 SSL_get_version(s));
	const SSL_CIPHER *c = SSL_get_current_cipher(s);
	snprintf(info->cipher, sizeof(info->cipher), "%s",
		 c != NULL ? SSL_CIPHER_get_name(c) : "");
	const unsigned char *alpn = NULL;
	unsigned alen = 0;
	SSL_get0_alpn_selected(s, &alpn, &alen);
	if (alpn != NULL && alen < sizeof(info->alpn)) {
		memcpy(info->alpn, alpn, alen);
		info->alpn[alen] = '\0';
	}
	const char *sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	if (t->ctx->role == SKT_TLS_SERVER && sni != NULL)
		snprintf(info->sni, sizeof(info->sni), "%s", sni);
	info->resumed = SSL_session_reused(s) == 1;
	info->pinned = t->pinned;
	info->verified = !t->ctx->insecure && t->ctx->npins == 0 &&
			 SSL_get0_peer_certificate(s) != NULL &&
			 SSL_get_verify_result(s) == X509_V_OK;
	info->ktls_tx = BIO_get_ktls_send(SSL_get_wbio(s)) > 0;
	info->ktls_rx = BIO_get_ktls_recv(SSL_get_rbio(s)) > 0;
	peer_cert(t, info);
	ERR_clear_error();
	return 0;
}
