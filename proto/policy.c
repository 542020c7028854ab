#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/policy.h"

static int deny(struct pr_policy_error *err, int rc, int status,
    const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
deny(struct pr_policy_error *err, int rc, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return rc;
}

/* Fetch and parse a JSON state value; NULL with *rc set if absent. */
static json_t *
state_get(const struct pr_policy *p, const char *key, int *rc)
{
	struct pr_buf b = PR_BUF_INIT;
	json_t *j = NULL;

	*rc = p->get(p->ctx, key, strlen(key), &b);
	if (*rc == 0) {
		j = json_loadb((const char *)b.data, b.len, 0, NULL);
		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			j = NULL;
			*rc = PR_ECORRUPT;
		}
	}
	pr_buf_free(&b);
	return j;
}

static int64_t
jint(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char *
jstr(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Queue a state change; takes ownership of val (decref'd here). */
static int
put(struct pr_policy_effects *fx, const char *key, json_t *val)
{
	struct pr_policy_put *pp;
	char *s;

	if (val == NULL)
		return PR_ENOMEM;
	if (fx->nputs == PR_POLICY_MAX_PUTS ||
	    strlen(key) >= PR_POLICY_KEY_MAX) {
		json_decref(val);
		return PR_ERANGE;
	}
	s = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(val);
	if (s == NULL)
		return PR_ENOMEM;
	pp = &fx->puts[fx->nputs++];
	pp->klen = strlen(key);
	memcpy(pp->key, key, pp->klen + 1);
	pp->val = s;
	pp->vlen = strlen(s);
	return 0;
}

void
pr_policy_effects_clear(struct pr_policy_effects *fx)
{
	size_t i;

	for (i = 0; i < fx->nputs; i++)
		free(fx->puts[i].val);
	fx->nputs = 0;
	fx->nsigners = 0;
}

int
pr_policy_key_get(
    const struct pr_policy *p, const char *keyid, struct pr_policy_key *out)
{
	char key[PR_POLICY_KEY_MAX];
	struct pr_buf pub = PR_BUF_INIT;
	const char *s;
	json_t *j, *roles;
	size_t i;
	int rc;

	for (i = 0; i < p->nadmins; i++) {
		if (strcmp(pr_key_keyid(p->admins[i]), keyid) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(
		    out->pub, pr_key_raw_public(p->admins[i]), PR_KEY_PUB_LEN);
		out->roles = PR_ROLE_ADMIN;
		out->admin_config = 1;
		snprintf(out->party, sizeof(out->party), "admin");
		return 0;
	}
	if (strlen(keyid) != 2 * PR_HASH_LEN)
		return PR_ENOTFOUND;
	snprintf(key, sizeof(key), "k/%s", keyid);
	if ((j = state_get(p, key, &rc)) == NULL)
		return rc;
	memset(out, 0, sizeof(*out));
	rc = PR_ECORRUPT;
	if ((s = jstr(j, "pub")) == NULL ||
	    pr_b64_decode(&pub, s, strlen(s), PR_B64_STD) != 0 ||
	    pub.len != PR_KEY_PUB_LEN)
		goto out;
	memcpy(out->pub, pub.data, PR_KEY_PUB_LEN);
	if ((s = jstr(j, "party")) == NULL)
		goto out;
	snprintf(out->party, sizeof(out->party), "%s", s);
	out->roles = (unsigned)jint(j, "roles");
	out->valid_from = jint(j, "valid_from");
	out->valid_until = jint(j, "valid_until");
	out->granted = jint(j, "granted");
	out->revoked = jint(j, "revoked");
	(void)roles;
	rc = 0;
out:
	pr_buf_free(&pub);
	json_decref(j);
	return rc;
}

/* The signers: every signature must name a known key and verify. */
static int
check_signatures(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	const struct pr_dsse *env = in->env;
	struct pr_policy_key *k;
	char field[64];
	size_t i;
	int rc;

	for (i = 0; i < env->nsigs; i++) {
		snprintf(field, sizeof(field), "signatures[%zu].keyid", i);
		k = &fx->signers[i];
		if (env->sigs[i].keyid == NULL)
			return deny(err, PR_EUNKNOWNKEY, 401, "unknown_key",
			    field, "signature %zu has no keyid", i);
		rc = pr_policy_key_get(p, env->sigs[i].keyid, k);
		if (rc == PR_ENOTFOUND)
			return deny(err, PR_EUNKNOWNKEY, 401, "unknown_key",
			    field,
			    "key %s was never granted in this log (an admin "
			    "must log a key.grant for it first)",
			    env->sigs[i].keyid);
		if (rc != 0)
			return deny(err, rc, 500, "state_error", field,
			    "reading the key registry: %s", pr_strerror(rc));
		if (!(in->valid & (1u << i))) {
			snprintf(
			    field, sizeof(field), "signatures[%zu].sig", i);
			return deny(err, PR_ESIG, 401, "bad_signature", field,
			    "signature %zu does not verify with key %s", i,
			    env->sigs[i].keyid);
		}
		if (k->revoked != 0 && k->revoked <= in->log_time)
			return deny(err, PR_EDENIED, 403, "key_revoked", field,
			    "key %s was revoked", env->sigs[i].keyid);
		if ((k->valid_from != 0 && in->log_time < k->valid_from) ||
		    (k->valid_until != 0 && in->log_time >= k->valid_until))
			return deny(err, PR_EDENIED, 403, "key_not_valid",
			    field, "key %s is not valid at this time",
			    env->sigs[i].keyid);
	}
	fx->nsigners = env->nsigs;
	return 0;
}

static int
has_admin(const struct pr_policy_effects *fx)
{
	size_t i;

	for (i = 0; i < fx->nsigners; i++)
		if (fx->signers[i].roles & PR_ROLE_ADMIN)
			return 1;
	return 0;
}

static int
check_key_event(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	const struct pr_event *ev = in->ev;
	struct pr_policy_key old;
	struct pr_buf pub = PR_BUF_INIT;
	char keyid[2 * PR_HASH_LEN + 1], key[PR_POLICY_KEY_MAX];
	json_t *rec;
	int rc;

	if (!has_admin(fx))
		return deny(err, PR_EDENIED, 403, "not_admin", "signatures",
		    "%s must be signed by an admin key",
		    pr_kind_name(ev->kind));
	pr_hex_encode(ev->keyid, PR_HASH_LEN, keyid);
	snprintf(key, sizeof(key), "k/%s", keyid);
	rc = pr_policy_key_get(p, keyid, &old);
	if (rc != 0 && rc != PR_ENOTFOUND)
		return deny(err, rc, 500, "state_error", NULL,
		    "reading the key registry: %s", pr_strerror(rc));
	if (ev->kind == PR_KIND_KEY_GRANT) {
		if (rc == 0)
			return deny(err, PR_ECONFLICT, 409, "key_exists",
			    "/publicKey",
			    "key %s is already %s; a key is granted once "
			    "(generate a new key)",
			    keyid, old.revoked ? "revoked" : "granted");
		if (pr_b64_encode(&pub, ev->public_key, PR_KEY_PUB_LEN) != 0)
			return PR_ENOMEM;
		rec = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "pub",
		    (char *)pub.data, "party", ev->party.id, "roles",
		    (int)ev->roles, "valid_from",
		    (json_int_t)(ev->has_valid_from ? ev->valid_from : 0),
		    "valid_until",
		    (json_int_t)(ev->has_valid_until ? ev->valid_until : 0),
		    "granted", (json_int_t)in->log_time, "revoked",
		    (json_int_t)0);
		pr_buf_free(&pub);
		return put(fx, key, rec);
	}
	/* key.revoke */
	if (rc == PR_ENOTFOUND || old.admin_config)
		return deny(err, PR_ECONFLICT, 409, "unknown_key", "/keyid",
		    "key %s was never granted in this log%s", keyid,
		    rc == 0 && old.admin_config
		        ? " (configured admin keys are removed "
		          "from the configuration)"
		        : "");
	if (old.revoked != 0)
		return deny(err, PR_ECONFLICT, 409, "key_revoked", "/keyid",
		    "key %s is already revoked", keyid);
	if (pr_b64_encode(&pub, old.pub, PR_KEY_PUB_LEN) != 0)
		return PR_ENOMEM;
	rec = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "pub",
	    (char *)pub.data, "party", old.party, "roles", (int)old.roles,
	    "valid_from", (json_int_t)old.valid_from, "valid_until",
	    (json_int_t)old.valid_until, "granted", (json_int_t)old.granted,
	    "revoked", (json_int_t)in->log_time);
	pr_buf_free(&pub);
	return put(fx, key, rec);
}

static int
check_signers(const struct pr_policy_input *in,
    const struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	struct pr_signer s[PR_DSSE_MAX_SIGS];
	struct pr_event_error e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < fx->nsigners; i++) {
		if (fx->signers[i].admin_config)
			continue;
		s[n].party = fx->signers[i].party;
		s[n].roles = fx->signers[i].roles;
		n++;
	}
	memset(&e, 0, sizeof(e));
	if ((rc = pr_event_check_signers(in->ev, s, n, &e)) != 0)
		return deny(err, rc, 403, e.code ? e.code : "not_entitled",
		    e.path, "%s", e.message);
	return 0;
}

/* The rules between an event and its parent event (proto/event.h). */
static int
check_chain(const struct pr_policy *p, const struct pr_event *ev,
    struct pr_policy_error *err)
{
	struct pr_event *parent = NULL;
	struct pr_event_error e;
	int rc;

	if ((rc = p->get_event(p->ctx, ev->parent, &parent)) != 0)
		return deny(err, rc, 500, "state_error", "/parent",
		    "reading the parent event: %s", pr_strerror(rc));
	memset(&e, 0, sizeof(e));
	rc = pr_event_check_parent(parent, ev, &e);
	if (p->release_event != NULL)
		p->release_event(p->ctx, parent);
	else
		pr_event_free(parent);
	if (rc != 0)
		return deny(err, PR_ECONFLICT, 409,
		    e.code ? e.code : "parent_mismatch", e.path, "%s",
		    e.message);
	return 0;
}

/* Parent link, transition and process rules; queues the state changes. */
static int
check_process(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	const struct pr_event *ev = in->ev;
	const struct pr_kind_rule *rule = pr_kind_rule(ev->kind);
	char key[PR_POLICY_KEY_MAX], hex[2 * PR_HASH_LEN + 1];
	const char *pocid, *pkind, *buyer;
	json_t *par = NULL, *proc = NULL, *com = NULL, *nproc;
	int64_t deadline = 0, nd;
	int pk, rc, cancelled = 0;

	snprintf(key, sizeof(key), "o/%s", ev->ocid);
	proc = state_get(p, key, &rc);
	if (proc == NULL && rc != PR_ENOTFOUND)
		goto state_error;
	if (proc != NULL) {
		deadline = jint(proc, "deadline");
		cancelled = jint(proc, "cancelled") != 0;
	}

	if (ev->has_parent) {
		pr_hex_encode(ev->parent, PR_HASH_LEN, hex);
		snprintf(key, sizeof(key), "l/%s", hex);
		if ((par = state_get(p, key, &rc)) == NULL) {
			if (rc != PR_ENOTFOUND)
				goto state_error;
			rc = deny(err, PR_ECONFLICT, 409, "parent_not_found",
			    "/parent", "no event in this log has leaf hash %s",
			    hex);
			goto out;
		}
		pocid = jstr(par, "ocid");
		pkind = jstr(par, "kind");
		if (pocid == NULL || strcmp(pocid, ev->ocid) != 0) {
			rc = deny(err, PR_ECONFLICT, 409, "foreign_parent",
			    "/parent",
			    "the parent belongs to process %s, not %s",
			    pocid ? pocid : "?", ev->ocid);
			goto out;
		}
		pk = pkind ? pr_kind_from_name(pkind, strlen(pkind)) : -1;
		if (pk < 0 ||
		    !pr_kind_parent_allowed((enum pr_kind)pk, ev->kind)) {
			rc = deny(err, PR_ECONFLICT, 409, "bad_transition",
			    "/parent", "%s cannot follow %s",
			    pr_kind_name(ev->kind), pkind ? pkind : "?");
			goto out;
		}
		if (p->get_event != NULL && (rc = check_chain(p, ev, err)) != 0)
			goto out;
	} else if (rule->parent == PR_PARENT_REQUIRED) {
		rc = deny(err, PR_EEVENT, 422, "missing_field", "/parent",
		    "%s must name its parent event", pr_kind_name(ev->kind));
		goto out;
	} else if (proc != NULL) {
		rc = deny(err, PR_ECONFLICT, 409, "process_exists", "/ocid",
		    "process %s already exists; name its latest event as "
		    "parent",
		    ev->ocid);
		goto out;
	}

	if (proc != NULL && cancelled && ev->kind != PR_KIND_PAYMENT &&
	    ev->kind != PR_KIND_DELIVERY) {
		rc = deny(err, PR_ECONFLICT, 409, "process_cancelled", "/ocid",
		    "process %s was cancelled", ev->ocid);
		goto out;
	}
	buyer = proc ? jstr(proc, "buyer") : NULL;
	if (buyer != NULL && ev->buyer.id != NULL &&
	    strcmp(buyer, ev->buyer.id) != 0) {
		rc = deny(err, PR_ECONFLICT, 409, "buyer_mismatch", "/buyer/id",
		    "process %s belongs to buyer %s", ev->ocid, buyer);
		goto out;
	}

	switch (ev->kind) {
	case PR_KIND_BID_COMMIT:
		if (deadline == 0 || in->log_time >= deadline) {
			rc = deny(err, PR_ECONFLICT, 409, "deadline_passed",
			    "/date",
			    deadline ? "the bid deadline of %s has passed"
			             : "process %s has no open tender",
			    ev->ocid);
			goto out;
		}
		snprintf(
		    key, sizeof(key), "c/%s/%s", ev->ocid, ev->supplier.id);
		if ((com = state_get(p, key, &rc)) != NULL) {
			rc = deny(err, PR_ECONFLICT, 409, "already_committed",
			    "/supplier/id", "%s already committed a bid in %s",
			    ev->supplier.id, ev->ocid);
			goto out;
		}
		if (rc != PR_ENOTFOUND)
			goto state_error;
		pr_hex_encode(ev->commitment, PR_HASH_LEN, hex);
		{
			char leaf[2 * PR_HASH_LEN + 1];
			pr_hex_encode(in->leaf, PR_HASH_LEN, leaf);
			if ((rc = put(fx, key,
			         json_pack("{s:s, s:s, s:i}", "commitment", hex,
			             "leaf", leaf, "revealed", 0))) != 0)
				goto out;
		}
		break;
	case PR_KIND_BID_REVEAL: {
		uint8_t want[PR_HASH_LEN], got[PR_HASH_LEN];
		const char *c;

		if (deadline != 0 && in->log_time < deadline) {
			rc = deny(err, PR_ECONFLICT, 409, "deadline_not_passed",
			    "/date",
			    "bids stay sealed until the deadline of %s",
			    ev->ocid);
			goto out;
		}
		snprintf(
		    key, sizeof(key), "c/%s/%s", ev->ocid, ev->supplier.id);
		if ((com = state_get(p, key, &rc)) == NULL) {
			if (rc != PR_ENOTFOUND)
				goto state_error;
			rc = deny(err, PR_ECONFLICT, 409, "no_commitment",
			    "/supplier/id",
			    "%s committed no bid in %s before the deadline",
			    ev->supplier.id, ev->ocid);
			goto out;
		}
		if (jint(com, "revealed")) {
			rc = deny(err, PR_ECONFLICT, 409, "already_revealed",
			    "/supplier/id", "this bid was already revealed");
			goto out;
		}
		c = jstr(com, "commitment");
		if (c == NULL ||
		    pr_hex_decode(c, strlen(c), want, PR_HASH_LEN) != 0) {
			rc = PR_ECORRUPT;
			goto state_error;
		}
		if ((rc = pr_bid_commitment(ev->ocid, ev->supplier.id,
		         &ev->value, ev->items, ev->n_items, ev->nonce, got)) !=
		    0) {
			rc = deny(err, PR_EEVENT, 422, "bad_reveal", NULL,
			    "the commitment cannot be computed: %s",
			    pr_strerror(rc));
			goto out;
		}
		if (memcmp(want, got, PR_HASH_LEN) != 0) {
			rc = deny(err, PR_ECONFLICT, 409, "commitment_mismatch",
			    "/nonce",
			    "the revealed bid does not match the commitment "
			    "%s",
			    c);
			goto out;
		}
		json_object_set_new(com, "revealed", json_integer(1));
		json_incref(com);
		if ((rc = put(fx, key, com)) != 0)
			goto out;
		break;
	}
	case PR_KIND_AWARD:
		if (deadline != 0 && in->log_time < deadline) {
			rc = deny(err, PR_ECONFLICT, 409, "deadline_not_passed",
			    "/date",
			    "an award cannot precede the bid deadline");
			goto out;
		}
		break;
	default:
		break;
	}

	/* The process record: created by its first event, updated by the
	 * kinds that change the deadline or the status. */
	nd = deadline;
	if (pr_event_deadline(ev, &nd) == 0 || proc == NULL ||
	    ev->kind == PR_KIND_TENDER_CANCEL || ev->kind == PR_KIND_TENDER) {
		nproc = json_pack("{s:s?, s:I, s:i}", "buyer",
		    buyer ? buyer : ev->buyer.id, "deadline", (json_int_t)nd,
		    "cancelled",
		    cancelled || ev->kind == PR_KIND_TENDER_CANCEL);
		snprintf(key, sizeof(key), "o/%s", ev->ocid);
		if ((rc = put(fx, key, nproc)) != 0)
			goto out;
	}
	/* Every event with an ocid can be a parent. */
	pr_hex_encode(in->leaf, PR_HASH_LEN, hex);
	snprintf(key, sizeof(key), "l/%s", hex);
	rc = put(fx, key,
	    json_pack("{s:s, s:s}", "ocid", ev->ocid, "kind",
	        pr_kind_name(ev->kind)));
	goto out;
state_error:
	rc = deny(err, rc, 500, "state_error", NULL,
	    "reading the log's state: %s", pr_strerror(rc));
out:
	json_decref(par);
	json_decref(proc);
	json_decref(com);
	return rc;
}

int
pr_policy_check(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	int rc;

	memset(fx, 0, sizeof(*fx));
	memset(err, 0, sizeof(*err));
	if (in->env->nsigs == 0 || in->env->nsigs > PR_DSSE_MAX_SIGS)
		return deny(err, PR_ESIG, 401, "bad_signature", "signatures",
		    "an envelope needs 1 to %d signatures", PR_DSSE_MAX_SIGS);
	if ((rc = check_signatures(p, in, fx, err)) != 0)
		goto fail;
	if (in->ev->kind == PR_KIND_KEY_GRANT ||
	    in->ev->kind == PR_KIND_KEY_REVOKE)
		rc = check_key_event(p, in, fx, err);
	else if ((rc = check_signers(in, fx, err)) == 0)
		rc = check_process(p, in, fx, err);
	if (rc == 0)
		return 0;
fail:
	if (err->code == NULL)
		deny(err, rc, 500, "internal", NULL, "%s", pr_strerror(rc));
	pr_policy_effects_clear(fx);
	return rc;
}
