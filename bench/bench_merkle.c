/*
 * bench_merkle: Merkle tree throughput.
 *
 * usage: bench_merkle [LEAVES [ENTRY_BYTES]]	(default 1000000 2048)
 *
 * 1. Leaf hashes of LEAVES entries of ENTRY_BYTES bytes, alone, then
 *    pushed onto the compact-range stack with a put callback that stores every
 * full subtree hash in memory (as a store would).
 * 2. Node hashes alone (65-byte SHA-256 inputs).
 * 3. Inclusion and consistency proofs from the stored hashes, and their
 *    verification.
 * Prints one "name value unit" line a figure, for bench/merkle.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/err.h"
#include "proto/merkle.h"

struct store {
	pr_hash *lvl[64];
	uint64_t cnt[64];
};

static int
store_put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	struct store *s = ctx;

	(void)index;
	memcpy(s->lvl[level][s->cnt[level]++], hash, PR_HASH_LEN);
	return 0;
}

static int
store_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct store *s = ctx;

	if (index >= s->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, s->lvl[level][index], PR_HASH_LEN);
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int
main(int argc, char **argv)
{
	static pr_hash proof[PR_MERKLE_MAX_PROOF];
	struct pr_merkle_stack st;
	struct store s;
	pr_hash h, root, rm;
	uint8_t *pool;
	size_t ebytes = 2048, pool_len, len;
	uint64_t n = 1000000, i, x = 0x2545f4914f6cdd1d, idx, m;
	unsigned l;
	double t0, dt;
	long k, iters;

	if (argc > 1)
		n = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		ebytes = strtoul(argv[2], NULL, 10);
	if (n < 2 || ebytes > 65535)
		return 2;
	pool_len = ebytes + 65536;
	if ((pool = malloc(pool_len)) == NULL)
		return 1;
	for (i = 0; i < pool_len; i++)
		pool[i] = (uint8_t)rnd(&x);
	memset(&s, 0, sizeof(s));
	for (l = 0; l < 64 && n >> l > 0; l++)
		if ((s.lvl[l] = malloc((n >> l) * sizeof(pr_hash))) == NULL)
			return 1;

	/* 1. Leaf hashes alone, then leaves and tree. */
	t0 = now();
	for (i = 0; i < n; i++)
		pr_merkle_leaf_hash(pool + (i * 61) % 65536, ebytes, h);
	dt = now() - t0;
	printf("leaf_hashes_per_s %.0f\n", (double)n / dt);
	printf("leaf_mb_per_s %.1f\n",
	    (double)n * (double)(ebytes + 1) / dt / 1e6);

	pr_merkle_stack_init(&st);
	t0 = now();
	for (i = 0; i < n; i++) {
		pr_merkle_leaf_hash(pool + (i * 61) % 65536, ebytes, h);
		if (pr_merkle_stack_push(&st, h, store_put, &s) != 0)
			return 1;
	}
	pr_merkle_stack_root(&st, root);
	dt = now() - t0;
	printf("tree_leaves %llu\n", (unsigned long long)n);
	printf("tree_entry_bytes %zu\n", ebytes);
	printf("tree_seconds %.3f\n", dt);
	printf("tree_leaves_per_s %.0f\n", (double)n / dt);
	printf("tree_mb_per_s %.1f\n",
	    (double)n * (double)(ebytes + 1) / dt / 1e6);

	/* 2. Node hashes alone. */
	iters = 2000000;
	t0 = now();
	for (k = 0; k < iters; k++)
		pr_merkle_node_hash(h, root, h);
	dt = now() - t0;
	printf("node_hashes_per_s %.0f\n", (double)iters / dt);

	/* 3. Proofs over the stored tree, random leaves and sizes. */
	iters = 200000;
	t0 = now();
	for (k = 0; k < iters; k++) {
		idx = rnd(&x) % n;
		if (pr_merkle_inclusion_proof(
		        idx, n, store_get, &s, proof, &len) != 0)
			return 1;
	}
	dt = now() - t0;
	printf("inclusion_proofs_per_s %.0f\n", (double)iters / dt);
	printf("inclusion_proof_hashes %zu\n", len);

	t0 = now();
	for (k = 0; k < iters; k++) {
		m = rnd(&x) % n + 1;
		if (pr_merkle_consistency_proof(
		        m, n, store_get, &s, proof, &len) != 0)
			return 1;
	}
	dt = now() - t0;
	printf("consistency_proofs_per_s %.0f\n", (double)iters / dt);

	idx = n / 3;
	if (pr_merkle_inclusion_proof(idx, n, store_get, &s, proof, &len) != 0)
		return 1;
	t0 = now();
	for (k = 0; k < iters; k++)
		if (pr_merkle_verify_inclusion(
		        idx, n, s.lvl[0][idx], proof, len, root) != 0)
			return 1;
	dt = now() - t0;
	printf("inclusion_verifies_per_s %.0f\n", (double)iters / dt);

	m = n / 3 + 1;
	if (pr_merkle_root(m, store_get, &s, rm) != 0 ||
	    pr_merkle_consistency_proof(m, n, store_get, &s, proof, &len) != 0)
		return 1;
	t0 = now();
	for (k = 0; k < iters; k++)
		if (pr_merkle_verify_consistency(m, n, proof, len, rm, root) !=
		    0)
			return 1;
	dt = now() - t0;
	printf("consistency_verifies_per_s %.0f\n", (double)iters / dt);

	for (l = 0; l < 64; l++)
		free(s.lvl[l]);
	free(pool);
	return 0;
}
