#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "daemon/config.h"
#include "daemon/http.h"
#include "proto/buf.h"
#include "proto/err.h"
#include "proto/log.h"
#include "proto/utf8.h"

#define MAX_LISTENERS 16
#define SWEEP_MS 200

/* Status codes counted per route for /metrics; the last bucket is "other". */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
    413, 414, 422, 429, 431, 500, 503, 507, 0};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

struct conn {
	struct bufferevent *bev; /* NULL: free slot; (void *)1: tombstone */
	uint64_t since_us; /* accepted, or last request finished */
	unsigned busy; /* detached requests in flight */
};

struct http_server {
	struct event_base *base;
	struct evhttp *http;
	const struct config *conf;
	const struct http_route *routes;
	size_t nroutes;
	void *arg;
	SSL_CTX *tls;
	struct evhttp_bound_socket *ls[MAX_LISTENERS];
	size_t nls;
	int paused;
	int stopped;
	/* open addressing table of connections, keyed by bufferevent */
	struct conn *conns;
	size_t cap; /* power of two, >= 2 * max_connections */
	size_t nopen;
	size_t ntomb;
	struct event *sweep;
	uint64_t *counts; /* [nroutes + 1][NSTATUS] */
	struct http_stats st;
};

#define TOMBSTONE ((struct bufferevent *)1)

uint64_t
http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t
conn_hash(const struct http_server *srv, const void *p)
{
	uintptr_t v = (uintptr_t)p;

	v ^= v >> 17;
	v *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	return (size_t)(v >> 7) & (srv->cap - 1);
}

static struct conn *
conn_find(struct http_server *srv, const struct bufferevent *bev)
{
	size_t i, n;

	for (i = conn_hash(srv, bev), n = 0; n < srv->cap;
	     i = (i + 1) & (srv->cap - 1), n++) {
		if (srv->conns[i].bev == NULL)
			return NULL;
		if (srv->conns[i].bev == bev)
			return &srv->conns[i];
	}
	return NULL;
}

static struct conn *
conn_add(struct http_server *srv, struct bufferevent *bev)
{
	size_t i, n;

	for (i = conn_hash(srv, bev), n = 0; n < srv->cap;
	     i = (i + 1) & (srv->cap - 1), n++) {
		if (srv->conns[i].bev == NULL ||
		    srv->conns[i].bev == TOMBSTONE) {
			if (srv->conns[i].bev == TOMBSTONE)
				srv->ntomb--;
			srv->conns[i].bev = bev;
			srv->conns[i].since_us = http_now_us();
			srv->conns[i].busy = 0;
			return &srv->conns[i];
		}
	}
	return NULL;
}

static void
listeners_pause(struct http_server *srv, int pause)
{
	size_t i;
	struct evconnlistener *l;

	if (srv->paused == pause || srv->stopped)
		return;
	for (i = 0; i < srv->nls; i++) {
		l = evhttp_bound_socket_get_listener(srv->ls[i]);
		if (pause)
			evconnlistener_disable(l);
		else
			evconnlistener_enable(l);
	}
	srv->paused = pause;
	if (pause) {
		srv->st.refused_busy++;
		log_warnx("%zu connections open: not accepting more until one "
		          "closes",
		    srv->nopen);
	}
}

/* Rebuild the table without tombstones so lookups stay short. */
static void
conn_rehash(struct http_server *srv)
{
	struct conn *old = srv->conns, *c;
	size_t i;

	if ((srv->conns = calloc(srv->cap, sizeof(*srv->conns))) == NULL) {
		srv->conns = old;
		return;
	}
	for (i = 0; i < srv->cap; i++) {
		if (old[i].bev == NULL || old[i].bev == TOMBSTONE)
			continue;
		if ((c = conn_add(srv, old[i].bev)) != NULL) {
			c->since_us = old[i].since_us;
			c->busy = old[i].busy;
		}
	}
	srv->ntomb = 0;
	free(old);
}

/*
 * evhttp frees a connection's bufferevent with bufferevent_free(), which
 * clears its callbacks; our extra reference keeps the object (and its
 * socket) alive until the sweep sees that and drops the reference.
 */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;
	struct conn *c;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *cbarg;
	uint64_t now = http_now_us();
	uint64_t deadline = srv->conf->request_deadline_s * 1000000u;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->cap; i++) {
		c = &srv->conns[i];
		if (c->bev == NULL || c->bev == TOMBSTONE)
			continue;
		bufferevent_getcb(c->bev, &rd, &wr, &ev, &cbarg);
		if (ev == NULL && cbarg == NULL) {
			bufferevent_decref(c->bev);
			c->bev = TOMBSTONE;
			srv->ntomb++;
			srv->nopen--;
			continue;
		}
		if (c->busy == 0 && now - c->since_us > deadline &&
		    cbarg != NULL) {
			/* cbarg is the evhttp_connection owning bev. */
			srv->st.deadline_kills++;
			log_debug("closing a connection past the request "
			          "deadline");
			evhttp_connection_free(cbarg);
		}
	}
	if (srv->ntomb > srv->cap / 4)
		conn_rehash(srv);
	if (srv->paused && srv->nopen < srv->conf->max_connections)
		listeners_pause(srv, 0);
}

static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if (srv->tls != NULL) {
		if ((ssl = SSL_new(srv->tls)) == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	if (conn_add(srv, bev) != NULL) {
		bufferevent_incref(bev);
		srv->nopen++;
		srv->st.accepted++;
	}
	if (srv->nopen >= srv->conf->max_connections)
		listeners_pause(srv, 1);
	return bev;
}

static size_t
status_bucket(int status)
{
	size_t i;

	for (i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

static void
count(struct http_server *srv, unsigned route, int status)
{
	srv->counts[route * NSTATUS + status_bucket(status)]++;
}

static struct conn *
req_conn(struct http_req *r)
{
	struct evhttp_connection *evcon;

	if ((evcon = evhttp_request_get_connection(r->req)) == NULL)
		return NULL;
	return conn_find(r->srv, evhttp_connection_get_bufferevent(evcon));
}

static void
finish(struct http_req *r, int status, struct evbuffer *body)
{
	struct conn *c;

	count(r->srv, r->route, status);
	if ((c = req_conn(r)) != NULL) {
		c->since_us = http_now_us();
		if (c->busy > 0)
			c->busy--;
	}
	evhttp_send_reply(r->req, status, NULL, body);
	evhttp_clear_headers(&r->query);
	free(r->pathbuf);
	free(r);
}

void
http_set_header(struct http_req *r, const char *name, const char *val)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, val);
}

/* Hash tiles are random bytes; everything else is worth compressing. */
static int
compressible(const struct http_req *r, const char *ctype, size_t len)
{
	if (len < 512 || ctype == NULL)
		return 0;
	if (strncmp(ctype, "application/octet-stream", 24) != 0)
		return 1;
	return strncmp(r->path, "/tile/entries/", 14) == 0;
}

static int
accepts_gzip(struct http_req *r)
{
	const char *ae = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Accept-Encoding");

	return ae != NULL && strstr(ae, "gzip") != NULL;
}

/* gzip body into out; 0, or -1 to send it uncompressed instead. */
static int
gzip_into(struct evbuffer *out, const void *body, size_t len)
{
	z_stream z;
	struct evbuffer_iovec v;
	uLong bound;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	        Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len) + 32;
	if (evbuffer_reserve_space(out, (ev_ssize_t)bound, &v, 1) != 1) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)len;
	z.next_out = v.iov_base;
	z.avail_out = (uInt)v.iov_len;
	rc = deflate(&z, Z_FINISH);
	v.iov_len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		return -1;
	return evbuffer_commit_space(out, &v, 1) == 0 ? 0 : -1;
}

void
http_reply(struct http_req *r, int status, const char *ctype, const void *body,
    size_t len, const char *cache_control)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);
	int head = evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD;

	if (ctype != NULL)
		http_set_header(r, "Content-Type", ctype);
	if (cache_control != NULL)
		http_set_header(r, "Cache-Control", cache_control);
	if (compressible(r, ctype, len)) {
		http_set_header(r, "Vary", "Accept-Encoding");
		if (accepts_gzip(r) && len <= UINT32_MAX &&
		    (head || gzip_into(out, body, len) == 0)) {
			http_set_header(r, "Content-Encoding", "gzip");
			finish(r, status, NULL);
			return;
		}
	}
	if (!head && len > 0)
		evbuffer_add(out, body, len);
	finish(r, status, NULL);
}

void
http_reply_json(struct http_req *r, int status, json_t *j)
{
	char *s;

	if (j == NULL ||
	    (s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		json_decref(j);
		static const char oom[] =
		    "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
		    "memory\",\"field\":null}}\n";
		http_reply(r, 500, "application/json", oom, sizeof(oom) - 1,
		    "no-store");
		return;
	}
	json_decref(j);
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);
		if (t != NULL) {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
		http_reply(r, status, "application/json", s, n, "no-store");
	}
	free(s);
}

/* Replace bytes that are not UTF-8 (JSON strings must be) with '?'. */
static void
utf8_scrub(char *s)
{
	size_t len = strlen(s), off = 0, n;
	uint32_t cp;

	while (off < len) {
		if ((n = pr_utf8_next((uint8_t *)s + off, len - off, &cp)) == 0)
			s[off++] = '?';
		else
			off += n;
	}
}

/* The error object of a reply: {"error":{"code","message","field"}}. */
static json_t *
error_json(const char *code, const char *field, const char *msg)
{
	char m[512], fld[128];

	/* Messages quote request data, which may be anything. */
	snprintf(m, sizeof(m), "%s", msg);
	utf8_scrub(m);
	if (field != NULL) {
		snprintf(fld, sizeof(fld), "%s", field);
		utf8_scrub(fld);
		field = fld;
	}
	return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code,
	    "message", m, "field", field);
}

void
http_error(struct http_req *r, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status == 503)
		http_set_header(r, "Retry-After", "1");
	http_reply_json(r, status, error_json(code, field, msg));
}

int
http_error_body(
    struct pr_buf *out, const char *code, const char *field, const char *msg)
{
	json_t *j;
	char *s;
	int rc;

	if ((j = error_json(code, field, msg)) == NULL ||
	    (s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		json_decref(j);
		return PR_ENOMEM;
	}
	json_decref(j);
	rc = pr_buf_append(out, s, strlen(s));
	free(s);
	return rc;
}

struct http_req *
http_req_detach(struct http_req *r)
{
	struct conn *c;

	if ((c = req_conn(r)) != NULL)
		c->busy++;
	return r;
}

int
http_query_u64(struct http_req *r, const char *name, uint64_t *out)
{
	const char *s = evhttp_find_header(&r->query, name);
	char *end;
	unsigned long long v;

	if (s == NULL)
		return PR_ENOTFOUND;
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return PR_EFORMAT;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return PR_EFORMAT;
	*out = v;
	return 0;
}

const char *
http_query_str(struct http_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

static void
peer_name(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	buf[0] = '\0';
	if (evcon == NULL)
		return;
	evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr != NULL)
		snprintf(buf, len, "%s", addr);
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct http_target_error terr;
	const struct http_route *rt;
	struct http_req *r;
	char *path = NULL;
	size_t i, n;
	int methods_ok = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	TAILQ_INIT(&r->query);
	r->req = req;
	r->srv = srv;
	r->route = (unsigned)srv->nroutes; /* "unmatched" */
	r->start_us = http_now_us();
	peer_name(req, r->peer, sizeof(r->peer));

	if (http_parse_target(uri, &r->pathbuf, &r->query, &terr) != 0) {
		r->path = r->pathbuf != NULL ? r->pathbuf : "";
		http_error(r, 400, terr.code, terr.field, "%s", terr.msg);
		return;
	}
	path = r->pathbuf;
	r->path = path;
	for (i = 0; i < srv->nroutes; i++) {
		rt = &srv->routes[i];
		n = strlen(rt->path);
		if (rt->path[n - 1] == '/' ? strncmp(path, rt->path, n) != 0
		                           : strcmp(path, rt->path) != 0)
			continue;
		if (!(evhttp_request_get_command(req) & rt->methods)) {
			methods_ok = 1;
			continue;
		}
		r->route = (unsigned)i;
		r->tail = path + (rt->path[n - 1] == '/' ? n : strlen(path));
		rt->fn(r, srv->arg);
		return;
	}
	if (methods_ok)
		http_error(r, 405, "method_not_allowed", NULL,
		    "this resource does not support that method");
	else
		http_error(
		    r, 404, "not_found", "path", "no such resource: %s", path);
}

struct http_server *
http_server_new(struct event_base *base, const struct config *conf,
    const struct http_route *routes, size_t nroutes, void *arg)
{
	struct http_server *srv;
	struct timeval tv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->conf = conf;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->arg = arg;
	for (srv->cap = 64; srv->cap < 2 * conf->max_connections + 16;)
		srv->cap *= 2;
	if ((srv->conns = calloc(srv->cap, sizeof(*srv->conns))) == NULL)
		goto fail;
	if ((srv->counts = calloc((nroutes + 1) * NSTATUS, sizeof(uint64_t))) ==
	    NULL)
		goto fail;
	if ((srv->http = evhttp_new(base)) == NULL)
		goto fail;
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)conf->max_body);
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)conf->max_headers);
	evhttp_set_timeout(srv->http, (int)conf->timeout_s);
	evhttp_set_allowed_methods(
	    srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_bevcb(srv->http, bev_cb, srv);
	evhttp_set_gencb(srv->http, dispatch, srv);
	if ((srv->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, srv)) ==
	    NULL)
		goto fail;
	tv.tv_sec = 0;
	tv.tv_usec = SWEEP_MS * 1000;
	event_add(srv->sweep, &tv);
	return srv;
fail:
	http_server_free(srv);
	return NULL;
}

void
http_server_free(struct http_server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	if (srv->sweep != NULL)
		event_free(srv->sweep);
	if (srv->http != NULL)
		evhttp_free(srv->http);
	/* evhttp_free() freed every connection; drop our references. */
	for (i = 0; srv->conns != NULL && i < srv->cap; i++)
		if (srv->conns[i].bev != NULL && srv->conns[i].bev != TOMBSTONE)
			bufferevent_decref(srv->conns[i].bev);
	if (srv->tls != NULL)
		SSL_CTX_free(srv->tls);
	free(srv->conns);
	free(srv->counts);
	free(srv);
}

static int
add_listener(struct http_server *srv, struct evhttp_bound_socket *bs)
{
	if (bs == NULL)
		return PR_ESYS;
	if (srv->nls == MAX_LISTENERS)
		return PR_ERANGE;
	srv->ls[srv->nls++] = bs;
	return 0;
}

int
http_listen(struct http_server *srv, const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;
	size_t n;

	if (colon == NULL)
		return PR_EINVAL;
	n = (size_t)(colon - hostport);
	if (n >= 2 && hostport[0] == '[' && hostport[n - 1] == ']') {
		hostport++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return PR_EINVAL;
	memcpy(host, hostport, n);
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port > 65535)
		return PR_EINVAL;
	return add_listener(srv,
	    evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)port));
}

int
http_listen_fd(struct http_server *srv, int fd)
{
	evutil_make_socket_nonblocking(fd);
	return add_listener(
	    srv, evhttp_accept_socket_with_handle(srv->http, fd));
}

int
http_tls(struct http_server *srv, const char *cert, const char *key,
    const char *client_ca)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return PR_ECRYPTO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		log_warnx("tls-cert %s: cannot load certificate chain", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_warnx("tls-key %s: cannot load or does not match the "
		          "certificate",
		    key);
		goto fail;
	}
	if (client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
			log_warnx("tls-client-ca %s: cannot load", client_ca);
			goto fail;
		}
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	srv->tls = ctx;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return PR_ECONFIG;
}

void
http_stop_listening(struct http_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nls; i++)
		evhttp_del_accept_socket(srv->http, srv->ls[i]);
	srv->nls = 0;
	srv->stopped = 1;
}

void
http_get_stats(const struct http_server *srv, struct http_stats *out)
{
	*out = srv->st;
	out->open_connections = srv->nopen;
}

int
http_metrics(const struct http_server *srv, struct pr_buf *out)
{
	size_t i, s;
	uint64_t v;
	const char *name;
	int rc = 0;

	rc |= pr_buf_append_str(out,
	    "# HELP procured_http_requests_total HTTP requests by route and "
	    "status.\n# TYPE procured_http_requests_total counter\n");
	for (i = 0; i <= srv->nroutes; i++) {
		name = i < srv->nroutes ? srv->routes[i].name : "unmatched";
		for (s = 0; s < NSTATUS; s++) {
			if ((v = srv->counts[i * NSTATUS + s]) == 0)
				continue;
			if (statuses[s] != 0)
				rc |= pr_buf_printf(out,
				    "procured_http_requests_total{route=\"%s\","
				    "status=\"%d\"} %llu\n",
				    name, statuses[s], (unsigned long long)v);
			else
				rc |= pr_buf_printf(out,
				    "procured_http_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n",
				    name, (unsigned long long)v);
		}
	}
	rc |= pr_buf_printf(out,
	    "# TYPE procured_http_connections gauge\n"
	    "procured_http_connections %zu\n"
	    "# TYPE procured_http_connections_accepted_total counter\n"
	    "procured_http_connections_accepted_total %llu\n"
	    "# TYPE procured_http_listener_paused_total counter\n"
	    "procured_http_listener_paused_total %llu\n"
	    "# TYPE procured_http_deadline_closed_total counter\n"
	    "procured_http_deadline_closed_total %llu\n",
	    srv->nopen, (unsigned long long)srv->st.accepted,
	    (unsigned long long)srv->st.refused_busy,
	    (unsigned long long)srv->st.deadline_kills);
	return rc ? PR_ENOMEM : 0;
}
