/*
 * Unit tests: procurectl verify (cli/verify.c, vrun.c, vstate.c,
 * vpolicy.c, vpool.c, kv.c) on data directories written through store/:
 * honest logs from scratch and incrementally (across full level-1 hash
 * tiles), forged signatures, unknown and revoked keys, broken parent
 * links, chain rules between an event and its parent (from scratch and
 * with the parent before the state file's checkpoint), forked and shrunk
 * histories against a state file, a wrong verifier key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>

#include <cmocka.h>

#include "cli/args.c"
#include "cli/config.c"
#include "cli/fmt.c"
#include "cli/http.c"
#include "cli/kv.c"
#include "cli/source.c"
#include "cli/util.c"
#include "cli/verify.c"
#include "cli/vevents.c"
#include "cli/vfetch.c"
#include "cli/vpolicy.c"
#include "cli/vpool.c"
#include "cli/vrun.c"
#include "cli/vstate.c"
#include "proto/entry.h"
#include "tests/unit/store_test.h"

#define ORIGIN "test.procured.example/log"
#define BUYER "KZ-BIN-090640001233"
#define SUPPLIER "KZ-BIN-151140002468"
#define T0 1767225600000ull /* 2026-01-01T00:00:00Z */
#define BATCH 512

struct fx {
	char *tmp;
	char data[512], state[512];
	struct pr_key *log, *admin, *buyer, *other, *supplier;
	char vkey[256], adminvk[256];
	uint64_t t; /* next log time */
};

/* A fresh 0700 directory of this test's own. */
static char *
cli_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	assert_non_null(p = malloc(strlen(base) + 40));
	sprintf(p, "%s/procurectl-verify-test.XXXXXX", base);
	assert_non_null(mkdtemp(p));
	return p;
}

static struct pr_key *
seed_key(uint8_t b)
{
	uint8_t seed[PR_KEY_SEED_LEN];
	struct pr_key *k;

	memset(seed, b, sizeof(seed));
	assert_int_equal(pr_key_from_seed(seed, &k), 0);
	return k;
}

static void
vkey_of(const struct pr_key *k, const char *name, char *out, size_t size)
{
	struct pr_buf b = PR_BUF_INIT;

	assert_int_equal(pr_key_vkey_format(k, name, &b), 0);
	snprintf(out, size, "%s", (char *)b.data);
	pr_buf_free(&b);
}

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->tmp = cli_mkdtemp();
	snprintf(f->data, sizeof(f->data), "%s/data", f->tmp);
	snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->log = seed_key(1);
	f->admin = seed_key(2);
	f->buyer = seed_key(3);
	f->other = seed_key(4);
	f->supplier = seed_key(5);
	vkey_of(f->log, ORIGIN, f->vkey, sizeof(f->vkey));
	vkey_of(f->admin, "admin", f->adminvk, sizeof(f->adminvk));
	f->t = T0;
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	tst_rmtree(f->tmp);
	free(f->tmp);
	pr_key_free(f->log);
	pr_key_free(f->admin);
	pr_key_free(f->buyer);
	pr_key_free(f->other);
	pr_key_free(f->supplier);
	free(f);
	return 0;
}

static int
sign_cp(void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	struct fx *f = ctx;
	struct pr_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	cp.origin = ORIGIN;
	cp.size = size;
	memcpy(cp.root, root, PR_HASH_LEN);
	return pr_checkpoint_sign(&cp, ORIGIN, f->log, note);
}

/* An entry: json signed by the given keys, logged at the next time. */
static void
make_entry(struct fx *f, const char *json, struct pr_key *const *keys,
    size_t nkeys, int corrupt, struct pr_buf *out)
{
	struct pr_dsse *e;
	size_t i;

	assert_int_equal(pr_dsse_new(PR_DSSE_PAYLOAD_TYPE,
	                     (const uint8_t *)json, strlen(json), &e),
	    0);
	for (i = 0; i < nkeys; i++)
		assert_int_equal(pr_dsse_sign(e, keys[i]), 0);
	if (corrupt)
		e->sigs[0].sig[10] ^= 0x40;
	assert_int_equal(pr_entry_encode(e, f->t++, out), 0);
	pr_dsse_free(e);
}

static void
grant_json(const struct pr_key *k, const char *role, char *out, size_t size)
{
	struct pr_buf pub = PR_BUF_INIT;

	assert_int_equal(pr_b64_encode(&pub, pr_key_raw_public(k), 32), 0);
	snprintf(out, size,
	    "{\"schema\":1,\"kind\":\"key.grant\",\"date\":"
	    "\"2026-01-01T00:00:00Z\",\"party\":{\"id\":\"%s\"},\"roles\":"
	    "[\"%s\"],\"publicKey\":\"%s\"}",
	    BUYER, role, (char *)pub.data);
	pr_buf_free(&pub);
}

static void
plan_json(uint64_t i, const char *parent, char *out, size_t size)
{
	snprintf(out, size,
	    "{\"schema\":1,\"ocid\":\"ocds-pr0kz1-T-%06llu\",\"kind\":"
	    "\"%s\",\"date\":\"2026-01-01T00:00:00Z\",%s%s%s\"buyer\":"
	    "{\"id\":\"%s\"},\"value\":{\"amount\":\"%llu.00\",\"currency\":"
	    "\"KZT\"},\"fundingSource\":\"OSMS\"}",
	    (unsigned long long)i, "plan", parent ? "\"parent\":\"" : "",
	    parent ? parent : "", parent ? "\"," : "", BUYER,
	    (unsigned long long)(1000 + i));
}

/*
 * The event of docs/examples/KIND.json for process ocid (NULL: as it is)
 * after parent (NULL: none), with member name set to the string value when name
 * is not NULL.
 */
static void
example_json(const char *kind, const char *ocid, const char *parent,
    const char *name, const char *value, char *out, size_t size)
{
	char path[128];
	json_t *j;
	char *s;

	snprintf(path, sizeof(path), "docs/examples/%s.json", kind);
	assert_non_null(j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL));
	if (ocid != NULL)
		json_object_set_new(j, "ocid", json_string(ocid));
	if (parent != NULL)
		json_object_set_new(j, "parent", json_string(parent));
	else
		json_object_del(j, "parent");
	if (name != NULL)
		json_object_set_new(j, name, json_string(value));
	assert_non_null(s = json_dumps(j, JSON_COMPACT));
	assert_true(strlen(s) < size);
	strcpy(out, s);
	free(s);
	json_decref(j);
}

/* The tender of docs/examples for process ocid after parent. */
static void
tender_json(const char *ocid, const char *parent, char *out, size_t size)
{
	example_json("tender", ocid, parent, NULL, NULL, out, size);
}

/* Append entries: st_append_batch in batches, the log signing. */
static void
append(struct fx *f, struct pr_buf *entries, size_t n)
{
	struct st_config cfg;
	struct st_store *st;
	struct st_append *a;
	struct st_appended *r;
	size_t i, k, m;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = f->data;
	assert_int_equal(st_open(&cfg, &st), 0);
	a = calloc(BATCH, sizeof(*a));
	r = calloc(BATCH, sizeof(*r));
	for (i = 0; i < n; i += m) {
		m = n - i < BATCH ? n - i : BATCH;
		memset(a, 0, m * sizeof(*a));
		for (k = 0; k < m; k++) {
			a[k].entry = entries[i + k].data;
			a[k].entry_len = entries[i + k].len;
			assert_int_equal(
			    pr_entry_envelope_hash(entries[i + k].data,
			        entries[i + k].len, a[k].envelope_hash),
			    0);
			a[k].log_time_ms =
			    pr_load_be64(entries[i + k].data + 1);
		}
		assert_int_equal(
		    st_append_batch(st, a, m, sign_cp, f, r, NULL, NULL), 0);
		assert_false(r[0].duplicate);
	}
	free(a);
	free(r);
	st_close(st);
	for (i = 0; i < n; i++)
		pr_buf_free(&entries[i]);
}

/* A log of a buyer grant then n - 1 plans by the buyer, entries first..
 * (first is 0 for a new log). bad: index of a plan with a corrupted
 * signature, or 0 for none. */
static void
append_plans(struct fx *f, uint64_t first, uint64_t n, uint64_t bad)
{
	struct pr_buf *e = calloc(n, sizeof(*e));
	struct pr_key *ks[1];
	char json[1024];
	uint64_t i;

	for (i = first; i < first + n; i++) {
		if (i == 0) {
			grant_json(f->buyer, "buyer", json, sizeof(json));
			ks[0] = f->admin;
		} else {
			plan_json(i, NULL, json, sizeof(json));
			ks[0] = f->buyer;
		}
		make_entry(f, json, ks, 1, i == bad && bad != 0, &e[i - first]);
	}
	append(f, e, n);
	free(e);
}

static int
run_verify(struct fx *f, int with_state, const char *vkey, struct vf_outcome *o)
{
	struct cl_ctx ctx;
	struct cl_args a;
	int saved, null, rc;

	memset(&ctx, 0, sizeof(ctx));
	memset(&a, 0, sizeof(a));
	ctx.mode = CL_TEXT;
	a.opt[a.nopt].id = CL_O_VKEY;
	a.opt[a.nopt++].val = vkey ? vkey : f->vkey;
	a.opt[a.nopt].id = CL_O_DATADIR;
	a.opt[a.nopt++].val = f->data;
	a.opt[a.nopt].id = CL_O_ADMIN;
	a.opt[a.nopt++].val = f->adminvk;
	a.opt[a.nopt].id = CL_O_QUIET;
	a.opt[a.nopt++].val = "";
	if (with_state) {
		a.opt[a.nopt].id = CL_O_STATE;
		a.opt[a.nopt++].val = f->state;
	}
	/* Expected failures are reported in o, not on stderr; but under
	 * AddressSanitizer stderr stays, or a report (and the abort after
	 * it) would leave no trace. */
#ifndef __SANITIZE_ADDRESS__
	fflush(stderr);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_true((null = open("/dev/null", O_WRONLY)) >= 0);
	dup2(null, STDERR_FILENO);
	close(null);
#else
	(void)saved;
	(void)null;
#endif
	rc = vf_verify(&ctx, &a, o);
#ifndef __SANITIZE_ADDRESS__
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
#endif
	return rc;
}

static void
test_honest_then_incremental(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;
	struct stat sb;

	append_plans(f, 0, 300, 0);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_OK);
	assert_false(o.failed);
	assert_int_equal(o.size, 300);
	assert_int_equal(o.entries, 300);
	assert_int_equal(o.sigs, 300);
	/* With a state file: the first run checks everything, the next
	 * only what is new, a third nothing. */
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.previous, 0);
	assert_int_equal(stat(f->state, &sb), 0);
	append_plans(f, 300, 500, 0);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.previous, 300);
	assert_int_equal(o.size, 800);
	assert_int_equal(o.entries, 500);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.previous, 800);
	assert_int_equal(o.entries, 0);
}

static void
test_level1_tiles(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;

	/* 65,536 leaves fill the first level-1 hash tile: stop short of it,
	 * then cross it with the state file (the full tile, then the
	 * partial one above it are compared). */
	append_plans(f, 0, 65000, 0);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	append_plans(f, 65000, 1000, 0);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.previous, 65000);
	assert_int_equal(o.entries, 1000);
}

static void
test_forged_signature(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;

	append_plans(f, 0, 400, 317);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_true(o.failed);
	assert_int_equal(o.fail.index, 317);
	assert_string_equal(o.fail.rule, "bad_signature");
	/* A failed run leaves no state behind. */
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(access(f->state, F_OK), -1);
}

static void
test_unknown_key_and_parents(void **state)
{
	struct fx *f = *state;
	struct pr_buf e[5] = {
	    PR_BUF_INIT, PR_BUF_INIT, PR_BUF_INIT, PR_BUF_INIT, PR_BUF_INIT};
	struct pr_key *ks[1];
	struct vf_outcome o;
	char json[8192], hex[65];
	pr_hash leaf;

	append_plans(f, 0, 3, 0);
	/* 3: a plan by a key nobody granted. */
	plan_json(3, NULL, json, sizeof(json));
	ks[0] = f->other;
	make_entry(f, json, ks, 1, 0, &e[0]);
	append(f, e, 1);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 3);
	assert_string_equal(o.fail.rule, "unknown_key");

	/* A fresh log: 3 is a tender whose parent is no entry. */
	tst_rmtree(f->data);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->t = T0;
	append_plans(f, 0, 3, 0);
	memset(hex, 'a', 64);
	hex[64] = '\0';
	tender_json("ocds-pr0kz1-T-000009", hex, json, sizeof(json));
	ks[0] = f->buyer;
	make_entry(f, json, ks, 1, 0, &e[0]);
	append(f, e, 1);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 3);
	assert_string_equal(o.fail.rule, "parent_not_found");

	/* A fresh log: 2 is a tender following the plan of another
	 * process; then a tender following its own plan is fine. */
	tst_rmtree(f->data);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->t = T0;
	append_plans(f, 0, 2, 0);
	{
		struct pr_buf tmp = PR_BUF_INIT;

		/* The leaf of entry 1 as the log has it. */
		plan_json(1, NULL, json, sizeof(json));
		f->t = T0 + 1;
		make_entry(f, json, ks, 1, 0, &tmp);
		pr_merkle_leaf_hash(tmp.data, tmp.len, leaf);
		pr_buf_free(&tmp);
	}
	pr_hex_encode(leaf, PR_HASH_LEN, hex);
	tender_json("ocds-pr0kz1-T-000001", hex, json, sizeof(json));
	make_entry(f, json, ks, 1, 0, &e[0]);
	tender_json("ocds-pr0kz1-T-000099", hex, json, sizeof(json));
	make_entry(f, json, ks, 1, 0, &e[1]);
	append(f, e, 2);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 3);
	assert_string_equal(o.fail.rule, "foreign_parent");
}

static void
grant_party_json(const struct pr_key *k, const char *party, const char *role,
    char *out, size_t size)
{
	char buf[1024];
	json_t *j;
	char *s;

	grant_json(k, role, buf, sizeof(buf));
	assert_non_null(j = json_loads(buf, 0, NULL));
	json_object_set_new(
	    json_object_get(j, "party"), "id", json_string(party));
	assert_non_null(s = json_dumps(j, JSON_COMPACT));
	assert_true(strlen(s) < size);
	strcpy(out, s);
	free(s);
	json_decref(j);
}

/* Append one entry, json signed by k1 (and k2); its leaf hash in hex. */
static void
append_one(struct fx *f, const char *json, struct pr_key *k1, struct pr_key *k2,
    char hex[2 * PR_HASH_LEN + 1])
{
	struct pr_buf e = PR_BUF_INIT;
	struct pr_key *ks[2] = {k1, k2};
	pr_hash leaf;

	make_entry(f, json, ks, k2 != NULL ? 2 : 1, 0, &e);
	pr_merkle_leaf_hash(e.data, e.len, leaf);
	if (hex != NULL)
		pr_hex_encode(leaf, PR_HASH_LEN, hex);
	append(f, &e, 1);
}

#define CHAIN_OCID "ocds-pr0kz1-2026-CHAIN-01"
#define AWARD_ID "ED-2025-0001-lot-1" /* docs/examples/award.json */

/* Entries 0-4: the buyer's and the supplier's grants, then the plan,
 * tender and award of one process; the award's leaf hash in award. */
static void
append_process(struct fx *f, char award[2 * PR_HASH_LEN + 1])
{
	char json[16384], h[2 * PR_HASH_LEN + 1];

	grant_party_json(f->buyer, BUYER, "buyer", json, sizeof(json));
	append_one(f, json, f->admin, NULL, NULL);
	grant_party_json(f->supplier, SUPPLIER, "supplier", json, sizeof(json));
	append_one(f, json, f->admin, NULL, NULL);
	example_json("plan", CHAIN_OCID, NULL, NULL, NULL, json, sizeof(json));
	append_one(f, json, f->buyer, NULL, h);
	example_json("tender", CHAIN_OCID, h, NULL, NULL, json, sizeof(json));
	append_one(f, json, f->buyer, NULL, h);
	example_json("award", CHAIN_OCID, h, NULL, NULL, json, sizeof(json));
	append_one(f, json, f->buyer, NULL, award);
}

/* A contract after award, co-signed, naming award_id and numbered id. */
static void
append_contract(struct fx *f, const char *award, const char *award_id)
{
	char json[16384];
	json_t *j;
	char *s;

	example_json("contract", CHAIN_OCID, award, "awardID", award_id, json,
	    sizeof(json));
	assert_non_null(j = json_loads(json, 0, NULL));
	json_object_set_new(
	    j, "id", json_sprintf("C-%llu", (unsigned long long)(f->t - T0)));
	assert_non_null(s = json_dumps(j, JSON_COMPACT));
	append_one(f, s, f->buyer, f->supplier, NULL);
	free(s);
	json_decref(j);
}

static void
test_chain_rules(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;
	char award[2 * PR_HASH_LEN + 1];

	/* 5: a contract that names another award than its parent, signed
	 * by its buyer and its supplier: every rule but the chain's holds
	 * (the process, the transition award -> contract, the signers). */
	append_process(f, award);
	append_contract(f, award, "ED-2025-0001-lot-9");
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 5);
	assert_string_equal(o.fail.rule, "parent_mismatch");
	assert_non_null(strstr(o.fail.msg, "/awardID"));

	/* The honest chain passes; every parent was kept, none read
	 * again. */
	tst_rmtree(f->data);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->t = T0;
	append_process(f, award);
	append_contract(f, award, AWARD_ID);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.entries, 6);
	assert_int_equal(o.parents, 3);
	assert_int_equal(o.parent_reads, 0);
}

static void
test_chain_incremental(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;
	char award[2 * PR_HASH_LEN + 1];

	append_process(f, award);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	/* The contract's parent lies before the state file's checkpoint:
	 * it is read again from the store, and checked. */
	append_contract(f, award, AWARD_ID);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_int_equal(o.previous, 5);
	assert_int_equal(o.entries, 1);
	assert_int_equal(o.parents, 1);
	assert_int_equal(o.parent_reads, 1);
	append_contract(f, award, "ED-2025-0001-lot-9");
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 6);
	assert_string_equal(o.fail.rule, "parent_mismatch");
	assert_int_equal(o.parent_reads, 1);
}

static void
test_revoked_key(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;
	char json[4096];

	/* 0-2: the buyer's grant and two plans; 3: the admin revokes the
	 * buyer's key; 4: a plan the revoked key signed. */
	append_plans(f, 0, 3, 0);
	example_json("key.revoke", NULL, NULL, "keyid", pr_key_keyid(f->buyer),
	    json, sizeof(json));
	append_one(f, json, f->admin, NULL, NULL);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	plan_json(4, NULL, json, sizeof(json));
	append_one(f, json, f->buyer, NULL, NULL);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 4);
	assert_string_equal(o.fail.rule, "key_revoked");
	/* The same from the state file: the revocation was replayed. */
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, 4);
	assert_string_equal(o.fail.rule, "key_revoked");
}

static void
test_forked_history(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;

	append_plans(f, 0, 300, 0);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	/* The same log key signs another history sharing 200 entries. */
	tst_rmtree(f->data);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->t = T0;
	append_plans(f, 0, 200, 0);
	f->t += 7;
	append_plans(f, 200, 150, 0);
	assert_int_equal(run_verify(f, 0, NULL, &o), CL_EXIT_OK);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);
	assert_int_equal(o.fail.index, VF_NO_ENTRY);
	assert_string_equal(o.fail.rule, "inconsistent_checkpoint");
	/* The state is kept: the fork is still detected next time. */
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);

	/* A shorter history than the state's is a rollback. */
	tst_rmtree(f->data);
	assert_int_equal(mkdir(f->data, 0700), 0);
	f->t = T0;
	append_plans(f, 0, 100, 0);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_FAIL);
	assert_string_equal(o.fail.rule, "log_shrank");
}

static void
test_wrong_vkey_and_damaged_state(void **state)
{
	struct fx *f = *state;
	struct vf_outcome o;
	char other[256];
	FILE *fp;

	append_plans(f, 0, 10, 0);
	vkey_of(f->other, ORIGIN, other, sizeof(other));
	assert_int_equal(run_verify(f, 0, other, &o), CL_EXIT_FAIL);
	assert_string_equal(o.fail.rule, "checkpoint_signature");
	/* A state file that changed on disk is refused, not trusted. */
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_OK);
	assert_non_null(fp = fopen(f->state, "r+"));
	fseek(fp, 100, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	assert_int_equal(run_verify(f, 1, NULL, &o), CL_EXIT_LOCAL);
}

static void
test_kv_and_state_roundtrip(void **state)
{
	struct fx *f = *state;
	struct vf_state s, t;
	struct cl_kv_ent *e;
	char key[32];
	int i;

	assert_int_equal(vf_state_init(&s), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "l/%d", i);
		assert_int_equal(
		    cl_kv_put(s.kv, key, strlen(key), "v", 1, NULL), 0);
	}
	assert_int_equal(cl_kv_put(s.kv, "l/7", 3, "seven", 5, NULL), 0);
	assert_int_equal(cl_kv_count(s.kv), 5000);
	assert_int_equal(
	    vf_state_add_key(&s, pr_key_raw_public(f->buyer), NULL), 0);
	assert_non_null(vf_state_key(&s, pr_key_keyid(f->buyer), 64));
	assert_null(vf_state_key(&s, pr_key_keyid(f->other), 64));
	s.origin = strdup(ORIGIN);
	s.checkpoint = strdup("cp\n");
	s.cplen = 3;
	for (i = 0; i < 300; i++) {
		pr_hash h;

		memset(h, i, sizeof(h));
		assert_int_equal(vf_tree_push(&s.tree, h, NULL, NULL), 0);
	}
	s.last_log_time = 42;
	assert_int_equal(vf_state_save(f->state, &s), 0);
	assert_int_equal(vf_state_init(&t), 0);
	assert_int_equal(vf_state_load(f->state, &t), 0);
	assert_string_equal(t.origin, ORIGIN);
	assert_int_equal(t.tree.stack.size, 300);
	assert_int_equal(t.tree.edge_n[0], 300 % 256);
	assert_int_equal(t.tree.edge_n[1], 1);
	assert_memory_equal(t.tree.edge[0], s.tree.edge[0], 44 * 32);
	assert_int_equal(t.last_log_time, 42);
	assert_non_null(e = cl_kv_find(t.kv, "l/7", 3));
	assert_string_equal(e->val, "seven");
	assert_int_equal(cl_kv_count(t.kv), 5000);
	assert_non_null(vf_state_key(&t, pr_key_keyid(f->buyer), 64));
	vf_state_clear(&t);
	vf_state_clear(&s);
	assert_int_equal(vf_state_init(&t), 0);
	assert_int_equal(vf_state_load("/nonexistent/state", &t), PR_ENOTFOUND);
	vf_state_clear(&t);
}

static void
test_pool(void **state)
{
	struct fx *f = *state;
	struct vf_job jobs[100];
	struct vf_batch b1, b2;
	struct vf_pool *p;
	uint8_t sig[64], bad[64];
	const uint8_t msg[] = "message";
	int i;

	(void)state;
	assert_int_equal(pr_key_sign(f->buyer, msg, sizeof(msg), sig), 0);
	memcpy(bad, sig, 64);
	bad[0] ^= 1;
	for (i = 0; i < 100; i++) {
		jobs[i].key = i % 10 == 3 ? NULL : f->buyer;
		jobs[i].msg = msg;
		jobs[i].msglen = sizeof(msg);
		jobs[i].sig = i % 7 == 5 ? bad : sig;
		jobs[i].siglen = 64;
		jobs[i].ok = -1;
	}
	assert_int_equal(vf_pool_new(3, &p), 0);
	assert_int_equal(vf_pool_threads(p), 3);
	b1.jobs = jobs;
	b1.n = 60;
	b2.jobs = jobs + 60;
	b2.n = 40;
	vf_pool_submit(p, &b1);
	vf_pool_submit(p, &b2);
	vf_pool_wait(p, &b2);
	vf_pool_wait(p, &b1);
	for (i = 0; i < 100; i++)
		assert_int_equal(jobs[i].ok, i % 10 != 3 && i % 7 != 5);
	vf_pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_kv_and_state_roundtrip, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pool, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_honest_then_incremental, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forged_signature, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unknown_key_and_parents, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_chain_rules, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_chain_incremental, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_revoked_key, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forked_history, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_vkey_and_damaged_state, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_level1_tiles, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
