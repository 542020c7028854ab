/*
 * The admission rules as verify replays them, one call per entry: the
 * shared engine of proto/policy.h, the one the daemon runs before it
 * sequences an event, read against the state verify keeps in memory,
 * with the chain rules finding each parent's event through the entry
 * index of an l/<leaf hex> record verify keeps for every admitted event
 * with an ocid: {"kind":K,"ocid":O,"index":N}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/json.h"
#include "proto/policy.h"

#define INDEX_MEMBER ",\"index\":"

static int
state_get(void *ctx, const char *key, size_t klen, struct pr_buf *val)
{
	const struct vf_policy *p = ctx;
	const struct cl_kv_ent *e = cl_kv_find(p->state->kv, key, klen);

	if (e == NULL)
		return PR_ENOTFOUND;
	return pr_buf_append(val, e->val, e->vlen);
}

/* The entry index an l/ record ends with (put_leaf() wrote it). */
static int
leaf_index(const struct cl_kv_ent *e, uint64_t *out)
{
	const char *m = strstr(e->val, INDEX_MEMBER);
	char *end;
	unsigned long long v;

	if (m == NULL || m[sizeof(INDEX_MEMBER) - 1] < '0' ||
	    m[sizeof(INDEX_MEMBER) - 1] > '9')
		return PR_ECORRUPT;
	v = strtoull(m + sizeof(INDEX_MEMBER) - 1, &end, 10);
	if (end[0] != '}' || end[1] != '\0')
		return PR_ECORRUPT;
	*out = v;
	return 0;
}

static int
get_event(void *ctx, const uint8_t *leaf, struct pr_event **out)
{
	struct vf_policy *p = ctx;
	char key[2 + 2 * PR_HASH_LEN + 1];
	const struct cl_kv_ent *e;
	uint64_t index;
	int rc;

	memcpy(key, "l/", 2);
	pr_hex_encode(leaf, PR_HASH_LEN, key + 2);
	if ((e = cl_kv_find(p->state->kv, key, sizeof(key) - 1)) == NULL)
		return PR_ENOTFOUND;
	if ((rc = leaf_index(e, &index)) != 0)
		return rc;
	p->parents++;
	rc = vf_events_get(p->events, index, leaf, out, p->fail);
	if (rc != 0 && rc != PR_ECORRUPT)
		p->src_rc = rc;
	return rc;
}

static void
release_event(void *ctx, struct pr_event *ev)
{
	/* Kept by p->events. */
	(void)ctx;
	(void)ev;
}

/* The l/ record of an admitted event with an ocid, a possible parent. */
static int
put_leaf(struct vf_policy *p, const struct vf_entry *e)
{
	char key[2 + 2 * PR_HASH_LEN + 1];
	struct pr_buf v = PR_BUF_INIT;
	int rc;

	memcpy(key, "l/", 2);
	pr_hex_encode(e->leaf, PR_HASH_LEN, key + 2);
	if ((rc = pr_buf_append_str(&v, "{\"kind\":")) == 0 &&
	    (rc = pr_json_quote(&v, pr_kind_name(e->ev->kind))) == 0 &&
	    (rc = pr_buf_append_str(&v, ",\"ocid\":")) == 0 &&
	    (rc = pr_json_quote(&v, e->ev->ocid)) == 0 &&
	    (rc = pr_buf_printf(
	         &v, INDEX_MEMBER "%llu}", (unsigned long long)e->index)) == 0)
		rc = cl_kv_put(
		    p->state->kv, key, sizeof(key) - 1, v.data, v.len, NULL);
	pr_buf_free(&v);
	return rc;
}

int
vf_policy_check(
    struct vf_policy *p, const struct vf_entry *e, struct vf_fail *f)
{
	struct pr_policy pol;
	struct pr_policy_input in;
	struct pr_policy_effects fx;
	struct pr_policy_error err;
	const struct pr_policy_put *pp;
	size_t i;
	int rc;

	memset(&pol, 0, sizeof(pol));
	pol.get = state_get;
	pol.ctx = p;
	if (p->events != NULL) {
		pol.get_event = get_event;
		pol.release_event = release_event;
	}
	pol.admins = p->admins;
	pol.nadmins = p->nadmins;
	memset(&in, 0, sizeof(in));
	in.ev = e->ev;
	in.env = e->env;
	in.valid = e->valid;
	in.log_time = e->log_time;
	in.leaf = e->leaf;
	p->fail = f;
	p->src_rc = 0;
	rc = pr_policy_check(&pol, &in, &fx, &err);
	p->fail = NULL;
	if (rc != 0 && p->src_rc != 0)
		return p->src_rc; /* not the log's fault: exit 3 or 4 */
	if (rc != 0)
		return vf_failf(f, e->index, err.code ? err.code : "internal",
		    "%s%s%s", err.field, err.field[0] ? ": " : "",
		    err.message[0] ? err.message : pr_strerror(rc));
	/* The entry is admitted: its changes become the state. */
	for (i = 0; i < fx.nputs && rc == 0; i++) {
		pp = &fx.puts[i];
		rc = cl_kv_put(
		    p->state->kv, pp->key, pp->klen, pp->val, pp->vlen, NULL);
	}
	if (rc == 0 && e->ev->ocid != NULL && e->ev->ocid[0] != '\0')
		rc = put_leaf(p, e);
	pr_policy_effects_clear(&fx);
	if (rc != 0)
		return vf_failf(f, e->index, "internal", "%s", pr_strerror(rc));
	return 0;
}
