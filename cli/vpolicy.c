/*
 * The admission rules as verify replays them, one call per entry: the
 * shared engine of proto/policy.h, the one the daemon runs before it
 * sequences an event, read against the state verify keeps in memory.
 */
#include <stdio.h>
#include <string.h>

#include "cli/verify.h"
#include "proto/err.h"
#include "proto/policy.h"

static int
state_get(void *ctx, const char *key, size_t klen, struct pr_buf *val)
{
	const struct vf_state *s = ctx;
	const struct cl_kv_ent *e = cl_kv_find(s->kv, key, klen);

	if (e == NULL)
		return PR_ENOTFOUND;
	return pr_buf_append(val, e->val, e->vlen);
}

int
vf_policy_check(
    struct vf_policy *p, const struct vf_entry *e, struct vf_fail *f)
{
	struct pr_policy pol;
	struct pr_policy_input in;
	struct pr_policy_effects fx;
	struct pr_policy_error err;
	size_t i;
	int rc;

	memset(&pol, 0, sizeof(pol));
	pol.get = state_get;
	pol.ctx = p->state;
	pol.admins = p->admins;
	pol.nadmins = p->nadmins;
	memset(&in, 0, sizeof(in));
	in.ev = e->ev;
	in.env = e->env;
	in.valid = e->valid;
	in.log_time = e->log_time;
	in.leaf = e->leaf;
	if ((rc = pr_policy_check(&pol, &in, &fx, &err)) != 0)
		return vf_failf(f, e->index, err.code ? err.code : "internal",
		    "%s%s%s", err.field, err.field[0] ? ": " : "",
		    err.message[0] ? err.message : pr_strerror(rc));
	/* The entry is admitted: its changes become the state. */
	for (i = 0; i < fx.nputs && rc == 0; i++)
		rc = cl_kv_put(p->state->kv, fx.puts[i].key, fx.puts[i].klen,
		    fx.puts[i].val, fx.puts[i].vlen, NULL);
	pr_policy_effects_clear(&fx);
	if (rc != 0)
		return vf_failf(f, e->index, "internal", "%s", pr_strerror(rc));
	return 0;
}
