/*
 * procurectl: commands, options and the context they share.
 *
 * Every command is one row of the command table (cli/procurectl.c) and
 * one function taking the context and its parsed arguments.  A command
 * returns an exit status (CL_EXIT_*) and prints its own one-line errors
 * with cl_errx() / cl_err_rc().
 */
#ifndef CL_CLI_H
#define CL_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/fmt.h"
#include "proto/log.h"

/* Exit statuses, documented in procurectl(1). */
#define CL_EXIT_OK 0
#define CL_EXIT_FAIL 1 /* verification or a check failed */
#define CL_EXIT_USAGE 2 /* bad command line */
#define CL_EXIT_NET 3 /* server or network error */
#define CL_EXIT_LOCAL 4 /* local file or key error */

#define CL_VERSION "0.1"
#define CL_DEFAULT_SERVER "http://127.0.0.1:8480"
#define CL_DEFAULT_TIMEOUT 30

/* Every option procurectl knows; a command lists those it accepts. */
enum cl_optid {
	CL_O_SERVER,
	CL_O_CACERT,
	CL_O_TIMEOUT,
	CL_O_JSON,
	CL_O_CSV,
	CL_O_HELP,
	CL_O_NAME,
	CL_O_OUT,
	CL_O_KEY,
	CL_O_ENVELOPE,
	CL_O_VKEY,
	CL_O_STATE,
	CL_O_DATADIR,
	CL_O_PARTY,
	CL_O_ITEM,
	CL_O_KIND,
	CL_O_OCID,
	CL_O_FROM,
	CL_O_TO,
	CL_O_LIMIT,
	CL_O_REFERENCE,
	CL_O_BY,
	CL_O_UNIT,
	CL_O_BUYER,
	CL_O_SUPPLIER,
	CL_O_THREADS,
	CL_O_ADMIN,
	CL_O_QUIET,
	CL_O_CHECK,
	CL_O_LEAF,
	CL_O_OCDS,
	CL_O_COUNT
};

struct cl_optdef {
	const char *name; /* long name without "--" */
	enum cl_optid id;
	const char *arg; /* argument name for help, NULL for a flag */
	const char *help;
};

/* At most this many options and positional arguments on one command
 * line. */
#define CL_ARGS_MAX 128

/*
 * A parsed command line.  Values point into argv (flags get "");
 * repeated options keep every value in order.
 */
struct cl_args {
	struct {
		enum cl_optid id;
		const char *val;
	} opt[CL_ARGS_MAX];
	size_t nopt;
	const char *pos[CL_ARGS_MAX];
	size_t npos;
};

/* The last value of option id, or NULL. */
const char *cl_opt(const struct cl_args *a, enum cl_optid id);
/* How many times option id was given, and its i-th value. */
size_t cl_opt_count(const struct cl_args *a, enum cl_optid id);
const char *cl_opt_at(const struct cl_args *a, enum cl_optid id, size_t i);

/*
 * Parse argv[0..argc) against opts (a NULL-name-terminated table, may be
 * NULL) and the global options.  Options may come before, between or
 * after positional arguments; "--" ends options; "--name=value" and
 * "--name value" are both accepted; "-h" is --help.  With stop_at_pos,
 * parsing stops at the first positional argument (the command name) and
 * *used receives the count of arguments consumed.  On error returns
 * PR_EINVAL and writes a one-line reason to err[0..errlen).
 */
int cl_parse_args(int argc, char *const *argv, const struct cl_optdef *opts,
    int stop_at_pos, struct cl_args *out, int *used, char *err, size_t errlen);

/* The global options (--server, --cacert, --timeout, --json, --csv,
 * --help), NULL-name-terminated. */
extern const struct cl_optdef cl_global_opts[];

struct cl_http;

/* State shared by every command. */
struct cl_ctx {
	const char *cmd; /* command name, for messages */
	const char *server;
	const char *cacert;
	int timeout_ms;
	enum cl_mode mode;
	int out_tty; /* stdout is a terminal */
	int err_tty; /* stderr is a terminal */
	struct cl_http *http; /* opened on first use, see cl_server() */
	int server_exit; /* exit status when cl_server() failed */
};

struct cl_cmd {
	const char *name;
	int (*fn)(struct cl_ctx *, const struct cl_args *);
	const char *help; /* one line */
	const char *usage; /* arguments after "procurectl NAME" */
	const struct cl_optdef *opts;
	size_t minpos, maxpos;
};

/* Look a command up by name in the table. */
const struct cl_cmd *cl_cmd_find(const char *name);

/* "procurectl: msg" on stderr. */
void cl_errx(const char *fmt, ...) PR_PRINTF(1, 2);
/*
 * Report a failed call (pr_errmsg(rc) after "what: ") and return the
 * exit status that suits rc: CL_EXIT_NET for network and protocol
 * errors, CL_EXIT_FAIL for failed signatures and proofs, CL_EXIT_LOCAL
 * otherwise.
 */
int cl_err_rc(int rc, const char *fmt, ...) PR_PRINTF(2, 3);
/* Prefix the recorded detail of rc with "what: "; returns rc. */
int cl_wrap(int rc, const char *fmt, ...) PR_PRINTF(2, 3);
/* The exit status that suits a PR_E* code (as above). */
int cl_exit_for(int rc);

/* Read a whole file (at most max bytes; "-" is stdin) into out. */
int cl_read_file(const char *path, size_t max, struct pr_buf *out);
/* Parse a JSON text strictly (duplicates rejected); NULL on error with
 * the reason recorded for pr_errmsg(PR_EFORMAT). */
json_t *cl_json_parse(const void *p, size_t len, const char *what);

/*
 * The server connection for this run (opened on the first call).  On
 * failure prints the reason and returns NULL.
 */
struct cl_http *cl_server(struct cl_ctx *ctx);

/*
 * GET path (a request target beginning with "/") from the server and
 * parse the JSON answer into *out.  On a non-2xx status, prints the
 * server's error (code, message and field) and returns CL_EXIT_NET; on a
 * network or parse failure prints the reason and returns CL_EXIT_NET.
 */
int cl_get_json(struct cl_ctx *ctx, const char *path, json_t **out);
/* As cl_get_json() with any method and an optional JSON body; *status
 * (may be NULL) receives the 2xx status. */
int cl_call_json(struct cl_ctx *ctx, const char *method, const char *path,
    const void *body, size_t len, int *status, json_t **out);

struct pr_checkpoint;
/*
 * Parse a signed checkpoint without checking its signatures (for
 * commands run without the log's verifier key).
 */
int cl_checkpoint_unverified(
    const char *msg, size_t len, struct pr_checkpoint *out);

/*
 * Money in JSON ({"amount": "12.50", "currency": "KZT"}) as minor units
 * and the currency's code and exponent.  PR_EFORMAT if v is not such an
 * object with a known currency and a canonical amount.
 */
int cl_money_get(const json_t *v, int64_t *minor, char cur[4], unsigned *exp);
/* Format minor units as a decimal string with exp fraction digits. */
void cl_money_str(int64_t minor, unsigned exp, char *buf, size_t size);

/*
 * A progress line on standard error for long work, only when standard
 * error is a terminal (nothing at all otherwise), redrawn at most four
 * times a second: "what: done/total (x%), rate/s, ETA m:ss", or without
 * a total (0) "what: done, rate/s".  cl_progress_end() erases it.
 */
struct cl_progress {
	const char *what;
	int on;
	double t0, shown;
};

void cl_progress_start(
    const struct cl_ctx *ctx, struct cl_progress *p, const char *what);
void cl_progress_show(struct cl_progress *p, uint64_t done, uint64_t total);
void cl_progress_end(struct cl_progress *p);

/* Percent-encode s for a query string value, appended to out. */
int cl_url_escape(struct pr_buf *out, const char *s);

/* Commands (one function a row of the table). */
int cmd_keygen(struct cl_ctx *, const struct cl_args *);
int cmd_sign(struct cl_ctx *, const struct cl_args *);
int cmd_submit(struct cl_ctx *, const struct cl_args *);
int cmd_log(struct cl_ctx *, const struct cl_args *);
int cmd_get(struct cl_ctx *, const struct cl_args *);
int cmd_process(struct cl_ctx *, const struct cl_args *);
int cmd_search(struct cl_ctx *, const struct cl_args *);
int cmd_prices(struct cl_ctx *, const struct cl_args *);
int cmd_totals(struct cl_ctx *, const struct cl_args *);
int cmd_prove(struct cl_ctx *, const struct cl_args *);
int cmd_verify(struct cl_ctx *, const struct cl_args *);
int cmd_export(struct cl_ctx *, const struct cl_args *);
int cmd_flags(struct cl_ctx *, const struct cl_args *);
/* export --ocds: an OCDS 1.1 release package (cli/cmd_ocds.c). */
int cl_export_ocds(struct cl_ctx *, const struct cl_args *);
/* The options of flags (cli/cmd_flags.c). */
extern const struct cl_optdef cl_flags_opts[];

#endif
