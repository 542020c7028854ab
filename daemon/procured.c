/*
 * procured: the procurement transparency log daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "proto/err.h"
#include "proto/log.h"

struct procured {
	struct event_base *base;
	struct evhttp *http;
	struct event *sigterm, *sigint;
};

static void
usage(void)
{
	fprintf(stderr, "usage: procured [-d] [--listen HOST:PORT]\n");
	exit(2);
}

static void
on_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add_printf(out, "{\"status\":\"ok\"}\n");
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct procured *d = arg;

	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopexit(d->base, NULL);
}

static int
split_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t n;

	if (colon == NULL)
		return PR_EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return PR_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p > 65535)
		return PR_EINVAL;
	*port = (unsigned)p;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"debug", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct procured d;
	const char *listen = "127.0.0.1:8480";
	char host[256];
	unsigned port;
	int ch, verbose = 0;

	log_init("procured", 0);
	while ((ch = getopt_long(argc, argv, "dl:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			verbose++;
			break;
		case 'l':
			listen = optarg;
			break;
		default:
			usage();
		}
	}
	log_setverbose(verbose);
	if (split_hostport(listen, host, sizeof(host), &port) != 0)
		fatalx("--listen %s: expected HOST:PORT", listen);

	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d.http = evhttp_new(d.base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_cb(d.http, "/healthz", on_healthz, &d);
	if (evhttp_bind_socket(d.http, host, (ev_uint16_t)port) != 0)
		fatal("listen on %s", listen);
	d.sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	evsignal_add(d.sigterm, NULL);
	evsignal_add(d.sigint, NULL);
	log_info("listening on %s", listen);
	event_base_dispatch(d.base);

	event_free(d.sigterm);
	event_free(d.sigint);
	evhttp_free(d.http);
	event_base_free(d.base);
	return 0;
}
