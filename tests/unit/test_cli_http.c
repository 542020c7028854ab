/*
 * Unit tests: cli/http.c against a canned loopback server thread:
 * Content-Length, chunked and close-delimited bodies, keep-alive reuse,
 * a retry after the server dropped an idle connection, answers too large
 * or not HTTP, a refused connection and a timeout.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/http.c"

/* What the server thread sends for each connection it accepts: one
 * string of answers a connection; NULL stops it. */
struct canned {
	int lfd;
	unsigned short port;
	const char *const *conns;
	int requests; /* requests seen, all connections */
	char line[256]; /* the last request line */
	pthread_t tid;
};

/* Read one request head (up to the blank line) and its body. */
static int
read_request(int fd, char *line, size_t linelen)
{
	char buf[8192], *end;
	size_t len = 0;
	ssize_t n;
	long clen = 0;

	while (len < sizeof(buf) - 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			char *cl = strstr(buf, "Content-Length: ");

			snprintf(line, linelen, "%.*s", (int)strcspn(buf, "\r"),
			    buf);
			if (cl != NULL)
				clen = strtol(cl + 16, NULL, 10);
			while ((long)(len - (size_t)(end + 4 - buf)) < clen &&
			    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) >
			        0)
				len += (size_t)n;
			return 0;
		}
	}
	return -1;
}

/*
 * Each connection's script is answers separated by "|": after each
 * request the next answer is written; "~" alone closes the connection
 * before answering, "." ends the script with the connection left open
 * (for the timeout).
 */
static void *
serve(void *arg)
{
	struct canned *c = arg;
	size_t i;

	for (i = 0; c->conns[i] != NULL; i++) {
		char script[4096], *ans, *save;
		int fd = accept(c->lfd, NULL, NULL);

		if (fd < 0)
			break;
		snprintf(script, sizeof(script), "%s", c->conns[i]);
		for (ans = strtok_r(script, "|", &save); ans != NULL;
		     ans = strtok_r(NULL, "|", &save)) {
			if (strcmp(ans, ".") == 0) {
				sleep(2);
				break;
			}
			if (read_request(fd, c->line, sizeof(c->line)) != 0)
				break;
			c->requests++;
			if (strcmp(ans, "~") == 0)
				break;
			if (write(fd, ans, strlen(ans)) < 0)
				break;
		}
		close(fd);
	}
	return NULL;
}

static void
start(struct canned *c, const char *const *conns)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(c, 0, sizeof(*c));
	c->conns = conns;
	assert_true((c->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c->lfd, 8), 0);
	assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&sa, &sl), 0);
	c->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&c->tid, NULL, serve, c), 0);
}

static void
stop(struct canned *c)
{
	shutdown(c->lfd, SHUT_RDWR);
	close(c->lfd);
	pthread_join(c->tid, NULL);
}

static struct cl_http *
client(const struct canned *c, int timeout_ms)
{
	struct cl_http *h;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/pfx/", c->port);
	assert_int_equal(cl_http_open(url, NULL, timeout_ms, &h), 0);
	return h;
}

static void
test_bodies_and_keepalive(void **state)
{
	static const char *const conns[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Type: text/plain\r\n\r\nhello"
	    "|HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno"
	    "|HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
	    "|HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n",
	    "HTTP/1.0 200 OK\r\n\r\nto the end",
	    NULL,
	};
	struct cl_http_resp r;
	struct canned c;
	struct cl_http *h;
	char name[64];

	(void)state;
	start(&c, conns);
	h = client(&c, 5000);
	snprintf(name, sizeof(name), "127.0.0.1:%u", c.port);
	assert_string_equal(cl_http_name(h), name);
	assert_int_equal(
	    cl_http_request(h, "GET", "/a", NULL, NULL, 0, 100, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain");
	assert_int_equal(r.body.len, 5);
	assert_memory_equal(r.body.data, "hello", 5);
	cl_http_resp_free(&r);
	/* The same connection, a lower-case header, a POST body. */
	assert_int_equal(cl_http_request(h, "POST", "/b", "application/json",
	                     "{}", 2, 100, &r),
	    0);
	assert_int_equal(r.status, 404);
	assert_memory_equal(r.body.data, "no", 2);
	/* The URL's path prefix is kept. */
	assert_string_equal(c.line, "POST /pfx/b HTTP/1.1");
	cl_http_resp_free(&r);
	assert_int_equal(
	    cl_http_request(h, "GET", "/c", NULL, NULL, 0, 100, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 7);
	assert_memory_equal(r.body.data, "abcdefg", 7);
	cl_http_resp_free(&r);
	assert_int_equal(
	    cl_http_request(h, "GET", "/d", NULL, NULL, 0, 100, &r), 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after, 7);
	cl_http_resp_free(&r);
	/* After "Connection: close", a new connection; HTTP/1.0 body to
	 * the end of the connection. */
	assert_int_equal(
	    cl_http_request(h, "GET", "/e", NULL, NULL, 0, 100, &r), 0);
	assert_int_equal(r.body.len, 10);
	assert_memory_equal(r.body.data, "to the end", 10);
	cl_http_resp_free(&r);
	cl_http_close(h);
	stop(&c);
	assert_int_equal(c.requests, 5);
}

static void
test_retry_after_idle_close(void **state)
{
	static const char *const conns[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na|~",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
	    NULL,
	};
	struct cl_http_resp r;
	struct canned c;
	struct cl_http *h;

	(void)state;
	start(&c, conns);
	h = client(&c, 5000);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), 0);
	assert_memory_equal(r.body.data, "a", 1);
	cl_http_resp_free(&r);
	/* The server drops the kept-alive connection: one retry. */
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), 0);
	assert_memory_equal(r.body.data, "b", 1);
	cl_http_resp_free(&r);
	cl_http_close(h);
	stop(&c);
}

static void
test_bad_answers(void **state)
{
	static const char *const conns[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
	    "SSH-2.0-OpenSSH\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	    NULL,
	};
	struct cl_http_resp r;
	struct canned c;
	struct cl_http *h;

	(void)state;
	start(&c, conns);
	h = client(&c, 5000);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_ETOOBIG);
	assert_non_null(strstr(pr_errmsg(PR_ETOOBIG), "larger than 100"));
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_EPROTO);
	assert_non_null(strstr(pr_errmsg(PR_EPROTO), "HTTP/1.x"));
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_EPROTO);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_EPROTO);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_EPROTO);
	assert_non_null(strstr(pr_errmsg(PR_EPROTO), "middle of an answer"));
	cl_http_close(h);
	stop(&c);
}

static void
test_refused_and_timeout(void **state)
{
	static const char *const conns[] = {".", NULL};
	struct cl_http_resp r;
	struct canned c;
	struct cl_http *h;
	char url[64];
	int port;

	(void)state;
	start(&c, conns);
	port = c.port;
	h = client(&c, 1000);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_ENET);
	assert_non_null(strstr(pr_errmsg(PR_ENET), "timed out after 1 s"));
	cl_http_close(h);
	stop(&c);
	/* Nothing listens there any more. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	assert_int_equal(cl_http_open(url, NULL, 1000, &h), 0);
	assert_int_equal(
	    cl_http_request(h, "GET", "/", NULL, NULL, 0, 100, &r), PR_ENET);
	snprintf(url, sizeof(url),
	    "cannot connect to 127.0.0.1:%d: Connection refused", port);
	assert_string_equal(pr_errmsg(PR_ENET), url);
	cl_http_close(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bodies_and_keepalive),
	    cmocka_unit_test(test_retry_after_idle_close),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_refused_and_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
