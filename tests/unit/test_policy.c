/*
 * Unit tests: proto/policy.c, the replayable admission rules, over an
 * in-memory state built from the examples in docs/examples/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/event.h"
#include "proto/key.h"
#include "proto/policy.h"

#define MAXKV 64

struct kv {
	char *k, *v;
};

struct logged {
	uint8_t leaf[32];
	char *json;
};

struct world {
	struct kv kv[MAXKV];
	size_t n;
	struct logged ev[MAXKV]; /* admitted events, for get_event */
	size_t nev;
	struct pr_key *admin, *buyer, *supplier;
	const struct pr_key *admins[1];
	struct pr_policy p;
	int64_t now;
	unsigned leafno;
};

static int
get(void *ctx, const char *key, size_t klen, struct pr_buf *val)
{
	struct world *w = ctx;
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strlen(w->kv[i].k) == klen &&
		    memcmp(w->kv[i].k, key, klen) == 0)
			return pr_buf_append_str(val, w->kv[i].v);
	return PR_ENOTFOUND;
}

static int
get_event(void *ctx, const uint8_t *leaf, struct pr_event **out)
{
	struct world *w = ctx;
	struct pr_event_error err;
	size_t i;

	for (i = 0; i < w->nev; i++)
		if (memcmp(w->ev[i].leaf, leaf, 32) == 0)
			return pr_event_parse((const uint8_t *)w->ev[i].json,
			    strlen(w->ev[i].json), out, &err);
	return PR_ENOTFOUND;
}

static void
apply(struct world *w, const struct pr_policy_effects *fx)
{
	size_t i, j;

	for (i = 0; i < fx->nputs; i++) {
		for (j = 0; j < w->n; j++)
			if (strcmp(w->kv[j].k, fx->puts[i].key) == 0)
				break;
		if (j == w->n) {
			assert_true(w->n < MAXKV);
			w->kv[w->n++].k = strdup(fx->puts[i].key);
		} else
			free(w->kv[j].v);
		w->kv[j].v = strdup(fx->puts[i].val);
	}
}

static json_t *
example(const char *kind)
{
	char path[256];
	json_t *j;

	snprintf(path, sizeof(path), "docs/examples/%s.json", kind);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

/* Run the rules for ev signed by keys; leaf is a fresh fake leaf hash. */
static int
check(struct world *w, json_t *ev, struct pr_key **keys, size_t nkeys,
    uint32_t valid_mask, uint8_t leaf[32], struct pr_policy_error *err)
{
	struct pr_dsse *env;
	struct pr_event *e;
	struct pr_event_error eerr;
	struct pr_policy_input in;
	struct pr_policy_effects fx;
	char *s = json_dumps(ev, JSON_COMPACT);
	size_t i;
	int rc;

	assert_non_null(s);
	assert_int_equal(pr_event_parse((uint8_t *)s, strlen(s), &e, &eerr), 0);
	assert_int_equal(
	    pr_dsse_new(PR_DSSE_PAYLOAD_TYPE, (uint8_t *)s, strlen(s), &env),
	    0);
	for (i = 0; i < nkeys; i++)
		assert_int_equal(pr_dsse_sign(env, keys[i]), 0);
	memset(leaf, 0, 32);
	leaf[0] = (uint8_t)++w->leafno;
	memset(&in, 0, sizeof(in));
	in.ev = e;
	in.env = env;
	in.valid = valid_mask;
	in.log_time = w->now;
	in.leaf = leaf;
	rc = pr_policy_check(&w->p, &in, &fx, err);
	if (rc == 0) {
		apply(w, &fx);
		pr_policy_effects_clear(&fx);
		assert_true(w->nev < MAXKV);
		memcpy(w->ev[w->nev].leaf, leaf, 32);
		w->ev[w->nev++].json = strdup(s);
	}
	pr_event_free(e);
	pr_dsse_free(env);
	free(s);
	json_decref(ev);
	return rc;
}

static json_t *
grant(struct pr_key *k, const char *party, const char *role)
{
	json_t *g = example("key.grant");
	struct pr_buf b = PR_BUF_INIT;

	json_object_del(g, "validFrom");
	json_object_del(g, "validUntil");
	assert_int_equal(pr_b64_encode(&b, pr_key_raw_public(k), 32), 0);
	json_object_set_new(g, "publicKey", json_string((char *)b.data));
	json_object_set_new(g, "party", json_pack("{s:s}", "id", party));
	json_object_set_new(g, "roles", json_pack("[s]", role));
	pr_buf_free(&b);
	return g;
}

#define BUYER "KZ-BIN-090640001233"
#define SUPPLIER "KZ-BIN-151140002468"
#define UNKNOWN_LEAF                                                           \
	"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(pr_key_generate(&w->admin), 0);
	assert_int_equal(pr_key_generate(&w->buyer), 0);
	assert_int_equal(pr_key_generate(&w->supplier), 0);
	w->admins[0] = w->admin;
	w->p.get = get;
	w->p.get_event = get_event;
	w->p.ctx = w;
	w->p.admins = w->admins;
	w->p.nadmins = 1;
	w->now = 1767225600000; /* 2026-01-01 */
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	size_t i;

	for (i = 0; i < w->n; i++) {
		free(w->kv[i].k);
		free(w->kv[i].v);
	}
	for (i = 0; i < w->nev; i++)
		free(w->ev[i].json);
	pr_key_free(w->admin);
	pr_key_free(w->buyer);
	pr_key_free(w->supplier);
	free(w);
	return 0;
}

/* Every state value is a JSON object in compact form with its members in
 * key order, as proto/policy.h documents. */
static void
assert_canonical(const struct world *w)
{
	json_error_t jerr;
	json_t *j;
	char *s;
	size_t i;

	assert_true(w->n > 0);
	for (i = 0; i < w->n; i++) {
		j = json_loads(w->kv[i].v, JSON_REJECT_DUPLICATES, &jerr);
		assert_non_null(j);
		assert_true(json_is_object(j));
		s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		assert_non_null(s);
		assert_string_equal(w->kv[i].v, s);
		free(s);
		json_decref(j);
	}
}

static void
test_grants(void **state)
{
	struct world *w = *state;
	struct pr_policy_error err;
	struct pr_policy_key k;
	struct pr_key *keys[1];
	uint8_t leaf[32];

	keys[0] = w->admin;
	assert_int_equal(
	    check(w, grant(w->buyer, BUYER, "buyer"), keys, 1, 1, leaf, &err),
	    0);
	assert_int_equal(
	    pr_policy_key_get(&w->p, pr_key_keyid(w->buyer), &k), 0);
	assert_string_equal(k.party, BUYER);
	assert_int_equal(k.roles, PR_ROLE_BUYER);
	assert_int_equal(k.granted, w->now);
	/* Granted once only. */
	assert_int_equal(
	    check(w, grant(w->buyer, BUYER, "buyer"), keys, 1, 1, leaf, &err),
	    PR_ECONFLICT);
	assert_string_equal(err.code, "key_exists");
	/* A buyer's key cannot grant. */
	keys[0] = w->buyer;
	assert_int_equal(check(w, grant(w->supplier, SUPPLIER, "supplier"),
	                     keys, 1, 1, leaf, &err),
	    PR_EDENIED);
	assert_string_equal(err.code, "not_admin");
	assert_int_equal(err.status, 403);
	/* An unknown key, and a signature that did not verify. */
	keys[0] = w->supplier;
	assert_int_equal(check(w, grant(w->supplier, SUPPLIER, "supplier"),
	                     keys, 1, 1, leaf, &err),
	    PR_EUNKNOWNKEY);
	assert_string_equal(err.code, "unknown_key");
	assert_int_equal(err.status, 401);
	keys[0] = w->admin;
	assert_int_equal(check(w, grant(w->supplier, SUPPLIER, "supplier"),
	                     keys, 1, 0, leaf, &err),
	    PR_ESIG);
	assert_string_equal(err.code, "bad_signature");
	assert_string_equal(err.field, "signatures[0].sig");
	assert_canonical(w);
}

static json_t *
with(json_t *ev, const char *parent_hex)
{
	if (parent_hex != NULL)
		json_object_set_new(ev, "parent", json_string(parent_hex));
	else
		json_object_del(ev, "parent");
	return ev;
}

static void
test_process(void **state)
{
	struct world *w = *state;
	struct pr_policy_error err;
	struct pr_key *keys[2];
	uint8_t plan[32], tender[32], leaf[32], granted[32];
	char hex[65];
	json_t *t;

	keys[0] = w->admin;
	assert_int_equal(check(w, grant(w->buyer, BUYER, "buyer"), keys, 1, 1,
	                     granted, &err),
	    0);
	assert_int_equal(check(w, grant(w->supplier, SUPPLIER, "supplier"),
	                     keys, 1, 1, leaf, &err),
	    0);
	keys[0] = w->buyer;
	assert_int_equal(check(w, example("plan"), keys, 1, 1, plan, &err), 0);
	/* A second first event of the same process is refused. */
	assert_int_equal(
	    check(w, example("plan"), keys, 1, 1, leaf, &err), PR_ECONFLICT);
	assert_string_equal(err.code, "process_exists");
	/* A parent must exist, in the same process, of an allowed kind. */
	assert_int_equal(check(w, with(example("tender"), UNKNOWN_LEAF), keys,
	                     1, 1, leaf, &err),
	    PR_ECONFLICT);
	assert_string_equal(err.code, "parent_not_found");
	/* A key event is in the log but belongs to no process. */
	pr_hex_encode(granted, 32, hex);
	assert_int_equal(
	    check(w, with(example("tender"), hex), keys, 1, 1, leaf, &err),
	    PR_ECONFLICT);
	assert_string_equal(err.code, "parent_not_found");
	pr_hex_encode(plan, 32, hex);
	t = with(example("tender"), hex);
	assert_int_equal(check(w, t, keys, 1, 1, tender, &err), 0);
	/* A supplier cannot amend a tender. */
	pr_hex_encode(tender, 32, hex);
	keys[0] = w->supplier;
	assert_int_equal(check(w, with(example("tender.amend"), hex), keys, 1,
	                     1, leaf, &err),
	    PR_EDENIED);
	assert_string_equal(err.code, "unexpected_signer");
	assert_int_equal(err.status, 403);
	/* Deadline: the example tender closes on 2025-03-05; the log's
	 * clock (2026) is past it, so a commitment is late. */
	assert_int_equal(
	    check(w, with(example("bid.commit"), hex), keys, 1, 1, leaf, &err),
	    PR_ECONFLICT);
	assert_string_equal(err.code, "deadline_passed");
	/* The same commitment before the deadline is admitted, once. */
	w->now = 1741000000000; /* 2025-03-03 */
	assert_int_equal(
	    check(w, with(example("bid.commit"), hex), keys, 1, 1, leaf, &err),
	    0);
	assert_int_equal(
	    check(w, with(example("bid.commit"), hex), keys, 1, 1, leaf, &err),
	    PR_ECONFLICT);
	assert_string_equal(err.code, "already_committed");
	/* A commitment to another process's tender is refused. */
	t = with(example("bid.commit"), hex);
	json_object_set_new(
	    t, "ocid", json_string("ocds-pr0kz1-2025-MED-0002"));
	assert_int_equal(check(w, t, keys, 1, 1, leaf, &err), PR_ECONFLICT);
	assert_string_equal(err.code, "foreign_parent");
	assert_canonical(w);
}

static void
test_revoked(void **state)
{
	struct world *w = *state;
	struct pr_policy_error err;
	struct pr_key *keys[1];
	uint8_t leaf[32];
	json_t *r;

	keys[0] = w->admin;
	assert_int_equal(
	    check(w, grant(w->buyer, BUYER, "buyer"), keys, 1, 1, leaf, &err),
	    0);
	r = example("key.revoke");
	json_object_set_new(r, "keyid", json_string(pr_key_keyid(w->buyer)));
	assert_int_equal(
	    check(w, json_deep_copy(r), keys, 1, 1, leaf, &err), 0);
	assert_int_equal(check(w, r, keys, 1, 1, leaf, &err), PR_ECONFLICT);
	assert_string_equal(err.code, "key_revoked");
	w->now += 1;
	keys[0] = w->buyer;
	assert_int_equal(
	    check(w, example("plan"), keys, 1, 1, leaf, &err), PR_EDENIED);
	assert_string_equal(err.code, "key_revoked");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
