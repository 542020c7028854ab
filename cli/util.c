/*
 * Shared helpers for procurectl commands: messages and exit statuses,
 * files, JSON, the server connection.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/money.h"
#include "proto/note.h"

/* Largest JSON answer accepted from a server. */
#define CL_MAX_ANSWER (64u << 20)

/* A progress line is on the terminal: a message erases it first. */
static int progress_drawn;

void
cl_errx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (progress_drawn) {
		fputs("\r\033[K", stderr);
		progress_drawn = 0;
	}
	fputs("procurectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cl_exit_for(int rc)
{
	switch (rc) {
	case 0:
		return CL_EXIT_OK;
	case PR_ENET:
	case PR_EPROTO:
		return CL_EXIT_NET;
	case PR_ESIG:
	case PR_EPROOF:
	case PR_EUNKNOWNKEY:
	case PR_ECORRUPT:
	case PR_ECONFLICT:
	case PR_EDENIED:
	case PR_EEVENT:
		return CL_EXIT_FAIL;
	default:
		return CL_EXIT_LOCAL;
	}
}

int
cl_err_rc(int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (what[0] != '\0')
		cl_errx("%s: %s", what, pr_errmsg(rc));
	else
		cl_errx("%s", pr_errmsg(rc));
	return cl_exit_for(rc);
}

int
cl_wrap(int rc, const char *fmt, ...)
{
	char what[256], detail[256];
	va_list ap;

	snprintf(detail, sizeof(detail), "%s", pr_errmsg(rc));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pr_errmsg_set(rc, "%s: %s", what, detail);
}

int
cl_read_file(const char *path, size_t max, struct pr_buf *out)
{
	struct pr_buf b = PR_BUF_INIT;
	ssize_t n;
	int fd, rc = 0;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pr_errmsg_set(
		    PR_EIO, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if ((rc = pr_buf_reserve(&b, 65536)) != 0)
			break;
		n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pr_errmsg_set(PR_EIO, "cannot read %s: %s", path,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
		if (b.len > max) {
			rc = pr_errmsg_set(PR_ETOOBIG,
			    "%s is larger than %zu bytes", path, max);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0) {
		pr_buf_free(&b);
		return rc;
	}
	if (b.data == NULL && (rc = pr_buf_reserve(&b, 1)) != 0)
		return rc;
	*out = b;
	return 0;
}

json_t *
cl_json_parse(const void *p, size_t len, const char *what)
{
	json_error_t e;
	json_t *j;

	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		pr_errmsg_set(PR_EFORMAT, "%s is not valid JSON: %s (line %d)",
		    what, e.text, e.line);
	return j;
}

struct cl_http *
cl_server(struct cl_ctx *ctx)
{
	int rc;

	if (ctx->http != NULL)
		return ctx->http;
	if ((rc = cl_http_open(
	         ctx->server, ctx->cacert, ctx->timeout_ms, &ctx->http)) != 0) {
		cl_err_rc(rc, "%s", "");
		/* A bad URL is a bad command line; a bad CA file is local. */
		ctx->server_exit = rc == PR_EINVAL ? CL_EXIT_USAGE
		    : rc == PR_ENET                ? CL_EXIT_NET
		                                   : CL_EXIT_LOCAL;
		return NULL;
	}
	return ctx->http;
}

/* Print the server's JSON error (or the raw status) for a failed call. */
static void
report_status(
    struct cl_ctx *ctx, const char *path, const struct cl_http_resp *r)
{
	struct pr_buf m = PR_BUF_INIT;
	json_t *j = NULL, *e;
	const char *code = NULL, *msg = NULL, *field = NULL;

	if (r->body.len > 0)
		j = json_loadb(
		    (const char *)r->body.data, r->body.len, 0, NULL);
	if (j != NULL && (e = json_object_get(j, "error")) != NULL) {
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		field = json_string_value(json_object_get(e, "field"));
	}
	/* Everything the server says is sanitized before the terminal. */
	if (msg != NULL) {
		cl_sanitize(&m, msg, strlen(msg));
		pr_buf_printf(&m, " (HTTP %d, ", r->status);
		cl_sanitize(&m, code ? code : "no code",
		    strlen(code ? code : "no code"));
		if (field != NULL) {
			pr_buf_append_str(&m, ", field ");
			cl_sanitize(&m, field, strlen(field));
		}
		pr_buf_append_byte(&m, ')');
	} else
		pr_buf_printf(&m, "answered %s with HTTP %d%s", path, r->status,
		    r->status == 404 ? " (not found)" : "");
	if (r->retry_after > 0)
		pr_buf_printf(&m, "; retry after %u s", r->retry_after);
	cl_errx(
	    "%s: %s", cl_http_name(ctx->http), m.data ? (char *)m.data : "");
	pr_buf_free(&m);
	json_decref(j);
}

int
cl_call_json(struct cl_ctx *ctx, const char *method, const char *path,
    const void *body, size_t len, int *status, json_t **out)
{
	struct cl_http_resp r;
	struct cl_http *h;
	json_t *j;
	int rc;

	if ((h = cl_server(ctx)) == NULL)
		return ctx->server_exit;
	if ((rc = cl_http_request(h, method, path,
	         body ? "application/json" : NULL, body, len, CL_MAX_ANSWER,
	         &r)) != 0) {
		cl_err_rc(rc, "%s", "");
		return CL_EXIT_NET;
	}
	if (r.status / 100 != 2) {
		report_status(ctx, path, &r);
		cl_http_resp_free(&r);
		return CL_EXIT_NET;
	}
	j = cl_json_parse(r.body.data, r.body.len, "the server's answer");
	if (j == NULL) {
		cl_errx(
		    "%s %s: %s", cl_http_name(h), path, pr_errmsg(PR_EFORMAT));
		cl_http_resp_free(&r);
		return CL_EXIT_NET;
	}
	if (status != NULL)
		*status = r.status;
	cl_http_resp_free(&r);
	*out = j;
	return 0;
}

int
cl_get_json(struct cl_ctx *ctx, const char *path, json_t **out)
{
	return cl_call_json(ctx, "GET", path, NULL, 0, NULL, out);
}

int
cl_url_escape(struct pr_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:", c) != NULL)
			rc = pr_buf_append_byte(out, c);
		else
			rc = pr_buf_printf(
			    out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

int
cl_checkpoint_unverified(const char *msg, size_t len, struct pr_checkpoint *out)
{
	struct pr_note *n;
	int rc;

	if ((rc = pr_note_parse(msg, len, &n)) != 0)
		return rc;
	rc = pr_checkpoint_parse(n->text, n->textlen, out);
	pr_note_free(n);
	return rc;
}

int
cl_money_get(const json_t *v, int64_t *minor, char cur[4], unsigned *exp)
{
	const struct pr_currency *c;
	const char *amt, *code;
	int64_t m;

	amt = json_string_value(json_object_get(v, "amount"));
	code = json_string_value(json_object_get(v, "currency"));
	if (amt == NULL || code == NULL ||
	    (c = pr_currency_find(code, strlen(code))) == NULL ||
	    pr_decimal_parse(amt, strlen(amt), c->exponent, &m) != 0)
		return PR_EFORMAT;
	*minor = m;
	memcpy(cur, c->code, 4);
	*exp = c->exponent;
	return 0;
}

void
cl_money_str(int64_t minor, unsigned exp, char *buf, size_t size)
{
	char tmp[PR_DECIMAL_STRLEN];

	pr_decimal_format(minor, exp, tmp, sizeof(tmp));
	snprintf(buf, size, "%s", tmp);
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
cl_progress_start(
    const struct cl_ctx *ctx, struct cl_progress *p, const char *what)
{
	p->what = what;
	p->on = ctx->err_tty;
	p->t0 = p->shown = mono_now();
}

void
cl_progress_show(struct cl_progress *p, uint64_t done, uint64_t total)
{
	double now, rate;
	unsigned long eta;

	if (!p->on || (now = mono_now()) - p->shown < 0.25)
		return;
	p->shown = now;
	progress_drawn = 1;
	rate = now > p->t0 ? (double)done / (now - p->t0) : 0;
	if (total == 0) {
		fprintf(stderr, "\r\033[K%s: %llu, %.0f/s", p->what,
		    (unsigned long long)done, rate);
		return;
	}
	eta = rate > 0 && total > done
	    ? (unsigned long)((double)(total - done) / rate)
	    : 0;
	fprintf(stderr, "\r\033[K%s: %llu/%llu (%.1f%%), %.0f/s, ETA %lu:%02lu",
	    p->what, (unsigned long long)done, (unsigned long long)total,
	    100.0 * (double)done / (double)total, rate, eta / 60, eta % 60);
}

void
cl_progress_end(struct cl_progress *p)
{
	if (p->on && progress_drawn)
		fputs("\r\033[K", stderr);
	progress_drawn = 0;
	p->on = 0;
}
