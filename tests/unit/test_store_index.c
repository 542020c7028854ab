/*
 * Unit tests: store/ indexes and cursors, dedupe, derived state,
 * checkpoints, argument checks, and readers running during appends and
 * map growth.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_test.h"

#define N 40

static const char *const ocids[] = {"ocds-a", "ocds-b", "ocds-c", "ocds-d"};
static const char *const kinds[] = {"tender", "award", "contract"};
static const char *const bins[] = {
    "KZ-BIN-0", "KZ-BIN-1", "KZ-BIN-2", "KZ-BIN-3", "KZ-BIN-4"};

struct fixture {
	char *dir;
	struct st_store *st;
	uint8_t e[N][64];
	const char *parties[N][3];
	const char *items[N][1];
	struct st_append a[N];
};

static uint64_t
time_of(uint64_t i)
{
	return 1000 + i / 3 * 10;
}

static void
fill(struct fixture *f, uint64_t base)
{
	size_t i;

	memset(f->a, 0, sizeof(f->a));
	for (i = 0; i < N; i++) {
		f->a[i].entry = f->e[i];
		f->a[i].entry_len = tst_entry(base + i, f->e[i]);
		tst_envelope(base + i, f->a[i].envelope_hash);
		f->a[i].log_time_ms = time_of(base + i);
		f->a[i].ocid = ocids[i % 4];
		f->a[i].kind = kinds[i % 3];
		f->parties[i][0] = "KZ-BIN-1";
		f->parties[i][1] = bins[i % 5];
		f->parties[i][2] = "KZ-BIN-1";
		f->a[i].parties = f->parties[i];
		f->a[i].nparties = 3;
		f->items[i][0] = "ATC:J01CA04";
		f->a[i].items = f->items[i];
		f->a[i].nitems = i % 2;
	}
}

/*
 * Each test runs with three index buffer sizes: the default (merges
 * only as paced, a shard every few entries), one byte (everything is merged
 * into the index DBs at every batch) and a few KiB (some shards merged, keys
 * split between the DBs and the buffer).
 */
static const uint64_t buf_default = 0, buf_none = 1, buf_some = 6000;

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct st_config cfg;

	if (f == NULL)
		return -1;
	f->dir = tst_mkdtemp();
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = f->dir;
	cfg.map_size_initial = 1 << 20;
	cfg.index_buffer_max = *(const uint64_t *)*state;
	if (st_open(&cfg, &f->st) != 0)
		return -1;
	*state = f;
	return 0;
}

/* Close and reopen: the buffer is rebuilt from the journal. */
static void
reopen(struct fixture *f, uint64_t bufmax)
{
	struct st_config cfg;

	st_close(f->st);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = f->dir;
	cfg.index_buffer_max = bufmax;
	assert_int_equal(st_open(&cfg, &f->st), 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	st_close(f->st);
	tst_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Append the fixture's N entries in batches of 7. */
static void
append_all(struct fixture *f)
{
	struct st_appended r[N];
	size_t i, n;

	fill(f, 0);
	for (i = 0; i < N; i += n) {
		n = N - i < 7 ? N - i : 7;
		assert_int_equal(st_append_batch(f->st, f->a + i, n, tst_sign,
		                     NULL, r, NULL, NULL),
		    0);
	}
}

/* n entries with no index keys but their envelopes (they merge the
 * buffer when it is over its limit). */
static void
append_plain(struct fixture *f, uint64_t base, size_t n)
{
	struct st_append a[8];
	struct st_appended r[8];
	uint8_t e[8][64];
	size_t k;

	memset(a, 0, sizeof(a));
	for (k = 0; k < n; k++) {
		a[k].entry = e[k];
		a[k].entry_len = tst_entry(base + k, e[k]);
		tst_envelope(base + k, a[k].envelope_hash);
		a[k].log_time_ms = 1u << 30;
	}
	assert_int_equal(
	    st_append_batch(f->st, a, n, tst_sign, NULL, r, NULL, NULL), 0);
	for (k = 0; k < n; k++)
		assert_false(r[k].duplicate);
}

/* All pages of a scan with the given page size, concatenated. */
static size_t
scan_all(struct st_store *st, enum st_index which, const char *key, int desc,
    size_t page, uint64_t *out)
{
	uint64_t cur = desc ? ST_SCAN_END : ST_SCAN_START;
	size_t total = 0, n;

	for (;;) {
		if (desc)
			assert_int_equal(st_scan_desc(st, which, key, cur, page,
			                     out + total, &n),
			    0);
		else
			assert_int_equal(
			    st_scan(st, which, key, cur, page, out + total, &n),
			    0);
		assert_true(n <= page);
		if (n == 0)
			return total;
		total += n;
		cur = out[total - 1];
	}
}

static void
expect_scan(struct st_store *st, enum st_index which, const char *key,
    int (*match)(uint64_t i, const void *arg), const void *arg)
{
	uint64_t want[N], got[N + 1];
	size_t nw = 0, i, page, n;

	for (i = 0; i < N; i++)
		if (match(i, arg))
			want[nw++] = i;
	for (page = 1; page <= 5; page += 2) {
		n = scan_all(st, which, key, 0, page, got);
		assert_int_equal(n, nw);
		if (nw > 0)
			assert_memory_equal(got, want, nw * sizeof(uint64_t));
		n = scan_all(st, which, key, 1, page, got);
		assert_int_equal(n, nw);
		for (i = 0; i < nw; i++)
			assert_int_equal(got[i], want[nw - 1 - i]);
	}
	/* Resuming from the middle, both ways. */
	if (nw >= 3) {
		assert_int_equal(
		    st_scan(st, which, key, want[0], N, got, &n), 0);
		assert_int_equal(n, nw - 1);
		assert_int_equal(got[0], want[1]);
		assert_int_equal(
		    st_scan(st, which, key, want[1] - 1, N, got, &n), 0);
		assert_int_equal(got[0], want[1]);
		assert_int_equal(
		    st_scan_desc(st, which, key, want[2], N, got, &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(got[0], want[1]);
		assert_int_equal(got[1], want[0]);
		assert_int_equal(
		    st_scan_desc(st, which, key, want[1] + 1, 1, got, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(got[0], want[1]);
	}
}

static int
m_ocid(uint64_t i, const void *arg)
{
	return strcmp(ocids[i % 4], arg) == 0;
}

static int
m_kind(uint64_t i, const void *arg)
{
	return strcmp(kinds[i % 3], arg) == 0;
}

static int
m_party(uint64_t i, const void *arg)
{
	return strcmp(arg, "KZ-BIN-1") == 0 || strcmp(bins[i % 5], arg) == 0;
}

static int
m_item(uint64_t i, const void *arg)
{
	(void)arg;
	return i % 2 == 1;
}

static int
m_none(uint64_t i, const void *arg)
{
	(void)i;
	(void)arg;
	return 0;
}

static void
check_all_scans(struct fixture *f)
{
	uint64_t idx;
	size_t i;

	for (i = 0; i < 4; i++)
		expect_scan(f->st, ST_IDX_OCID, ocids[i], m_ocid, ocids[i]);
	for (i = 0; i < 3; i++)
		expect_scan(f->st, ST_IDX_KIND, kinds[i], m_kind, kinds[i]);
	for (i = 0; i < 5; i++)
		expect_scan(f->st, ST_IDX_PARTY, bins[i], m_party, bins[i]);
	expect_scan(f->st, ST_IDX_ITEM, "ATC:J01CA04", m_item, NULL);
	for (i = 0; i < N; i++) {
		assert_int_equal(
		    st_find_envelope(f->st, f->a[i].envelope_hash, &idx), 0);
		assert_int_equal(idx, i);
	}
}

static void
test_indexes(void **state)
{
	struct fixture *f = *state;
	uint64_t got[N + 1];
	size_t n, i;

	append_all(f);
	check_all_scans(f);
	/* The same answers after reopening, with the buffer replayed from
	 * the journal or merged by the next batches. */
	reopen(f, 0);
	check_all_scans(f);
	reopen(f, 1);
	check_all_scans(f);
	append_plain(f, 1000, 3);
	check_all_scans(f);
	for (i = 0; i < 3; i++)
		expect_scan(f->st, ST_IDX_KIND, kinds[i], m_kind, kinds[i]);
	for (i = 0; i < 5; i++)
		expect_scan(f->st, ST_IDX_PARTY, bins[i], m_party, bins[i]);
	expect_scan(f->st, ST_IDX_ITEM, "ATC:J01CA04", m_item, NULL);
	expect_scan(f->st, ST_IDX_ITEM, "ATC:J01CA0", m_none, NULL);
	expect_scan(f->st, ST_IDX_OCID, "ocds-e", m_none, NULL);
	/* Keys of one index are not found in another. */
	expect_scan(f->st, ST_IDX_KIND, "ocds-a", m_none, NULL);
	assert_int_equal(
	    st_scan(f->st, ST_IDX_OCID, "", ST_SCAN_START, 5, got, &n),
	    PR_EINVAL);
	assert_int_equal(
	    st_scan(f->st, (enum st_index)9, "x", ST_SCAN_START, 5, got, &n),
	    PR_EINVAL);
	assert_int_equal(
	    st_scan(f->st, ST_IDX_OCID, "ocds-a", ST_SCAN_START, 0, NULL, &n),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    st_scan(f->st, ST_IDX_OCID, "ocds-a", UINT64_MAX - 1, 5, got, &n),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    st_scan_desc(f->st, ST_IDX_OCID, "ocds-a", 0, 5, got, &n), 0);
	assert_int_equal(n, 0);
}

static void
expect_time(struct st_store *st, uint64_t from, uint64_t to, size_t page)
{
	uint64_t got[N + 1], cur = ST_SCAN_START;
	size_t n, total = 0, i, nw = 0;
	uint64_t want[N];

	for (i = 0; i < N; i++)
		if (time_of(i) >= from && time_of(i) < to)
			want[nw++] = i;
	for (;;) {
		assert_int_equal(
		    st_scan_time(st, from, to, cur, page, got + total, &n), 0);
		if (n == 0)
			break;
		total += n;
		cur = got[total - 1];
	}
	assert_int_equal(total, nw);
	if (nw > 0)
		assert_memory_equal(got, want, nw * sizeof(uint64_t));
}

static void
test_time(void **state)
{
	struct fixture *f = *state;
	struct st_appended r[1];
	uint64_t size, size2;

	append_all(f);
	expect_time(f->st, 0, UINT64_MAX, 7);
	expect_time(f->st, 1000, 1001, 1);
	expect_time(f->st, 1005, 1010, 2);
	expect_time(f->st, 1010, 1040, 4);
	expect_time(f->st, 1125, 1131, 3);
	expect_time(f->st, 1130, 5000, 3);
	expect_time(f->st, 5000, 6000, 3);
	expect_time(f->st, 1020, 1020, 3);
	/* Log time may not go backwards. */
	assert_int_equal(st_tree(f->st, &size, NULL), 0);
	fill(f, 100);
	f->a[0].log_time_ms = time_of(N - 1) - 1;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 1, tst_sign, NULL, r, NULL, NULL),
	    PR_ERANGE);
	f->a[0].log_time_ms = time_of(N - 1);
	f->a[1].log_time_ms = time_of(N - 1) - 1;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, tst_sign, NULL, r, NULL, NULL),
	    PR_ERANGE);
	assert_int_equal(st_tree(f->st, &size2, NULL), 0);
	assert_int_equal(size2, size);
}

static void
test_dedupe(void **state)
{
	struct fixture *f = *state;
	struct tst_signer sg = {0, 0};
	struct st_appended r[4];
	struct st_append b[4];
	struct st_stats s;
	struct st_kv kv = {"dup-state", 9, "x", 1};
	struct pr_buf v = PR_BUF_INIT;
	uint64_t size, n, got[4];
	pr_hash root, root2;
	size_t k;

	fill(f, 0);
	b[0] = f->a[0];
	b[1] = f->a[1];
	b[2] = f->a[0]; /* same envelope, other bytes and keys */
	b[2].entry = f->e[5];
	b[2].ocid = "ocds-dup";
	b[2].state = &kv;
	b[2].nstate = 1;
	b[3] = f->a[2];
	assert_int_equal(
	    st_append_batch(f->st, b, 4, tst_sign, &sg, r, &size, root), 0);
	assert_int_equal(size, 3);
	assert_int_equal(sg.calls, 1);
	assert_false(r[0].duplicate);
	assert_true(r[2].duplicate);
	assert_int_equal(r[2].index, r[0].index);
	assert_memory_equal(r[2].leaf_hash, r[0].leaf_hash, PR_HASH_LEN);
	assert_int_equal(r[3].index, 2);
	/* Across batches, with one new entry. */
	b[0] = f->a[1];
	b[1] = f->a[3];
	assert_int_equal(
	    st_append_batch(f->st, b, 2, tst_sign, &sg, r, &size, root), 0);
	assert_true(r[0].duplicate);
	assert_int_equal(r[0].index, 1);
	assert_false(r[1].duplicate);
	assert_int_equal(r[1].index, 3);
	assert_int_equal(size, 4);
	assert_int_equal(sg.calls, 2);
	/* All duplicates: nothing written, nothing signed. */
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_int_equal(s.checkpoints, 2);
	for (k = 0; k < 4; k++)
		b[k] = f->a[3 - k];
	assert_int_equal(
	    st_append_batch(f->st, b, 4, tst_sign, &sg, r, &size, root2), 0);
	assert_int_equal(sg.calls, 2);
	assert_int_equal(size, 4);
	assert_memory_equal(root, root2, PR_HASH_LEN);
	for (k = 0; k < 4; k++) {
		assert_true(r[k].duplicate);
		assert_int_equal(r[k].index, 3 - k);
		assert_int_equal(st_leaf_hash(f->st, 3 - k, root2), 0);
		assert_memory_equal(r[k].leaf_hash, root2, PR_HASH_LEN);
	}
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_int_equal(s.checkpoints, 2);
	assert_int_equal(s.tree_size, 4);
	/* The duplicate's keys and state were not written. */
	assert_int_equal(
	    st_scan(f->st, ST_IDX_OCID, "ocds-dup", ST_SCAN_START, 4, got, &k),
	    0);
	assert_int_equal(k, 0);
	assert_int_equal(st_state_get(f->st, "dup-state", 9, &v), PR_ENOTFOUND);
	assert_int_equal(st_find_envelope(f->st, f->a[3].envelope_hash, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(
	    st_find_envelope(f->st, f->a[4].envelope_hash, &n), PR_ENOTFOUND);
	/* Everything merged into the DBs: duplicates are still found. */
	reopen(f, 1);
	append_plain(f, 1000, 2);
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_int_equal(s.index_pending, 2);
	b[0] = f->a[2];
	b[1] = f->a[4];
	b[1].log_time_ms = 1u << 30;
	assert_int_equal(
	    st_append_batch(f->st, b, 2, tst_sign, &sg, r, &size, root), 0);
	assert_true(r[0].duplicate);
	assert_int_equal(r[0].index, 2);
	assert_false(r[1].duplicate);
	assert_int_equal(r[1].index, 6);
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_int_equal(s.index_pending, 1);
	assert_int_equal(st_find_envelope(f->st, f->a[4].envelope_hash, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(st_find_envelope(f->st, f->a[1].envelope_hash, &n), 0);
	assert_int_equal(n, 1);
	pr_buf_free(&v);
}

struct seen {
	char keys[8][32];
	char vals[8][32];
	size_t n;
	size_t stop;
};

static int
state_cb(void *ctx, const void *k, size_t klen, const void *v, size_t vlen)
{
	struct seen *s = ctx;

	if (s->n == s->stop)
		return 1;
	assert_true(s->n < 8 && klen < 32 && vlen < 32);
	memcpy(s->keys[s->n], k, klen);
	s->keys[s->n][klen] = '\0';
	memcpy(s->vals[s->n], v, vlen);
	s->vals[s->n][vlen] = '\0';
	s->n++;
	return 0;
}

static void
test_state(void **state)
{
	struct fixture *f = *state;
	struct st_kv kv0[] = {{"head/ocds-a", 11, "0", 1},
	    {"key/abc", 7, "grant", 5}, {"head/ocds-b", 11, "x", 1},
	    {"head/ocds-b", 11, "0b", 2}};
	struct st_kv kv1[] = {{"head/ocds-a", 11, "1", 1},
	    {"key/abc", 7, "", 0}, {"bid/1", 5, "commit", 6}};
	struct st_appended r[2];
	struct pr_buf v = PR_BUF_INIT;
	struct seen s;

	fill(f, 0);
	f->a[0].state = kv0;
	f->a[0].nstate = 4;
	f->a[1].state = kv1;
	f->a[1].nstate = 3;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 1, tst_sign, NULL, r, NULL, NULL), 0);
	assert_int_equal(st_state_get(f->st, "head/ocds-a", 11, &v), 0);
	assert_int_equal(v.len, 1);
	assert_memory_equal(v.data, "0", 1);
	assert_int_equal(
	    st_append_batch(f->st, f->a + 1, 1, tst_sign, NULL, r, NULL, NULL),
	    0);
	pr_buf_reset(&v);
	assert_int_equal(st_state_get(f->st, "head/ocds-a", 11, &v), 0);
	assert_int_equal(v.len, 1);
	assert_memory_equal(v.data, "1", 1);
	pr_buf_reset(&v);
	assert_int_equal(st_state_get(f->st, "key/abc", 7, &v), 0);
	assert_int_equal(v.len, 0);
	assert_int_equal(st_state_get(f->st, "head/ocds-b", 11, &v), 0);
	assert_int_equal(v.len, 2);
	assert_memory_equal(v.data, "0b", 2);
	assert_int_equal(st_state_get(f->st, "head/", 5, &v), PR_ENOTFOUND);
	assert_int_equal(st_state_get(f->st, "", 0, &v), PR_EINVAL);
	assert_int_equal(v.len, 2);
	memset(&s, 0, sizeof(s));
	s.stop = 99;
	assert_int_equal(st_state_scan(f->st, "head/", 5, state_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "head/ocds-a");
	assert_string_equal(s.vals[0], "1");
	assert_string_equal(s.keys[1], "head/ocds-b");
	assert_string_equal(s.vals[1], "0b");
	memset(&s, 0, sizeof(s));
	s.stop = 99;
	assert_int_equal(st_state_scan(f->st, NULL, 0, state_cb, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.keys[0], "bid/1");
	assert_string_equal(s.keys[3], "key/abc");
	memset(&s, 0, sizeof(s));
	s.stop = 1;
	assert_int_equal(st_state_scan(f->st, "", 0, state_cb, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	s.stop = 99;
	assert_int_equal(st_state_scan(f->st, "zzz", 3, state_cb, &s), 0);
	assert_int_equal(s.n, 0);
	pr_buf_free(&v);
}

static void
test_checkpoints(void **state)
{
	struct fixture *f = *state;
	struct tst_signer sg = {0, 0};
	struct pr_buf note = PR_BUF_INIT;
	struct st_appended r[N];
	struct st_stats s;
	uint64_t size, csize;
	pr_hash root, croot;

	/* A new log: an empty batch signs the empty tree, once. */
	assert_int_equal(
	    st_append_batch(f->st, NULL, 0, tst_sign, &sg, NULL, &size, root),
	    0);
	assert_int_equal(sg.calls, 1);
	assert_int_equal(size, 0);
	assert_int_equal(st_checkpoint_at(f->st, 0, &note), 0);
	assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
	assert_int_equal(csize, 0);
	assert_memory_equal(croot, root, PR_HASH_LEN);
	assert_int_equal(
	    st_append_batch(f->st, NULL, 0, tst_sign, &sg, NULL, &size, root),
	    0);
	assert_int_equal(sg.calls, 1);
	pr_buf_reset(&note);
	sg.calls = 0;
	fill(f, 0);
	assert_int_equal(
	    st_append_batch(f->st, f->a, 3, tst_sign, &sg, r, &size, root), 0);
	assert_int_equal(
	    st_append_batch(f->st, f->a + 3, 5, tst_sign, &sg, r, &size, root),
	    0);
	/* Unsigned batch: no checkpoint at 10. */
	assert_int_equal(
	    st_append_batch(f->st, f->a + 8, 2, NULL, NULL, r, &size, root), 0);
	assert_int_equal(size, 10);
	/* A failing signer aborts the batch. */
	sg.fail = PR_ECRYPTO;
	assert_int_equal(
	    st_append_batch(f->st, f->a + 10, 2, tst_sign, &sg, r, &size, root),
	    PR_ECRYPTO);
	assert_int_equal(st_tree(f->st, &size, NULL), 0);
	assert_int_equal(size, 10);
	sg.fail = 0;
	assert_int_equal(st_checkpoint(f->st, &note), 0);
	assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
	assert_int_equal(csize, 8);
	assert_int_equal(st_root_at(f->st, 8, root), 0);
	assert_memory_equal(root, croot, PR_HASH_LEN);
	pr_buf_reset(&note);
	assert_int_equal(st_checkpoint_at(f->st, 3, &note), 0);
	assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
	assert_int_equal(csize, 3);
	assert_int_equal(st_root_at(f->st, 3, root), 0);
	assert_memory_equal(root, croot, PR_HASH_LEN);
	pr_buf_reset(&note);
	assert_int_equal(st_checkpoint_at(f->st, 10, &note), PR_ENOTFOUND);
	assert_int_equal(st_checkpoint_at(f->st, 4, &note), PR_ENOTFOUND);
	assert_int_equal(note.len, 0);
	assert_int_equal(
	    st_append_batch(f->st, f->a + 10, 2, tst_sign, &sg, r, &size, root),
	    0);
	assert_int_equal(st_checkpoint(f->st, &note), 0);
	assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
	assert_int_equal(csize, 12);
	assert_memory_equal(root, croot, PR_HASH_LEN);
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_int_equal(s.checkpoints, 4);
	assert_int_equal(s.signed_size, 12);
	assert_false(s.signed_pending);
	pr_buf_free(&note);
}

static void
test_arguments(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[ST_ENTRY_MAX + 1];
	char longkey[ST_KEY_MAX + 2];
	struct st_kv kv = {longkey, ST_KEY_MAX + 1, "", 0};
	struct st_appended r[2];
	const char *bad[] = {"ok", ""};
	uint64_t size;
	pr_hash root;

	fill(f, 0);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	f->a[1].entry = big;
	f->a[1].entry_len = sizeof(big);
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_ETOOBIG);
	f->a[1].entry_len = ST_ENTRY_MAX;
	f->a[1].ocid = longkey;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_ETOOBIG);
	f->a[1].ocid = "";
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_EINVAL);
	f->a[1].ocid = "o";
	f->a[1].parties = bad;
	f->a[1].nparties = 2;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_EINVAL);
	f->a[1].parties = NULL;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_EINVAL);
	f->a[1].nparties = 0;
	f->a[1].state = &kv;
	f->a[1].nstate = 1;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_ETOOBIG);
	kv.klen = 0;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL),
	    PR_EINVAL);
	assert_int_equal(
	    st_append_batch(f->st, NULL, 2, NULL, NULL, r, NULL, NULL),
	    PR_EINVAL);
	assert_int_equal(st_tree(f->st, &size, NULL), 0);
	assert_int_equal(size, 0);
	/* A maximal entry is fine; an empty batch is a no-op. */
	f->a[1].nstate = 0;
	assert_int_equal(
	    st_append_batch(f->st, f->a, 2, NULL, NULL, r, NULL, NULL), 0);
	assert_int_equal(
	    st_append_batch(f->st, NULL, 0, tst_sign, NULL, NULL, &size, root),
	    0);
	assert_int_equal(size, 2);
}

/* Readers in threads while the writer appends and grows the map. */
struct reader {
	struct st_store *st;
	_Atomic int *stop;
	_Atomic uint64_t reads;
	_Atomic int err;
};

/*
 * Wait until every reader has read once more since mark[] (or failed):
 * the readers run during the appends however the threads are scheduled.
 */
static void
wait_readers(struct reader *rd, uint64_t *mark, int n)
{
	const struct timespec pace = {0, 100000};
	int k;

	for (k = 0; k < n; k++) {
		/* Poll, not spin: under valgrind, whose threads take turns,
		 * a thread that only yields can starve the readers. */
		while (atomic_load(&rd[k].reads) <= mark[k] &&
		    atomic_load(&rd[k].err) == 0)
			nanosleep(&pace, NULL);
		mark[k] = atomic_load(&rd[k].reads);
	}
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct pr_buf b = PR_BUF_INIT;
	pr_hash proof[PR_MERKLE_MAX_PROOF], root, leaf, h;
	uint64_t size, last = 0, i, idx;
	size_t len;
	int rc;

	while (!atomic_load(rd->stop) && atomic_load(&rd->err) == 0) {
		if ((rc = st_tree(rd->st, &size, root)) != 0 || size < last) {
			rd->err = rc ? rc : -1;
			break;
		}
		last = size;
		if (size == 0)
			continue;
		i = (atomic_load(&rd->reads) * 7919) % size;
		pr_buf_reset(&b);
		if ((rc = st_entry(rd->st, i, &b)) != 0 ||
		    (rc = st_leaf_hash(rd->st, i, leaf)) != 0 ||
		    (rc = st_inclusion_proof(rd->st, i, size, proof, &len)) !=
		        0 ||
		    (rc = pr_merkle_verify_inclusion(
		         i, size, leaf, proof, len, root)) != 0)
			rd->err = rc;
		/* A committed entry's envelope is found (the writer's filter
		 * has its bits), one never stored is not. */
		tst_envelope(i, h);
		if ((rc = st_find_envelope(rd->st, h, &idx)) != 0 || idx != i)
			rd->err = rc ? rc : -2;
		tst_envelope(1000000 + i, h);
		if (st_find_envelope(rd->st, h, &idx) != PR_ENOTFOUND)
			rd->err = -3;
		rd->reads++;
	}
	pr_buf_free(&b);
	return NULL;
}

static void
test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct reader rd[3];
	struct st_append a[200];
	struct st_appended r[200];
	struct st_stats s;
	static uint8_t big[200][1500];
	pthread_t th[3];
	_Atomic int stop = 0;
	uint64_t i, j, mark[3] = {0, 0, 0};
	int k, rc = 0;

	/* Under memcheck the threads take turns on one lock, so the
	 * interleavings this test is about do not happen, and it waits on
	 * the readers for many minutes; the ASan build runs it. */
	if (getenv("VALGRIND") != NULL && strcmp(getenv("VALGRIND"), "1") == 0)
		skip();

	for (k = 0; k < 3; k++) {
		rd[k].st = f->st;
		rd[k].stop = &stop;
		atomic_init(&rd[k].reads, 0);
		atomic_init(&rd[k].err, 0);
		assert_int_equal(
		    pthread_create(&th[k], NULL, reader_main, &rd[k]), 0);
	}
	memset(a, 0, sizeof(a));
	for (i = 0; i < 40 && rc == 0; i++) {
		for (j = 0; j < 200; j++) {
			memset(big[j], (int)j, sizeof(big[j]));
			pr_store_be64(big[j], i * 200 + j);
			a[j].entry = big[j];
			a[j].entry_len = sizeof(big[j]);
			tst_envelope(i * 200 + j, a[j].envelope_hash);
		}
		rc = st_append_batch(
		    f->st, a, 200, tst_sign, NULL, r, NULL, NULL);
		/* Every reader reads between these batches, while the map
		 * grows. */
		if (rc == 0 && i % 8 == 0)
			wait_readers(rd, mark, 3);
	}
	atomic_store(&stop, 1);
	/* All joined before any assertion can leave the test. */
	for (k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	assert_int_equal(rc, 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(atomic_load(&rd[k].err), 0);
		assert_true(atomic_load(&rd[k].reads) >= 5);
	}
	assert_int_equal(st_stats(f->st, &s), 0);
	assert_true(s.map_size > (1 << 20));
	assert_int_equal(s.tree_size, 8000);
}

/*
 * Merges are paced from the first entries on: with the default buffer
 * (far larger than these entries' items) the entries not yet merged stay
 * under half the log (plus the smallest span, 4,096), where unpaced
 * merging would leave all of them buffered.  Every entry stays findable
 * by envelope, through the buffer or the DBs, and after a reopen.
 */
static void
test_paced(void **state)
{
	struct fixture *f = *state;
	enum { TOTAL = 24000, BATCH = 400 };
	struct st_append *a = calloc(BATCH, sizeof(*a));
	struct st_appended *r = calloc(BATCH, sizeof(*r));
	uint8_t(*e)[64] = calloc(BATCH, sizeof(*e));
	struct st_stats s;
	uint64_t i, k, idx;
	pr_hash h;

	assert_non_null(a);
	assert_non_null(r);
	assert_non_null(e);
	for (i = 0; i < TOTAL; i += BATCH) {
		for (k = 0; k < BATCH; k++) {
			a[k].entry = e[k];
			a[k].entry_len = tst_entry(i + k, e[k]);
			tst_envelope(i + k, a[k].envelope_hash);
			a[k].log_time_ms = 1000 + i + k;
			a[k].ocid = ocids[k % 4];
		}
		assert_int_equal(st_append_batch(f->st, a, BATCH, tst_sign,
		                     NULL, r, NULL, NULL),
		    0);
		assert_int_equal(st_stats(f->st, &s), 0);
		assert_true(s.index_pending <= (i + BATCH) / 2 + 4096 + BATCH);
	}
	assert_int_equal(st_stats(f->st, &s), 0);
	/* A shard waits for about a span of the log as it was when it was
	 * last merged: at the end, about 0.4 of the log is buffered. */
	assert_true(s.index_pending >= TOTAL / 4);
	for (i = 0; i < TOTAL; i += 997) {
		tst_envelope(i, h);
		assert_int_equal(st_find_envelope(f->st, h, &idx), 0);
		assert_int_equal(idx, i);
	}
	reopen(f, 0);
	for (i = 0; i < TOTAL; i += 991) {
		tst_envelope(i, h);
		assert_int_equal(st_find_envelope(f->st, h, &idx), 0);
		assert_int_equal(idx, i);
	}
	free(a);
	free(r);
	free(e);
}

#define T3(f)                                                                  \
	cmocka_unit_test_prestate_setup_teardown(                              \
	    f, setup, teardown, (void *)&buf_default),                         \
	    cmocka_unit_test_prestate_setup_teardown(                          \
	        f, setup, teardown, (void *)&buf_none),                        \
	    cmocka_unit_test_prestate_setup_teardown(                          \
	        f, setup, teardown, (void *)&buf_some)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T3(test_indexes),
	    T3(test_time),
	    T3(test_dedupe),
	    T3(test_state),
	    T3(test_checkpoints),
	    T3(test_arguments),
	    T3(test_concurrent),
	    cmocka_unit_test_prestate_setup_teardown(
	        test_paced, setup, teardown, (void *)&buf_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
