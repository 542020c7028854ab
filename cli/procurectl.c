/*
 * procurectl: query and audit a procured log.
 *
 * One row of cmd_table a command; global options may come before or after
 * the command name.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/http.h"
#include "proto/err.h"

#define VKEY_HELP "the log's verifier key (name+id+key) or a file holding it"

static const struct cl_optdef keygen_opts[] = {
    {"name", CL_O_NAME, "NAME", "key name (a signed-note key name)"},
    {"out", CL_O_OUT, "FILE", "private key file to create (mode 0600)"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef sign_opts[] = {
    {"key", CL_O_KEY, "FILE", "private key to sign with (repeatable)"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef submit_opts[] = {
    {"key", CL_O_KEY, "FILE", "private key to sign with (repeatable)"},
    {"envelope", CL_O_ENVELOPE, "FILE", "submit a signed DSSE envelope"},
    {"vkey", CL_O_VKEY, "VKEY", VKEY_HELP},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef log_opts[] = {
    {"vkey", CL_O_VKEY, "VKEY", VKEY_HELP},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef search_opts[] = {
    {"party", CL_O_PARTY, "ID", "a buyer or supplier (KZ-BIN-...)"},
    {"item", CL_O_ITEM, "SCHEME:CODE", "an item code (ATC:J01CA04)"},
    {"kind", CL_O_KIND, "KIND", "an event kind (award, payment ...)"},
    {"ocid", CL_O_OCID, "OCID", "one procurement process"},
    {"from", CL_O_FROM, "TIME", "log time from (RFC 3339 or YYYY-MM-DD)"},
    {"to", CL_O_TO, "TIME", "log time up to"},
    {"limit", CL_O_LIMIT, "N", "at most N results (default: all)"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef prices_opts[] = {
    {"reference", CL_O_REFERENCE, "AMOUNT",
        "reference unit price to compare the median with"},
    {"unit", CL_O_UNIT, "CODE", "unit of measure (default: most used)"},
    {"buyer", CL_O_BUYER, "ID", "only this buyer"},
    {"supplier", CL_O_SUPPLIER, "ID", "only this supplier"},
    {"from", CL_O_FROM, "TIME", "from this date"},
    {"to", CL_O_TO, "TIME", "up to this date"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef totals_opts[] = {
    {"by", CL_O_BY, "KEY", "buyer, supplier, item, funding or month"},
    {"party", CL_O_PARTY, "ID", "only this party"},
    {"item", CL_O_ITEM, "SCHEME:CODE", "only this item"},
    {"from", CL_O_FROM, "TIME", "from this date"},
    {"to", CL_O_TO, "TIME", "up to this date"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef prove_opts[] = {
    {"out", CL_O_OUT, "FILE", "write the tlog-proof file to FILE"},
    {"vkey", CL_O_VKEY, "VKEY", VKEY_HELP},
    {"check", CL_O_CHECK, "FILE", "check a tlog-proof file instead"},
    {"leaf", CL_O_LEAF, "HEX",
        "with --check: the entry's leaf hash (else fetched from the server)"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef verify_opts[] = {
    {"vkey", CL_O_VKEY, "VKEY",
        VKEY_HELP " (else config file or PROCURECTL_VKEY)"},
    {"state", CL_O_STATE, "FILE",
        "state file: check consistency with the last run, verify only "
        "new entries"},
    {"data-dir", CL_O_DATADIR, "DIR",
        "audit a data directory (read-only) instead of a server"},
    {"admin-key", CL_O_ADMIN, "VKEY",
        "an admin key the log started with (repeatable)"},
    {"threads", CL_O_THREADS, "N",
        "signature-checking threads (default: one a core)"},
    {"quiet", CL_O_QUIET, NULL, "print nothing on success"},
    {NULL, 0, NULL, NULL},
};

static const struct cl_optdef export_opts[] = {
    {"from", CL_O_FROM, "INDEX", "first entry (default 0)"},
    {"limit", CL_O_LIMIT, "N", "at most N entries"},
    {"data-dir", CL_O_DATADIR, "DIR",
        "read a data directory (read-only) instead of a server"},
    {NULL, 0, NULL, NULL},
};

static int cmd_help(struct cl_ctx *, const struct cl_args *);
static int cmd_version(struct cl_ctx *, const struct cl_args *);

static const struct cl_cmd cmd_table[] = {
    {"keygen", cmd_keygen, "create an Ed25519 signing key",
        "--name NAME --out FILE", keygen_opts, 0, 0},
    {"sign", cmd_sign, "sign an event: a DSSE envelope on stdout",
        "--key FILE [--key FILE]... EVENT.json", sign_opts, 1, 1},
    {"submit", cmd_submit, "sign and submit an event, check the receipt",
        "--key FILE [--key FILE]... EVENT.json | --envelope FILE", submit_opts,
        0, 1},
    {"log", cmd_log, "the log's origin, key, size and checkpoint", "", log_opts,
        0, 0},
    {"get", cmd_get, "one log entry with its event and signers", "INDEX", NULL,
        1, 1},
    {"process", cmd_process,
        "a procurement process as a tree with running totals", "OCID", NULL, 1,
        1},
    {"search", cmd_search, "events by party, item, kind, process, time",
        "[--party ID] [--item SCHEME:CODE] [--kind KIND] [--ocid OCID] "
        "[--from TIME] [--to TIME] [--limit N]",
        search_opts, 0, 0},
    {"prices", cmd_prices, "unit prices paid for an item",
        "ITEM [--reference AMOUNT] [--unit CODE]", prices_opts, 1, 1},
    {"totals", cmd_totals, "contracted and paid totals",
        "--by buyer|supplier|item|funding|month", totals_opts, 0, 0},
    {"prove", cmd_prove, "an entry's inclusion proof as a tlog-proof file",
        "INDEX [--out FILE] [--vkey VKEY] | --check FILE [--leaf HEX]",
        prove_opts, 0, 1},
    {"verify", cmd_verify, "audit the whole log (the auditor's tool)",
        "--vkey VKEY [--state FILE] [--data-dir DIR]", verify_opts, 0, 0},
    {"export", cmd_export, "log entries as JSON lines",
        "[--from INDEX] [--limit N] [--data-dir DIR]", export_opts, 0, 0},
    {"version", cmd_version, "print procurectl's version", "", NULL, 0, 0},
    {"help", cmd_help, "help on procurectl or one command", "[COMMAND]", NULL,
        0, 1},
};

#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

const struct cl_cmd *
cl_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

static void
print_opts(FILE *f, const struct cl_optdef *o)
{
	char left[64];

	for (; o != NULL && o->name != NULL; o++) {
		snprintf(left, sizeof(left), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
}

static void
usage_cmd(FILE *f, const struct cl_cmd *c)
{
	fprintf(f, "usage: procurectl %s%s%s\n", c->name,
	    c->usage[0] ? " " : "", c->usage);
}

static void
help_all(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: procurectl [--server URL] [--json | --csv] COMMAND "
	    "[ARGS]\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(
		    f, "  %-10s %s\n", cmd_table[i].name, cmd_table[i].help);
	fprintf(f, "\nglobal options:\n");
	print_opts(f, cl_global_opts);
	fprintf(f,
	    "\nRun 'procurectl COMMAND --help' for a command's "
	    "options.\n");
}

static void
help_cmd(FILE *f, const struct cl_cmd *c)
{
	usage_cmd(f, c);
	fprintf(f, "\n%s\n", c->help);
	if (c->opts != NULL) {
		fprintf(f, "\noptions:\n");
		print_opts(f, c->opts);
	}
	fprintf(f, "\nglobal options:\n");
	print_opts(f, cl_global_opts);
}

static int
cmd_version(struct cl_ctx *ctx, const struct cl_args *a)
{
	(void)ctx;
	(void)a;
	printf("procurectl %s\n", CL_VERSION);
	return CL_EXIT_OK;
}

static int
cmd_help(struct cl_ctx *ctx, const struct cl_args *a)
{
	const struct cl_cmd *c;

	(void)ctx;
	if (a->npos == 0) {
		help_all(stdout);
		return CL_EXIT_OK;
	}
	if ((c = cl_cmd_find(a->pos[0])) == NULL) {
		cl_errx("no command '%s'; try 'procurectl help'", a->pos[0]);
		return CL_EXIT_USAGE;
	}
	help_cmd(stdout, c);
	return CL_EXIT_OK;
}

/* Apply the global options in a (later ones win) to ctx. */
static int
apply_globals(struct cl_ctx *ctx, const struct cl_args *a)
{
	const char *v;
	char *end;
	long t;

	if ((v = cl_opt(a, CL_O_SERVER)) != NULL)
		ctx->server = v;
	if ((v = cl_opt(a, CL_O_CACERT)) != NULL)
		ctx->cacert = v;
	if ((v = cl_opt(a, CL_O_TIMEOUT)) != NULL) {
		t = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || t < 1 || t > 86400) {
			cl_errx("--timeout wants whole seconds from 1 to "
			        "86400, not '%s'",
			    v);
			return CL_EXIT_USAGE;
		}
		ctx->timeout_ms = (int)t * 1000;
	}
	if (cl_opt(a, CL_O_JSON) != NULL)
		ctx->mode = CL_JSON;
	if (cl_opt(a, CL_O_CSV) != NULL)
		ctx->mode = CL_CSV;
	if (cl_opt(a, CL_O_JSON) != NULL && cl_opt(a, CL_O_CSV) != NULL) {
		cl_errx("--json and --csv exclude each other");
		return CL_EXIT_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char cfg_server[1024];
	struct cl_ctx ctx;
	struct cl_args g, a;
	const struct cl_cmd *c;
	char err[256];
	int used, rc;

	log_init("procurectl", 0);
	signal(SIGPIPE, SIG_IGN);
	memset(&ctx, 0, sizeof(ctx));
	ctx.server = getenv("PROCURECTL_SERVER");
	if ((ctx.server == NULL || *ctx.server == '\0') &&
	    cl_config_get("server", 0, cfg_server, sizeof(cfg_server)) == 0)
		ctx.server = cfg_server;
	if (ctx.server == NULL || *ctx.server == '\0')
		ctx.server = CL_DEFAULT_SERVER;
	ctx.timeout_ms = CL_DEFAULT_TIMEOUT * 1000;
	ctx.out_tty = isatty(STDOUT_FILENO);
	ctx.err_tty = isatty(STDERR_FILENO);

	if (cl_parse_args(argc - 1, argv + 1, NULL, 1, &g, &used, err,
	        sizeof(err)) != 0) {
		cl_errx("%s", err);
		fprintf(stderr, "Run 'procurectl help' for usage.\n");
		return CL_EXIT_USAGE;
	}
	if ((rc = apply_globals(&ctx, &g)) != 0)
		return rc;
	if (used + 1 >= argc) {
		if (cl_opt(&g, CL_O_HELP) != NULL) {
			help_all(stdout);
			return CL_EXIT_OK;
		}
		help_all(stderr);
		return CL_EXIT_USAGE;
	}
	if ((c = cl_cmd_find(argv[used + 1])) == NULL) {
		cl_errx(
		    "no command '%s'; try 'procurectl help'", argv[used + 1]);
		return CL_EXIT_USAGE;
	}
	ctx.cmd = c->name;
	if (cl_parse_args(argc - used - 2, argv + used + 2, c->opts, 0, &a,
	        NULL, err, sizeof(err)) != 0) {
		cl_errx("%s: %s", c->name, err);
		usage_cmd(stderr, c);
		return CL_EXIT_USAGE;
	}
	if (cl_opt(&a, CL_O_HELP) != NULL || cl_opt(&g, CL_O_HELP) != NULL) {
		help_cmd(stdout, c);
		return CL_EXIT_OK;
	}
	if ((rc = apply_globals(&ctx, &a)) != 0)
		return rc;
	if ((cl_opt(&g, CL_O_JSON) || cl_opt(&a, CL_O_JSON)) &&
	    (cl_opt(&g, CL_O_CSV) || cl_opt(&a, CL_O_CSV))) {
		cl_errx("--json and --csv exclude each other");
		return CL_EXIT_USAGE;
	}
	if (a.npos < c->minpos || a.npos > c->maxpos) {
		cl_errx("%s: %s", c->name,
		    a.npos < c->minpos ? "missing argument"
		                       : "too many arguments");
		usage_cmd(stderr, c);
		return CL_EXIT_USAGE;
	}
	rc = c->fn(&ctx, &a);
	cl_http_close(ctx.http);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cl_errx("cannot write the output");
		if (rc == 0)
			rc = CL_EXIT_LOCAL;
	}
	return rc;
}
