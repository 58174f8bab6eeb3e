/* tls_ctx.c - TLS contexts: trust, pins, identity, versions, ALPN, SNI
 * and the client's session cache.
 *
 * Verification. Without pins, OpenSSL checks the chain and (set per
 * session in tls.c) the host name or IP address; the callback below only
 * records. With pins, the pin replaces both: the chain's errors are
 * ignored and the leaf must hash to a pin, or the handshake fails with
 * SKT_ETLSPIN. That is how ssh's known_hosts works, and what a user who
 * copied a fingerprint from `sockit listen --tls` means.
 */
#include "tls/tls_int.h"

#include <openssl/err.h>
#include <string.h>
#include <strings.h>

static _Thread_local char ctx_error[REASON_MAX];

const char *skt_tls_ctx_error(void)
{
	return ctx_error;
}

/* Remember why, from OpenSSL's queue when it has something. */
static int ctx_fail(int rc, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
	snprintf(ctx_error, sizeof(ctx_error), "%s%s%s", what,
		 why != NULL ? ": " : "", why != NULL ? why : "");
	ERR_clear_error();
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "sha256:HEX", with optional colons between the pairs. */
static int parse_pin(const char *s, uint8_t out[SKT_TLS_SHA256_LEN])
{
	if (strncasecmp(s, "sha256:", 7) != 0)
		return SKT_EINVAL;
	s += 7;
	for (size_t i = 0; i < SKT_TLS_SHA256_LEN; i++) {
		if (i > 0 && *s == ':')
			s++;
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0)
			return SKT_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return *s == '\0' ? 0 : SKT_EINVAL;
}

bool skt__tls_pin_match(const skt_tls_ctx *ctx, X509 *x)
{
	uint8_t cert[SKT_TLS_SHA256_LEN], spki[SKT_TLS_SHA256_LEN];
	if (skt__tls_cert_digest(x, cert) < 0 ||
	    skt__tls_spki_digest(x, spki) < 0)
		return false;
	for (size_t i = 0; i < ctx->npins; i++)
		if (memcmp(ctx->pins[i], cert, sizeof(cert)) == 0 ||
		    memcmp(ctx->pins[i], spki, sizeof(spki)) == 0)
			return true;
	return false;
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		store, SSL_get_ex_data_X509_STORE_CTX_idx());
	skt_tls *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	if (t == NULL || t->ctx->npins == 0)
		return ok;
	if (X509_STORE_CTX_get_error_depth(store) > 0)
		return 1; /* the pin, not the chain, decides */
	if (skt__tls_pin_match(t->ctx,
			       X509_STORE_CTX_get_current_cert(store))) {
		t->pinned = true;
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}
	t->pin_failed = true;
	X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

/* "h2,http/1.1" into ALPN's wire form. */
static int parse_alpn(skt_tls_ctx *ctx, const char *list)
{
	size_t n = 0;
	while (*list != '\0') {
		const char *end = strchr(list, ',');
		size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
		if (len == 0 || len > 255 || len + 1 > sizeof(ctx->alpn) - n)
			return SKT_EINVAL;
		ctx->alpn[n] = (uint8_t)len;
		memcpy(ctx->alpn + n + 1, list, len);
		n += len + 1;
		list += len + (end != NULL);
	}
	ctx->alpn_len = n;
	return n > 0 ? 0 : SKT_EINVAL;
}

/* Server: pick the client's first protocol that we list; none shared is
 * a fatal no_application_protocol alert (RFC 7301 3.2), not a silent
 * fallback. */
static int alpn_select(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned inlen, void *arg)
{
	skt_tls_ctx *ctx = arg;
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, ctx->alpn,
				  (unsigned)ctx->alpn_len, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static bool sni_matches(const char *pattern, const char *name)
{
	if (strncmp(pattern, "*.", 2) == 0) {
		const char *dot = strchr(name, '.');
		return dot != NULL && dot != name &&
		       strcasecmp(dot + 1, pattern + 2) == 0;
	}
	return strcasecmp(pattern, name) == 0;
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	skt_tls_ctx *ctx = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < ctx->nsni; i++)
		if (sni_matches(ctx->sni[i].name, name))
			return skt__tls_use_id(NULL, ssl, ctx->sni[i].id) == 0
				       ? SSL_TLSEXT_ERR_OK
				       : SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK; /* the default identity */
}

/* ---- The client's sessions ---- */

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	skt_tls *t = SSL_get_app_data(ssl);
	if (t == NULL || t->host == NULL || t->host[0] == '\0')
		return 0;
	skt_tls_ctx *ctx = t->ctx;
	pthread_mutex_lock(&ctx->lock);
	struct session_slot *slot = NULL;
	for (size_t i = 0; i < SESSIONS_MAX && slot == NULL; i++)
		if (strcmp(ctx->sessions[i].host, t->host) == 0)
			slot = &ctx->sessions[i];
	if (slot == NULL) /* replace the oldest */
		slot = &ctx->sessions[ctx->next_slot++ % SESSIONS_MAX];
	SSL_SESSION_free(slot->sess);
	slot->sess = sess;
	skt__strlcpy(slot->host, t->host, sizeof(slot->host));
	pthread_mutex_unlock(&ctx->lock);
	return 1; /* we keep the reference */
}

SSL_SESSION *skt__tls_session_get(skt_tls_ctx *ctx, const char *host)
{
	SSL_SESSION *s = NULL;
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < SESSIONS_MAX && s == NULL; i++)
		if (ctx->sessions[i].sess != NULL &&
		    strcmp(ctx->sessions[i].host, host) == 0 &&
		    SSL_SESSION_is_resumable(ctx->sessions[i].sess) &&
		    SSL_SESSION_up_ref(ctx->sessions[i].sess) == 1)
			s = ctx->sessions[i].sess;
	pthread_mutex_unlock(&ctx->lock);
	return s;
}

/* ---- Making a context ---- */

static int version_of(int v, int *out)
{
	if (v == 0 || v == SKT_TLS_1_2)
		*out = TLS1_2_VERSION;
	else if (v == SKT_TLS_1_3)
		*out = TLS1_3_VERSION;
	else
		return SKT_EINVAL;
	return 0;
}

static int set_trust(skt_tls_ctx *ctx, const skt_tls_opts *o)
{
	SSL_CTX *c = ctx->ssl;
	bool asks = o->role == SKT_TLS_CLIENT ||
		    o->client_auth != SKT_TLS_CLIENT_AUTH_NONE;
	if (!asks)
		return 0;
	if (o->ca_file != NULL || o->ca_dir != NULL) {
		if (SSL_CTX_load_verify_locations(c, o->ca_file, o->ca_dir) !=
		    1)
			return ctx_fail(SKT_ETLS, "cannot load the CA");
		if (o->role == SKT_TLS_SERVER && o->ca_file != NULL) {
			STACK_OF(X509_NAME) *names =
				SSL_load_client_CA_file(o->ca_file);
			if (names != NULL)
				SSL_CTX_set_client_CA_list(c, names);
		}
	} else if (SSL_CTX_set_default_verify_paths(c) != 1) {
		return ctx_fail(SKT_ETLS, "cannot load the system trust store");
	}
	int mode = SSL_VERIFY_PEER;
	if (o->role == SKT_TLS_SERVER &&
	    o->client_auth == SKT_TLS_CLIENT_AUTH_REQUIRE)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (o->role == SKT_TLS_CLIENT && o->insecure)
		mode = SSL_VERIFY_NONE;
	SSL_CTX_set_verify(c, mode, verify_cb);
	return 0;
}

static int set_identity(skt_tls_ctx *ctx, const skt_tls_opts *o)
{
	if (o->id != NULL)
		return skt__tls_use_id(ctx->ssl, NULL, o->id) == 0
			       ? 0
			       : ctx_fail(SKT_ETLS, "cannot use the identity");
	if (o->cert_file == NULL)
		return o->role == SKT_TLS_SERVER ? SKT_EINVAL : 0;
	skt_tls_id *id;
	int rc = skt_tls_id_load(&id, o->cert_file, o->key_file);
	if (rc < 0)
		return ctx_fail(rc, "cannot load the certificate or key");
	rc = skt__tls_use_id(ctx->ssl, NULL, id);
	skt_tls_id_free(id);
	return rc == 0 ? 0 : ctx_fail(SKT_ETLS, "cannot use the certificate");
}

static int configure(skt_tls_ctx *ctx, const skt_tls_opts *o)
{
	SSL_CTX *c = ctx->ssl;
	int lo, hi = TLS1_3_VERSION;
	if (version_of(o->min_version, &lo) < 0 ||
	    (o->max_version != 0 && version_of(o->max_version, &hi) < 0) ||
	    hi < lo)
		return SKT_EINVAL;
	SSL_CTX_set_min_proto_version(c, lo);
	SSL_CTX_set_max_proto_version(c, hi);
	/* Renegotiation is refused (a TLS 1.2 DoS and confusion source);
	 * kTLS is used where the kernel and OpenSSL allow, silently not
	 * elsewhere. */
	uint64_t op = SSL_OP_NO_RENEGOTIATION | SSL_OP_ENABLE_KTLS;
	if (o->no_tickets)
		op |= SSL_OP_NO_TICKET;
	SSL_CTX_set_options(c, op);
	/* RELEASE_BUFFERS: an idle session gives its 16 KiB record buffers
	 * back (nginx does the same), which is most of what an idle TLS
	 * connection costs. */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
				    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				    SSL_MODE_RELEASE_BUFFERS);
	if (o->role == SKT_TLS_CLIENT && !o->no_tickets) {
		SSL_CTX_set_session_cache_mode(
			c, SSL_SESS_CACHE_CLIENT |
				   SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(c, new_session_cb);
	}
	if (o->role == SKT_TLS_SERVER && o->no_tickets)
		SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if (o->alpn != NULL) {
		if (parse_alpn(ctx, o->alpn) < 0)
			return SKT_EINVAL;
		if (o->role == SKT_TLS_CLIENT &&
		    SSL_CTX_set_alpn_protos(c, ctx->alpn,
					    (unsigned)ctx->alpn_len) != 0)
			return SKT_ENOMEM;
		if (o->role == SKT_TLS_SERVER)
			SSL_CTX_set_alpn_select_cb(c, alpn_select, ctx);
	}
	if (o->role == SKT_TLS_SERVER) {
		SSL_CTX_set_tlsext_servername_callback(c, servername_cb);
		SSL_CTX_set_tlsext_servername_arg(c, ctx);
	}
	int rc = set_identity(ctx, o);
	return rc < 0 ? rc : set_trust(ctx, o);
}

int skt_tls_ctx_new(skt_tls_ctx **out, const skt_tls_opts *o)
{
	*out = NULL;
	ctx_error[0] = '\0';
	if (o->role != SKT_TLS_CLIENT && o->role != SKT_TLS_SERVER)
		return SKT_EINVAL;
	if (o->npins > SKT_TLS_PINS_MAX)
		return SKT_EINVAL;
	skt_tls_ctx *ctx = skt_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return SKT_ENOMEM;
	ctx->role = o->role;
	ctx->insecure = o->insecure;
	atomic_init(&ctx->refs, 1);
	pthread_mutex_init(&ctx->lock, NULL);
	int rc = 0;
	for (size_t i = 0; i < o->npins && rc == 0; i++)
		rc = parse_pin(o->pins[i], ctx->pins[i]);
	ctx->npins = o->npins;
	if (rc == 0) {
		ctx->ssl = SSL_CTX_new(o->role == SKT_TLS_CLIENT
					       ? TLS_client_method()
					       : TLS_server_method());
		rc = ctx->ssl == NULL ? ctx_fail(SKT_ENOMEM, "SSL_CTX_new")
				      : configure(ctx, o);
	}
	if (rc < 0) {
		if (ctx_error[0] == '\0')
			snprintf(ctx_error, sizeof(ctx_error), "%s",
				 skt_strerror(rc));
		skt__tls_ctx_unref(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int skt_tls_ctx_add_sni(skt_tls_ctx *ctx, const char *name,
			const char *cert_file, const char *key_file)
{
	if (ctx->role != SKT_TLS_SERVER || ctx->nsni == SNI_MAX ||
	    name == NULL || strlen(name) >= sizeof(ctx->sni[0].name))
		return SKT_EINVAL;
	skt_tls_id *id;
	int rc = skt_tls_id_load(&id, cert_file, key_file);
	if (rc < 0)
		return rc;
	skt__strlcpy(ctx->sni[ctx->nsni].name, name, sizeof(ctx->sni[0].name));
	ctx->sni[ctx->nsni++].id = id;
	return 0;
}

void skt__tls_ctx_ref(skt_tls_ctx *ctx)
{
	atomic_fetch_add(&ctx->refs, 1);
}

void skt__tls_ctx_unref(skt_tls_ctx *ctx)
{
	if (atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		SSL_SESSION_free(ctx->sessions[i].sess);
	for (size_t i = 0; i < ctx->nsni; i++)
		skt_tls_id_free(ctx->sni[i].id);
	SSL_CTX_free(ctx->ssl);
	pthread_mutex_destroy(&ctx->lock);
	skt_free(ctx);
}

void skt_tls_ctx_free(skt_tls_ctx *ctx)
{
	if (ctx != NULL)
		skt__tls_ctx_unref(ctx);
}
