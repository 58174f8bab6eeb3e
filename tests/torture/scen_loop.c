/* scen_loop.c - torture scenario of the event loop: a line echo between a
 * listener's stream and a connecting stream on one loop, ended by a
 * timer if it stalls. Integration kind: its call count depends on
 * readiness timing. Returns 0 or the first error (torture.h). */
#include "torture.h"

#include <string.h>

#define ECHO_TIMEOUT_MS 2000

typedef struct echo {
	skt_listener *ls;
	skt_stream *server, *client;
	skt_timer *timer;
	int rc;    /* first error */
	bool done; /* the echo came back */
} echo;

/* Release every handle, so the loop runs out of work and returns. */
static void finish(echo *e, int err)
{
	if (e->rc == 0)
		e->rc = err;
	skt_stream_free(e->client);
	skt_stream_free(e->server);
	skt_listener_free(e->ls);
	skt_timer_free(e->timer);
	e->client = e->server = NULL;
	e->ls = NULL;
	e->timer = NULL;
}

static void on_timer(skt_timer *t, void *arg)
{
	finish(arg, SKT_ETIMEDOUT);
}

static void server_read(skt_stream *s, int status, const uint8_t *data,
			size_t len)
{
	echo *e = skt_stream_udata(s);
	int rc = status < 0 ? status : skt_stream_write(s, data, len);
	if (rc < 0)
		finish(e, rc);
}

static void on_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	echo *e = arg;
	if (s == NULL)
		return; /* a condition the listener survived; the client sees it
			 */
	if (e->server != NULL) {
		skt_stream_free(s); /* one client only */
		return;
	}
	e->server = s;
	skt_stream_set_udata(s, e);
	int rc = skt_stream_read_line(s, 0, server_read);
	if (rc < 0)
		finish(e, rc);
}

static void client_read(skt_stream *s, int status, const uint8_t *data,
			size_t len)
{
	echo *e = skt_stream_udata(s);
	if (status == 0 && len == 5 && memcmp(data, "ping\n", 5) == 0)
		e->done = true;
	finish(e, status < 0 ? status : 0);
}

static void on_connect(skt_stream *s, int status)
{
	echo *e = skt_stream_udata(s);
	int rc = status;
	if (rc == 0)
		rc = skt_stream_write(s, "ping\n", 5);
	if (rc >= 0)
		rc = skt_stream_read_line(s, 0, client_read);
	if (rc < 0)
		finish(e, rc);
}

/* Listener, timer and client stream; on failure the caller's finish()
 * releases what was made. */
static int echo_start(skt_loop *l, echo *e)
{
	skt_addr where;
	int lfd = skt_listen(NULL, "0", NULL);
	if (lfd < 0)
		return lfd;
	int rc = skt_sock_local(lfd, &where);
	if (rc == 0)
		rc = skt_listener_new(l, &e->ls, lfd, on_accept, e);
	if (rc < 0) {
		skt_close(lfd); /* the listener did not take it */
		return rc;
	}
	rc = skt_timer_new(l, &e->timer, on_timer, e);
	if (rc == 0)
		rc = skt_timer_start(e->timer, ECHO_TIMEOUT_MS, 0);
	if (rc == 0)
		rc = skt_stream_connect(l, &e->client, &where, on_connect);
	if (rc == 0)
		skt_stream_set_udata(e->client, e);
	return rc;
}

static int loop_echo(void)
{
	int rc = 0;
	skt_loop *l = NULL;
	echo e = {0};
	TRY(skt_loop_new(&l, NULL));
	rc = echo_start(l, &e);
	if (rc < 0) {
		finish(&e, rc);
		goto out;
	}
	TRY(skt_loop_run(l, SKT_RUN_DEFAULT));
	rc = e.rc;
	EXPECT(rc < 0 || e.done);
out:
	skt_loop_free(l);
	return rc;
}

/* ---- Datagrams: an endpoint on the loop answers a blocking client ---- */

typedef struct udp_echo {
	int rc;
	int got;
} udp_echo;

static void udp_cb(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	udp_echo *e = skt_udp_udata(u);
	if (status < 0 && e->rc == 0)
		e->rc = status;
	for (size_t i = 0; i < n; i++) {
		int rc = skt_udp_send(u, d[i].data, d[i].len, &d[i].from);
		if (rc < 0 && e->rc == 0)
			e->rc = rc;
		e->got++;
	}
}

static int loop_udp(void)
{
	int rc = 0, fd = -1, c = -1;
	skt_loop *l = NULL;
	skt_udp *u = NULL;
	skt_addr where;
	char buf[8];
	udp_echo e = {0, 0};
	TRY(skt_loop_new(&l, NULL));
	TRY(fd = skt_udp_bind(NULL, "0", NULL));
	TRY(skt_sock_local(fd, &where));
	TRY(skt_udp_new(l, &u, fd, 0));
	fd = -1; /* the endpoint owns it */
	skt_udp_set_udata(u, &e);
	TRY(skt_udp_recv_start(u, udp_cb));
	TRY(c = skt_connect_one(&where, SOCK_DGRAM, ECHO_TIMEOUT_MS));
	TRY(skt_send(c, "ping", 4, ECHO_TIMEOUT_MS));
	for (int i = 0; i < 50 && e.got == 0 && e.rc == 0; i++)
		TRY(skt_loop_run(l, SKT_RUN_ONCE));
	TRY(e.rc);
	EXPECT(e.got == 1);
	TRY(skt_loop_run(l, SKT_RUN_NOWAIT)); /* the queued reply goes out */
	ssize_t n;
	TRY(n = skt_recv(c, buf, sizeof(buf), ECHO_TIMEOUT_MS));
	EXPECT(n == 4);
out:
	skt_close(c);
	skt_close(fd);
	skt_udp_free(u);
	skt_loop_free(l);
	return rc;
}

const torture_scenario torture_loop[] = {
	{"loop_echo", TORTURE_INTEGRATION, loop_echo},
	{"loop_udp", TORTURE_INTEGRATION, loop_udp},
	{NULL, 0, NULL},
};
