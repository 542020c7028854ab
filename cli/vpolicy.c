/*
 * The admission rules as verify replays them, one call per entry.
 *
 * The state uses the keys and JSON values documented for the shared
 * rules engine (proto/policy.h):
 *
 *	k/<keyid hex>	{"pub","party","roles","valid_from","valid_until",
 *			 "granted","revoked"}
 *	l/<leaf hex>	{"ocid","kind"}
 *
 * vf_policy_check() checks here what every replay needs: each signature
 * names a key the log granted (or a configured admin key), verifies, and
 * was not revoked or outside its validity at the entry's log time; key
 * grants and revocations are signed by an admin; a parent is an earlier
 * entry of the same process of a kind allowed to precede.  The rest of
 * the rules (which party may sign which kind, deadlines, sealed bids)
 * belong to the shared engine, which this function calls once it is part
 * of proto/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/verify.h"
#include "proto/enc.h"
#include "proto/err.h"

/* A key of the registry: configured admin or granted in the log. */
struct regkey {
	unsigned roles;
	int64_t valid_from, valid_until, revoked;
	int admin_config;
	json_t *rec; /* the k/ record, or NULL for an admin key */
};

static json_t *
state_json(const struct vf_state *s, const char *key)
{
	struct cl_kv_ent *e = cl_kv_find(s->kv, key, strlen(key));

	if (e == NULL)
		return NULL;
	return json_loadb(e->val, e->vlen, 0, NULL);
}

static int64_t
jint(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int
put_json(struct vf_state *s, const char *key, json_t *val)
{
	char *txt;
	int rc;

	if (val == NULL)
		return PR_ENOMEM;
	txt = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(val);
	if (txt == NULL)
		return PR_ENOMEM;
	rc = cl_kv_put(s->kv, key, strlen(key), txt, strlen(txt), NULL);
	free(txt);
	return rc;
}

static int
lookup_key(struct vf_policy *p, const char *keyid, struct regkey *out)
{
	char key[2 * PR_HASH_LEN + 3];
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nadmins; i++)
		if (strcmp(pr_key_keyid(p->admins[i]), keyid) == 0) {
			out->roles = PR_ROLE_ADMIN;
			out->admin_config = 1;
			return 0;
		}
	if (strlen(keyid) != 2 * PR_HASH_LEN)
		return PR_ENOTFOUND;
	snprintf(key, sizeof(key), "k/%s", keyid);
	if ((out->rec = state_json(p->state, key)) == NULL)
		return PR_ENOTFOUND;
	out->roles = (unsigned)jint(out->rec, "roles");
	out->valid_from = jint(out->rec, "valid_from");
	out->valid_until = jint(out->rec, "valid_until");
	out->revoked = jint(out->rec, "revoked");
	return 0;
}

static int
check_signatures(struct vf_policy *p, const struct vf_entry *e, unsigned *roles,
    struct vf_fail *f)
{
	const struct pr_dsse *env = e->env;
	struct regkey k;
	const char *kid;
	size_t i;

	*roles = 0;
	for (i = 0; i < env->nsigs; i++) {
		kid = env->sigs[i].keyid;
		if (kid == NULL || lookup_key(p, kid, &k) != 0)
			return vf_failf(f, e->index, "unknown_key",
			    "signature %zu: key %.64s was never granted in "
			    "this log",
			    i, kid ? kid : "(no keyid)");
		json_decref(k.rec);
		if (!(e->valid & (1u << i)))
			return vf_failf(f, e->index, "bad_signature",
			    "signature %zu does not verify with key %s", i,
			    kid);
		if (k.revoked != 0 && k.revoked <= e->log_time)
			return vf_failf(f, e->index, "key_revoked",
			    "signature %zu: key %s was revoked before this "
			    "entry",
			    i, kid);
		if ((k.valid_from != 0 && e->log_time < k.valid_from) ||
		    (k.valid_until != 0 && e->log_time >= k.valid_until))
			return vf_failf(f, e->index, "key_not_valid",
			    "signature %zu: key %s is not valid at this "
			    "entry's log time",
			    i, kid);
		*roles |= k.roles;
	}
	return 0;
}

static int
key_event(struct vf_policy *p, const struct vf_entry *e, unsigned roles,
    struct vf_fail *f)
{
	const struct pr_event *ev = e->ev;
	struct pr_buf pub = PR_BUF_INIT;
	char keyid[2 * PR_HASH_LEN + 1], key[2 * PR_HASH_LEN + 3];
	struct regkey old;
	json_t *rec;
	int rc, found;

	if (!(roles & PR_ROLE_ADMIN))
		return vf_failf(f, e->index, "not_admin",
		    "%s is not signed by an admin key", pr_kind_name(ev->kind));
	pr_hex_encode(ev->keyid, PR_HASH_LEN, keyid);
	snprintf(key, sizeof(key), "k/%s", keyid);
	found = lookup_key(p, keyid, &old) == 0;
	if (ev->kind == PR_KIND_KEY_GRANT) {
		json_decref(old.rec);
		if (found)
			return vf_failf(f, e->index, "key_exists",
			    "key %s is granted a second time", keyid);
		if ((rc = pr_b64_encode(
		         &pub, ev->public_key, PR_KEY_PUB_LEN)) != 0)
			return rc;
		rec = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "pub",
		    (char *)pub.data, "party", ev->party.id, "roles",
		    (int)ev->roles, "valid_from",
		    (json_int_t)(ev->has_valid_from ? ev->valid_from : 0),
		    "valid_until",
		    (json_int_t)(ev->has_valid_until ? ev->valid_until : 0),
		    "granted", (json_int_t)e->log_time, "revoked",
		    (json_int_t)0);
		pr_buf_free(&pub);
		return put_json(p->state, key, rec);
	}
	if (!found || old.admin_config) {
		json_decref(old.rec);
		return vf_failf(f, e->index, "unknown_key",
		    "key.revoke names key %s, never granted in this log",
		    keyid);
	}
	if (old.revoked != 0) {
		json_decref(old.rec);
		return vf_failf(f, e->index, "key_revoked",
		    "key %s is revoked a second time", keyid);
	}
	json_object_set_new(old.rec, "revoked", json_integer(e->log_time));
	return put_json(p->state, key, old.rec);
}

static int
process_event(struct vf_policy *p, const struct vf_entry *e, struct vf_fail *f)
{
	const struct pr_event *ev = e->ev;
	char hex[2 * PR_HASH_LEN + 1], key[2 * PR_HASH_LEN + 3];
	const char *pocid, *pkind;
	json_t *par;
	int pk, ok;

	if (ev->has_parent) {
		pr_hex_encode(ev->parent, PR_HASH_LEN, hex);
		snprintf(key, sizeof(key), "l/%s", hex);
		if ((par = state_json(p->state, key)) == NULL)
			return vf_failf(f, e->index, "parent_not_found",
			    "parent %s is not an earlier entry of the log",
			    hex);
		pocid = json_string_value(json_object_get(par, "ocid"));
		pkind = json_string_value(json_object_get(par, "kind"));
		pk = pkind ? pr_kind_from_name(pkind, strlen(pkind)) : -1;
		ok = pocid != NULL && strcmp(pocid, ev->ocid) == 0;
		if (!ok) {
			vf_failf(f, e->index, "foreign_parent",
			    "parent %s belongs to process %s, not %s", hex,
			    pocid ? pocid : "?", ev->ocid);
		} else if (pk < 0 ||
		    !pr_kind_parent_allowed((enum pr_kind)pk, ev->kind)) {
			ok = 0;
			vf_failf(f, e->index, "bad_transition",
			    "%s cannot follow %s", pr_kind_name(ev->kind),
			    pkind ? pkind : "?");
		}
		json_decref(par);
		if (!ok)
			return PR_ECORRUPT;
	} else if (pr_kind_rule(ev->kind)->parent == PR_PARENT_REQUIRED)
		return vf_failf(f, e->index, "missing_parent",
		    "%s names no parent event", pr_kind_name(ev->kind));
	pr_hex_encode(e->leaf, PR_HASH_LEN, hex);
	snprintf(key, sizeof(key), "l/%s", hex);
	return put_json(p->state, key,
	    json_pack("{s:s, s:s}", "ocid", ev->ocid, "kind",
	        pr_kind_name(ev->kind)));
}

int
vf_policy_check(
    struct vf_policy *p, const struct vf_entry *e, struct vf_fail *f)
{
	unsigned roles;
	int rc;

	if ((rc = check_signatures(p, e, &roles, f)) != 0)
		return rc;
	if (e->ev->kind == PR_KIND_KEY_GRANT ||
	    e->ev->kind == PR_KIND_KEY_REVOKE)
		rc = key_event(p, e, roles, f);
	else if (e->ev->ocid != NULL)
		rc = process_event(p, e, f);
	if (rc != 0 && rc != PR_ECORRUPT)
		return vf_failf(f, e->index, "internal", "%s", pr_strerror(rc));
	return rc;
}
