/*
 * RFC 6962 / RFC 9162 Merkle tree: hashing, proofs from stored full
 * subtree hashes, proof verification and the compact range of a growing
 * tree.
 *
 * Proof generation follows the recursive definitions of RFC 9162 section
 * 2.1.3.1 (PATH) and 2.1.4.1 (SUBPROOF), walked from the top down.  Every
 * subtree the recursion visits starts at a multiple of the largest power
 * of two not above its size, so its hash is the right fold of at most 64
 * aligned full subtrees, each one call to the pr_merkle_get_fn.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/err.h"
#include "proto/log.h"
#include "proto/merkle.h"

/*
 * SHA-256 is fetched once; each thread keeps one EVP_MD_CTX that it
 * reinitialises for every hash (freed when the thread exits), which is
 * about a quarter faster than a fresh context for node-sized inputs.
 */
static EVP_MD *sha256;
static pthread_key_t ctx_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void
sha256_init(void)
{
	if ((sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx("merkle: SHA-256 is not available from OpenSSL");
	if (pthread_key_create(&ctx_key, ctx_free) != 0)
		fatalx("merkle: pthread_key_create failed");
}

/*
 * SHA-256 over the byte prefix followed by p[0..len).  A failure of
 * OpenSSL here can only be a failed allocation, which the void hashing
 * interface cannot report.
 */
static void
hash_prefixed(uint8_t prefix, const void *p, size_t len, pr_hash out)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_init);
	if ((ctx = pthread_getspecific(ctx_key)) == NULL) {
		if ((ctx = EVP_MD_CTX_new()) == NULL)
			fatalx("merkle: out of memory");
		if (pthread_setspecific(ctx_key, ctx) != 0)
			fatalx("merkle: pthread_setspecific failed");
	}
	if (!EVP_DigestInit_ex2(ctx, sha256, NULL) ||
	    !EVP_DigestUpdate(ctx, &prefix, 1) ||
	    (len > 0 && !EVP_DigestUpdate(ctx, p, len)) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		fatalx("merkle: SHA-256 failed");
}

void
pr_merkle_leaf_hash(const uint8_t *entry, size_t len, pr_hash out)
{
	hash_prefixed(0x00, entry, len, out);
}

void
pr_merkle_node_hash(const pr_hash left, const pr_hash right, pr_hash out)
{
	uint8_t lr[2 * PR_HASH_LEN];

	memcpy(lr, left, PR_HASH_LEN);
	memcpy(lr + PR_HASH_LEN, right, PR_HASH_LEN);
	hash_prefixed(0x01, lr, sizeof(lr), out);
}

void
pr_merkle_empty_root(pr_hash out)
{
	static const pr_hash empty = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c,
	    0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae,
	    0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78,
	    0x52, 0xb8, 0x55};

	/* SHA-256(""); tests/unit/test_merkle.c checks it against OpenSSL. */
	memcpy(out, empty, PR_HASH_LEN);
}

/* Number of bits needed for v: 0 for 0, 64 for 2^63 and above. */
static unsigned
bit_len(uint64_t v)
{
	return v == 0 ? 0 : 64 - (unsigned)__builtin_clzll(v);
}

/* Largest power of two strictly below n, for n >= 2. */
static uint64_t
split_point(uint64_t n)
{
	return (uint64_t)1 << (bit_len(n - 1) - 1);
}

/*
 * Hash of the leaves [lo, lo + n), n >= 1, where lo is a multiple of the
 * largest power of two not above n: the full subtrees of the binary
 * decomposition of n, largest first, folded from the right.
 */
static int
range_hash(
    uint64_t lo, uint64_t n, pr_merkle_get_fn get, void *ctx, pr_hash out)
{
	pr_hash part[64], acc;
	unsigned level, k = 0;
	int rc;

	for (level = 64; level-- > 0;) {
		if ((n >> level & 1) == 0)
			continue;
		if ((rc = get(ctx, level, lo >> level, part[k])) != 0)
			return rc;
		lo += (uint64_t)1 << level;
		k++;
	}
	memcpy(acc, part[--k], PR_HASH_LEN);
	while (k-- > 0)
		pr_merkle_node_hash(part[k], acc, acc);
	memcpy(out, acc, PR_HASH_LEN);
	return 0;
}

int
pr_merkle_root(uint64_t size, pr_merkle_get_fn get, void *ctx, pr_hash out)
{
	if (size == 0) {
		pr_merkle_empty_root(out);
		return 0;
	}
	return range_hash(0, size, get, ctx, out);
}

/* Reverse the top-down list tmp[0..n) into proof (leaf-to-root order). */
static void
emit(const pr_hash *tmp, size_t n, pr_hash *proof, size_t *len)
{
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(proof[i], tmp[n - 1 - i], PR_HASH_LEN);
	*len = n;
}

/* Hashes of ranges that are not one full subtree, remembered by
 * pr_merkle_inclusion_proofs() (direct-mapped). */
#define MEMO_SLOTS 256

struct range_memo {
	uint64_t lo, n; /* n == 0: empty slot */
	pr_hash h;
};

static int
memo_range_hash(struct range_memo *memo, uint64_t lo, uint64_t n,
    pr_merkle_get_fn get, void *ctx, pr_hash out)
{
	struct range_memo *m;
	int rc;

	if (memo == NULL || (n & (n - 1)) == 0)
		return range_hash(lo, n, get, ctx, out);
	m = &memo[((lo * 0x9e3779b97f4a7c15ULL) ^ n) % MEMO_SLOTS];
	if (m->n == n && m->lo == lo) {
		memcpy(out, m->h, PR_HASH_LEN);
		return 0;
	}
	if ((rc = range_hash(lo, n, get, ctx, out)) != 0)
		return rc;
	m->lo = lo;
	m->n = n;
	memcpy(m->h, out, PR_HASH_LEN);
	return 0;
}

static int
inclusion(uint64_t index, uint64_t size, pr_merkle_get_fn get, void *ctx,
    struct range_memo *memo, pr_hash *proof, size_t *len)
{
	pr_hash tmp[PR_MERKLE_MAX_PROOF];
	uint64_t lo = 0, n = size, k;
	size_t cnt = 0;
	int rc;

	if (index >= size)
		return PR_EINVAL;
	/* PATH(m, D[lo:lo+n]), RFC 9162 section 2.1.3.1. */
	while (n > 1) {
		k = split_point(n);
		if (index < lo + k) {
			rc = memo_range_hash(
			    memo, lo + k, n - k, get, ctx, tmp[cnt]);
			n = k;
		} else {
			rc = memo_range_hash(memo, lo, k, get, ctx, tmp[cnt]);
			lo += k;
			n -= k;
		}
		if (rc != 0)
			return rc;
		cnt++;
	}
	emit(tmp, cnt, proof, len);
	return 0;
}

int
pr_merkle_inclusion_proof(uint64_t index, uint64_t size, pr_merkle_get_fn get,
    void *ctx, pr_hash *proof, size_t *len)
{
	return inclusion(index, size, get, ctx, NULL, proof, len);
}

int
pr_merkle_inclusion_proofs(uint64_t first, uint64_t count, uint64_t size,
    pr_merkle_get_fn get, void *getctx, pr_merkle_proof_fn fn, void *fnctx)
{
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	struct range_memo *memo;
	uint64_t i;
	size_t len;
	int rc = 0;

	if (first > size || count > size - first)
		return PR_EINVAL;
	/* Without memory, each proof on its own. */
	memo = count > 1 ? calloc(MEMO_SLOTS, sizeof(*memo)) : NULL;
	for (i = first; i < first + count && rc == 0; i++)
		if ((rc = inclusion(i, size, get, getctx, memo, proof, &len)) ==
		    0)
			rc = fn(fnctx, i, (const pr_hash *)proof, len);
	free(memo);
	return rc;
}

int
pr_merkle_consistency_proof(uint64_t m, uint64_t n, pr_merkle_get_fn get,
    void *ctx, pr_hash *proof, size_t *len)
{
	pr_hash tmp[PR_MERKLE_MAX_PROOF];
	uint64_t lo = 0, k;
	size_t cnt = 0;
	int complete = 1, rc;

	if (m == 0 || m > n)
		return PR_EINVAL;
	/* SUBPROOF(m, D[lo:lo+n], complete), RFC 9162 section 2.1.4.1. */
	while (m != n) {
		if (cnt == PR_MERKLE_MAX_PROOF)
			return PR_ERANGE;
		k = split_point(n);
		if (m <= k) {
			rc = range_hash(lo + k, n - k, get, ctx, tmp[cnt]);
			n = k;
		} else {
			rc = range_hash(lo, k, get, ctx, tmp[cnt]);
			lo += k;
			m -= k;
			n -= k;
			complete = 0;
		}
		if (rc != 0)
			return rc;
		cnt++;
	}
	if (!complete) {
		/* Reachable only beyond 2^63 leaves (see merkle.h). */
		if (cnt == PR_MERKLE_MAX_PROOF)
			return PR_ERANGE;
		if ((rc = range_hash(lo, n, get, ctx, tmp[cnt])) != 0)
			return rc;
		cnt++;
	}
	emit(tmp, cnt, proof, len);
	return 0;
}

int
pr_merkle_verify_inclusion(uint64_t index, uint64_t size, const pr_hash leaf,
    const pr_hash *proof, size_t len, const pr_hash root)
{
	uint64_t fn, sn;
	pr_hash r;
	size_t i;

	if (index >= size)
		return PR_EINVAL;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, PR_HASH_LEN);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return PR_EPROOF;
		if ((fn & 1) != 0 || fn == sn) {
			pr_merkle_node_hash(proof[i], r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			pr_merkle_node_hash(r, proof[i], r);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, PR_HASH_LEN) != 0)
		return PR_EPROOF;
	return 0;
}

int
pr_merkle_verify_consistency(uint64_t m, uint64_t n, const pr_hash *proof,
    size_t len, const pr_hash root_m, const pr_hash root_n)
{
	uint64_t fn, sn;
	pr_hash fr, sr;
	size_t i;

	if (m == 0 || m > n)
		return PR_EINVAL;
	if (m == n) {
		if (len != 0 || memcmp(root_m, root_n, PR_HASH_LEN) != 0)
			return PR_EPROOF;
		return 0;
	}
	if (len == 0)
		return PR_EPROOF;
	/* A power-of-two first tree is itself the seed of the path. */
	i = 0;
	if ((m & (m - 1)) == 0)
		memcpy(fr, root_m, PR_HASH_LEN);
	else
		memcpy(fr, proof[i++], PR_HASH_LEN);
	memcpy(sr, fr, PR_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return PR_EPROOF;
		if ((fn & 1) != 0 || fn == sn) {
			pr_merkle_node_hash(proof[i], fr, fr);
			pr_merkle_node_hash(proof[i], sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			pr_merkle_node_hash(sr, proof[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root_m, PR_HASH_LEN) != 0 ||
	    memcmp(sr, root_n, PR_HASH_LEN) != 0)
		return PR_EPROOF;
	return 0;
}

void
pr_merkle_stack_init(struct pr_merkle_stack *s)
{
	memset(s, 0, sizeof(*s));
}

int
pr_merkle_stack_load(
    struct pr_merkle_stack *s, uint64_t size, pr_merkle_get_fn get, void *ctx)
{
	struct pr_merkle_stack t;
	uint64_t lo = 0;
	unsigned level;
	int rc;

	pr_merkle_stack_init(&t);
	for (level = 64; level-- > 0;) {
		if ((size >> level & 1) == 0)
			continue;
		if ((rc = get(ctx, level, lo >> level, t.h[t.n])) != 0)
			return rc;
		lo += (uint64_t)1 << level;
		t.n++;
	}
	t.size = size;
	*s = t;
	return 0;
}

int
pr_merkle_stack_push(struct pr_merkle_stack *s, const pr_hash leaf,
    pr_merkle_put_fn cb, void *ctx)
{
	pr_hash acc;
	uint64_t size = s->size;
	unsigned level = 0, top = s->n;
	int rc;

	if (size == UINT64_MAX)
		return PR_ERANGE;
	memcpy(acc, leaf, PR_HASH_LEN);
	if (cb != NULL && (rc = cb(ctx, 0, size, acc)) != 0)
		return rc;
	/* Each trailing one bit of size is a full subtree the leaf closes. */
	while ((size >> level & 1) != 0) {
		pr_merkle_node_hash(s->h[--top], acc, acc);
		level++;
		if (cb != NULL &&
		    (rc = cb(ctx, level, size >> level, acc)) != 0)
			return rc;
	}
	memcpy(s->h[top], acc, PR_HASH_LEN);
	s->n = top + 1;
	s->size = size + 1;
	return 0;
}

void
pr_merkle_stack_root(const struct pr_merkle_stack *s, pr_hash out)
{
	pr_hash acc;
	unsigned k;

	if (s->n == 0) {
		pr_merkle_empty_root(out);
		return;
	}
	k = s->n - 1;
	memcpy(acc, s->h[k], PR_HASH_LEN);
	while (k-- > 0)
		pr_merkle_node_hash(s->h[k], acc, acc);
	memcpy(out, acc, PR_HASH_LEN);
}
