/*
 * A small blocking HTTP/1.1 client for procurectl: plain TCP or TLS
 * (OpenSSL, certificate and host name checked), one keep-alive
 * connection to one server, a deadline on every request.
 *
 * Errors are negative PR_E* codes with a one-line detail recorded for
 * pr_errmsg() (proto/errmsg.h):
 *   PR_ENET    cannot resolve, connect, send or receive; timeouts; TLS
 *              failures ("cannot connect to 127.0.0.1:8480: Connection
 *              refused")
 *   PR_EPROTO  the server's answer is not HTTP we understand
 *   PR_ETOOBIG the answer is larger than the caller allows
 *   PR_EINVAL  a bad URL
 *   PR_EIO     the CA file cannot be read
 */
#ifndef CL_HTTP_H
#define CL_HTTP_H

#include <stddef.h>

#include "proto/buf.h"

struct cl_url {
	int tls; /* https:// */
	char host[256]; /* without IPv6 brackets */
	char port[8]; /* decimal */
	char prefix[1024]; /* path prefix without trailing '/', or "" */
};

/* Parse http[s]://host[:port][/prefix]; no user info, query or
 * fragment. */
int cl_url_parse(const char *s, struct cl_url *out);

struct cl_http;

struct cl_http_resp {
	int status;
	char ctype[128]; /* Content-Type, or "" */
	unsigned retry_after; /* seconds, 0 if absent */
	struct pr_buf body; /* owned; cl_http_resp_free() releases it */
};

/*
 * A client for the server at url.  cacert (may be NULL: the system's
 * trust store) is read here for https://.  timeout_ms bounds each request
 * from connect to the last byte.  No connection is made yet.
 */
int cl_http_open(
    const char *url, const char *cacert, int timeout_ms, struct cl_http **out);
void cl_http_close(struct cl_http *h);
/* "host:port" for messages; valid as long as h. */
const char *cl_http_name(const struct cl_http *h);

/*
 * Send one request and read the whole answer into *resp (status and
 * body, whatever the status).  target starts with "/" and is appended to
 * the URL's prefix; body may be NULL.  The answer's body may not exceed
 * maxbody bytes.  A request on a kept-alive connection that the server
 * closed meanwhile is retried once on a new connection.
 */
int cl_http_request(struct cl_http *h, const char *method, const char *target,
    const char *ctype, const void *body, size_t len, size_t maxbody,
    struct cl_http_resp *resp);
void cl_http_resp_free(struct cl_http_resp *r);

#endif
