#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/json.h"
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

/*
 * A state value parsed into an arena of its own: a buffer on the stack,
 * then chunks from the heap if the value needs more.
 */
struct sval {
	struct pr_json *root;
	struct schunk *more;
	size_t used;
	_Alignas(16) uint8_t mem[2048];
};

struct schunk {
	struct schunk *next;
	_Alignas(16) uint8_t mem[];
};

static void *
sval_alloc(void *ctx, size_t size)
{
	struct sval *v = ctx;
	struct schunk *c;

	size = (size + 15) & ~(size_t)15;
	if (size <= sizeof(v->mem) - v->used) {
		v->used += size;
		return v->mem + v->used - size;
	}
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->next = v->more;
	v->more = c;
	return c->mem;
}

static void
sval_free(struct sval *v)
{
	struct schunk *c;

	while ((c = v->more) != NULL) {
		v->more = c->next;
		free(c);
	}
	v->root = NULL;
	v->used = 0;
}

/* Fetch and parse the JSON object at state key: 0 (release v with
 * sval_free()), PR_ENOTFOUND, PR_ECORRUPT or another error. */
static int
state_get(const struct pr_policy *p, const char *key, struct sval *v)
{
	struct pr_buf b = PR_BUF_INIT;
	struct pr_json_error jerr;
	int rc;

	v->root = NULL;
	v->more = NULL;
	v->used = 0;
	if ((rc = p->get(p->ctx, key, strlen(key), &b)) == 0) {
		v->root = pr_json_parse(
		    (const char *)b.data, b.len, 4, sval_alloc, v, &jerr);
		if (v->root == NULL || !pr_json_is_object(v->root)) {
			rc = v->root == NULL && jerr.code == PR_JSON_ENOMEM
			    ? PR_ENOMEM
			    : PR_ECORRUPT;
			sval_free(v);
		}
	}
	pr_buf_free(&b);
	return rc;
}

static int64_t
jint(const struct sval *v, const char *name)
{
	return pr_json_int(pr_json_get(v->root, name));
}

static const char *
jstr(const struct sval *v, const char *name)
{
	return pr_json_str(pr_json_get(v->root, name));
}

/*
 * State values are compact JSON objects with their members in key order.
 * These append one member: its key (and a comma unless it is the first)
 * and its value; they add to *rc, which stays the first error.
 */
static void
m_key(struct pr_buf *b, const char *name, int *rc)
{
	if (*rc == 0)
		*rc = pr_buf_printf(
		    b, "%c\"%s\":", b->len == 0 ? '{' : ',', name);
}

static void
m_str(struct pr_buf *b, const char *name, const char *val, int *rc)
{
	m_key(b, name, rc);
	if (*rc == 0)
		*rc =
		    val ? pr_json_quote(b, val) : pr_buf_append_str(b, "null");
}

static void
m_int(struct pr_buf *b, const char *name, int64_t val, int *rc)
{
	m_key(b, name, rc);
	if (*rc == 0)
		*rc = pr_buf_printf(b, "%" PRId64, val);
}

/* Queue a state change: the object in val (closed here); val is
 * consumed either way. */
static int
put(struct pr_policy_effects *fx, const char *key, struct pr_buf *val, int rc)
{
	struct pr_policy_put *pp;

	if (rc == 0)
		rc = pr_buf_append_byte(val, '}');
	if (rc == 0 &&
	    (fx->nputs == PR_POLICY_MAX_PUTS ||
	        strlen(key) >= PR_POLICY_KEY_MAX))
		rc = PR_ERANGE;
	if (rc != 0) {
		pr_buf_free(val);
		return rc == PR_ERANGE ? rc : PR_ENOMEM;
	}
	pp = &fx->puts[fx->nputs++];
	pp->klen = strlen(key);
	memcpy(pp->key, key, pp->klen + 1);
	pp->val = (char *)val->data; /* NUL-terminated, malloc'ed */
	pp->vlen = val->len;
	*val = (struct pr_buf)PR_BUF_INIT;
	return 0;
}

/* A key registry record (party: the whole id, k->party may be cut). */
static int
put_key(struct pr_policy_effects *fx, const char *key,
    const struct pr_policy_key *k, const char *party)
{
	struct pr_buf b = PR_BUF_INIT, pub = PR_BUF_INIT;
	int rc = pr_b64_encode(&pub, k->pub, PR_KEY_PUB_LEN);

	m_int(&b, "granted", k->granted, &rc);
	m_str(&b, "party", party, &rc);
	m_str(&b, "pub", (const char *)pub.data, &rc);
	m_int(&b, "revoked", k->revoked, &rc);
	m_int(&b, "roles", (int64_t)k->roles, &rc);
	m_int(&b, "valid_from", k->valid_from, &rc);
	m_int(&b, "valid_until", k->valid_until, &rc);
	pr_buf_free(&pub);
	return put(fx, key, &b, rc);
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
	struct sval j;
	const char *s;
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
	if ((rc = state_get(p, key, &j)) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	rc = PR_ECORRUPT;
	if ((s = jstr(&j, "pub")) == NULL ||
	    pr_b64_decode(&pub, s, strlen(s), PR_B64_STD) != 0 ||
	    pub.len != PR_KEY_PUB_LEN)
		goto out;
	memcpy(out->pub, pub.data, PR_KEY_PUB_LEN);
	if ((s = jstr(&j, "party")) == NULL)
		goto out;
	snprintf(out->party, sizeof(out->party), "%s", s);
	out->roles = (unsigned)jint(&j, "roles");
	out->valid_from = jint(&j, "valid_from");
	out->valid_until = jint(&j, "valid_until");
	out->granted = jint(&j, "granted");
	out->revoked = jint(&j, "revoked");
	rc = 0;
out:
	pr_buf_free(&pub);
	sval_free(&j);
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
	struct pr_policy_key old, k;
	char keyid[2 * PR_HASH_LEN + 1], key[PR_POLICY_KEY_MAX];
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
		memset(&k, 0, sizeof(k));
		memcpy(k.pub, ev->public_key, PR_KEY_PUB_LEN);
		k.roles = ev->roles;
		k.valid_from = ev->has_valid_from ? ev->valid_from : 0;
		k.valid_until = ev->has_valid_until ? ev->valid_until : 0;
		k.granted = in->log_time;
		return put_key(fx, key, &k, ev->party.id);
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
	old.revoked = in->log_time;
	return put_key(fx, key, &old, old.party);
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

/*
 * The parent: an event of this log (committed or admitted earlier) with an
 * ocid, found through get_event by its leaf hash.  Checks that it belongs
 * to the same process, that ev's kind may follow it, and the chain rules
 * between the two (pr_event_check_parent).
 */
static int
check_parent(const struct pr_policy *p, const struct pr_event *ev,
    struct pr_policy_error *err)
{
	struct pr_event *parent = NULL;
	struct pr_event_error e;
	char hex[2 * PR_HASH_LEN + 1];
	int rc;

	pr_hex_encode(ev->parent, PR_HASH_LEN, hex);
	if (p->get_event == NULL)
		return deny(err, PR_EINVAL, 500, "state_error", "/parent",
		    "no way to read the parent event");
	rc = p->get_event(p->ctx, ev->parent, &parent);
	if (rc == PR_ENOTFOUND ||
	    (rc == 0 && (parent->ocid == NULL || parent->ocid[0] == '\0'))) {
		/* Key events have no process: they are no one's parent. */
		rc = deny(err, PR_ECONFLICT, 409, "parent_not_found", "/parent",
		    "no event in this log has leaf hash %s", hex);
		goto out;
	}
	if (rc != 0)
		return deny(err, rc, 500, "state_error", "/parent",
		    "reading the parent event: %s", pr_strerror(rc));
	if (strcmp(parent->ocid, ev->ocid) != 0) {
		rc = deny(err, PR_ECONFLICT, 409, "foreign_parent", "/parent",
		    "the parent belongs to process %s, not %s", parent->ocid,
		    ev->ocid);
		goto out;
	}
	if (!pr_kind_parent_allowed(parent->kind, ev->kind)) {
		rc = deny(err, PR_ECONFLICT, 409, "bad_transition", "/parent",
		    "%s cannot follow %s", pr_kind_name(ev->kind),
		    pr_kind_name(parent->kind));
		goto out;
	}
	memset(&e, 0, sizeof(e));
	if (pr_event_check_parent(parent, ev, &e) != 0)
		rc = deny(err, PR_ECONFLICT, 409,
		    e.code ? e.code : "parent_mismatch", e.path, "%s",
		    e.message);
out:
	if (parent != NULL && p->release_event != NULL)
		p->release_event(p->ctx, parent);
	else if (parent != NULL)
		pr_event_free(parent);
	return rc;
}

/* Parent link, transition and process rules; queues the state changes. */
static int
check_process(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err)
{
	const struct pr_event *ev = in->ev;
	const struct pr_kind_rule *rule = pr_kind_rule(ev->kind);
	char key[PR_POLICY_KEY_MAX], hex[2 * PR_HASH_LEN + 1];
	struct pr_buf v = PR_BUF_INIT;
	struct sval proc, com;
	const char *buyer;
	int64_t deadline = 0, nd;
	int have_proc = 0, rc, cancelled = 0;

	com.root = NULL;
	com.more = NULL;
	snprintf(key, sizeof(key), "o/%s", ev->ocid);
	rc = state_get(p, key, &proc);
	if (rc != 0 && rc != PR_ENOTFOUND)
		goto state_error;
	have_proc = rc == 0;
	if (have_proc) {
		deadline = jint(&proc, "deadline");
		cancelled = jint(&proc, "cancelled") != 0;
	}

	if (ev->has_parent) {
		if ((rc = check_parent(p, ev, err)) != 0)
			goto out;
	} else if (rule->parent == PR_PARENT_REQUIRED) {
		rc = deny(err, PR_EEVENT, 422, "missing_field", "/parent",
		    "%s must name its parent event", pr_kind_name(ev->kind));
		goto out;
	} else if (have_proc) {
		rc = deny(err, PR_ECONFLICT, 409, "process_exists", "/ocid",
		    "process %s already exists; name its latest event as "
		    "parent",
		    ev->ocid);
		goto out;
	}

	if (have_proc && cancelled && ev->kind != PR_KIND_PAYMENT &&
	    ev->kind != PR_KIND_DELIVERY) {
		rc = deny(err, PR_ECONFLICT, 409, "process_cancelled", "/ocid",
		    "process %s was cancelled", ev->ocid);
		goto out;
	}
	buyer = have_proc ? jstr(&proc, "buyer") : NULL;
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
		if ((rc = state_get(p, key, &com)) == 0) {
			rc = deny(err, PR_ECONFLICT, 409, "already_committed",
			    "/supplier/id", "%s already committed a bid in %s",
			    ev->supplier.id, ev->ocid);
			goto out;
		}
		if (rc != PR_ENOTFOUND)
			goto state_error;
		rc = 0;
		pr_hex_encode(ev->commitment, PR_HASH_LEN, hex);
		m_str(&v, "commitment", hex, &rc);
		pr_hex_encode(in->leaf, PR_HASH_LEN, hex);
		m_str(&v, "leaf", hex, &rc);
		m_int(&v, "revealed", 0, &rc);
		if ((rc = put(fx, key, &v, rc)) != 0)
			goto out;
		break;
	case PR_KIND_BID_REVEAL: {
		uint8_t want[PR_HASH_LEN], got[PR_HASH_LEN];
		const char *c, *leaf;

		if (deadline != 0 && in->log_time < deadline) {
			rc = deny(err, PR_ECONFLICT, 409, "deadline_not_passed",
			    "/date",
			    "bids stay sealed until the deadline of %s",
			    ev->ocid);
			goto out;
		}
		snprintf(
		    key, sizeof(key), "c/%s/%s", ev->ocid, ev->supplier.id);
		if ((rc = state_get(p, key, &com)) != 0) {
			if (rc != PR_ENOTFOUND)
				goto state_error;
			rc = deny(err, PR_ECONFLICT, 409, "no_commitment",
			    "/supplier/id",
			    "%s committed no bid in %s before the deadline",
			    ev->supplier.id, ev->ocid);
			goto out;
		}
		if (jint(&com, "revealed")) {
			rc = deny(err, PR_ECONFLICT, 409, "already_revealed",
			    "/supplier/id", "this bid was already revealed");
			goto out;
		}
		c = jstr(&com, "commitment");
		leaf = jstr(&com, "leaf");
		if (c == NULL || leaf == NULL ||
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
		m_str(&v, "commitment", c, &rc);
		m_str(&v, "leaf", leaf, &rc);
		m_int(&v, "revealed", 1, &rc);
		if ((rc = put(fx, key, &v, rc)) != 0)
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
	rc = 0;
	if (pr_event_deadline(ev, &nd) == 0 || !have_proc ||
	    ev->kind == PR_KIND_TENDER_CANCEL || ev->kind == PR_KIND_TENDER) {
		m_str(&v, "buyer", buyer ? buyer : ev->buyer.id, &rc);
		m_int(&v, "cancelled",
		    cancelled || ev->kind == PR_KIND_TENDER_CANCEL, &rc);
		m_int(&v, "deadline", nd, &rc);
		snprintf(key, sizeof(key), "o/%s", ev->ocid);
		rc = put(fx, key, &v, rc);
	}
	goto out;
state_error:
	rc = deny(err, rc, 500, "state_error", NULL,
	    "reading the log's state: %s", pr_strerror(rc));
out:
	pr_buf_free(&v);
	if (have_proc)
		sval_free(&proc);
	sval_free(&com);
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
