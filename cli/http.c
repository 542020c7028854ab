/*
 * Blocking HTTP/1.1 client over sockets and OpenSSL, with deadlines.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "proto/err.h"
#include "proto/errmsg.h"

#define HTTP_MAX_HEADER 65536

struct cl_http {
	struct cl_url url;
	char name[300]; /* host:port */
	int timeout_ms;
	SSL_CTX *ssl_ctx;
	int fd;
	SSL *ssl;
	struct pr_buf in; /* received, not yet consumed */
	struct timespec deadline;
};

int
cl_url_parse(const char *s, struct cl_url *out)
{
	struct cl_url u;
	const char *p, *h, *hend, *port = NULL, *path;
	size_t n;

	memset(&u, 0, sizeof(u));
	if (strncmp(s, "http://", 7) == 0) {
		p = s + 7;
		strcpy(u.port, "80");
	} else if (strncmp(s, "https://", 8) == 0) {
		p = s + 8;
		u.tls = 1;
		strcpy(u.port, "443");
	} else
		return pr_errmsg_set(PR_EINVAL,
		    "server URL '%s' must start with http:// or https://", s);
	path = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(path - p)) != NULL)
		return pr_errmsg_set(PR_EINVAL,
		    "server URL '%s' must not hold user information", s);
	if (*p == '[') {
		h = p + 1;
		if ((hend = memchr(h, ']', (size_t)(path - h))) == NULL)
			return pr_errmsg_set(
			    PR_EINVAL, "server URL '%s': unclosed '['", s);
		if (hend[1] == ':')
			port = hend + 2;
		else if (hend + 1 != path)
			return pr_errmsg_set(
			    PR_EINVAL, "server URL '%s': bad host", s);
	} else {
		h = p;
		hend = memchr(p, ':', (size_t)(path - p));
		if (hend == NULL)
			hend = path;
		else
			port = hend + 1;
	}
	n = (size_t)(hend - h);
	if (n == 0 || n >= sizeof(u.host))
		return pr_errmsg_set(PR_EINVAL, "server URL '%s': bad host", s);
	memcpy(u.host, h, n);
	if (port != NULL) {
		n = (size_t)(path - port);
		if (n == 0 || n > 5 || strspn(port, "0123456789") < n ||
		    atoi(port) == 0 || atoi(port) > 65535)
			return pr_errmsg_set(
			    PR_EINVAL, "server URL '%s': bad port", s);
		memcpy(u.port, port, n);
		u.port[n] = '\0';
	}
	if (*path == '?' || *path == '#' || strpbrk(path, "?#") != NULL)
		return pr_errmsg_set(PR_EINVAL,
		    "server URL '%s' must not hold a query or fragment", s);
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(u.prefix))
		return pr_errmsg_set(PR_EINVAL, "server URL '%s' too long", s);
	memcpy(u.prefix, path, n);
	*out = u;
	return 0;
}

int
cl_http_open(
    const char *url, const char *cacert, int timeout_ms, struct cl_http **out)
{
	struct cl_http *h;
	int rc;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return PR_ENOMEM;
	h->fd = -1;
	h->timeout_ms = timeout_ms;
	if ((rc = cl_url_parse(url, &h->url)) != 0)
		goto free_h;
	snprintf(h->name, sizeof(h->name),
	    strchr(h->url.host, ':') ? "[%s]:%s" : "%s:%s", h->url.host,
	    h->url.port);
	if (h->url.tls) {
		if ((h->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
			rc = PR_ENOMEM;
			goto free_h;
		}
		SSL_CTX_set_min_proto_version(h->ssl_ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(h->ssl_ctx, SSL_VERIFY_PEER, NULL);
		if (cacert != NULL
		        ? SSL_CTX_load_verify_locations(
		              h->ssl_ctx, cacert, NULL) != 1
		        : SSL_CTX_set_default_verify_paths(h->ssl_ctx) != 1) {
			rc = pr_errmsg_set(PR_EIO,
			    "cannot load CA certificates from %s",
			    cacert ? cacert : "the system trust store");
			ERR_clear_error();
			goto free_ctx;
		}
	} else if (cacert != NULL) {
		rc = pr_errmsg_set(
		    PR_EINVAL, "--cacert needs an https:// server URL");
		goto free_h;
	}
	*out = h;
	return 0;
free_ctx:
	SSL_CTX_free(h->ssl_ctx);
free_h:
	free(h);
	return rc;
}

static void
conn_close(struct cl_http *h)
{
	if (h->ssl != NULL) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	pr_buf_reset(&h->in);
}

void
cl_http_close(struct cl_http *h)
{
	if (h == NULL)
		return;
	conn_close(h);
	pr_buf_free(&h->in);
	SSL_CTX_free(h->ssl_ctx);
	free(h);
}

const char *
cl_http_name(const struct cl_http *h)
{
	return h->name;
}

/* Milliseconds left before the deadline (0 when it passed). */
static int
time_left(const struct cl_http *h)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(h->deadline.tv_sec - now.tv_sec) * 1000 +
	    (h->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 86400000 ? 86400000 : (int)ms;
}

/* Wait until fd is ready for events; PR_ENET on timeout or error. */
static int
wait_fd(struct cl_http *h, short events, const char *doing)
{
	struct pollfd pfd;
	int n;

	pfd.fd = h->fd;
	pfd.events = events;
	for (;;) {
		n = poll(&pfd, 1, time_left(h));
		if (n > 0)
			return 0;
		if (n == 0)
			return pr_errmsg_set(PR_ENET,
			    "timed out after %d s %s %s", h->timeout_ms / 1000,
			    doing, h->name);
		if (errno != EINTR)
			return pr_errmsg_set(
			    PR_ENET, "poll: %s", strerror(errno));
	}
}

static int
tcp_connect(struct cl_http *h)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err = 0, gai, one = 1, rc = PR_ENET;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((gai = getaddrinfo(h->url.host, h->url.port, &hints, &res)) != 0)
		return pr_errmsg_set(PR_ENET, "cannot resolve %s: %s",
		    h->url.host, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			h->fd = fd;
			if ((rc = wait_fd(h, POLLOUT, "connecting to")) != 0) {
				h->fd = -1;
				close(fd);
				freeaddrinfo(res);
				return pr_errmsg_set(rc,
				    "cannot connect to %s: timed out after "
				    "%d s",
				    h->name, h->timeout_ms / 1000);
			}
			h->fd = -1;
			sl = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) ==
			        0 &&
			    err == 0)
				break;
		} else
			err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return pr_errmsg_set(PR_ENET, "cannot connect to %s: %s",
		    h->name, strerror(err ? err : ECONNREFUSED));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->fd = fd;
	return 0;
}

/* Drive a TLS call: wait for what it wants; 1 to retry, 0 done, <0. */
static int
tls_wait(struct cl_http *h, int ret, const char *doing)
{
	int e = SSL_get_error(h->ssl, ret), rc;
	unsigned long le;
	char buf[256];

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		rc = wait_fd(
		    h, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, doing);
		return rc ? rc : 1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	le = ERR_peek_last_error();
	if (le != 0) {
		ERR_error_string_n(le, buf, sizeof(buf));
		ERR_clear_error();
		if (SSL_get_verify_result(h->ssl) != X509_V_OK)
			return pr_errmsg_set(PR_ENET, "TLS with %s failed: %s",
			    h->name,
			    X509_verify_cert_error_string(
			        SSL_get_verify_result(h->ssl)));
		return pr_errmsg_set(
		    PR_ENET, "TLS with %s failed: %s", h->name, buf);
	}
	if (e == SSL_ERROR_SYSCALL && errno != 0)
		return pr_errmsg_set(
		    PR_ENET, "%s %s: %s", doing, h->name, strerror(errno));
	/* Unexpected EOF. */
	return 0;
}

static int
tls_connect(struct cl_http *h)
{
	struct in6_addr a6;
	struct in_addr a4;
	int ret, rc, ip;

	if ((h->ssl = SSL_new(h->ssl_ctx)) == NULL)
		return PR_ENOMEM;
	ip = inet_pton(AF_INET, h->url.host, &a4) == 1 ||
	    inet_pton(AF_INET6, h->url.host, &a6) == 1;
	if (SSL_set_fd(h->ssl, h->fd) != 1 ||
	    (!ip && SSL_set_tlsext_host_name(h->ssl, h->url.host) != 1) ||
	    (!ip && SSL_set1_host(h->ssl, h->url.host) != 1) ||
	    (ip &&
	        X509_VERIFY_PARAM_set1_ip_asc(
	            SSL_get0_param(h->ssl), h->url.host) != 1))
		return pr_errmsg_set(
		    PR_ENET, "TLS set-up for %s failed", h->name);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_connect(h->ssl)) == 1)
			return 0;
		if ((rc = tls_wait(h, ret, "TLS handshake with")) < 0)
			return rc;
		if (rc == 0)
			return pr_errmsg_set(PR_ENET,
			    "TLS with %s failed: connection closed during the "
			    "handshake",
			    h->name);
	}
}

static int
conn_open(struct cl_http *h)
{
	int rc;

	if ((rc = tcp_connect(h)) != 0)
		return rc;
	if (h->ssl_ctx != NULL && (rc = tls_connect(h)) != 0) {
		conn_close(h);
		return rc;
	}
	return 0;
}

static int
conn_write(struct cl_http *h, const void *p, size_t len)
{
	const uint8_t *q = p;
	ssize_t n;
	int ret, rc;

	while (len > 0) {
		if (h->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			ret = SSL_write(
			    h->ssl, q, len > INT32_MAX ? INT32_MAX : (int)len);
			if (ret > 0) {
				q += ret;
				len -= (size_t)ret;
				continue;
			}
			if ((rc = tls_wait(h, ret, "sending to")) < 0)
				return rc;
			if (rc == 0)
				return pr_errmsg_set(PR_ENET,
				    "%s closed the connection", h->name);
			continue;
		}
		n = send(h->fd, q, len, MSG_NOSIGNAL);
		if (n > 0) {
			q += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((rc = wait_fd(h, POLLOUT, "sending to")) != 0)
				return rc;
		} else
			return pr_errmsg_set(PR_ENET, "cannot send to %s: %s",
			    h->name, strerror(errno));
	}
	return 0;
}

/* Receive more bytes into h->in; 0 with *eof set at the end of stream. */
static int
conn_read(struct cl_http *h, int *eof)
{
	ssize_t n;
	int ret, rc;

	*eof = 0;
	if ((rc = pr_buf_reserve(&h->in, 16384)) != 0)
		return rc;
	for (;;) {
		if (h->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			ret = SSL_read(h->ssl, h->in.data + h->in.len, 16384);
			if (ret > 0) {
				h->in.len += (size_t)ret;
				return 0;
			}
			if ((rc = tls_wait(h, ret, "waiting for")) < 0)
				return rc;
			if (rc == 0) {
				*eof = 1;
				return 0;
			}
			continue;
		}
		n = recv(h->fd, h->in.data + h->in.len, 16384, 0);
		if (n > 0) {
			h->in.len += (size_t)n;
			return 0;
		}
		if (n == 0) {
			*eof = 1;
			return 0;
		}
		if (errno == ECONNRESET) {
			*eof = 1;
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR)
			return pr_errmsg_set(PR_ENET,
			    "cannot receive from %s: %s", h->name,
			    strerror(errno));
		if ((rc = wait_fd(h, POLLIN, "waiting for")) != 0)
			return rc;
	}
}

/* Drop the first n bytes of h->in. */
static void
consume(struct cl_http *h, size_t n)
{
	memmove(h->in.data, h->in.data + n, h->in.len - n);
	h->in.len -= n;
}

/* Ensure at least n bytes are buffered. */
static int
need(struct cl_http *h, size_t n)
{
	int eof, rc;

	while (h->in.len < n) {
		if ((rc = conn_read(h, &eof)) != 0)
			return rc;
		if (eof)
			return pr_errmsg_set(PR_EPROTO,
			    "%s closed the connection in the middle of an "
			    "answer",
			    h->name);
	}
	return 0;
}

/* Index of the first CRLF at or after from, or -1 (need more). */
static long
find_crlf(const struct cl_http *h, size_t from)
{
	size_t i;

	for (i = from; i + 1 < h->in.len; i++)
		if (h->in.data[i] == '\r' && h->in.data[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int
append_body(struct cl_http *h, struct cl_http_resp *r, size_t n, size_t maxbody)
{
	int rc;

	if (n > maxbody || r->body.len > maxbody - n)
		return pr_errmsg_set(PR_ETOOBIG,
		    "answer from %s is larger than %zu bytes", h->name,
		    maxbody);
	if ((rc = need(h, n)) != 0 ||
	    (rc = pr_buf_append(&r->body, h->in.data, n)) != 0)
		return rc;
	consume(h, n);
	return 0;
}

static int
read_chunked(struct cl_http *h, struct cl_http_resp *r, size_t maxbody)
{
	unsigned long long n;
	char *end;
	long eol;
	int rc, eof;

	for (;;) {
		while ((eol = find_crlf(h, 0)) < 0) {
			if (h->in.len > 1024)
				return pr_errmsg_set(PR_EPROTO,
				    "bad chunk header from %s", h->name);
			if ((rc = conn_read(h, &eof)) != 0)
				return rc;
			if (eof)
				return pr_errmsg_set(PR_EPROTO,
				    "%s closed the connection in a chunked "
				    "answer",
				    h->name);
		}
		h->in.data[eol] = '\0';
		errno = 0;
		n = strtoull((char *)h->in.data, &end, 16);
		if (end == (char *)h->in.data || errno != 0 ||
		    (*end != '\0' && *end != ';' && *end != ' '))
			return pr_errmsg_set(
			    PR_EPROTO, "bad chunk size from %s", h->name);
		consume(h, (size_t)eol + 2);
		if (n == 0)
			break;
		if (n > maxbody)
			return pr_errmsg_set(PR_ETOOBIG,
			    "answer from %s is larger than %zu bytes", h->name,
			    maxbody);
		if ((rc = append_body(h, r, (size_t)n, maxbody)) != 0 ||
		    (rc = need(h, 2)) != 0)
			return rc;
		if (h->in.data[0] != '\r' || h->in.data[1] != '\n')
			return pr_errmsg_set(
			    PR_EPROTO, "bad chunk end from %s", h->name);
		consume(h, 2);
	}
	/* Trailers up to the empty line. */
	for (;;) {
		while ((eol = find_crlf(h, 0)) < 0) {
			if (h->in.len > HTTP_MAX_HEADER)
				return pr_errmsg_set(PR_EPROTO,
				    "trailers from %s too long", h->name);
			if ((rc = need(h, h->in.len + 1)) != 0)
				return rc;
		}
		consume(h, (size_t)eol + 2);
		if (eol == 0)
			return 0;
	}
}

/* The "\r\n\r\n" ending the header section in h->in, or NULL. */
static char *
header_end(const struct cl_http *h)
{
	size_t i;

	for (i = 0; i + 3 < h->in.len; i++)
		if (memcmp(h->in.data + i, "\r\n\r\n", 4) == 0)
			return (char *)h->in.data + i;
	return NULL;
}

/* Case-insensitive "name:" match; returns the trimmed value or NULL. */
static char *
header_value(char *line, const char *name)
{
	size_t n = strlen(name);
	char *v, *e;

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	for (v = line + n + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	return v;
}

/*
 * Read one answer.  *keep is cleared when the connection cannot be
 * reused; *got_any tells whether any byte of the answer arrived.
 */
static int
read_response(struct cl_http *h, int head, size_t maxbody,
    struct cl_http_resp *r, int *keep, int *got_any)
{
	char *hdr, *line, *next, *v, *end;
	long long clen = -1;
	long eol;
	size_t hlen;
	int rc, eof, chunked = 0, minor;

	*got_any = 0;
	for (;;) {
		if ((hdr = header_end(h)) != NULL)
			break;
		if (h->in.len > HTTP_MAX_HEADER)
			return pr_errmsg_set(PR_EPROTO,
			    "answer header from %s too long", h->name);
		if ((rc = conn_read(h, &eof)) != 0)
			return rc;
		if (h->in.len > 0)
			*got_any = 1;
		if (eof)
			return pr_errmsg_set(PR_ENET,
			    "%s closed the connection without answering",
			    h->name);
	}
	hlen = (size_t)(hdr - (char *)h->in.data) + 4;
	hdr = (char *)h->in.data;
	hdr[hlen - 2] = '\0';
	eol = find_crlf(h, 0);
	hdr[eol] = '\0';
	if (sscanf(hdr, "HTTP/1.%d %3d", &minor, &r->status) != 2 ||
	    r->status < 100 || r->status > 599)
		return pr_errmsg_set(
		    PR_EPROTO, "%s did not answer with HTTP/1.x", h->name);
	*keep = minor >= 1;
	for (line = hdr + eol + 2; *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) == NULL)
			next = line + strlen(line);
		else
			*next = '\0', next += 2;
		if ((v = header_value(line, "Content-Length")) != NULL) {
			errno = 0;
			clen = strtoll(v, &end, 10);
			if (*v == '\0' || *end != '\0' || errno != 0 ||
			    clen < 0)
				return pr_errmsg_set(PR_EPROTO,
				    "bad Content-Length from %s", h->name);
		} else if ((v = header_value(line, "Transfer-Encoding")) !=
		    NULL)
			chunked = strcasecmp(v, "chunked") == 0;
		else if ((v = header_value(line, "Connection")) != NULL) {
			if (strcasecmp(v, "close") == 0)
				*keep = 0;
			else if (strcasecmp(v, "keep-alive") == 0)
				*keep = 1;
		} else if ((v = header_value(line, "Content-Type")) != NULL)
			snprintf(r->ctype, sizeof(r->ctype), "%s", v);
		else if ((v = header_value(line, "Retry-After")) != NULL)
			r->retry_after = (unsigned)strtoul(v, NULL, 10);
	}
	consume(h, hlen);
	if (head || r->status == 204 || r->status == 304 || r->status < 200)
		return 0;
	if (chunked)
		return read_chunked(h, r, maxbody);
	if (clen >= 0) {
		if ((unsigned long long)clen > maxbody)
			return pr_errmsg_set(PR_ETOOBIG,
			    "answer from %s is larger than %zu bytes", h->name,
			    maxbody);
		return append_body(h, r, (size_t)clen, maxbody);
	}
	/* Body up to the end of the connection. */
	*keep = 0;
	for (;;) {
		if ((rc = append_body(h, r, h->in.len, maxbody)) != 0 ||
		    (rc = conn_read(h, &eof)) != 0)
			return rc;
		if (eof)
			return append_body(h, r, h->in.len, maxbody);
	}
}

int
cl_http_request(struct cl_http *h, const char *method, const char *target,
    const char *ctype, const void *body, size_t len, size_t maxbody,
    struct cl_http_resp *resp)
{
	struct cl_http_resp r;
	struct pr_buf req = PR_BUF_INIT;
	int rc, attempt, reused, keep = 0, got_any = 0;

	clock_gettime(CLOCK_MONOTONIC, &h->deadline);
	h->deadline.tv_sec += h->timeout_ms / 1000;
	h->deadline.tv_nsec += (long)(h->timeout_ms % 1000) * 1000000;
	if (h->deadline.tv_nsec >= 1000000000) {
		h->deadline.tv_sec++;
		h->deadline.tv_nsec -= 1000000000;
	}
	if ((rc = pr_buf_printf(&req,
	         "%s %s%s HTTP/1.1\r\nHost: %s\r\n"
	         "User-Agent: procurectl/" CL_VERSION "\r\nAccept: */*\r\n",
	         method, h->url.prefix, target, h->name)) != 0)
		return rc;
	if (body != NULL || strcmp(method, "POST") == 0)
		rc = pr_buf_printf(&req,
		    "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n",
		    ctype ? ctype : "application/octet-stream", len);
	if (rc == 0)
		rc = pr_buf_append_str(&req, "\r\n");
	if (rc == 0 && len > 0)
		rc = pr_buf_append(&req, body, len);
	if (rc != 0)
		goto free_req;
	for (attempt = 0; attempt < 2; attempt++) {
		memset(&r, 0, sizeof(r));
		reused = h->fd >= 0;
		if (!reused && (rc = conn_open(h)) != 0)
			break;
		rc = conn_write(h, req.data, req.len);
		if (rc == 0)
			rc = read_response(h, strcmp(method, "HEAD") == 0,
			    maxbody, &r, &keep, &got_any);
		if (rc == 0)
			break;
		pr_buf_free(&r.body);
		conn_close(h);
		/* A kept-alive connection the server closed: retry once. */
		if (!reused || got_any || rc == PR_ETOOBIG)
			break;
	}
	if (rc != 0)
		goto free_req;
	if (!keep)
		conn_close(h);
	*resp = r;
free_req:
	pr_buf_free(&req);
	return rc;
}

void
cl_http_resp_free(struct cl_http_resp *r)
{
	pr_buf_free(&r->body);
	r->status = 0;
}
