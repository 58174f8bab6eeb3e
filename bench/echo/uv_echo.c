/* uv_echo.c - the libuv echo server of bench/echo, written as libuv's
 * own guide (uvbook, "Networking": the TCP echo server) and its test
 * server teach: a read buffer per read from the alloc callback, a write
 * request per echo that reuses that buffer, both freed in the write
 * callback.
 *
 *   uv_echo PORT
 */
#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
	uv_write_t req;
	uv_buf_t buf;
} write_req_t;

static uv_loop_t *loop;

static void alloc_buffer(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(suggested);
	buf->len = suggested;
}

static void on_close(uv_handle_t *h)
{
	free(h);
}

static void echo_write(uv_write_t *req, int status)
{
	write_req_t *wr = (write_req_t *)req;
	(void)status;
	free(wr->buf.base);
	free(wr);
}

static void echo_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
	if (nread > 0) {
		write_req_t *req = malloc(sizeof(*req));
		req->buf = uv_buf_init(buf->base, (unsigned)nread);
		uv_write(&req->req, client, &req->buf, 1, echo_write);
		return;
	}
	if (nread < 0)
		uv_close((uv_handle_t *)client, on_close);
	free(buf->base);
}

static void on_connection(uv_stream_t *server, int status)
{
	if (status < 0)
		return;
	uv_tcp_t *client = malloc(sizeof(*client));
	uv_tcp_init(loop, client);
	if (uv_accept(server, (uv_stream_t *)client) == 0) {
		uv_tcp_nodelay(client, 1);
		uv_read_start((uv_stream_t *)client, alloc_buffer, echo_read);
	} else {
		uv_close((uv_handle_t *)client, on_close);
	}
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: uv_echo PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer that resets must not kill it */
	loop = uv_default_loop();
	uv_tcp_t server;
	uv_tcp_init(loop, &server);
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
	uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
	int r = uv_listen((uv_stream_t *)&server, 4096, on_connection);
	if (r) {
		fprintf(stderr, "uv_echo: listen: %s\n", uv_strerror(r));
		return 1;
	}
	uv_signal_t si, st;
	uv_signal_init(loop, &si);
	uv_signal_start(&si, on_signal, SIGINT);
	uv_signal_init(loop, &st);
	uv_signal_start(&st, on_signal, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
