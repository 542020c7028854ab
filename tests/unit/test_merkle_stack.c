/* Unit tests: proto/merkle.c argument checks, store errors, the stack. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/err.h"
#include "proto/merkle.h"

/*
 * An in-memory store of every full subtree hash, filled only through the
 * put callback of pr_merkle_stack_push().
 */
struct mem_tree {
	struct pr_merkle_stack st;
	pr_hash *lvl[65];
	uint64_t cnt[65];
	uint64_t cap[65];
	unsigned puts; /* calls to put in the last push */
	unsigned gets; /* calls to get since last reset */
	int fail_put_at; /* put number (from 1) to fail, 0: none */
};

static int
mem_put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	struct mem_tree *t = ctx;

	t->puts++;
	if (t->fail_put_at != 0 && (int)t->puts == t->fail_put_at)
		return PR_EIO;
	assert_true(level < 65);
	/* Each full subtree is reported once, in order, when it completes. */
	assert_int_equal(index, t->cnt[level]);
	if (t->cnt[level] == t->cap[level]) {
		t->cap[level] = t->cap[level] ? 2 * t->cap[level] : 16;
		t->lvl[level] =
		    realloc(t->lvl[level], t->cap[level] * sizeof(pr_hash));
		assert_non_null(t->lvl[level]);
	}
	memcpy(t->lvl[level][t->cnt[level]++], hash, PR_HASH_LEN);
	return 0;
}

static int
mem_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct mem_tree *t = ctx;

	t->gets++;
	if (level >= 65 || index >= t->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, t->lvl[level][index], PR_HASH_LEN);
	return 0;
}

static void
mem_push(struct mem_tree *t, const pr_hash leaf)
{
	uint64_t size = t->st.size;
	unsigned want = 1;

	while (size & 1) {
		want++;
		size >>= 1;
	}
	t->puts = 0;
	assert_int_equal(pr_merkle_stack_push(&t->st, leaf, mem_put, t), 0);
	/* The leaf, plus one parent a trailing one bit of the old size. */
	assert_int_equal(t->puts, want);
}

static void
mem_free(struct mem_tree *t)
{
	unsigned i;

	for (i = 0; i < 65; i++)
		free(t->lvl[i]);
	memset(t, 0, sizeof(*t));
}

/* Deterministic leaf hashes for the generated trees. */
static void
leafn(uint64_t i, pr_hash out)
{
	uint8_t b[8];
	unsigned k;

	for (k = 0; k < 8; k++)
		b[k] = (uint8_t)(i >> (8 * k));
	pr_merkle_leaf_hash(b, sizeof(b), out);
}

static void
test_bad_args(void **state)
{
	struct mem_tree t;
	pr_hash h, root, proof[PR_MERKLE_MAX_PROOF];
	size_t len = 12345;
	unsigned i;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 8; i++) {
		leafn(i, h);
		mem_push(&t, h);
	}
	assert_int_equal(
	    pr_merkle_inclusion_proof(0, 0, mem_get, &t, proof, &len),
	    PR_EINVAL);
	assert_int_equal(
	    pr_merkle_inclusion_proof(8, 8, mem_get, &t, proof, &len),
	    PR_EINVAL);
	assert_int_equal(
	    pr_merkle_consistency_proof(0, 8, mem_get, &t, proof, &len),
	    PR_EINVAL);
	assert_int_equal(
	    pr_merkle_consistency_proof(0, 0, mem_get, &t, proof, &len),
	    PR_EINVAL);
	assert_int_equal(
	    pr_merkle_consistency_proof(9, 8, mem_get, &t, proof, &len),
	    PR_EINVAL);
	assert_int_equal(len, 12345); /* untouched on failure */
	pr_merkle_empty_root(root);
	assert_int_equal(
	    pr_merkle_verify_inclusion(0, 0, root, proof, 0, root), PR_EINVAL);
	assert_int_equal(
	    pr_merkle_verify_inclusion(1, 1, root, proof, 0, root), PR_EINVAL);
	/* A one-leaf tree: the root is the leaf, the proof empty. */
	assert_int_equal(
	    pr_merkle_verify_inclusion(0, 1, root, proof, 0, root), 0);
	memcpy(proof[0], root, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_inclusion(0, 1, root, proof, 1, root), PR_EPROOF);
	/* Equal sizes: consistent iff the roots match and the proof is empty.
	 */
	assert_int_equal(
	    pr_merkle_verify_consistency(3, 3, proof, 0, root, root), 0);
	assert_int_equal(
	    pr_merkle_verify_consistency(3, 3, proof, 1, root, root),
	    PR_EPROOF);
	h[0] = root[0] ^ 1;
	memcpy(h + 1, root + 1, PR_HASH_LEN - 1);
	assert_int_equal(
	    pr_merkle_verify_consistency(3, 3, proof, 0, root, h), PR_EPROOF);
	assert_int_equal(
	    pr_merkle_verify_consistency(0, 0, proof, 0, root, root),
	    PR_EINVAL);
	assert_int_equal(
	    pr_merkle_verify_consistency(0, 1, proof, 0, root, h), PR_EINVAL);
	assert_int_equal(
	    pr_merkle_verify_consistency(2, 1, proof, 0, root, h), PR_EINVAL);
	/* A proof far longer than any tree allows. */
	memset(proof, 0x5a, sizeof(proof));
	assert_int_equal(pr_merkle_verify_inclusion(
	                     5, 8, root, proof, PR_MERKLE_MAX_PROOF, root),
	    PR_EPROOF);
	assert_int_equal(pr_merkle_verify_consistency(
	                     5, 8, proof, PR_MERKLE_MAX_PROOF, root, root),
	    PR_EPROOF);
	mem_free(&t);
}

static int
fail_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct mem_tree *t = ctx;

	if (level == 1)
		return PR_ECORRUPT;
	return mem_get(t, level, index, out);
}

/* An error from the store comes back unchanged; nothing is written. */
static void
test_get_error(void **state)
{
	struct mem_tree t;
	struct pr_merkle_stack s;
	pr_hash h, out, proof[PR_MERKLE_MAX_PROOF];
	size_t len = 777;
	unsigned i;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 7; i++) {
		leafn(i, h);
		mem_push(&t, h);
	}
	memset(out, 0xee, sizeof(out));
	memcpy(h, out, sizeof(h));
	assert_int_equal(pr_merkle_root(7, fail_get, &t, out), PR_ECORRUPT);
	assert_memory_equal(out, h, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_inclusion_proof(0, 7, fail_get, &t, proof, &len),
	    PR_ECORRUPT);
	assert_int_equal(
	    pr_merkle_consistency_proof(1, 7, fail_get, &t, proof, &len),
	    PR_ECORRUPT);
	assert_int_equal(len, 777);
	assert_int_equal(pr_merkle_root(8, mem_get, &t, out), PR_ENOTFOUND);
	memset(&s, 0xab, sizeof(s));
	assert_int_equal(
	    pr_merkle_stack_load(&s, 7, fail_get, &t), PR_ECORRUPT);
	assert_int_equal(s.size, 0xabababababababab);
	/* Sizes without a level-1 subtree never ask for one. */
	assert_int_equal(pr_merkle_root(5, fail_get, &t, out), 0);
	assert_int_equal(
	    pr_merkle_inclusion_proof(6, 7, mem_get, &t, proof, &len), 0);
	assert_int_equal(len, 2);
	mem_free(&t);
}

/* Loading the compact range from stored hashes equals pushing leaves. */
static void
test_stack_load(void **state)
{
	struct mem_tree t;
	struct pr_merkle_stack s;
	pr_hash h, want;
	unsigned i, k;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i <= 1100; i++) {
		assert_int_equal(pr_merkle_stack_load(&s, i, mem_get, &t), 0);
		assert_int_equal(s.size, t.st.size);
		assert_int_equal(s.n, t.st.n);
		assert_int_equal(s.n, __builtin_popcount(i));
		for (k = 0; k < s.n; k++)
			assert_memory_equal(s.h[k], t.st.h[k], PR_HASH_LEN);
		pr_merkle_stack_root(&s, h);
		assert_int_equal(pr_merkle_root(i, mem_get, &t, want), 0);
		assert_memory_equal(h, want, PR_HASH_LEN);
		/* A loaded stack goes on growing like the original. */
		if (i % 97 == 3) {
			leafn(i, h);
			assert_int_equal(
			    pr_merkle_stack_push(&s, h, NULL, NULL), 0);
			mem_push(&t, h);
			pr_merkle_stack_root(&s, h);
			pr_merkle_stack_root(&t.st, want);
			assert_memory_equal(h, want, PR_HASH_LEN);
			continue;
		}
		leafn(i, h);
		mem_push(&t, h);
	}
	pr_merkle_stack_init(&s);
	assert_int_equal(s.size, 0);
	assert_int_equal(s.n, 0);
	pr_merkle_stack_root(&s, h);
	pr_merkle_empty_root(want);
	assert_memory_equal(h, want, PR_HASH_LEN);
	mem_free(&t);
}

static int
count_put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	int *calls = ctx;

	(void)level;
	(void)index;
	(void)hash;
	if (--*calls == 0)
		return PR_ENOSPC;
	return 0;
}

/* A failing put leaves the stack as it was, so the push can be retried. */
static void
test_stack_put_fail(void **state)
{
	struct pr_merkle_stack s, before;
	pr_hash h, r1, r2;
	unsigned i;
	int calls, k;

	(void)state;
	pr_merkle_stack_init(&s);
	for (i = 0; i < 15; i++) {
		leafn(i, h);
		assert_int_equal(pr_merkle_stack_push(&s, h, NULL, NULL), 0);
	}
	/* Size 15: pushing closes levels 0..4, five puts. */
	leafn(15, h);
	for (k = 1; k <= 5; k++) {
		before = s;
		calls = k;
		assert_int_equal(
		    pr_merkle_stack_push(&s, h, count_put, &calls), PR_ENOSPC);
		assert_memory_equal(&s, &before, sizeof(s));
	}
	calls = 6;
	assert_int_equal(pr_merkle_stack_push(&s, h, count_put, &calls), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(s.size, 16);
	assert_int_equal(s.n, 1);
	pr_merkle_stack_root(&s, r1);
	memcpy(r2, s.h[0], PR_HASH_LEN);
	assert_memory_equal(r1, r2, PR_HASH_LEN);
}

/*
 * A tree whose leaves are all equal is consistent at any size, so proofs
 * for sizes near 2^64 can be built and checked: the hash at (level, i) is
 * the same for every i.
 */
static pr_hash uniform[65];

static int
uniform_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	(void)ctx;
	(void)index;
	if (level > 64)
		return PR_EINVAL;
	memcpy(out, uniform[level], PR_HASH_LEN);
	return 0;
}

static void
test_huge_sizes(void **state)
{
	static const uint64_t sizes[] = {UINT64_MAX, UINT64_MAX - 1,
	    (uint64_t)1 << 63, ((uint64_t)1 << 63) + 1,
	    ((uint64_t)1 << 40) + 77, 0x5555555555555555};
	struct pr_merkle_stack s;
	pr_hash root, rm, proof[PR_MERKLE_MAX_PROOF];
	size_t len;
	unsigned i, k, nrange = 0;
	uint64_t n, m, idx;
	int rc;

	(void)state;
	leafn(42, uniform[0]);
	for (k = 1; k < 65; k++)
		pr_merkle_node_hash(uniform[k - 1], uniform[k - 1], uniform[k]);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		assert_int_equal(pr_merkle_root(n, uniform_get, NULL, root), 0);
		assert_int_equal(
		    pr_merkle_stack_load(&s, n, uniform_get, NULL), 0);
		pr_merkle_stack_root(&s, rm);
		assert_memory_equal(rm, root, PR_HASH_LEN);
		for (idx = n - 1; idx > 0; idx /= 3) {
			assert_int_equal(pr_merkle_inclusion_proof(idx, n,
			                     uniform_get, NULL, proof, &len),
			    0);
			assert_true(len <= 64);
			assert_int_equal(pr_merkle_verify_inclusion(idx, n,
			                     uniform[0], proof, len, root),
			    0);
		}
		for (m = n - 1; m > 0; m /= 5) {
			assert_int_equal(
			    pr_merkle_root(m, uniform_get, NULL, rm), 0);
			rc = pr_merkle_consistency_proof(
			    m, n, uniform_get, NULL, proof, &len);
			/* Beyond 2^63 leaves a proof may need 65 hashes. */
			if (rc == PR_ERANGE && n > (uint64_t)1 << 63) {
				nrange++;
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(pr_merkle_verify_consistency(
			                     m, n, proof, len, rm, root),
			    0);
		}
	}
	assert_true(nrange > 0);
	/* m odd, n > 2^63: the path ends at a leaf 64 levels down. */
	assert_int_equal(pr_merkle_consistency_proof(((uint64_t)1 << 63) + 1,
	                     UINT64_MAX, uniform_get, NULL, proof, &len),
	    PR_ERANGE);
	/* A full stack refuses another leaf. */
	assert_int_equal(
	    pr_merkle_stack_load(&s, UINT64_MAX, uniform_get, NULL), 0);
	assert_int_equal(s.n, 64);
	assert_int_equal(
	    pr_merkle_stack_push(&s, uniform[0], NULL, NULL), PR_ERANGE);
	assert_int_equal(
	    pr_merkle_stack_load(&s, UINT64_MAX - 1, uniform_get, NULL), 0);
	assert_int_equal(pr_merkle_stack_push(&s, uniform[0], NULL, NULL), 0);
	assert_int_equal(s.n, 64);
	pr_merkle_stack_root(&s, rm);
	assert_int_equal(
	    pr_merkle_root(UINT64_MAX, uniform_get, NULL, root), 0);
	assert_memory_equal(rm, root, PR_HASH_LEN);
}

struct thread_arg {
	pr_hash root;
	unsigned seed;
};

static void *
thread_main(void *p)
{
	struct thread_arg *a = p;
	struct pr_merkle_stack s;
	pr_hash h;
	unsigned i;

	pr_merkle_stack_init(&s);
	for (i = 0; i < 5000; i++) {
		leafn(i + a->seed, h);
		if (pr_merkle_stack_push(&s, h, NULL, NULL) != 0)
			return NULL;
	}
	pr_merkle_stack_root(&s, a->root);
	return a;
}

/* Hashing from several threads at once, each with its own context. */
static void
test_threads(void **state)
{
	struct thread_arg a[4];
	pthread_t th[4];
	void *ret;
	unsigned k;

	(void)state;
	for (k = 0; k < 4; k++) {
		a[k].seed = k % 2;
		assert_int_equal(
		    pthread_create(&th[k], NULL, thread_main, &a[k]), 0);
	}
	for (k = 0; k < 4; k++) {
		assert_int_equal(pthread_join(th[k], &ret), 0);
		assert_ptr_equal(ret, &a[k]);
	}
	assert_memory_equal(a[0].root, a[2].root, PR_HASH_LEN);
	assert_memory_equal(a[1].root, a[3].root, PR_HASH_LEN);
	assert_memory_not_equal(a[0].root, a[1].root, PR_HASH_LEN);
	assert_ptr_equal(thread_main(&a[1]), &a[1]);
	assert_memory_equal(a[1].root, a[3].root, PR_HASH_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_get_error),
	    cmocka_unit_test(test_stack_load),
	    cmocka_unit_test(test_stack_put_fail),
	    cmocka_unit_test(test_huge_sizes),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
