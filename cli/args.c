/*
 * Command-line parsing: long options from a table, in any order with the
 * positional arguments.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "proto/err.h"

const struct cl_optdef cl_global_opts[] = {
    {"server", CL_O_SERVER, "URL",
        "server to query (default " CL_DEFAULT_SERVER
        ", env PROCURECTL_SERVER)"},
    {"cacert", CL_O_CACERT, "FILE",
        "trust the CA certificates in FILE for https://"},
    {"timeout", CL_O_TIMEOUT, "SECONDS",
        "give up on a request after SECONDS (default 30)"},
    {"json", CL_O_JSON, NULL, "print one JSON document"},
    {"csv", CL_O_CSV, NULL, "print RFC 4180 CSV"},
    {"help", CL_O_HELP, NULL, "show this help"},
    {NULL, 0, NULL, NULL},
};

const char *
cl_opt(const struct cl_args *a, enum cl_optid id)
{
	size_t i;

	for (i = a->nopt; i-- > 0;)
		if (a->opt[i].id == id)
			return a->opt[i].val;
	return NULL;
}

size_t
cl_opt_count(const struct cl_args *a, enum cl_optid id)
{
	size_t i, n = 0;

	for (i = 0; i < a->nopt; i++)
		if (a->opt[i].id == id)
			n++;
	return n;
}

const char *
cl_opt_at(const struct cl_args *a, enum cl_optid id, size_t k)
{
	size_t i;

	for (i = 0; i < a->nopt; i++)
		if (a->opt[i].id == id && k-- == 0)
			return a->opt[i].val;
	return NULL;
}

static const struct cl_optdef *
find_opt(const struct cl_optdef *opts, const char *name, size_t len)
{
	const struct cl_optdef *tables[2] = {opts, cl_global_opts}, *o;
	size_t t;

	for (t = 0; t < 2; t++) {
		if (tables[t] == NULL)
			continue;
		for (o = tables[t]; o->name != NULL; o++)
			if (strlen(o->name) == len &&
			    memcmp(o->name, name, len) == 0)
				return o;
	}
	return NULL;
}

int
cl_parse_args(int argc, char *const *argv, const struct cl_optdef *opts,
    int stop_at_pos, struct cl_args *out, int *used, char *err, size_t errlen)
{
	const struct cl_optdef *o;
	const char *s, *eq, *val;
	int i, only_pos = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < argc; i++) {
		s = argv[i];
		if (only_pos || s[0] != '-' || strcmp(s, "-") == 0) {
			if (stop_at_pos)
				break;
			if (out->npos == CL_ARGS_MAX) {
				snprintf(err, errlen, "too many arguments");
				return PR_EINVAL;
			}
			out->pos[out->npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			if (stop_at_pos) {
				i++;
				break;
			}
			only_pos = 1;
			continue;
		}
		if (strcmp(s, "-h") == 0)
			s = "--help";
		if (s[1] != '-') {
			snprintf(err, errlen, "unknown option '%s'", s);
			return PR_EINVAL;
		}
		s += 2;
		eq = strchr(s, '=');
		if ((o = find_opt(
		         opts, s, eq ? (size_t)(eq - s) : strlen(s))) == NULL) {
			snprintf(err, errlen, "unknown option '--%.*s'",
			    eq ? (int)(eq - s) : (int)strlen(s), s);
			return PR_EINVAL;
		}
		if (o->arg == NULL) {
			if (eq != NULL) {
				snprintf(err, errlen,
				    "option '--%s' takes no value", o->name);
				return PR_EINVAL;
			}
			val = "";
		} else if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			snprintf(err, errlen, "option '--%s' needs a value %s",
			    o->name, o->arg);
			return PR_EINVAL;
		}
		if (out->nopt == CL_ARGS_MAX) {
			snprintf(err, errlen, "too many options");
			return PR_EINVAL;
		}
		out->opt[out->nopt].id = o->id;
		out->opt[out->nopt].val = val;
		out->nopt++;
	}
	if (used != NULL)
		*used = i;
	return 0;
}
