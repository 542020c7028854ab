/* Unit tests: proto/tproof.c (C2SP tlog-proof files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "proto/note.h"
#include "proto/tproof.h"

#define ORIGIN "log.example/procured"
#define NLEAVES 13

static struct pr_key *key;
static struct pr_vkey vkey;
static pr_hash leaves[NLEAVES];
static struct pr_buf signed_cp = PR_BUF_INIT;

/* Hash of the full subtree (level, index) over leaves[]. */
static int
get_hash(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	pr_hash l, r;

	(void)ctx;
	if (level == 0) {
		if (index >= NLEAVES)
			return PR_ENOTFOUND;
		memcpy(out, leaves[index], PR_HASH_LEN);
		return 0;
	}
	if (get_hash(NULL, level - 1, 2 * index, l) != 0 ||
	    get_hash(NULL, level - 1, 2 * index + 1, r) != 0)
		return PR_ENOTFOUND;
	pr_merkle_node_hash(l, r, out);
	return 0;
}

static int
setup(void **state)
{
	struct pr_checkpoint cp;
	char entry[32];
	int i;

	(void)state;
	for (i = 0; i < NLEAVES; i++) {
		snprintf(entry, sizeof(entry), "entry %d", i);
		pr_merkle_leaf_hash((uint8_t *)entry, strlen(entry), leaves[i]);
	}
	memset(&cp, 0, sizeof(cp));
	if (pr_key_generate(&key) != 0 ||
	    pr_vkey_from_key(key, ORIGIN, &vkey) != 0 ||
	    pr_merkle_root(NLEAVES, get_hash, NULL, cp.root) != 0)
		return -1;
	cp.origin = ORIGIN;
	cp.size = NLEAVES;
	return pr_checkpoint_sign(&cp, ORIGIN, key, &signed_cp) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	pr_buf_free(&signed_cp);
	pr_vkey_clear(&vkey);
	pr_key_free(key);
	return 0;
}

static void
make_proof(uint64_t index, struct pr_tproof *p)
{
	memset(p, 0, sizeof(*p));
	p->index = index;
	assert_int_equal(pr_merkle_inclusion_proof(index, NLEAVES, get_hash,
	                     NULL, p->proof, &p->nproof),
	    0);
	p->checkpoint = (char *)signed_cp.data;
	p->checkpointlen = signed_cp.len;
}

static void
test_format_known_text(void **state)
{
	struct pr_tproof p;
	struct pr_buf out = PR_BUF_INIT;
	char *cp =
	    "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
	    "\xe2\x80\x94 o AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";

	(void)state;
	memset(&p, 0, sizeof(p));
	p.index = 73894;
	p.extra = (uint8_t *)"age-v1.2.1";
	p.extralen = 10;
	memset(p.proof[0], 0xff, 32);
	memset(p.proof[1], 0x00, 32);
	p.nproof = 2;
	p.checkpoint = cp;
	p.checkpointlen = strlen(cp);
	assert_int_equal(pr_tproof_format(&p, &out), 0);
	assert_true(out.len > p.checkpointlen);
	assert_string_equal((char *)out.data + out.len - p.checkpointlen, cp);
	out.data[out.len - p.checkpointlen] = '\0';
	assert_string_equal((char *)out.data,
	    "c2sp.org/tlog-proof@v1\n"
	    "extra YWdlLXYxLjIuMQ==\n"
	    "index 73894\n"
	    "//////////////////////////////////////////8=\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "\n");
	pr_buf_free(&out);
}

static void
test_roundtrip_every_index(void **state)
{
	struct pr_tproof p, q;
	struct pr_checkpoint cp;
	struct pr_buf out = PR_BUF_INIT;
	uint64_t i;

	(void)state;
	for (i = 0; i < NLEAVES; i++) {
		make_proof(i, &p);
		if (i % 2 == 1) {
			p.extra = (uint8_t *)"ctx";
			p.extralen = 3;
		}
		pr_buf_reset(&out);
		assert_int_equal(pr_tproof_format(&p, &out), 0);
		assert_int_equal(
		    pr_tproof_parse((char *)out.data, out.len, &q), 0);
		assert_true(q.index == i);
		assert_int_equal(q.nproof, p.nproof);
		assert_int_equal(q.extralen, i % 2 == 1 ? 3 : 0);
		assert_memory_equal(q.proof, p.proof, p.nproof * PR_HASH_LEN);
		assert_string_equal(q.checkpoint, (char *)signed_cp.data);
		assert_int_equal(
		    pr_tproof_verify(&q, leaves[i], ORIGIN, &vkey, 1, &cp), 0);
		assert_true(cp.size == NLEAVES);
		pr_checkpoint_clear(&cp);
		/* The wrong leaf is not included at this index. */
		assert_int_equal(pr_tproof_verify(&q, leaves[(i + 1) % NLEAVES],
		                     ORIGIN, &vkey, 1, NULL),
		    PR_EPROOF);
		pr_tproof_clear(&q);
	}
	pr_buf_free(&out);
}

static void
test_forgeries(void **state)
{
	struct pr_tproof p;
	struct pr_vkey other;
	struct pr_key *k2;
	struct pr_buf cp = PR_BUF_INIT;
	char *s;
	int rc;

	(void)state;
	make_proof(5, &p);
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL), 0);
	/* Truncated and extended proofs. */
	p.nproof--;
	rc = pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL);
	assert_int_equal(rc, PR_EPROOF);
	assert_non_null(strstr(pr_errmsg(rc), "needs"));
	p.nproof += 2;
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL), PR_EPROOF);
	p.nproof--;
	/* A changed proof hash. */
	p.proof[1][7] ^= 1;
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL), PR_EPROOF);
	p.proof[1][7] ^= 1;
	/* An index beyond the tree. */
	p.index = NLEAVES;
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL), PR_EPROOF);
	p.index = 5;
	/* Another origin, an unknown key, a tampered checkpoint. */
	assert_int_equal(pr_tproof_verify(&p, leaves[5], "other.example/log",
	                     &vkey, 1, NULL),
	    PR_EFORMAT);
	assert_int_equal(pr_key_generate(&k2), 0);
	assert_int_equal(pr_vkey_from_key(k2, ORIGIN, &other), 0);
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &other, 1, NULL),
	    PR_EUNKNOWNKEY);
	pr_buf_append(&cp, signed_cp.data, signed_cp.len);
	s = strstr((char *)cp.data, "\n13\n");
	s[2] = '4';
	p.checkpoint = (char *)cp.data;
	assert_int_equal(
	    pr_tproof_verify(&p, leaves[5], ORIGIN, &vkey, 1, NULL), PR_ESIG);
	pr_buf_free(&cp);
	pr_vkey_clear(&other);
	pr_key_free(k2);
}

#define HDR "c2sp.org/tlog-proof@v1\n"
#define H32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

static void
test_parse_strictness(void **state)
{
	struct pr_buf good = PR_BUF_INIT, in = PR_BUF_INIT;
	const char *cp = (char *)signed_cp.data;
	static const char *bad_heads[] = {
	    "",
	    "c2sp.org/tlog-proof@v2\nindex 1\n\n",
	    "c2sp.org/tlog-proof@v1 \nindex 1\n\n",
	    HDR,
	    HDR "index 01\n\n",
	    HDR "index -1\n\n",
	    HDR "index\n\n",
	    HDR "index  1\n\n",
	    HDR "index 1 \n\n",
	    HDR "index 18446744073709551616\n\n",
	    HDR "Index 1\n\n",
	    HDR "extra \nindex 1\n\n",
	    HDR "extra @@@@\nindex 1\n\n",
	    HDR "extra YQ\nindex 1\n\n",
	    HDR "index 1\nextra YQ==\n\n",
	    HDR "extra YQ==\nextra YQ==\nindex 1\n\n",
	    HDR "index 1\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n",
	    HDR "index 1\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n",
	    HDR "index 1\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",
	    HDR "index 1\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\n",
	    HDR "index 1\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=\n\n",
	    HDR "index 1\n" H32 " \n\n",
	    HDR "index 1\r\n\n",
	};
	struct pr_tproof p;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
		pr_buf_reset(&in);
		pr_buf_append_str(&in, bad_heads[i]);
		pr_buf_append_str(&in, cp);
		memset(&p, 0, sizeof(p));
		rc = pr_tproof_parse((char *)in.data, in.len, &p);
		if (rc == 0)
			fail_msg("bad proof %zu accepted", i);
		assert_null(p.checkpoint);
		assert_null(p.extra);
		assert_true(strlen(pr_errmsg(rc)) > 0);
	}
	/* The hash error names its line and length. */
	pr_buf_reset(&in);
	pr_buf_append_str(&in,
	    HDR "index 1\n" H32
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n");
	pr_buf_append_str(&in, cp);
	rc = pr_tproof_parse((char *)in.data, in.len, &p);
	assert_int_equal(rc, PR_EFORMAT);
	assert_non_null(strstr(pr_errmsg(rc), "line 4"));
	assert_non_null(strstr(pr_errmsg(rc), "31 bytes"));
	/* Missing blank line and checkpoint; broken checkpoints. */
	assert_int_not_equal(pr_tproof_parse(HDR "index 1\n" H32,
	                         strlen(HDR "index 1\n" H32), &p),
	    0);
	assert_int_not_equal(pr_tproof_parse(HDR "index 1\n" H32 "\n",
	                         strlen(HDR "index 1\n" H32 "\n"), &p),
	    0);
	pr_buf_reset(&good);
	pr_buf_append_str(&good, HDR "index 1\n\nnot a note\n");
	assert_int_not_equal(
	    pr_tproof_parse((char *)good.data, good.len, &p), 0);
	pr_buf_reset(&good);
	pr_buf_append_str(&good,
	    HDR
	    "index 1\n\nnot a checkpoint\n\n\xe2\x80\x94 o "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAA\n");
	assert_int_not_equal(
	    pr_tproof_parse((char *)good.data, good.len, &p), 0);
	/* 64 hashes parse, 65 do not. */
	pr_buf_reset(&in);
	pr_buf_append_str(&in, HDR "index 1\n");
	for (i = 0; i < 64; i++)
		pr_buf_append_str(&in, H32);
	pr_buf_append_byte(&in, '\n');
	pr_buf_append_str(&in, cp);
	assert_int_equal(pr_tproof_parse((char *)in.data, in.len, &p), 0);
	assert_int_equal(p.nproof, 64);
	pr_tproof_clear(&p);
	pr_buf_reset(&in);
	pr_buf_append_str(&in, HDR "index 1\n");
	for (i = 0; i < 65; i++)
		pr_buf_append_str(&in, H32);
	pr_buf_append_byte(&in, '\n');
	pr_buf_append_str(&in, cp);
	assert_int_equal(
	    pr_tproof_parse((char *)in.data, in.len, &p), PR_EFORMAT);
	pr_buf_free(&in);
	pr_buf_free(&good);
}

static void
test_proof_len(void **state)
{
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	size_t n;
	uint64_t i, size;

	(void)state;
	for (size = 1; size <= NLEAVES; size++)
		for (i = 0; i < size; i++) {
			assert_int_equal(pr_merkle_inclusion_proof(i, size,
			                     get_hash, NULL, proof, &n),
			    0);
			assert_int_equal(pr_tproof_proof_len(i, size), n);
		}
	assert_int_equal(pr_tproof_proof_len(0, 1), 0);
	assert_int_equal(pr_tproof_proof_len(0, UINT64_MAX), 64);
	assert_int_equal(pr_tproof_proof_len(UINT64_MAX - 1, UINT64_MAX), 63);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_known_text),
	    cmocka_unit_test(test_roundtrip_every_index),
	    cmocka_unit_test(test_forgeries),
	    cmocka_unit_test(test_parse_strictness),
	    cmocka_unit_test(test_proof_len),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
