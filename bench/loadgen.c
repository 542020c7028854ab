/*
 * loadgen: an HTTP/1.1 load generator for POST /v1/events.
 *
 * usage: loadgen [options] [FILE]
 *
 *   --server HOST:PORT   procured's address (default 127.0.0.1:8480)
 *   --path PATH          request target (default /v1/events)
 *   --batch K            send K envelopes a request, one a line, to
 *                        /v1/events/batch; ok counts events answered
 *                        201 or 200
 *   --connections N      keep-alive connections (default 64)
 *   --rate R             open loop: start request i at t0 + i / R, on
 *                        whichever connection is free (waiting if none is);
 *                        latency counts from the scheduled start, so a
 *                        server falling behind is not hidden
 *   --concurrency C      closed loop: C connections, each sending its next
 *                        request as soon as the previous answer arrives
 *   --skip N             start at line N of FILE (0-based)
 *   --count N            send N requests (default: every line after skip)
 *   --duration S         stop sending after S seconds
 *   --idle N             also open N connections that each make one
 *                        GET /healthz and then stay open, idle
 *   --hold S             with --idle: once they are all answered, print
 *                        "idle_ready N" and keep them open S seconds
 *
 * FILE holds one request body a line (pre-signed DSSE envelopes, as
 * bench/mkload writes them); nothing is signed here.  Results go to
 * stdout as "name value" lines: throughput of answered requests, latency
 * percentiles in milliseconds, and counts by HTTP status (status 0:
 * connection failed before an answer).  A request whose kept-alive
 * connection the server closed before answering (idle timeout) is sent
 * again on a new connection and counted once, under "retries".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF_INIT 16384
#define NSTATUS 600

enum cstate { C_IDLE, C_BUSY, C_DEAD };
/* Why a connection broke. */
enum fail { F_WRITE, F_EOF, F_READ, F_PARSE };
static const char *const fail_names[] = {"write", "eof", "read", "parse"};

struct conn {
	int fd;
	enum cstate state;
	int want_out; /* EPOLLOUT registered */
	/* request being written */
	char head[256];
	size_t headlen;
	const char *body;
	size_t bodylen;
	size_t sent; /* bytes of head + body written */
	double t_sched; /* when the request was due (latency origin) */
	int counted; /* counts in the main statistics */
	int tries; /* times sent again after the server closed */
	/* response being read */
	char *rbuf;
	size_t rlen, rcap;
};

struct gen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[256];
	const char *path;
	size_t batch; /* envelopes a request (1: POST /v1/events) */
	int ep;
	struct conn *conns;
	size_t nconns;
	/* the file */
	const char *data;
	size_t datalen;
	const char **lines;
	size_t *lens;
	size_t nlines;
	/* schedule */
	double rate; /* 0: closed loop */
	size_t next, end; /* lines [next, end) still to send */
	double t0, deadline;
	size_t inflight;
	/* results */
	double *lat;
	size_t nlat, latcap;
	uint64_t status[NSTATUS];
	uint64_t errors, reconnects, retries, ok;
	uint64_t refused; /* batch lines answered with an error */
	uint64_t fails[4]; /* by enum fail */
	double t_last;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static int
resolve(struct gen *g, const char *hostport)
{
	struct addrinfo hints, *res;
	const char *colon = strrchr(hostport, ':');
	char port[16];
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - hostport)) == 0 ||
	    n >= sizeof(g->host))
		return -1;
	memcpy(g->host, hostport, n);
	g->host[n] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(g->host, port, &hints, &res) != 0)
		return -1;
	memcpy(&g->addr, res->ai_addr, res->ai_addrlen);
	g->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
ep_set(struct gen *g, struct conn *c, int out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl");
	c->want_out = out;
}

/* Blocking connect on loopback, then non-blocking for the run. */
static int
conn_open(struct gen *g, struct conn *c)
{
	struct epoll_event ev;
	int one = 1;

	if ((c->fd = socket(g->addr.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&g->addr, g->addrlen) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		die("epoll_ctl");
	c->state = C_IDLE;
	c->want_out = 0;
	c->rlen = 0;
	if (c->rbuf == NULL) {
		if ((c->rbuf = malloc(RBUF_INIT)) == NULL)
			die("malloc");
		c->rcap = RBUF_INIT;
	}
	return 0;
}

static void
conn_close(struct gen *g, struct conn *c)
{
	if (c->fd != -1) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_DEAD;
}

/* Events of a batch answer that were logged (lines "{"status":20x,");
 * the others are counted in *refused. */
static uint64_t
batch_ok(const char *body, size_t len, uint64_t *refused)
{
	const char *p = body, *e = body + len, *nl;
	uint64_t n = 0;

	for (; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if (nl - p > 13 && strncmp(p, "{\"status\":20", 12) == 0 &&
		    (p[12] == '0' || p[12] == '1'))
			n++;
		else if (nl > p)
			(*refused)++;
	}
	return n;
}

static void
record(struct gen *g, struct conn *c, int status, const char *body, size_t len)
{
	double t = now();

	if (!c->counted)
		return;
	g->inflight--;
	g->status[status < NSTATUS && status >= 0 ? status : 0]++;
	if (status >= 200 && status < 300)
		g->ok += g->batch > 1 ? batch_ok(body, len, &g->refused) : 1;
	if (status == 0) {
		g->errors++;
		return;
	}
	if (g->nlat == g->latcap) {
		g->latcap = g->latcap ? 2 * g->latcap : 65536;
		if ((g->lat = realloc(g->lat, g->latcap * sizeof(double))) ==
		    NULL)
			die("realloc");
	}
	g->lat[g->nlat++] = t - c->t_sched;
	g->t_last = t;
}

/* Write what remains of c's request; 0, or -1 if the connection broke. */
static int
conn_flush(struct gen *g, struct conn *c)
{
	struct iovec iov[2];
	size_t total = c->headlen + c->bodylen;
	ssize_t n;
	int k;

	while (c->sent < total) {
		k = 0;
		if (c->sent < c->headlen) {
			iov[k].iov_base = c->head + c->sent;
			iov[k++].iov_len = c->headlen - c->sent;
			iov[k].iov_base = (void *)c->body;
			iov[k++].iov_len = c->bodylen;
		} else {
			iov[k].iov_base =
			    (void *)(c->body + (c->sent - c->headlen));
			iov[k++].iov_len = total - c->sent;
		}
		n = writev(c->fd, iov, k);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->want_out)
				ep_set(g, c, 1);
			return 0;
		}
		if (n <= 0)
			return -1;
		c->sent += (size_t)n;
	}
	if (c->want_out)
		ep_set(g, c, 0);
	return 0;
}

static void
conn_fail(struct gen *g, struct conn *c, enum fail why)
{
	g->fails[why]++;
	if (c->state == C_BUSY)
		record(g, c, 0, NULL, 0);
	conn_close(g, c);
	g->reconnects++;
	if (conn_open(g, c) != 0)
		c->state = C_DEAD;
}

/*
 * The server closed a kept-alive connection without answering (its idle
 * timeout): send the same request again on a new connection, as HTTP
 * clients do.  1 if it was resent.
 */
static int
conn_retry(struct gen *g, struct conn *c)
{
	int tries = c->tries;

	if (tries >= 3)
		return 0;
	conn_close(g, c);
	g->reconnects++;
	if (conn_open(g, c) != 0)
		return 0;
	g->retries++;
	c->state = C_BUSY;
	c->sent = 0;
	c->tries = tries + 1;
	if (conn_flush(g, c) != 0) {
		conn_fail(g, c, F_WRITE);
		return 1;
	}
	return 1;
}

static void
send_req(struct gen *g, struct conn *c, const char *body, size_t len,
    double t_sched, int counted)
{
	if (body != NULL)
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "POST %s HTTP/1.1\r\nHost: %s\r\n"
		    "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    g->path, g->host,
		    g->batch > 1 ? "application/x-ndjson" : "application/json",
		    len);
	else
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", g->host);
	c->body = body ? body : "";
	c->bodylen = body ? len : 0;
	c->sent = 0;
	c->t_sched = t_sched;
	c->counted = counted;
	c->tries = 0;
	c->rlen = 0;
	c->state = C_BUSY;
	if (counted)
		g->inflight++;
	if (conn_flush(g, c) != 0)
		conn_fail(g, c, F_WRITE);
}

/*
 * Parse a complete response at the start of c->rbuf: 1 and *status,
 * *used (bytes), *close (server closes); 0 if more is needed; -1 bad.
 */
static int
parse_response(
    struct conn *c, int *status, size_t *used, size_t *head, int *closing)
{
	char *end, *p, *line, *eol;
	size_t hlen, clen = 0;
	int have_len = 0;

	if (c->rlen < 12)
		return 0;
	c->rbuf[c->rlen < c->rcap ? c->rlen : c->rcap - 1] = '\0';
	if ((end = strstr(c->rbuf, "\r\n\r\n")) == NULL)
		return c->rlen > 65536 ? -1 : 0;
	hlen = (size_t)(end - c->rbuf) + 4;
	if (strncmp(c->rbuf, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->rbuf + 9);
	*closing = strncmp(c->rbuf, "HTTP/1.0", 8) == 0;
	for (line = strstr(c->rbuf, "\r\n") + 2; line < end; line = eol + 2) {
		eol = strstr(line, "\r\n");
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			clen = strtoul(line + 15, &p, 10);
			have_len = 1;
		} else if (strncasecmp(line, "Connection:", 11) == 0) {
			for (p = line + 11; *p == ' '; p++)
				;
			if (strncasecmp(p, "close", 5) == 0)
				*closing = 1;
		} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
			return -1; /* procured always sends a length */
		}
	}
	if (!have_len)
		clen = 0;
	if (c->rlen < hlen + clen)
		return 0;
	*used = hlen + clen;
	*head = hlen;
	return 1;
}

static void conn_next(struct gen *g, struct conn *c);

static void
conn_read(struct gen *g, struct conn *c)
{
	int status, closing, r;
	size_t used, head;
	ssize_t n;

	for (;;) {
		if (c->rcap - c->rlen < 4096) {
			c->rcap *= 2;
			if ((c->rbuf = realloc(c->rbuf, c->rcap)) == NULL)
				die("realloc");
		}
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == 0 && c->state == C_BUSY && c->rlen == 0 &&
		    c->sent == c->headlen + c->bodylen && conn_retry(g, c))
			return;
		if (n <= 0) {
			conn_fail(g, c, n == 0 ? F_EOF : F_READ);
			return;
		}
		c->rlen += (size_t)n;
	}
	if (c->state != C_BUSY) {
		c->rlen = 0; /* nothing asked: ignore */
		return;
	}
	r = parse_response(c, &status, &used, &head, &closing);
	if (r == 0)
		return;
	if (r < 0) {
		conn_fail(g, c, F_PARSE);
		return;
	}
	record(g, c, status, c->rbuf + head, used - head);
	c->state = C_IDLE;
	c->rlen = 0;
	if (closing) {
		conn_close(g, c);
		g->reconnects++;
		if (conn_open(g, c) != 0)
			return;
	}
	conn_next(g, c);
}

/* Give an idle connection its next request if one is due. */
static void
conn_next(struct gen *g, struct conn *c)
{
	double t = now(), due = t;

	if (c->state != C_IDLE || g->next >= g->end)
		return;
	if (g->deadline > 0 && t >= g->deadline) {
		g->end = g->next;
		return;
	}
	if (g->rate > 0) {
		due = g->t0 + (double)g->next / g->rate;
		if (due > t)
			return;
	}
	send_req(g, c, g->lines[g->next], g->lens[g->next], due, 1);
	g->next++;
}

static void
load_file(struct gen *g, const char *path, size_t skip)
{
	struct stat sb;
	const char *p, *e, *nl;
	size_t cap = 0, i = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		die(path);
	g->datalen = (size_t)sb.st_size;
	if (g->datalen == 0)
		return;
	g->data = mmap(NULL, g->datalen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (g->data == MAP_FAILED)
		die("mmap");
	close(fd);
	madvise((void *)g->data, g->datalen, MADV_SEQUENTIAL);
	for (p = g->data, e = g->data + g->datalen; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if (nl == p)
			continue;
		if (i++ < skip)
			continue;
		if (g->nlines == cap) {
			cap = cap ? 2 * cap : 65536;
			g->lines = realloc(g->lines, cap * sizeof(*g->lines));
			g->lens = realloc(g->lens, cap * sizeof(*g->lens));
			if (g->lines == NULL || g->lens == NULL)
				die("realloc");
		}
		g->lines[g->nlines] = p;
		g->lens[g->nlines++] = (size_t)(nl - p);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1] * 1000.0;
}

/* Open n idle connections, each answered once, and hold them. */
static int
run_idle(struct gen *g, struct conn *idle, size_t n, double hold)
{
	struct epoll_event evs[256];
	size_t i, answered = 0, opened = 0;
	struct conn *c;
	int k, j;

	for (i = 0; i < n; i++) {
		idle[i].fd = -1;
		if (conn_open(g, &idle[i]) != 0) {
			perror("connect (idle)");
			break;
		}
		opened++;
		send_req(g, &idle[i], NULL, 0, now(), 0);
	}
	while (answered < opened) {
		if ((k = epoll_wait(g->ep, evs, 256, 5000)) <= 0)
			break;
		for (j = 0; j < k; j++) {
			c = evs[j].data.ptr;
			if (c < idle || c >= idle + n)
				continue;
			if (evs[j].events & EPOLLOUT && c->state == C_BUSY)
				conn_flush(g, c);
			if (c->state == C_BUSY) {
				conn_read(g, c);
				if (c->state == C_IDLE)
					answered++;
			}
		}
	}
	printf("idle_ready %zu\n", answered);
	fflush(stdout);
	if (hold > 0) {
		struct timespec ts = {
		    (time_t)hold, (long)((hold - (double)(time_t)hold) * 1e9)};
		nanosleep(&ts, NULL);
	}
	return answered == n ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen [--server HOST:PORT] [--path PATH] "
	    "[--connections N]\n"
	    "               [--rate R | --concurrency C] [--skip N] "
	    "[--count N]\n"
	    "               [--duration S] [--idle N [--hold S]] [--batch K] "
	    "[FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"path", required_argument, NULL, 'p'},
	    {"connections", required_argument, NULL, 'c'},
	    {"concurrency", required_argument, NULL, 'C'},
	    {"rate", required_argument, NULL, 'r'},
	    {"skip", required_argument, NULL, 'k'},
	    {"count", required_argument, NULL, 'n'},
	    {"duration", required_argument, NULL, 'd'},
	    {"idle", required_argument, NULL, 'i'},
	    {"hold", required_argument, NULL, 'h'},
	    {"batch", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
	static struct gen g;
	struct epoll_event evs[256];
	struct conn *idle = NULL, *c;
	struct rlimit rl;
	const char *server = "127.0.0.1:8480";
	size_t skip = 0, count = SIZE_MAX, nidle = 0, i;
	double duration = 0, hold = 0, t, wait, elapsed;
	int opt, k, j, rc = 0;

	g.path = "/v1/events";
	g.nconns = 64;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			server = optarg;
			break;
		case 'p':
			g.path = optarg;
			break;
		case 'c':
			g.nconns = strtoul(optarg, NULL, 10);
			break;
		case 'C':
			g.nconns = strtoul(optarg, NULL, 10);
			g.rate = 0;
			break;
		case 'r':
			g.rate = strtod(optarg, NULL);
			break;
		case 'k':
			skip = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'i':
			nidle = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			hold = strtod(optarg, NULL);
			break;
		case 'b':
			g.batch = strtoul(optarg, NULL, 10);
			if (g.batch > 1 && strcmp(g.path, "/v1/events") == 0)
				g.path = "/v1/events/batch";
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1 || (argc == optind && nidle == 0) ||
	    g.nconns == 0)
		usage();
	if (resolve(&g, server) != 0) {
		fprintf(stderr, "loadgen: cannot resolve %s\n", server);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((g.ep = epoll_create1(0)) == -1)
		die("epoll_create1");
	if (nidle > 0) {
		if ((idle = calloc(nidle, sizeof(*idle))) == NULL)
			die("calloc");
		rc = run_idle(&g, idle, nidle, argc > optind ? 0 : hold);
		if (argc == optind)
			goto done;
	}
	load_file(&g, argv[optind], skip);
	g.end = count < g.nlines ? count : g.nlines;
	if (g.batch > 1) {
		/* Consecutive lines of the file are one request body. */
		size_t nb = 0, first, last, len;

		for (first = 0; first < g.end; first += g.batch) {
			last = (first + g.batch < g.end ? first + g.batch
			                                : g.end) -
			    1;
			len = (size_t)(g.lines[last] + g.lens[last] -
			    g.lines[first]);
			g.lines[nb] = g.lines[first];
			g.lens[nb++] = len;
		}
		g.end = nb;
	}
	if ((g.conns = calloc(g.nconns, sizeof(*g.conns))) == NULL)
		die("calloc");
	for (i = 0; i < g.nconns; i++) {
		g.conns[i].fd = -1;
		if (conn_open(&g, &g.conns[i]) != 0)
			die("connect");
	}
	g.t0 = now();
	g.deadline = duration > 0 ? g.t0 + duration : 0;
	g.t_last = g.t0;
	for (i = 0; i < g.nconns; i++)
		conn_next(&g, &g.conns[i]);
	while (g.next < g.end || g.inflight > 0) {
		wait = 1000;
		if (g.rate > 0 && g.next < g.end) {
			t = g.t0 + (double)g.next / g.rate - now();
			wait = t > 0 ? t * 1000 : 0;
		}
		k = epoll_wait(g.ep, evs, 256, (int)(wait + 0.999));
		if (k == -1 && errno != EINTR)
			die("epoll_wait");
		for (j = 0; j < k; j++) {
			c = evs[j].data.ptr;
			if (idle != NULL && c >= idle && c < idle + nidle) {
				conn_read(&g, c);
				continue;
			}
			if ((evs[j].events & EPOLLOUT) && c->state == C_BUSY &&
			    conn_flush(&g, c) != 0) {
				conn_fail(&g, c, F_WRITE);
				continue;
			}
			if (evs[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(&g, c);
		}
		/* Due requests go to idle connections, oldest first. */
		for (i = 0; i < g.nconns && g.next < g.end; i++)
			if (g.conns[i].state == C_IDLE)
				conn_next(&g, &g.conns[i]);
		if (g.deadline > 0 && now() >= g.deadline && g.next < g.end)
			g.end = g.next;
	}
	elapsed = g.t_last - g.t0;
	qsort(g.lat, g.nlat, sizeof(double), cmp_double);
	printf("loadgen_mode %s\n", g.rate > 0 ? "open" : "closed");
	printf("loadgen_connections %zu\n", g.nconns);
	printf("loadgen_target_rate %.0f\n", g.rate);
	printf("loadgen_requests %zu\n", g.nlat + (size_t)g.errors);
	printf("loadgen_seconds %.3f\n", elapsed);
	printf("loadgen_ok %llu\n", (unsigned long long)g.ok);
	printf("loadgen_ok_per_s %.0f\n",
	    elapsed > 0 ? (double)g.ok / elapsed : 0.0);
	printf("loadgen_p50_ms %.2f\n", pct(g.lat, g.nlat, 0.50));
	printf("loadgen_p90_ms %.2f\n", pct(g.lat, g.nlat, 0.90));
	printf("loadgen_p99_ms %.2f\n", pct(g.lat, g.nlat, 0.99));
	printf(
	    "loadgen_max_ms %.2f\n", g.nlat ? g.lat[g.nlat - 1] * 1000.0 : 0.0);
	for (i = 0; i < NSTATUS; i++)
		if (g.status[i] > 0)
			printf("loadgen_status_%zu %llu\n", i,
			    (unsigned long long)g.status[i]);
	printf("loadgen_reconnects %llu\n", (unsigned long long)g.reconnects);
	printf("loadgen_retries %llu\n", (unsigned long long)g.retries);
	for (i = 0; i < 4; i++)
		if (g.fails[i] > 0)
			printf("loadgen_broken_%s %llu\n", fail_names[i],
			    (unsigned long long)g.fails[i]);
	if (g.batch > 1)
		printf("loadgen_batch %zu\nloadgen_refused %llu\n", g.batch,
		    (unsigned long long)g.refused);
	if (g.errors > 0 || g.refused > 0 || (g.batch <= 1 && g.ok != g.nlat))
		rc = 1;
done:
	for (i = 0; g.conns != NULL && i < g.nconns; i++) {
		conn_close(&g, &g.conns[i]);
		free(g.conns[i].rbuf);
	}
	for (i = 0; i < nidle; i++) {
		conn_close(&g, &idle[i]);
		free(idle[i].rbuf);
	}
	free(g.conns);
	free(idle);
	free(g.lines);
	free(g.lens);
	free(g.lat);
	if (g.data != NULL)
		munmap((void *)g.data, g.datalen);
	close(g.ep);
	return rc;
}
