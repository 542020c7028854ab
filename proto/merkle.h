/*
 * RFC 6962 / RFC 9162 Merkle tree hashing and proofs.
 *
 * leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || l || r),
 * root of the empty tree = SHA-256("").
 *
 * Coordinates: the hash at (level L, index i) is the root of the full
 * subtree over leaves [i * 2^L, (i + 1) * 2^L).  Level 0 holds leaf hashes.
 * A store that keeps the hashes of every full subtree (as tlog tiles do)
 * can produce the root, any inclusion proof and any consistency proof
 * through a pr_merkle_get_fn, without recomputing the tree.
 */
#ifndef PR_MERKLE_H
#define PR_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define PR_HASH_LEN 32
/*
 * Longest proof the generators write.  An inclusion proof has at most 64
 * hashes for any size.  A consistency proof has at most 64 for trees of
 * up to 2^63 leaves; beyond that one may need 65, and the generator
 * returns PR_ERANGE instead.  The verifiers accept any length.
 */
#define PR_MERKLE_MAX_PROOF 64

typedef uint8_t pr_hash[PR_HASH_LEN];

/*
 * Hashing cannot fail short of OpenSSL being unable to allocate, which is
 * treated as fatal (fatalx).  Safe to call from several threads.
 */
void pr_merkle_leaf_hash(const uint8_t *entry, size_t len, pr_hash out);
void pr_merkle_node_hash(const pr_hash left, const pr_hash right, pr_hash out);
void pr_merkle_empty_root(pr_hash out);

/*
 * Fetch the stored hash of the full subtree at (level, index).  Return 0,
 * or a negative PR_E* code that is passed up unchanged.
 */
typedef int (*pr_merkle_get_fn)(
    void *ctx, unsigned level, uint64_t index, pr_hash out);

/* Root of the tree of the first size leaves. */
int pr_merkle_root(uint64_t size, pr_merkle_get_fn get, void *ctx, pr_hash out);

/*
 * Inclusion proof for leaf index in the tree of size leaves, and
 * consistency proof from tree size m to n (0 < m <= n), as RFC 9162
 * section 2.1.3 / 2.1.4 define them.  proof must hold PR_MERKLE_MAX_PROOF
 * hashes; *len receives the count.  PR_EINVAL if index >= size, m == 0 or
 * m > n; a get error is returned unchanged.  Each proof hash comes from
 * one get call, or from folding the aligned full subtrees that make up a
 * non-full right subtree.
 */
int pr_merkle_inclusion_proof(uint64_t index, uint64_t size,
    pr_merkle_get_fn get, void *ctx, pr_hash *proof, size_t *len);
int pr_merkle_consistency_proof(uint64_t m, uint64_t n, pr_merkle_get_fn get,
    void *ctx, pr_hash *proof, size_t *len);

/* Called with each proof of pr_merkle_inclusion_proofs(); a non-zero
 * return stops the walk and is returned. */
typedef int (*pr_merkle_proof_fn)(
    void *ctx, uint64_t index, const pr_hash *proof, size_t len);

/*
 * The inclusion proofs of leaves first .. first + count - 1 in the tree
 * of size leaves, in order, each handed to fn: the same proofs as
 * pr_merkle_inclusion_proof(), with the hashes of non-full subtrees that
 * neighbouring leaves share folded once.  PR_EINVAL if
 * first + count > size.
 */
int pr_merkle_inclusion_proofs(uint64_t first, uint64_t count, uint64_t size,
    pr_merkle_get_fn get, void *getctx, pr_merkle_proof_fn fn, void *fnctx);

/*
 * RFC 9162 section 2.1.3.2 and 2.1.4.2 verification.  Return 0 if the
 * proof holds, PR_EPROOF if it does not, PR_EINVAL for impossible sizes
 * (index >= size; m == 0, which no proof can link to a root; m > n).
 * For m == n the proof holds iff it is empty and root_m equals root_n.
 */
int pr_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const pr_hash leaf, const pr_hash *proof, size_t len, const pr_hash root);
int pr_merkle_verify_consistency(uint64_t m, uint64_t n, const pr_hash *proof,
    size_t len, const pr_hash root_m, const pr_hash root_n);

/*
 * Appending: the "compact range" of a growing tree, i.e. the roots of the
 * maximal full subtrees covering leaves [0, size).  pr_merkle_stack_push()
 * adds a leaf hash and reports through cb every full subtree hash it
 * completes (level 0 for the leaf itself, then each parent it closes), so
 * a store can persist exactly the new hashes.  cb may be NULL.
 */
struct pr_merkle_stack {
	uint64_t size;
	pr_hash h[64]; /* h[k]: root of the k-th subtree, largest first */
	unsigned n;
};

typedef int (*pr_merkle_put_fn)(
    void *ctx, unsigned level, uint64_t index, const pr_hash hash);

void pr_merkle_stack_init(struct pr_merkle_stack *s);
/*
 * Rebuild the compact range of a tree of size leaves from stored hashes
 * (one get per set bit of size).  *s is written only on success.
 */
int pr_merkle_stack_load(
    struct pr_merkle_stack *s, uint64_t size, pr_merkle_get_fn get, void *ctx);
/*
 * Append a leaf hash.  The calls are cb(0, size, leaf), then one
 * cb(k, size >> k, hash) for each trailing one bit of the old size.  If cb
 * fails its error is returned and *s is unchanged; PR_ERANGE once the
 * tree holds 2^64 - 1 leaves.
 */
int pr_merkle_stack_push(struct pr_merkle_stack *s, const pr_hash leaf,
    pr_merkle_put_fn cb, void *ctx);
/* Root of the tree the stack describes. */
void pr_merkle_stack_root(const struct pr_merkle_stack *s, pr_hash out);

#endif
