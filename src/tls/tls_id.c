/* tls_id.c - identities: a key and its certificate, loaded from PEM or
 * made in memory (skt_tls_selfsigned), and the digests that pin them.
 *
 * The ephemeral identity is what ncat's --ssl without a certificate
 * should have been: a P-256 key (accepted at every OpenSSL security
 * level up to 3, where ncat's 1024-bit RSA broke at level 2) and a
 * SHA-256 signature (ncat's "invalid digest" under OpenSSL 3), with the
 * names in subjectAltName, where RFC 6125 clients look, not only in the
 * common name.
 */
#include "tls/tls_int.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#define NAMES_MAX 16

void skt__tls_hex_pin(const uint8_t md[SKT_TLS_SHA256_LEN], char *out)
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < SKT_TLS_SHA256_LEN; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 2 * SKT_TLS_SHA256_LEN] = '\0';
}

int skt__tls_cert_digest(X509 *x, uint8_t md[SKT_TLS_SHA256_LEN])
{
	unsigned len = 0;
	if (X509_digest(x, EVP_sha256(), md, &len) != 1 ||
	    len != SKT_TLS_SHA256_LEN)
		return SKT_ETLS;
	return 0;
}

/* The SHA-256 of the DER SubjectPublicKeyInfo: what HPKP, curl's
 * --pinnedpubkey and most pinning tools mean by a key pin. */
int skt__tls_spki_digest(X509 *x, uint8_t md[SKT_TLS_SHA256_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (n <= 0)
		return SKT_ETLS;
	unsigned len = 0;
	int ok = EVP_Digest(der, (size_t)n, md, &len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok == 1 && len == SKT_TLS_SHA256_LEN ? 0 : SKT_ETLS;
}

int skt__tls_use_id(SSL_CTX *c, SSL *s, const skt_tls_id *id)
{
	int ok = c != NULL ? SSL_CTX_use_cert_and_key(c, id->cert, id->key,
						      id->chain, 1)
			   : SSL_use_cert_and_key(s, id->cert, id->key,
						  id->chain, 1);
	return ok == 1 ? 0 : SKT_ETLS;
}

static int add_name(GENERAL_NAMES *gens, const char *name)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	if (g == NULL)
		return SKT_ENOMEM;
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	if (ip != NULL) {
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	} else {
		ERR_clear_error(); /* a2i_IPADDRESS says "not an address" */
		ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
		if (dns == NULL ||
		    ASN1_STRING_set(dns, name, (int)strlen(name)) != 1) {
			ASN1_IA5STRING_free(dns);
			GENERAL_NAME_free(g);
			return SKT_ENOMEM;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, dns);
	}
	if (sk_GENERAL_NAME_push(gens, g) <= 0) {
		GENERAL_NAME_free(g);
		return SKT_ENOMEM;
	}
	return 0;
}

/* subjectAltName, key usage for a TLS leaf, and the common name. */
static int describe(X509 *x, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		return SKT_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_name(gens, names[i]);
	if (rc == 0 && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
					 X509V3_ADD_DEFAULT) != 1)
		rc = SKT_ETLS;
	GENERAL_NAMES_free(gens);
	if (rc < 0)
		return rc;

	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	static const struct {
		int nid;
		const char *value;
	} ext[] = {
		{NID_key_usage, "critical,digitalSignature"},
		{NID_ext_key_usage, "serverAuth,clientAuth"},
	};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, ext[i].nid,
							ext[i].value);
		if (e == NULL || X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			return SKT_ETLS;
		}
		X509_EXTENSION_free(e);
	}
	/* The common name is at most 64 characters (RFC 5280's ub). */
	char cn[65];
	skt__strlcpy(cn, "sockit", sizeof(cn));
	if (strlen(names[0]) < sizeof(cn))
		skt__strlcpy(cn, names[0], sizeof(cn));
	X509_NAME *nm = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, nm) != 1)
		return SKT_ETLS;
	return 0;
}

static int make_cert(X509 *x, EVP_PKEY *key, const char *const *names, size_t n,
		     int days)
{
	uint8_t serial[16];
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return SKT_ETLS;
	serial[0] &= 0x7f; /* positive, as RFC 5280 4.1.2.2 wants */
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL)
		return SKT_ENOMEM;
	ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	if (sn == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ==
		    NULL ||
	    X509_set_pubkey(x, key) != 1)
		return SKT_ETLS;
	int rc = describe(x, names, n);
	if (rc < 0)
		return rc;
	return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : SKT_ETLS;
}

int skt_tls_selfsigned(skt_tls_id **out, const char *const *names, size_t n,
		       int days)
{
	*out = NULL;
	if (n == 0 || n > NAMES_MAX || days < 0 || days > 3650)
		return SKT_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0' ||
		    strlen(names[i]) > 253)
			return SKT_EINVAL;
	skt_tls_id *id = skt_calloc(1, sizeof(*id));
	if (id == NULL)
		return SKT_ENOMEM;
	int rc = SKT_ETLS;
	id->key = EVP_EC_gen("P-256");
	id->cert = X509_new();
	if (id->key != NULL && id->cert != NULL)
		rc = make_cert(id->cert, id->key, names, n,
			       days == 0 ? 30 : days);
	ERR_clear_error();
	if (rc < 0) {
		skt_tls_id_free(id);
		return rc;
	}
	*out = id;
	return 0;
}

int skt_tls_id_load(skt_tls_id **out, const char *cert_file,
		    const char *key_file)
{
	*out = NULL;
	if (cert_file == NULL)
		return SKT_EINVAL;
	skt_tls_id *id = skt_calloc(1, sizeof(*id));
	if (id == NULL)
		return SKT_ENOMEM;
	int rc = SKT_ETLS;
	FILE *f = fopen(cert_file, "re");
	if (f == NULL) {
		rc = -errno;
		goto fail;
	}
	id->cert = PEM_read_X509(f, NULL, NULL, NULL);
	X509 *extra;
	while (id->cert != NULL &&
	       (extra = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (id->chain == NULL)
			id->chain = sk_X509_new_null();
		if (id->chain == NULL || sk_X509_push(id->chain, extra) <= 0) {
			X509_free(extra);
			fclose(f);
			rc = SKT_ENOMEM;
			goto fail;
		}
	}
	fclose(f);
	f = fopen(key_file != NULL ? key_file : cert_file, "re");
	if (f == NULL) {
		rc = -errno;
		goto fail;
	}
	id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (id->cert != NULL && id->key != NULL &&
	    X509_check_private_key(id->cert, id->key) == 1) {
		ERR_clear_error();
		*out = id;
		return 0;
	}
fail:
	ERR_clear_error();
	skt_tls_id_free(id);
	return rc;
}

void skt_tls_id_free(skt_tls_id *id)
{
	if (id == NULL)
		return;
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	sk_X509_pop_free(id->chain, X509_free);
	skt_free(id);
}

void skt_tls_id_fingerprint(const skt_tls_id *id, char *buf)
{
	uint8_t md[SKT_TLS_SHA256_LEN] = {0};
	skt__tls_cert_digest(id->cert, md);
	skt__tls_hex_pin(md, buf);
}

ssize_t skt_tls_id_pem(const skt_tls_id *id, bool key, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return SKT_ENOMEM;
	ssize_t rc = SKT_ETLS;
	if (PEM_write_bio_X509(b, id->cert) == 1 &&
	    (!key || PEM_write_bio_PrivateKey(b, id->key, NULL, NULL, 0, NULL,
					      NULL) == 1)) {
		char *p;
		long n = BIO_get_mem_data(b, &p);
		if (n < 0 || (size_t)n >= cap) {
			rc = SKT_ETOOBIG;
		} else {
			memcpy(buf, p, (size_t)n);
			buf[n] = '\0';
			rc = n;
		}
	}
	BIO_free(b);
	return rc;
}
