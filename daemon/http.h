/*
 * procured's HTTP front: evhttp with limits, a connection cap, a request
 * deadline, routing by table, and JSON replies and errors.
 *
 * Connection accounting: every connection's bufferevent is created here
 * (evhttp_set_bevcb) and held with an extra reference; a periodic sweep
 * releases those evhttp has freed.  When max-connections are open the
 * listeners pause until one closes.  A connection whose current request
 * has taken longer than request-deadline is closed.
 */
#ifndef PROCURED_HTTP_H
#define PROCURED_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

struct pr_buf;

struct config;
struct http_server;

/* A request as handlers see it. */
struct http_req {
	struct evhttp_request *req;
	struct http_server *srv;
	const char *path; /* decoded path, without the query */
	char *pathbuf; /* owns path; freed with the request */
	struct evkeyvalq query; /* decoded query parameters */
	const char *tail; /* path after a route's prefix */
	unsigned route; /* index into the route table */
	char peer[64]; /* client address */
	uint64_t start_us; /* monotonic time the handler started */
};

typedef void (*http_handler)(struct http_req *r, void *arg);

struct http_route {
	const char *name; /* for metrics: "checkpoint", "tile", ... */
	unsigned methods; /* EVHTTP_REQ_GET | ... */
	const char *path; /* exact path, or prefix when it ends in '/' */
	http_handler fn;
};

struct http_server *http_server_new(struct event_base *base,
    const struct config *conf, const struct http_route *routes, size_t nroutes,
    void *arg);
void http_server_free(struct http_server *srv);

/* Bind HOST:PORT ([v6]:port accepted); 0 or a negative PR_E* code. */
int http_listen(struct http_server *srv, const char *hostport);
/* Serve an already-bound listening socket (socket activation). */
int http_listen_fd(struct http_server *srv, int fd);
/* Enable TLS for every listener; before http_listen(). */
int http_tls(struct http_server *srv, const char *cert, const char *key,
    const char *client_ca);
/* Stop accepting new connections (shutdown). */
void http_stop_listening(struct http_server *srv);

/* Replies. Each sends the response and releases r's query. */
void http_reply(struct http_req *r, int status, const char *ctype,
    const void *body, size_t len, const char *cache_control);
/* Serializes and takes ownership of (decrefs) j. */
void http_reply_json(struct http_req *r, int status, json_t *j);
/* {"error":{"code":..,"message":..,"field":..}} */
void http_error(struct http_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The body http_error() sends, without the newline, into out. */
int http_error_body(
    struct pr_buf *out, const char *code, const char *field, const char *msg);
/* Tell the client when to retry (503). */
void http_set_header(struct http_req *r, const char *name, const char *val);
/*
 * Defer the reply: the handler returns and answers later with one of the
 * reply functions (called on the event loop thread).
 */
struct http_req *http_req_detach(struct http_req *r);

/* Query helpers: parse a decimal uint64 parameter. 0, PR_ENOTFOUND when
 * absent, PR_EFORMAT when malformed. */
int http_query_u64(struct http_req *r, const char *name, uint64_t *out);
const char *http_query_str(struct http_req *r, const char *name);

/*
 * The request target as the server reads it, from the URI libevent parsed
 * (evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT)):
 * *path receives the percent-decoded path (no NUL byte; the caller
 * free()s it, and it may be set even on failure) and the query parameters
 * are appended to query (the caller clears it with evhttp_clear_headers(),
 * on failure too).  A parameter given twice, or more than 64 of them, is
 * an error.  0, or -1 with err filled for a 400 answer (err->field may
 * point into query).
 */
struct http_target_error {
	const char *code;
	const char *field;
	char msg[160];
};
int http_parse_target(const struct evhttp_uri *uri, char **path,
    struct evkeyvalq *query, struct http_target_error *err);

/* Counters for /metrics. */
struct http_stats {
	uint64_t open_connections;
	uint64_t accepted;
	uint64_t refused_busy; /* times the listener paused */
	uint64_t deadline_kills;
};
void http_get_stats(const struct http_server *srv, struct http_stats *out);
/* Append Prometheus lines for requests by route and status. */
struct pr_buf;
int http_metrics(const struct http_server *srv, struct pr_buf *out);

uint64_t http_now_us(void);

#endif
