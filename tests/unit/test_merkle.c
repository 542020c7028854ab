/* Unit tests: proto/merkle.c hashing and proofs (see also test_merkle_stack.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/merkle.h"

/*
 * The RFC 6962 test tree of certificate-transparency and
 * transparency-dev/merkle (also in vectors/merkle-8leaf.txt).
 */
static const char *const leaves8[] = {"", "00", "10", "2021", "3031",
    "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
static const char *const roots8[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* transparency-dev/merkle proof/verify_test.go (0-based leaf index). */
static const struct {
	uint64_t index, size;
	const char *proof[3];
} incl8[] = {
    {0, 1, {NULL}},
    {0, 8,
        {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
            "4"}},
    {5, 8,
        {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"}},
    {2, 3,
        {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5,
        {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
            "b"}},
};

static const struct {
	uint64_t m, n;
	const char *proof[3];
} cons8[] = {
    {1, 1, {NULL}},
    {1, 8,
        {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
            "4"}},
    {6, 8,
        {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"}},
    {2, 5,
        {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
            "b"}},
    {6, 7,
        {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"}},
};

#include "tests/unit/mem_tree.h"

static void
unhex(const char *s, pr_hash out)
{
	assert_int_equal(pr_hex_decode(s, strlen(s), out, PR_HASH_LEN), 0);
}

static void
leaf8(unsigned i, pr_hash out)
{
	uint8_t b[16];
	size_t n = strlen(leaves8[i]) / 2;

	assert_int_equal(pr_hex_decode(leaves8[i], 2 * n, b, n), 0);
	pr_merkle_leaf_hash(b, n, out);
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

/* ---- A naive reference: the recursive definitions of RFC 9162. ---- */

static uint64_t
ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (2 * k < n)
		k *= 2;
	return k;
}

static void
ref_mth(const pr_hash *lh, uint64_t lo, uint64_t hi, pr_hash out)
{
	pr_hash l, r;
	uint64_t k;

	if (hi - lo == 1) {
		memcpy(out, lh[lo], PR_HASH_LEN);
		return;
	}
	k = ref_split(hi - lo);
	ref_mth(lh, lo, lo + k, l);
	ref_mth(lh, lo + k, hi, r);
	pr_merkle_node_hash(l, r, out);
}

static void
ref_path(const pr_hash *lh, uint64_t m, uint64_t lo, uint64_t hi,
    pr_hash *proof, size_t *len)
{
	uint64_t k;

	if (hi - lo == 1)
		return;
	k = ref_split(hi - lo);
	if (m < k) {
		ref_path(lh, m, lo, lo + k, proof, len);
		ref_mth(lh, lo + k, hi, proof[(*len)++]);
	} else {
		ref_path(lh, m - k, lo + k, hi, proof, len);
		ref_mth(lh, lo, lo + k, proof[(*len)++]);
	}
}

static void
ref_subproof(const pr_hash *lh, uint64_t m, uint64_t lo, uint64_t hi, int b,
    pr_hash *proof, size_t *len)
{
	uint64_t k, n = hi - lo;

	if (m == n) {
		if (!b)
			ref_mth(lh, lo, hi, proof[(*len)++]);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(lh, m, lo, lo + k, b, proof, len);
		ref_mth(lh, lo + k, hi, proof[(*len)++]);
	} else {
		ref_subproof(lh, m - k, lo + k, hi, 0, proof, len);
		ref_mth(lh, lo, lo + k, proof[(*len)++]);
	}
}

/* Expect every tampered variant of a valid inclusion proof to fail. */
static void
tamper_inclusion(uint64_t i, uint64_t n, const pr_hash leaf,
    const pr_hash *proof, size_t len, const pr_hash root, int allbits)
{
	pr_hash p[PR_MERKLE_MAX_PROOF + 1], other, zero;
	size_t k;

	memset(zero, 0, sizeof(zero));
	assert_int_equal(
	    pr_merkle_verify_inclusion(i, n, leaf, proof, len, root), 0);
	/* Wrong index or size. */
	if (i > 0)
		assert_int_not_equal(pr_merkle_verify_inclusion(
		                         i - 1, n, leaf, proof, len, root),
		    0);
	assert_int_not_equal(
	    pr_merkle_verify_inclusion(i + 1, n, leaf, proof, len, root), 0);
	if ((i ^ 2) != i)
		assert_int_not_equal(pr_merkle_verify_inclusion(
		                         i ^ 2, n, leaf, proof, len, root),
		    0);
	assert_int_not_equal(
	    pr_merkle_verify_inclusion(i, 2 * n, leaf, proof, len, root), 0);
	assert_int_not_equal(
	    pr_merkle_verify_inclusion(i, n / 2, leaf, proof, len, root), 0);
	/* Wrong leaf or root. */
	memcpy(other, leaf, PR_HASH_LEN);
	other[31] ^= 1;
	assert_int_not_equal(
	    pr_merkle_verify_inclusion(i, n, other, proof, len, root), 0);
	memcpy(other, root, PR_HASH_LEN);
	other[0] ^= 0x80;
	assert_int_not_equal(
	    pr_merkle_verify_inclusion(i, n, leaf, proof, len, other), 0);
	/* Every bit of every sibling matters. */
	memcpy(p, proof, len * PR_HASH_LEN);
	for (k = 0; k < len * PR_HASH_LEN * 8; k += allbits ? 1 : 85) {
		p[k / 256][k % 256 / 8] ^= (uint8_t)(1u << (k % 8));
		assert_int_equal(
		    pr_merkle_verify_inclusion(i, n, leaf, p, len, root),
		    PR_EPROOF);
		p[k / 256][k % 256 / 8] ^= (uint8_t)(1u << (k % 8));
	}
	/* Truncated, extended, prefixed. */
	if (len > 0)
		assert_int_equal(
		    pr_merkle_verify_inclusion(i, n, leaf, p, len - 1, root),
		    PR_EPROOF);
	memcpy(p[len], zero, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_inclusion(i, n, leaf, p, len + 1, root),
	    PR_EPROOF);
	memcpy(p[len], root, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_inclusion(i, n, leaf, p, len + 1, root),
	    PR_EPROOF);
	memcpy(p[0], root, PR_HASH_LEN);
	memcpy(p + 1, proof, len * PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_inclusion(i, n, leaf, p, len + 1, root),
	    PR_EPROOF);
	/* Two siblings swapped. */
	if (len > 1 && memcmp(proof[0], proof[1], PR_HASH_LEN) != 0) {
		memcpy(p, proof, len * PR_HASH_LEN);
		memcpy(p[0], proof[1], PR_HASH_LEN);
		memcpy(p[1], proof[0], PR_HASH_LEN);
		assert_int_equal(
		    pr_merkle_verify_inclusion(i, n, leaf, p, len, root),
		    PR_EPROOF);
	}
}

/* Expect every tampered variant of a valid consistency proof to fail. */
static void
tamper_consistency(uint64_t m, uint64_t n, const pr_hash *proof, size_t len,
    const pr_hash rm, const pr_hash rn, int allbits)
{
	pr_hash p[PR_MERKLE_MAX_PROOF + 1], other;
	size_t k;

	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, proof, len, rm, rn), 0);
	if (len == 0)
		return;
	assert_int_not_equal(
	    pr_merkle_verify_consistency(m - 1, n, proof, len, rm, rn), 0);
	assert_int_not_equal(
	    pr_merkle_verify_consistency(m + 1, n, proof, len, rm, rn), 0);
	if ((m ^ 2) != m)
		assert_int_not_equal(
		    pr_merkle_verify_consistency(m ^ 2, n, proof, len, rm, rn),
		    0);
	assert_int_not_equal(
	    pr_merkle_verify_consistency(m, 2 * n, proof, len, rm, rn), 0);
	assert_int_not_equal(
	    pr_merkle_verify_consistency(m, n / 2, proof, len, rm, rn), 0);
	/* From the empty tree, and backwards. */
	assert_int_equal(
	    pr_merkle_verify_consistency(0, n, proof, len, rm, rn), PR_EINVAL);
	assert_int_equal(
	    pr_merkle_verify_consistency(n, m, proof, len, rn, rm), PR_EINVAL);
	/* Wrong or swapped roots. */
	memcpy(other, rm, PR_HASH_LEN);
	other[5] ^= 4;
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, proof, len, other, rn),
	    PR_EPROOF);
	memcpy(other, rn, PR_HASH_LEN);
	other[5] ^= 4;
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, proof, len, rm, other),
	    PR_EPROOF);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, proof, len, rn, rm), PR_EPROOF);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, proof, 0, rm, rn), PR_EPROOF);
	memcpy(p, proof, len * PR_HASH_LEN);
	for (k = 0; k < len * PR_HASH_LEN * 8; k += allbits ? 1 : 85) {
		p[k / 256][k % 256 / 8] ^= (uint8_t)(1u << (k % 8));
		assert_int_equal(
		    pr_merkle_verify_consistency(m, n, p, len, rm, rn),
		    PR_EPROOF);
		p[k / 256][k % 256 / 8] ^= (uint8_t)(1u << (k % 8));
	}
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, p, len - 1, rm, rn), PR_EPROOF);
	memcpy(p[len], rm, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, p, len + 1, rm, rn), PR_EPROOF);
	memcpy(p[len], rn, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, p, len + 1, rm, rn), PR_EPROOF);
	memcpy(p[0], proof[0], PR_HASH_LEN);
	memcpy(p + 1, proof, len * PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, p, len + 1, rm, rn), PR_EPROOF);
	memcpy(p[0], rn, PR_HASH_LEN);
	assert_int_equal(
	    pr_merkle_verify_consistency(m, n, p, len + 1, rm, rn), PR_EPROOF);
}

/* ---- Tests ---- */

static void
test_hash_known(void **state)
{
	pr_hash h, want;

	(void)state;
	pr_merkle_empty_root(h);
	unhex(roots8[0], want);
	assert_memory_equal(h, want, PR_HASH_LEN);
	assert_int_equal(
	    EVP_Q_digest(NULL, "SHA256", NULL, "", 0, want, NULL), 1);
	assert_memory_equal(h, want, PR_HASH_LEN);
	/* A one-leaf tree's root is the leaf hash of the empty entry. */
	leaf8(0, h);
	unhex(roots8[1], want);
	assert_memory_equal(h, want, PR_HASH_LEN);
}

static void
test_roots_8leaf(void **state)
{
	struct mem_tree t;
	pr_hash leaf, got, want;
	unsigned i;

	(void)state;
	memset(&t, 0, sizeof(t));
	pr_merkle_stack_init(&t.st);
	for (i = 0; i <= 8; i++) {
		unhex(roots8[i], want);
		assert_int_equal(pr_merkle_root(i, mem_get, &t, got), 0);
		assert_memory_equal(got, want, PR_HASH_LEN);
		pr_merkle_stack_root(&t.st, got);
		assert_memory_equal(got, want, PR_HASH_LEN);
		if (i < 8) {
			leaf8(i, leaf);
			mem_push(&t, leaf);
		}
	}
	mem_free(&t);
}

static void
build8(struct mem_tree *t, pr_hash roots[9])
{
	pr_hash leaf;
	unsigned i;

	memset(t, 0, sizeof(*t));
	pr_merkle_stack_init(&t->st);
	for (i = 0; i < 8; i++) {
		leaf8(i, leaf);
		mem_push(t, leaf);
	}
	for (i = 0; i <= 8; i++)
		unhex(roots8[i], roots[i]);
}

static void
test_inclusion_8leaf(void **state)
{
	struct mem_tree t;
	pr_hash roots[9], proof[PR_MERKLE_MAX_PROOF], want, leaf;
	size_t len, i, k, n;

	(void)state;
	build8(&t, roots);
	for (i = 0; i < sizeof(incl8) / sizeof(incl8[0]); i++) {
		for (n = 0; n < 3 && incl8[i].proof[n] != NULL; n++)
			;
		assert_int_equal(pr_merkle_inclusion_proof(incl8[i].index,
		                     incl8[i].size, mem_get, &t, proof, &len),
		    0);
		assert_int_equal(len, n);
		for (k = 0; k < n; k++) {
			unhex(incl8[i].proof[k], want);
			assert_memory_equal(proof[k], want, PR_HASH_LEN);
		}
		leaf8((unsigned)incl8[i].index, leaf);
		tamper_inclusion(incl8[i].index, incl8[i].size, leaf, proof,
		    len, roots[incl8[i].size], 1);
	}
	mem_free(&t);
}

static void
test_consistency_8leaf(void **state)
{
	struct mem_tree t;
	pr_hash roots[9], proof[PR_MERKLE_MAX_PROOF], want;
	size_t len, i, k, n;

	(void)state;
	build8(&t, roots);
	for (i = 0; i < sizeof(cons8) / sizeof(cons8[0]); i++) {
		for (n = 0; n < 3 && cons8[i].proof[n] != NULL; n++)
			;
		assert_int_equal(pr_merkle_consistency_proof(cons8[i].m,
		                     cons8[i].n, mem_get, &t, proof, &len),
		    0);
		assert_int_equal(len, n);
		for (k = 0; k < n; k++) {
			unhex(cons8[i].proof[k], want);
			assert_memory_equal(proof[k], want, PR_HASH_LEN);
		}
		tamper_consistency(cons8[i].m, cons8[i].n, proof, len,
		    roots[cons8[i].m], roots[cons8[i].n], 1);
	}
	mem_free(&t);
}

#define XMAX 80

/* Every inclusion and consistency proof up to XMAX leaves, against ref. */
static void
test_exhaustive(void **state)
{
	struct mem_tree t;
	pr_hash lh[XMAX], roots[XMAX + 1], got[PR_MERKLE_MAX_PROOF],
	    want[PR_MERKLE_MAX_PROOF];
	size_t glen, wlen;
	uint64_t n, m, i;

	(void)state;
	memset(&t, 0, sizeof(t));
	pr_merkle_stack_init(&t.st);
	pr_merkle_empty_root(roots[0]);
	for (n = 1; n <= XMAX; n++) {
		leafn(n - 1, lh[n - 1]);
		mem_push(&t, lh[n - 1]);
		ref_mth(lh, 0, n, roots[n]);
		for (i = 0; i < 65; i++)
			assert_int_equal(t.cnt[i], i < 64 ? n >> i : 0);
		assert_int_equal(pr_merkle_root(n, mem_get, &t, got[0]), 0);
		assert_memory_equal(got[0], roots[n], PR_HASH_LEN);
	}
	for (n = 1; n <= XMAX; n++) {
		for (i = 0; i < n; i++) {
			wlen = 0;
			ref_path(lh, i, 0, n, want, &wlen);
			assert_int_equal(pr_merkle_inclusion_proof(
			                     i, n, mem_get, &t, got, &glen),
			    0);
			assert_int_equal(glen, wlen);
			assert_memory_equal(got, want, wlen * PR_HASH_LEN);
			tamper_inclusion(
			    i, n, lh[i], got, glen, roots[n], n <= 16);
		}
		for (m = 1; m <= n; m++) {
			wlen = 0;
			ref_subproof(lh, m, 0, n, 1, want, &wlen);
			assert_int_equal(pr_merkle_consistency_proof(
			                     m, n, mem_get, &t, got, &glen),
			    0);
			assert_int_equal(glen, wlen);
			assert_memory_equal(got, want, wlen * PR_HASH_LEN);
			tamper_consistency(
			    m, n, got, glen, roots[m], roots[n], n <= 16);
		}
	}
	mem_free(&t);
}

/* Batch inclusion proofs: each the same as the reference path, for the
 * windows [first, first + count) of trees up to XMAX leaves with count
 * 0 to 3 or running to the end, and a
 * stop asked by the callback is returned. */
struct batch_check {
	const pr_hash *lh;
	uint64_t size, next, stop_at;
};

static int
batch_proof(void *ctx, uint64_t index, const pr_hash *proof, size_t len)
{
	struct batch_check *b = ctx;
	pr_hash want[PR_MERKLE_MAX_PROOF];
	size_t wlen = 0;

	assert_int_equal(index, b->next);
	b->next++;
	if (index == b->stop_at)
		return PR_ECORRUPT;
	ref_path(b->lh, index, 0, b->size, want, &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(proof, want, wlen * PR_HASH_LEN);
	return 0;
}

static void
test_inclusion_batch(void **state)
{
	struct mem_tree t;
	pr_hash lh[XMAX];
	struct batch_check b;
	uint64_t n, first, count;

	(void)state;
	memset(&t, 0, sizeof(t));
	pr_merkle_stack_init(&t.st);
	for (n = 1; n <= XMAX; n++) {
		leafn(n - 1, lh[n - 1]);
		mem_push(&t, lh[n - 1]);
	}
	b.lh = lh;
	b.stop_at = UINT64_MAX;
	for (n = 1; n <= XMAX; n++)
		for (first = 0; first <= n; first++)
			for (count = 0; count <= n - first; count = count < 3
			         ? count + 1
			         : count < n - first ? n - first
			                             : count + 1) {
				b.size = n;
				b.next = first;
				assert_int_equal(
				    pr_merkle_inclusion_proofs(first, count, n,
				        mem_get, &t, batch_proof, &b),
				    0);
				assert_int_equal(b.next, first + count);
			}
	b.size = XMAX;
	assert_int_equal(pr_merkle_inclusion_proofs(
	                     0, XMAX + 1, XMAX, mem_get, &t, batch_proof, &b),
	    PR_EINVAL);
	b.next = 3;
	b.stop_at = 5;
	assert_int_equal(pr_merkle_inclusion_proofs(
	                     3, 9, XMAX, mem_get, &t, batch_proof, &b),
	    PR_ECORRUPT);
	assert_int_equal(b.next, 6);
	mem_free(&t);
}

/*
 * The stored nodes each proof is made of, as transparency-dev/merkle
 * proof/proof_test.go lists them ({level, index}; a non-full right subtree
 * appears as the aligned full subtrees it decomposes into).
 */
struct node_case {
	uint64_t a, b; /* index, size (inclusion) or m, n (consistency) */
	unsigned cnt;
	unsigned ids[9][2];
};

static const struct node_case incl_nodes[] = {
    {0, 1, 0, {{0}}},
    {0, 2, 1, {{0, 1}}},
    {1, 2, 1, {{0, 0}}},
    {1, 3, 2, {{0, 0}, {0, 2}}},
    {0, 7, 4, {{0, 1}, {1, 1}, {0, 6}, {1, 2}}},
    {1, 7, 4, {{0, 0}, {1, 1}, {0, 6}, {1, 2}}},
    {2, 7, 4, {{0, 3}, {1, 0}, {0, 6}, {1, 2}}},
    {3, 7, 4, {{0, 2}, {1, 0}, {0, 6}, {1, 2}}},
    {4, 7, 3, {{0, 5}, {0, 6}, {2, 0}}},
    {5, 7, 3, {{0, 4}, {0, 6}, {2, 0}}},
    {6, 7, 2, {{1, 2}, {2, 0}}},
    {2, 4, 2, {{0, 3}, {1, 0}}},
    {3, 5, 3, {{0, 2}, {1, 0}, {0, 4}}},
    {3, 6, 3, {{0, 2}, {1, 0}, {1, 2}}},
    {4, 6, 2, {{0, 5}, {2, 0}}},
    {10, 15, 5, {{0, 11}, {1, 4}, {0, 14}, {1, 6}, {3, 0}}},
    {24, 31, 6, {{0, 25}, {1, 13}, {0, 30}, {1, 14}, {3, 2}, {4, 0}}},
    {81, 95, 8,
        {{0, 80}, {1, 41}, {2, 21}, {0, 94}, {1, 46}, {2, 22}, {4, 4}, {6, 0}}},
};

static const struct node_case cons_nodes[] = {
    {1, 2, 1, {{0, 1}}},
    {1, 4, 2, {{0, 1}, {1, 1}}},
    {1, 6, 3, {{0, 1}, {1, 1}, {1, 2}}},
    {2, 3, 1, {{0, 2}}},
    {2, 8, 2, {{1, 1}, {2, 1}}},
    {3, 7, 5, {{0, 2}, {0, 3}, {1, 0}, {0, 6}, {1, 2}}},
    {4, 7, 2, {{0, 6}, {1, 2}}},
    {5, 7, 4, {{0, 4}, {0, 5}, {0, 6}, {2, 0}}},
    {6, 7, 3, {{1, 2}, {0, 6}, {2, 0}}},
    {7, 8, 4, {{0, 6}, {0, 7}, {1, 2}, {2, 0}}},
    {1, 1, 0, {{0}}},
    {5, 5, 0, {{0}}},
    {8, 8, 0, {{0}}},
    {2, 4, 1, {{1, 1}}},
    {3, 5, 4, {{0, 2}, {0, 3}, {1, 0}, {0, 4}}},
    {3, 6, 4, {{0, 2}, {0, 3}, {1, 0}, {1, 2}}},
    {4, 6, 1, {{1, 2}}},
    {1, 7, 4, {{0, 1}, {1, 1}, {0, 6}, {1, 2}}},
    {10, 15, 5, {{1, 4}, {1, 5}, {0, 14}, {1, 6}, {3, 0}}},
    {24, 31, 5, {{3, 2}, {0, 30}, {1, 14}, {2, 6}, {4, 0}}},
    {81, 95, 9,
        {{0, 80}, {0, 81}, {1, 41}, {2, 21}, {0, 94}, {1, 46}, {2, 22}, {4, 4},
            {6, 0}}},
};

struct recorder {
	struct mem_tree *t;
	unsigned n;
	uint64_t ids[64];
};

static int
rec_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct recorder *r = ctx;

	assert_true(r->n < 64);
	r->ids[r->n++] = (uint64_t)level << 56 | index;
	return mem_get(r->t, level, index, out);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
check_nodes(struct recorder *r, const struct node_case *c)
{
	uint64_t want[9];
	unsigned k;

	assert_int_equal(r->n, c->cnt);
	for (k = 0; k < c->cnt; k++)
		want[k] = (uint64_t)c->ids[k][0] << 56 | c->ids[k][1];
	qsort(want, c->cnt, sizeof(want[0]), cmp_u64);
	qsort(r->ids, r->n, sizeof(r->ids[0]), cmp_u64);
	for (k = 0; k < c->cnt; k++)
		assert_int_equal(r->ids[k], want[k]);
}

static void
test_proof_nodes(void **state)
{
	struct mem_tree t;
	struct recorder r;
	pr_hash h, proof[PR_MERKLE_MAX_PROOF];
	size_t i, len;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 95; i++) {
		leafn(i, h);
		mem_push(&t, h);
	}
	r.t = &t;
	for (i = 0; i < sizeof(incl_nodes) / sizeof(incl_nodes[0]); i++) {
		r.n = 0;
		assert_int_equal(pr_merkle_inclusion_proof(incl_nodes[i].a,
		                     incl_nodes[i].b, rec_get, &r, proof, &len),
		    0);
		check_nodes(&r, &incl_nodes[i]);
	}
	for (i = 0; i < sizeof(cons_nodes) / sizeof(cons_nodes[0]); i++) {
		r.n = 0;
		assert_int_equal(pr_merkle_consistency_proof(cons_nodes[i].a,
		                     cons_nodes[i].b, rec_get, &r, proof, &len),
		    0);
		check_nodes(&r, &cons_nodes[i]);
	}
	/* A root costs one fetch per full subtree of the decomposition. */
	r.n = 0;
	assert_int_equal(pr_merkle_root(95, rec_get, &r, h), 0);
	assert_int_equal(r.n, 6); /* 95 = 64 + 16 + 8 + 4 + 2 + 1 */
	mem_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_known),
	    cmocka_unit_test(test_roots_8leaf),
	    cmocka_unit_test(test_inclusion_8leaf),
	    cmocka_unit_test(test_consistency_8leaf),
	    cmocka_unit_test(test_exhaustive),
	    cmocka_unit_test(test_inclusion_batch),
	    cmocka_unit_test(test_proof_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
