/*
 * Test helper shared by the Merkle tree unit tests: include after
 * <cmocka.h>, "proto/err.h" and "proto/merkle.h".
 */
#ifndef TESTS_MEM_TREE_H
#define TESTS_MEM_TREE_H

#include <stdlib.h>
#include <string.h>

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

static inline int
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

static inline int
mem_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct mem_tree *t = ctx;

	t->gets++;
	if (level >= 65 || index >= t->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, t->lvl[level][index], PR_HASH_LEN);
	return 0;
}

static inline void
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

static inline void
mem_free(struct mem_tree *t)
{
	unsigned i;

	for (i = 0; i < 65; i++)
		free(t->lvl[i]);
	memset(t, 0, sizeof(*t));
}

#endif
