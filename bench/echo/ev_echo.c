/* ev_echo.c - the libevent echo server of bench/echo, in the shape of
 * libevent's own sample (sample/le-proxy.c, the bufferevent echo in the
 * libevent book): an evconnlistener, one bufferevent per connection, the
 * input buffer moved to the output buffer on every read.
 *
 *   ev_echo PORT
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev),
			    bufferevent_get_input(bev));
}

static void echo_event(struct bufferevent *bev, short events, void *arg)
{
	(void)arg;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *ls, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	(void)sa;
	(void)len;
	(void)arg;
	struct event_base *base = evconnlistener_get_base(ls);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct bufferevent *bev =
		bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_signal(evutil_socket_t sig, short events, void *arg)
{
	(void)sig;
	(void)events;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ev_echo PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer that resets must not kill it */
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *ls = evconnlistener_new_bind(
		base, on_accept, NULL,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
		(struct sockaddr *)&sin, sizeof(sin));
	if (ls == NULL) {
		perror("ev_echo: listen");
		return 1;
	}
	struct event *si = evsignal_new(base, SIGINT, on_signal, base);
	struct event *st = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(si, NULL);
	event_add(st, NULL);
	event_base_dispatch(base);
	event_free(si);
	event_free(st);
	evconnlistener_free(ls);
	event_base_free(base);
	return 0;
}
