/*
 * Fuzz the proof verifiers.  The input picks a tree (up to 300 leaves),
 * a leaf and two sizes; the valid proofs for them must verify, and each
 * bit flip the input asks for must make them fail.  The rest of the input
 * is fed raw to the verifiers as proof hashes with arbitrary sizes, which
 * must never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 300

struct tree {
	pr_hash lvl[10][MAXN];
	uint64_t cnt[10];
};

static int
put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	struct tree *t = ctx;

	memcpy(t->lvl[level][index], hash, PR_HASH_LEN);
	t->cnt[level] = index + 1;
	return 0;
}

static int
get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct tree *t = ctx;

	if (level >= 10 || index >= t->cnt[level])
		abort(); /* the generators ask only for stored hashes */
	memcpy(out, t->lvl[level][index], PR_HASH_LEN);
	return 0;
}

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tree t;
	struct pr_merkle_stack st;
	pr_hash proof[PR_MERKLE_MAX_PROOF + 1], root, rm, leaf;
	uint8_t e[2];
	uint64_t n, m, idx, i;
	size_t len, k, bit;

	if (size < 6)
		return 0;
	n = (uint64_t)(data[0] | data[1] << 8) % MAXN + 1;
	idx = (uint64_t)(data[2] | data[3] << 8) % n;
	m = (uint64_t)(data[4] | data[5] << 8) % n + 1;
	data += 6;
	size -= 6;

	memset(t.cnt, 0, sizeof(t.cnt));
	pr_merkle_stack_init(&st);
	for (i = 0; i < n; i++) {
		e[0] = (uint8_t)i;
		e[1] = (uint8_t)(i >> 8);
		pr_merkle_leaf_hash(e, sizeof(e), leaf);
		if (pr_merkle_stack_push(&st, leaf, put, &t) != 0)
			abort();
	}
	pr_merkle_stack_root(&st, root);
	if (pr_merkle_root(m, get, &t, rm) != 0)
		abort();

	/* Inclusion: valid, then each requested bit flipped. */
	memcpy(leaf, t.lvl[0][idx], PR_HASH_LEN);
	if (pr_merkle_inclusion_proof(idx, n, get, &t, proof, &len) != 0 ||
	    pr_merkle_verify_inclusion(idx, n, leaf, proof, len, root) != 0)
		abort();
	for (k = 0; k + 1 < size && k < 16 && len > 0; k += 2) {
		bit = (size_t)(data[k] | data[k + 1] << 8) %
		    (len * PR_HASH_LEN * 8);
		proof[bit / 256][bit % 256 / 8] ^= (uint8_t)(1 << (bit % 8));
		if (pr_merkle_verify_inclusion(
		        idx, n, leaf, proof, len, root) == 0)
			abort();
		proof[bit / 256][bit % 256 / 8] ^= (uint8_t)(1 << (bit % 8));
	}

	/* Consistency from m to n, likewise. */
	if (pr_merkle_consistency_proof(m, n, get, &t, proof, &len) != 0 ||
	    pr_merkle_verify_consistency(m, n, proof, len, rm, root) != 0)
		abort();
	for (k = 0; k + 1 < size && k < 16 && len > 0; k += 2) {
		bit = (size_t)(data[k] | data[k + 1] << 8) %
		    (len * PR_HASH_LEN * 8);
		proof[bit / 256][bit % 256 / 8] ^= (uint8_t)(1 << (bit % 8));
		if (pr_merkle_verify_consistency(m, n, proof, len, rm, root) ==
		    0)
			abort();
		proof[bit / 256][bit % 256 / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* Dropping or adding a hash breaks it too. */
	if (len > 0 &&
	    pr_merkle_verify_consistency(m, n, proof, len - 1, rm, root) == 0)
		abort();
	memcpy(proof[len], root, PR_HASH_LEN);
	if (pr_merkle_verify_consistency(m, n, proof, len + 1, rm, root) == 0)
		abort();

	/* Raw input: sizes and hashes from the bytes, no crash allowed. */
	if (size >= 16 + 2 * PR_HASH_LEN) {
		m = load64(data);
		n = load64(data + 8);
		len = (size - 16 - 2 * PR_HASH_LEN) / PR_HASH_LEN;
		if (len > PR_MERKLE_MAX_PROOF + 1)
			len = PR_MERKLE_MAX_PROOF + 1;
		memcpy(rm, data + 16, PR_HASH_LEN);
		memcpy(root, data + 16 + PR_HASH_LEN, PR_HASH_LEN);
		memcpy(proof, data + 16 + 2 * PR_HASH_LEN, len * PR_HASH_LEN);
		(void)pr_merkle_verify_inclusion(m, n, rm, proof, len, root);
		(void)pr_merkle_verify_consistency(m, n, proof, len, rm, root);
	}
	return 0;
}
