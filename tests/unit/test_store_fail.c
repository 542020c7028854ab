/*
 * Unit tests: store/ under failure: map full, disk full (ENOSPC injected
 * by interposing the write calls LMDB and the store make), an unwritable
 * rollback file, corrupted data and an unknown schema version.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/st_int.h"
#include "store_test.h"

/*
 * Error injection.  These definitions take the place of the C library's
 * for this program and for liblmdb (the executable is searched first);
 * they pass through to the system calls unless a flag is set.  LMDB
 * writes its two meta pages at offsets below 8192 and data pages above;
 * the store's signed-tree file is the one of 384 bytes.
 */
static volatile int fail_data, fail_meta, fail_signed;

static int
is_signed_tree(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && sb.st_size == 384;
}

ssize_t
pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	if (fail_signed && is_signed_tree(fd)) {
		errno = ENOSPC;
		return -1;
	}
	if (!is_signed_tree(fd) &&
	    ((fail_meta && offset < 8192) || (fail_data && offset >= 8192))) {
		errno = ENOSPC;
		return -1;
	}
	return syscall(SYS_pwrite64, fd, buf, count, offset);
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fail_data) {
		errno = ENOSPC;
		return -1;
	}
	return syscall(SYS_writev, fd, iov, iovcnt);
}

#define EN 1000 /* entry bytes */

static uint8_t ebuf[64][EN];

/* n entries numbered from base, ~1 KB each. */
static void
batch(uint64_t base, size_t n, struct st_append *a)
{
	size_t k;

	memset(a, 0, n * sizeof(*a));
	for (k = 0; k < n; k++) {
		memset(ebuf[k], (int)(base + k), EN);
		pr_store_be64(ebuf[k], base + k);
		a[k].entry = ebuf[k];
		a[k].entry_len = EN;
		tst_envelope(base + k, a[k].envelope_hash);
		a[k].ocid = "ocds-x";
		a[k].kind = "tender";
	}
}

static int
append(struct st_store *st, uint64_t base, size_t n)
{
	struct st_append a[64];
	struct st_appended r[64];

	batch(base, n, a);
	return st_append_batch(st, a, n, tst_sign, NULL, r, NULL, NULL);
}

/* The store holds exactly entries 0..n-1 and verifies. */
static void
check_store(struct st_store *st, uint64_t n)
{
	struct pr_buf b = PR_BUF_INIT;
	uint64_t size, bad, cur, total, out[50], i;
	size_t got;
	pr_hash root, r2;

	assert_int_equal(st_tree(st, &size, root), 0);
	assert_int_equal(size, n);
	if (n > 0) {
		assert_int_equal(st_entry(st, n - 1, &b), 0);
		assert_int_equal(b.len, EN);
		assert_int_equal(pr_load_be64(b.data), n - 1);
	}
	assert_int_equal(st_root_at(st, n, r2), 0);
	assert_memory_equal(root, r2, PR_HASH_LEN);
	assert_int_equal(st_verify(st, &bad, NULL), 0);
	/* The indexes hold exactly entries 0..n-1. */
	for (cur = ST_SCAN_START, total = 0;; cur = out[got - 1]) {
		assert_int_equal(
		    st_scan(st, ST_IDX_OCID, "ocds-x", cur, 50, out, &got), 0);
		if (got == 0)
			break;
		for (i = 0; i < got; i++)
			assert_int_equal(out[i], total + i);
		total += got;
	}
	assert_int_equal(total, n);
	for (i = 0; i < n + 20; i += 7) {
		tst_envelope(i, r2);
		if (i < n) {
			assert_int_equal(st_find_envelope(st, r2, &size), 0);
			assert_int_equal(size, i);
		} else {
			assert_int_equal(
			    st_find_envelope(st, r2, &size), PR_ENOTFOUND);
		}
	}
	pr_buf_free(&b);
}

static void
test_mapfull(void **state)
{
	struct st_config cfg;
	struct st_stats s;
	struct st_store *st;
	uint64_t n = 0;
	char *dir;
	int rc = 0, i;

	(void)state;
	dir = tst_mkdtemp();
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.map_size_initial = 256 << 10;
	cfg.map_size_max = 1 << 20;
	assert_int_equal(st_open(&cfg, &st), 0);
	for (i = 0; i < 200 && (rc = append(st, n, 20)) == 0; i++)
		n += 20;
	assert_int_equal(rc, PR_EMAPFULL);
	assert_true(n > 0);
	assert_int_equal(st_stats(st, &s), 0);
	assert_int_equal(s.map_size, 1 << 20);
	assert_int_equal(s.map_size_max, 1 << 20);
	/* Intact and readable; the limit holds on retry. */
	check_store(st, n);
	assert_int_equal(append(st, n, 20), PR_EMAPFULL);
	check_store(st, n);
	/* Raising the limit lets appends resume. */
	assert_int_equal(st_set_map_size_max(st, 8 << 20), 0);
	assert_int_equal(append(st, n, 20), 0);
	n += 20;
	check_store(st, n);
	st_close(st);
	/* And across a reopen with the old limit, until it is reached. */
	assert_int_equal(st_open(&cfg, &st), 0);
	check_store(st, n);
	assert_int_equal(st_stats(st, &s), 0);
	assert_true(s.map_size > (1 << 20));
	st_close(st);
	tst_rmtree(dir);
	free(dir);
}

static void
test_enospc(void **state)
{
	struct st_config cfg;
	struct st_store *st;
	char *dir;

	(void)state;
	dir = tst_mkdtemp();
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.index_buffer_max = 3000; /* failing commits merge indexes too */
	assert_int_equal(st_open(&cfg, &st), 0);
	assert_int_equal(append(st, 0, 10), 0);
	/* Data pages fail to write. */
	fail_data = 1;
	assert_int_equal(append(st, 10, 10), PR_ENOSPC);
	assert_int_equal(append(st, 10, 30), PR_ENOSPC);
	fail_data = 0;
	check_store(st, 10);
	assert_int_equal(append(st, 10, 10), 0);
	check_store(st, 20);
	/* The meta page fails: LMDB's fatal state; the next call reopens. */
	fail_meta = 1;
	assert_int_equal(append(st, 20, 10), PR_ENOSPC);
	fail_meta = 0;
	check_store(st, 20);
	assert_int_equal(append(st, 20, 10), 0);
	fail_meta = 1;
	assert_int_equal(append(st, 30, 10), PR_ENOSPC);
	fail_meta = 0;
	assert_int_equal(append(st, 30, 10), 0);
	check_store(st, 40);
	st_close(st);
	assert_int_equal(tst_open(dir, 0, &st), 0);
	check_store(st, 40);
	st_close(st);
	tst_rmtree(dir);
	free(dir);
}

static void
read_signed(const char *dir, struct pr_buf *b)
{
	char path[4096], buf[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/signed-tree", dir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	pr_buf_reset(b);
	pr_buf_append(b, buf, n);
}

static void
test_signed_pending(void **state)
{
	struct pr_buf b = PR_BUF_INIT, want = PR_BUF_INIT;
	char hex[2 * PR_HASH_LEN + 1];
	struct st_stats s;
	struct st_store *st;
	uint64_t size;
	pr_hash root;
	char *dir;

	(void)state;
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 5), 0);
	/* Committed, but signed-tree cannot be replaced. */
	fail_signed = 1;
	assert_int_equal(append(st, 5, 5), 0);
	assert_int_equal(st_stats(st, &s), 0);
	assert_true(s.signed_pending);
	assert_int_equal(s.signed_size, 5);
	assert_int_equal(s.tree_size, 10);
	/* No further checkpoint is signed until it is. */
	assert_int_equal(append(st, 10, 5), PR_ENOSPC);
	assert_int_equal(st_stats(st, &s), 0);
	assert_int_equal(s.tree_size, 10);
	fail_signed = 0;
	assert_int_equal(append(st, 10, 5), 0);
	assert_int_equal(st_stats(st, &s), 0);
	assert_false(s.signed_pending);
	assert_int_equal(s.signed_size, 15);
	assert_int_equal(st_tree(st, &size, root), 0);
	pr_hex_encode(root, PR_HASH_LEN, hex);
	pr_buf_printf(&want, " 15 %s ", hex);
	read_signed(dir, &b);
	assert_int_equal(b.len, 384);
	assert_non_null(strstr((char *)b.data, (char *)want.data));
	assert_non_null(strstr((char *)b.data, "procured signed-tree 2 "));
	st_close(st);
	pr_buf_free(&b);
	pr_buf_free(&want);
	tst_rmtree(dir);
	free(dir);
}

/* A copy of data.mdb from src in a new directory. */
static char *
copy_store(const char *src)
{
	char a[4096], b[4096];
	char *dst = tst_mkdtemp();

	snprintf(a, sizeof(a), "%s/data.mdb", src);
	snprintf(b, sizeof(b), "%s/data.mdb", dst);
	assert_int_equal(tst_copy(a, b), 0);
	/* Without it a writable open refuses the copy (rollback). */
	snprintf(a, sizeof(a), "%s/signed-tree", src);
	snprintf(b, sizeof(b), "%s/signed-tree", dst);
	if (access(a, F_OK) == 0)
		assert_int_equal(tst_copy(a, b), 0);
	return dst;
}

/* Raw LMDB: XOR the byte at off of the value (or replace the value). */
static void
raw_edit(const char *dir, const char *db, const void *key, size_t klen,
    size_t off, const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t *copy;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 20), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	if (val == NULL) {
		assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
		assert_true(off < v.mv_size);
		copy = malloc(v.mv_size);
		memcpy(copy, v.mv_data, v.mv_size);
		copy[off] ^= 0x01;
		v.mv_data = copy;
	} else {
		copy = NULL;
		v.mv_data = (void *)val;
		v.mv_size = vlen;
	}
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);
}

static void
tile_key(uint8_t key[9], unsigned level, uint64_t n)
{
	key[0] = (uint8_t)level;
	pr_store_be64(key + 1, n);
}

static void
expect_open(const char *dir, int want, const char *phrase)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_config cfg;
	struct st_store *st = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.errmsg = &msg;
	assert_int_equal(st_open(&cfg, &st), want);
	if (want == 0) {
		st_close(st);
	} else {
		assert_null(st);
		assert_non_null(strstr((char *)msg.data, phrase));
	}
	pr_buf_free(&msg);
}

static void
expect_verify(const char *dir, uint64_t want, const char *phrase)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_store *st;
	uint64_t bad = 0;

	assert_int_equal(tst_open(dir, 1, &st), 0);
	assert_int_equal(st_verify(st, &bad, &msg), PR_ECORRUPT);
	assert_int_equal(bad, want);
	assert_non_null(strstr((char *)msg.data, phrase));
	st_close(st);
	pr_buf_free(&msg);
}

static void
test_corrupt(void **state)
{
	uint8_t key[9], ck[8];
	struct st_store *st;
	char *dir, *c;
	uint64_t i;

	(void)state;
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	for (i = 0; i < 1000; i += 50)
		assert_int_equal(append(st, i, 50), 0);
	st_close(st);
	expect_open(dir, 0, NULL);

	/* A hash on the root's path (level 3 of tile 3 covers 992..999). */
	c = copy_store(dir);
	tile_key(key, 0, 3);
	raw_edit(c, "tiles", key, 9, (232 + 116 + 58 + 28) * 32 + 5, NULL, 0);
	expect_open(c, PR_ECORRUPT, "does not hash to the stored root");
	tst_rmtree(c);
	free(c);

	/* A leaf hash deep inside: open passes, st_verify names it. */
	c = copy_store(dir);
	tile_key(key, 0, 0);
	raw_edit(c, "tiles", key, 9, 5 * 32, NULL, 0);
	expect_open(c, 0, NULL);
	expect_verify(c, 5, "entry 5 ");
	tst_rmtree(c);
	free(c);

	/* An entry's bytes (entry 3 starts at 3 * 1002 in the heap). */
	c = copy_store(dir);
	pr_store_be64(ck, 1);
	raw_edit(c, "entries", ck, 8, 3 * 1002 - 2022 + 2 + 100, NULL, 0);
	expect_verify(c, 3, "entry 3 ");
	tst_rmtree(c);
	free(c);

	/* An inner node (level 8, index 1), under the root's level 9. */
	c = copy_store(dir);
	tile_key(key, 1, 0);
	raw_edit(c, "tiles", key, 9, 32 + 7, NULL, 0);
	expect_open(c, 0, NULL);
	expect_verify(c, 256, "level 8, index 1");
	tst_rmtree(c);
	free(c);

	/* The latest checkpoint's root. */
	c = copy_store(dir);
	pr_store_be64(ck, 1000);
	raw_edit(c, "checkpoints", ck, 8, 8 + 31, NULL, 0);
	expect_open(c, PR_ECORRUPT, "latest checkpoint (size 1000)");
	tst_rmtree(c);
	free(c);

	/* An older checkpoint: only the deep check reads it. */
	c = copy_store(dir);
	pr_store_be64(ck, 500);
	raw_edit(c, "checkpoints", ck, 8, 8, NULL, 0);
	expect_open(c, 0, NULL);
	expect_verify(c, UINT64_MAX, "checkpoint of size 500");
	tst_rmtree(c);
	free(c);

	/* The tree head. */
	c = copy_store(dir);
	raw_edit(c, "meta", "head", 4, 20, NULL, 0);
	expect_open(c, PR_ECORRUPT, "does not hash to the stored root");
	tst_rmtree(c);
	free(c);

	/* The head's log time (its last byte): only the deep check. */
	c = copy_store(dir);
	raw_edit(c, "meta", "head", 4, 8 + 32 + 8 + 7, NULL, 0);
	expect_verify(c, UINT64_MAX, "log time");
	tst_rmtree(c);
	free(c);

	/* A merge mark (meta "ibuf", u64 BE W[s] at 8 + 8 s): moved by 256
	 * entries for the shard of "ocds-x", which every entry names, so
	 * some entries' items are then in the index DB against the mark or
	 * missing from it (or the mark is past the tree). */
	c = copy_store(dir);
	raw_edit(c, "meta", "ibuf", 4, 8 + 8 * sti_shard_term("ocds-x", 6) + 6,
	    NULL, 0);
	expect_verify(c, UINT64_MAX, "ibuf");
	tst_rmtree(c);
	free(c);

	tst_rmtree(dir);
	free(dir);
}

static void
test_version(void **state)
{
	uint8_t v[4];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char *dir, *c;

	(void)state;
	dir = tst_mkdtemp();
	expect_open(dir, 0, NULL);
	c = copy_store(dir);
	/* Version 1: SHA-256 record digests. */
	pr_store_be32(v, 1);
	raw_edit(c, "meta", "version", 7, 0, v, 4);
	expect_open(c, PR_EVERSION,
	    "schema version 1; this procured supports "
	    "version 2");
	tst_rmtree(c);
	free(c);
	c = copy_store(dir);
	pr_store_be32(v, 3);
	raw_edit(c, "meta", "version", 7, 0, v, 4);
	expect_open(c, PR_EVERSION,
	    "schema version 3; this procured supports "
	    "version 2");
	tst_rmtree(c);
	free(c);
	c = copy_store(dir);
	raw_edit(c, "meta", "version", 7, 0, "x", 1);
	expect_open(c, PR_ECORRUPT, "no schema version");
	tst_rmtree(c);
	free(c);
	/* Some other LMDB database. */
	c = tst_mkdtemp();
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, c, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "other", MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	expect_open(c, PR_ECORRUPT, "not a procured store");
	tst_rmtree(c);
	free(c);
	tst_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mapfull),
	    cmocka_unit_test(test_enospc),
	    cmocka_unit_test(test_signed_pending),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
