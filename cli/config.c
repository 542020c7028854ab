/*
 * The user's configuration file and the log's verifier keys.
 *
 * ~/.config/procurectl/config (or $XDG_CONFIG_HOME/procurectl/config, or
 * $PROCURECTL_CONFIG) holds "name = value" lines; '#' starts a comment.
 * Keys: server, cacert, vkey, admin-key (repeatable).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "proto/err.h"
#include "proto/errmsg.h"

static char cfg_path[4096];

const char *
cl_config_path(void)
{
	const char *p, *home;

	if ((p = getenv("PROCURECTL_CONFIG")) != NULL && *p != '\0')
		snprintf(cfg_path, sizeof(cfg_path), "%s", p);
	else if ((p = getenv("XDG_CONFIG_HOME")) != NULL && *p == '/')
		snprintf(cfg_path, sizeof(cfg_path), "%s/procurectl/config", p);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		snprintf(cfg_path, sizeof(cfg_path),
		    "%s/.config/procurectl/config", home);
	else
		return NULL;
	return cfg_path;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
cl_config_get(const char *key, size_t nth, char *out, size_t outlen)
{
	const char *path;
	char line[4096], *k, *v, *eq;
	FILE *f;
	int lineno = 0, rc = PR_ENOTFOUND;

	if ((path = cl_config_path()) == NULL)
		return PR_ENOTFOUND;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return PR_ENOTFOUND;
		return pr_errmsg_set(
		    PR_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((k = strchr(line, '#')) != NULL)
			*k = '\0';
		k = trim(line);
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			rc = pr_errmsg_set(PR_ECONFIG,
			    "%s:%d: expected 'name = value'", path, lineno);
			break;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (strcmp(k, key) != 0 || nth-- > 0)
			continue;
		if (strlen(v) >= outlen) {
			rc = pr_errmsg_set(
			    PR_ECONFIG, "%s:%d: value too long", path, lineno);
			break;
		}
		strcpy(out, v);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int
cl_vkey_resolve(const char *arg, struct pr_vkey *out)
{
	struct pr_buf b = PR_BUF_INIT;
	size_t len;
	int rc;

	/* A vkey has two '+'; anything else is a file holding one. */
	if (strchr(arg, '+') != NULL && strchr(arg, '/') == NULL)
		return pr_vkey_parse(arg, strlen(arg), out) == 0
		    ? 0
		    : pr_errmsg_set(PR_EKEY,
		          "'%s' is not a verifier key (name+hexid+base64key)",
		          arg);
	if (strchr(arg, '+') != NULL &&
	    pr_vkey_parse(arg, strlen(arg), out) == 0)
		return 0;
	if ((rc = cl_read_file(arg, 4096, &b)) != 0)
		return cl_wrap(
		    rc, "'%s' is neither a verifier key nor a file", arg);
	len = b.len;
	while (len > 0 &&
	    (b.data[len - 1] == '\n' || b.data[len - 1] == ' ' ||
	        b.data[len - 1] == '\r'))
		len--;
	rc = pr_vkey_parse((char *)b.data, len, out);
	pr_buf_free(&b);
	if (rc != 0)
		return pr_errmsg_set(PR_EKEY,
		    "%s does not hold a verifier key (name+hexid+base64key)",
		    arg);
	return 0;
}

int
cl_vkey_find(const struct cl_args *a, struct pr_vkey *out, const char **from)
{
	static char val[4096];
	const char *v;
	int rc;

	if ((v = cl_opt(a, CL_O_VKEY)) != NULL)
		*from = "--vkey";
	else if ((v = getenv("PROCURECTL_VKEY")) != NULL && *v != '\0')
		*from = "PROCURECTL_VKEY";
	else if ((rc = cl_config_get("vkey", 0, val, sizeof(val))) == 0) {
		v = val;
		*from = cl_config_path();
	} else
		return rc;
	return cl_vkey_resolve(v, out);
}
