/*
 * Unit tests: store/ appends and reads across tile boundaries: roots,
 * proofs, tiles, entry bundles and entries against a naive tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test.h"

#define MAXN 65537
#define BATCH 1000

/* The test's own model: every full-subtree hash, computed level by level
 * from leaf hashes of the synthetic entries. */
struct model {
	uint64_t n;
	pr_hash *lv[18];
	uint64_t cnt[18];
};

static void
model_build(struct model *m, uint64_t n)
{
	uint8_t e[64];
	unsigned k;
	uint64_t i;

	memset(m, 0, sizeof(*m));
	m->n = n;
	for (k = 0; k < 18; k++) {
		m->cnt[k] = n >> k;
		m->lv[k] = calloc(m->cnt[k] + 1, sizeof(pr_hash));
		assert_non_null(m->lv[k]);
	}
	for (i = 0; i < n; i++)
		pr_merkle_leaf_hash(e, tst_entry(i, e), m->lv[0][i]);
	for (k = 1; k < 18; k++)
		for (i = 0; i < m->cnt[k]; i++)
			pr_merkle_node_hash(m->lv[k - 1][2 * i],
			    m->lv[k - 1][2 * i + 1], m->lv[k][i]);
}

static void
model_free(struct model *m)
{
	unsigned k;

	for (k = 0; k < 18; k++)
		free(m->lv[k]);
}

static int
model_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct model *m = ctx;

	if (level >= 18 || index >= m->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, m->lv[level][index], PR_HASH_LEN);
	return 0;
}

static void
model_root(struct model *m, uint64_t size, pr_hash out)
{
	assert_int_equal(pr_merkle_root(size, model_get, m, out), 0);
}

static void
append_range(struct st_store *st, uint64_t from, uint64_t to)
{
	struct st_append a[BATCH];
	struct st_appended r[BATCH];
	static uint8_t ebuf[BATCH][64];
	struct tst_signer sg = {0, 0};
	uint64_t i, size;
	pr_hash root;
	size_t n, k;

	while (from < to) {
		n = to - from < BATCH ? (size_t)(to - from) : BATCH;
		memset(a, 0, n * sizeof(a[0]));
		for (k = 0; k < n; k++) {
			i = from + k;
			a[k].entry = ebuf[k];
			a[k].entry_len = tst_entry(i, ebuf[k]);
			tst_envelope(i, a[k].envelope_hash);
			a[k].log_time_ms = 1000 + i / 10;
		}
		assert_int_equal(
		    st_append_batch(st, a, n, tst_sign, &sg, r, &size, root),
		    0);
		for (k = 0; k < n; k++) {
			assert_int_equal(r[k].index, from + k);
			assert_false(r[k].duplicate);
		}
		from += n;
		assert_int_equal(size, from);
	}
}

/* Interesting indexes below n: tile and segment boundaries, a few more. */
static size_t
sample(uint64_t n, uint64_t *out)
{
	static const uint64_t fixed[] = {0, 1, 2, 3, 7, 127, 128, 254, 255, 256,
	    257, 511, 512, 513, 1000, 4095, 4096, 32767, 32768, 65534, 65535,
	    65536};
	size_t i, k = 0;
	uint64_t x = 12345;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i] < n)
			out[k++] = fixed[i];
	if (n > 0)
		out[k++] = n - 1;
	for (i = 0; i < 12 && n > 0; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		out[k++] = (x >> 33) % n;
	}
	return k;
}

static void
check_tree(struct st_store *st, struct model *m, uint64_t size)
{
	struct pr_buf note = PR_BUF_INIT;
	uint64_t got, csize;
	pr_hash root, want, croot;

	assert_int_equal(st_tree(st, &got, root), 0);
	assert_int_equal(got, size);
	model_root(m, size, want);
	assert_memory_equal(root, want, PR_HASH_LEN);
	if (size <= 4096) {
		tst_mth(m->lv[0], size, want);
		assert_memory_equal(root, want, PR_HASH_LEN);
	}
	if (size == 0) {
		assert_int_equal(st_checkpoint(st, &note), PR_ENOTFOUND);
		return;
	}
	assert_int_equal(st_checkpoint(st, &note), 0);
	assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
	assert_int_equal(csize, size);
	assert_memory_equal(croot, root, PR_HASH_LEN);
	pr_buf_free(&note);
}

static void
check_entries(struct st_store *st, uint64_t size)
{
	struct pr_buf b = PR_BUF_INIT;
	uint64_t idx[64], found;
	uint8_t e[64];
	pr_hash leaf, want;
	size_t i, n, len;

	n = sample(size, idx);
	for (i = 0; i < n; i++) {
		pr_buf_reset(&b);
		assert_int_equal(st_entry(st, idx[i], &b), 0);
		len = tst_entry(idx[i], e);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, e, len);
		pr_merkle_leaf_hash(e, len, want);
		assert_int_equal(st_leaf_hash(st, idx[i], leaf), 0);
		assert_memory_equal(leaf, want, PR_HASH_LEN);
		assert_int_equal(st_find_leaf(st, want, &found), 0);
		assert_int_equal(found, idx[i]);
		tst_envelope(idx[i], want);
		assert_int_equal(st_find_envelope(st, want, &found), 0);
		assert_int_equal(found, idx[i]);
	}
	assert_int_equal(st_entry(st, size, &b), PR_ENOTFOUND);
	assert_int_equal(st_leaf_hash(st, size, leaf), PR_ENOTFOUND);
	pr_buf_free(&b);
}

static void
check_proofs(struct st_store *st, struct model *m, uint64_t size)
{
	pr_hash proof[PR_MERKLE_MAX_PROOF], root, root2;
	uint64_t idx[64], sz[64], a, b;
	size_t ni, ns, i, j, len;

	if (size == 0) {
		assert_int_equal(
		    st_inclusion_proof(st, 0, 0, proof, &len), PR_EINVAL);
		return;
	}
	ni = sample(size, idx);
	ns = sample(size + 1, sz);
	for (j = 0; j < ns; j++) {
		if (sz[j] == 0)
			continue;
		model_root(m, sz[j], root);
		assert_int_equal(st_root_at(st, sz[j], root2), 0);
		assert_memory_equal(root, root2, PR_HASH_LEN);
		for (i = 0; i < ni; i++) {
			if (idx[i] >= sz[j])
				continue;
			assert_int_equal(
			    st_inclusion_proof(st, idx[i], sz[j], proof, &len),
			    0);
			assert_int_equal(
			    pr_merkle_verify_inclusion(idx[i], sz[j],
			        m->lv[0][idx[i]], proof, len, root),
			    0);
		}
		for (i = 0; i < ns; i++) {
			a = sz[i] < sz[j] ? sz[i] : sz[j];
			b = sz[i] < sz[j] ? sz[j] : sz[i];
			if (a == 0)
				continue;
			model_root(m, a, root2);
			model_root(m, b, root);
			assert_int_equal(
			    st_consistency_proof(st, a, b, proof, &len), 0);
			assert_int_equal(pr_merkle_verify_consistency(
			                     a, b, proof, len, root2, root),
			    0);
		}
	}
	assert_int_equal(st_root_at(st, size + 1, root), PR_ENOTFOUND);
	assert_int_equal(
	    st_inclusion_proof(st, 0, size + 1, proof, &len), PR_ENOTFOUND);
	assert_int_equal(
	    st_inclusion_proof(st, size, size, proof, &len), PR_EINVAL);
	assert_int_equal(
	    st_consistency_proof(st, 0, size, proof, &len), PR_EINVAL);
	assert_int_equal(
	    st_consistency_proof(st, 1, size + 1, proof, &len), PR_ENOTFOUND);
}

static void
check_tile(struct st_store *st, struct model *m, unsigned level, uint64_t n,
    unsigned w)
{
	struct pr_buf b = PR_BUF_INIT;

	assert_int_equal(st_tile(st, level, n, w, &b), 0);
	assert_int_equal(b.len, (size_t)w * PR_HASH_LEN);
	assert_memory_equal(
	    b.data, m->lv[8 * level][n * 256], (size_t)w * PR_HASH_LEN);
	pr_buf_free(&b);
}

static void
check_bundle(struct st_store *st, uint64_t n, unsigned w)
{
	struct pr_buf b = PR_BUF_INIT, want = PR_BUF_INIT;
	uint8_t e[64];
	size_t len;
	unsigned k;

	for (k = 0; k < w; k++) {
		len = tst_entry(n * 256 + k, e);
		pr_buf_append_be16(&want, (uint16_t)len);
		pr_buf_append(&want, e, len);
	}
	assert_int_equal(st_entry_bundle(st, n, w, &b), 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, want.len);
	pr_buf_free(&b);
	pr_buf_free(&want);
}

static void
check_tiles(struct st_store *st, struct model *m, uint64_t size)
{
	struct pr_buf b = PR_BUF_INIT;
	uint64_t avail, full;
	unsigned level;

	for (level = 0; level < 3; level++) {
		avail = size >> (8 * level);
		full = avail / 256;
		if (full > 0) {
			check_tile(st, m, level, 0, 256);
			check_tile(st, m, level, full - 1, 256);
			check_tile(st, m, level, full / 2, 256);
			check_tile(st, m, level, full - 1, 17);
			if (level == 0) {
				check_bundle(st, 0, 256);
				check_bundle(st, full - 1, 256);
				check_bundle(st, full / 2, 3);
			}
		}
		if (avail % 256 != 0) {
			check_tile(st, m, level, full, avail % 256);
			check_tile(st, m, level, full, 1);
			if (level == 0) {
				check_bundle(st, full, avail % 256);
				check_bundle(st, full, 1);
			}
		}
		assert_int_equal(
		    st_tile(st, level, full, (unsigned)(avail % 256) + 1, &b),
		    PR_ENOTFOUND);
		assert_int_equal(
		    st_tile(st, level, full + 1, 1, &b), PR_ENOTFOUND);
		assert_int_equal(b.len, 0);
	}
	assert_int_equal(st_tile(st, 0, 0, 0, &b), PR_EINVAL);
	assert_int_equal(st_tile(st, 0, 0, 257, &b), PR_EINVAL);
	assert_int_equal(st_tile(st, 8, 0, 1, &b), PR_EINVAL);
	assert_int_equal(
	    st_entry_bundle(st, size / 256, (unsigned)(size % 256) + 1, &b),
	    PR_ENOTFOUND);
	assert_int_equal(st_entry_bundle(st, UINT64_MAX, 1, &b), PR_ENOTFOUND);
	pr_buf_free(&b);
}

static void
check_all(struct st_store *st, struct model *m, uint64_t size)
{
	check_tree(st, m, size);
	check_entries(st, size);
	check_proofs(st, m, size);
	check_tiles(st, m, size);
}

static void
test_sizes(void **state)
{
	static const uint64_t sizes[] = {0, 1, 255, 256, 257, 65536, MAXN};
	struct st_store *st;
	struct model m;
	uint64_t bad = 0;
	char *dir;
	size_t i;
	uint64_t cur = 0;

	(void)state;
	model_build(&m, MAXN);
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		append_range(st, cur, sizes[i]);
		cur = sizes[i];
		check_all(st, &m, cur);
	}
	st_close(st);
	/* Everything survives a reopen, read-write and read-only. */
	assert_int_equal(tst_open(dir, 0, &st), 0);
	check_all(st, &m, cur);
	assert_int_equal(st_verify(st, &bad, NULL), 0);
	st_close(st);
	assert_int_equal(tst_open(dir, 1, &st), 0);
	check_tree(st, &m, cur);
	check_tiles(st, &m, cur);
	st_close(st);
	tst_rmtree(dir);
	free(dir);
	model_free(&m);
}

struct collect {
	struct pr_buf all;
	uint64_t next;
	uint64_t stop_at;
	int code;
};

static int
collect_cb(void *ctx, uint64_t index, const uint8_t *e, size_t len)
{
	struct collect *c = ctx;

	if (index != c->next)
		return PR_EINVAL;
	c->next++;
	if (index == c->stop_at)
		return c->code;
	pr_buf_append_be16(&c->all, (uint16_t)len);
	return pr_buf_append(&c->all, e, len);
}

/* Entries of awkward lengths around heap segment boundaries. */
static void
test_heap_lengths(void **state)
{
	static const size_t lens[] = {0, 1, 2, 2019, 2020, 2021, 2022, 2023,
	    4042, 4044, 4046, 65535, 0, 3, 6066, 65534, 1, 2022};
	enum { N = 300 };
	struct st_append a[N];
	struct st_appended r[N];
	struct pr_buf b = PR_BUF_INIT, want = PR_BUF_INIT;
	struct collect c;
	struct st_store *st;
	uint8_t *data[N];
	uint64_t x = 99;
	size_t i, k, len[N];
	char *dir;

	(void)state;
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	memset(a, 0, sizeof(a));
	for (i = 0; i < N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		len[i] = i < sizeof(lens) / sizeof(lens[0]) ? lens[i]
		                                            : (x >> 40) % 5000;
		data[i] = malloc(len[i] + 1);
		for (k = 0; k < len[i]; k++)
			data[i][k] = (uint8_t)(x >> (k % 7 * 8)) ^ (uint8_t)k;
		a[i].entry = data[i];
		a[i].entry_len = len[i];
		tst_envelope(i, a[i].envelope_hash);
		pr_buf_append_be16(&want, (uint16_t)len[i]);
		pr_buf_append(&want, data[i], len[i]);
	}
	/* Three batches, so partial segments get rewritten. */
	assert_int_equal(
	    st_append_batch(st, a, 7, tst_sign, NULL, r, NULL, NULL), 0);
	assert_int_equal(
	    st_append_batch(st, a + 7, 1, tst_sign, NULL, r, NULL, NULL), 0);
	assert_int_equal(
	    st_append_batch(st, a + 8, N - 8, tst_sign, NULL, r, NULL, NULL),
	    0);
	for (i = 0; i < N; i++) {
		pr_buf_reset(&b);
		assert_int_equal(st_entry(st, i, &b), 0);
		assert_int_equal(b.len, len[i]);
		if (len[i] > 0)
			assert_memory_equal(b.data, data[i], len[i]);
	}
	pr_buf_reset(&b);
	assert_int_equal(st_entry_bundle(st, 0, 256, &b), 0);
	memset(&c, 0, sizeof(c));
	c.stop_at = UINT64_MAX;
	assert_int_equal(st_entries(st, 0, 256, collect_cb, &c), 0);
	assert_int_equal(c.next, 256);
	assert_int_equal(c.all.len, b.len);
	assert_memory_equal(c.all.data, b.data, b.len);
	assert_memory_equal(b.data, want.data, b.len);
	pr_buf_reset(&b);
	assert_int_equal(st_entry_bundle(st, 1, N - 256, &b), 0);
	assert_int_equal(b.len, want.len - c.all.len);
	assert_memory_equal(b.data, want.data + c.all.len, b.len);
	/* Ranges past the end stop there; callbacks can stop early. */
	pr_buf_free(&c.all);
	memset(&c, 0, sizeof(c));
	c.next = 290;
	c.stop_at = UINT64_MAX;
	assert_int_equal(st_entries(st, 290, 1000, collect_cb, &c), 0);
	assert_int_equal(c.next, N);
	pr_buf_free(&c.all);
	memset(&c, 0, sizeof(c));
	c.next = 3;
	c.stop_at = 5;
	c.code = 1;
	assert_int_equal(st_entries(st, 3, 100, collect_cb, &c), 0);
	assert_int_equal(c.next, 6);
	pr_buf_free(&c.all);
	memset(&c, 0, sizeof(c));
	c.next = 3;
	c.stop_at = 4;
	c.code = PR_EEVENT;
	assert_int_equal(st_entries(st, 3, 100, collect_cb, &c), PR_EEVENT);
	pr_buf_free(&c.all);
	assert_int_equal(st_entries(st, N, 1, collect_cb, &c), PR_ENOTFOUND);
	st_close(st);
	for (i = 0; i < N; i++)
		free(data[i]);
	pr_buf_free(&b);
	pr_buf_free(&want);
	tst_rmtree(dir);
	free(dir);
}

/*
 * A caller's leaf hash (has_leaf) is taken as it is: the right one gives
 * the same tree as the store's own, a wrong one a tree st_verify() finds
 * not matching its entries, at that entry.
 */
static void
test_caller_leaf(void **state)
{
	struct st_append a[4];
	struct st_appended r[4];
	struct st_store *st, *ref;
	uint8_t e[4][64];
	pr_hash root, want;
	uint64_t size, bad;
	char *dir, *rdir;
	size_t i;

	(void)state;
	dir = tst_mkdtemp();
	rdir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(tst_open(rdir, 0, &ref), 0);
	memset(a, 0, sizeof(a));
	for (i = 0; i < 4; i++) {
		a[i].entry = e[i];
		a[i].entry_len = tst_entry(i, e[i]);
		tst_envelope(i, a[i].envelope_hash);
	}
	assert_int_equal(
	    st_append_batch(ref, a, 4, tst_sign, NULL, r, &size, want), 0);
	for (i = 0; i < 4; i++) {
		a[i].has_leaf = 1;
		pr_merkle_leaf_hash(e[i], a[i].entry_len, a[i].leaf_hash);
	}
	a[2].leaf_hash[0] ^= 1;
	assert_int_equal(
	    st_append_batch(st, a, 2, tst_sign, NULL, r, &size, root), 0);
	assert_int_equal(st_root_at(ref, 2, want), 0);
	assert_memory_equal(root, want, PR_HASH_LEN);
	assert_int_equal(st_verify(st, &bad, NULL), 0);
	assert_int_equal(
	    st_append_batch(st, a + 2, 2, tst_sign, NULL, r, &size, root), 0);
	assert_memory_equal(r[0].leaf_hash, a[2].leaf_hash, PR_HASH_LEN);
	assert_int_equal(st_verify(st, &bad, NULL), PR_ECORRUPT);
	assert_int_equal(bad, 2);
	st_close(st);
	st_close(ref);
	tst_rmtree(dir);
	tst_rmtree(rdir);
	free(dir);
	free(rdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_heap_lengths),
	    cmocka_unit_test(test_caller_leaf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
