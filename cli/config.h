/*
 * procurectl's configuration file and verifier-key lookup.
 */
#ifndef CL_CONFIG_H
#define CL_CONFIG_H

#include <stddef.h>

#include "proto/key.h"

struct cl_args;

/* The configuration file's path (PROCURECTL_CONFIG, XDG_CONFIG_HOME or
 * ~/.config/procurectl/config), or NULL without a home.  Static storage. */
const char *cl_config_path(void);

/*
 * The nth value (0 first) of key in the configuration file into
 * out[0..outlen).  PR_ENOTFOUND when the file or the key is absent,
 * PR_ECONFIG for a malformed line, PR_EIO when unreadable.
 */
int cl_config_get(const char *key, size_t nth, char *out, size_t outlen);

/* Parse arg as a verifier key string, or read one from the file arg. */
int cl_vkey_resolve(const char *arg, struct pr_vkey *out);

/*
 * The log's verifier key from --vkey, else PROCURECTL_VKEY, else "vkey"
 * in the configuration file; *from names where it came from.
 * PR_ENOTFOUND when none is given.  Call pr_vkey_clear() on success.
 */
int cl_vkey_find(
    const struct cl_args *a, struct pr_vkey *out, const char **from);

#endif
