/*
 * Unit tests: store/ rollback protection, hot backup, read-only opens
 * (offline audit), and a reader process following a writer process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "store_test.h"

static uint8_t ebuf[100][600];

static int
append(struct st_store *st, uint64_t base, size_t n, uint8_t salt)
{
	struct st_append a[100];
	struct st_appended r[100];
	size_t k;

	memset(a, 0, sizeof(a));
	for (k = 0; k < n; k++) {
		memset(ebuf[k], salt, sizeof(ebuf[k]));
		pr_store_be64(ebuf[k], base + k);
		a[k].entry = ebuf[k];
		a[k].entry_len = sizeof(ebuf[k]);
		tst_envelope(
		    (base + k) ^ ((uint64_t)salt << 40), a[k].envelope_hash);
		a[k].ocid = "ocds-rb";
		a[k].kind = (base + k) % 2 ? "award" : "tender";
	}
	return st_append_batch(st, a, n, tst_sign, NULL, r, NULL, NULL);
}

static void
path(char *out, const char *dir, const char *name)
{
	snprintf(out, 4096, "%s/%s", dir, name);
}

static void
put_file(const char *fromdir, const char *todir, const char *name)
{
	char a[4096], b[4096];

	path(a, fromdir, name);
	path(b, todir, name);
	assert_int_equal(tst_copy(a, b), 0);
}

static int
open_msg(
    const char *dir, int readonly, struct st_store **st, struct pr_buf *msg)
{
	struct st_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.readonly = readonly;
	cfg.errmsg = msg;
	return st_open(&cfg, st);
}

static void
test_rollback(void **state)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_store *st;
	char *dir, *bak, *other, p[4096];
	uint64_t size;

	(void)state;
	dir = tst_mkdtemp();
	bak = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 10, 1), 0);
	assert_int_equal(st_backup(st, bak), 0);
	assert_int_equal(st_backup(st, bak), PR_EEXIST);
	put_file(dir, bak, "signed-tree"); /* the tree signed by then */
	assert_int_equal(append(st, 10, 10, 1), 0);
	st_close(st);

	/* The backup alone is refused: nothing says which trees the log
	 * signed after it was taken. */
	other = tst_mkdtemp();
	put_file(bak, other, "data.mdb");
	assert_int_equal(open_msg(other, 0, &st, &msg), PR_EROLLBACK);
	assert_non_null(strstr((char *)msg.data, "signed-tree is missing"));
	pr_buf_reset(&msg);
	/* With the tree signed when it was taken, it is a working store. */
	put_file(bak, other, "signed-tree");
	assert_int_equal(tst_open(other, 0, &st), 0);
	assert_int_equal(st_tree(st, &size, NULL), 0);
	assert_int_equal(size, 10);
	/* ... which diverges once extended with other entries. */
	assert_int_equal(append(st, 10, 15, 2), 0);
	st_close(st);

	/* Old backup restored under the newer signed-tree: refused. */
	put_file(bak, dir, "data.mdb");
	path(p, dir, "lock.mdb");
	unlink(p);
	assert_int_equal(open_msg(dir, 0, &st, &msg), PR_EROLLBACK);
	assert_non_null(strstr((char *)msg.data,
	    "store holds 10 entries but "
	    "this log already signed a "
	    "checkpoint of 20"));
	assert_non_null(strstr((char *)msg.data, "restore the newest backup"));
	pr_buf_reset(&msg);
	assert_int_equal(open_msg(dir, 1, &st, &msg), PR_EROLLBACK);

	/* A diverged store, larger than the signed tree: refused too. */
	put_file(dir, other, "signed-tree");
	pr_buf_reset(&msg);
	assert_int_equal(open_msg(other, 0, &st, &msg), PR_EROLLBACK);
	assert_non_null(strstr((char *)msg.data, "tree at size 20 differs"));

	/* A damaged signed-tree file is not silently replaced. */
	path(p, other, "signed-tree");
	assert_int_equal(tst_copy("/dev/null", p), 0);
	pr_buf_reset(&msg);
	assert_int_equal(open_msg(other, 0, &st, &msg), PR_ECORRUPT);
	assert_non_null(strstr((char *)msg.data, "signed-tree"));
	pr_buf_free(&msg);
	tst_rmtree(other);
	free(other);
	tst_rmtree(bak);
	free(bak);
	tst_rmtree(dir);
	free(dir);
}

/* Flip one byte of signed-tree at off. */
static void
flip(const char *dir, long off)
{
	char p[4096];
	FILE *f;
	int c;

	path(p, dir, "signed-tree");
	assert_non_null(f = fopen(p, "r+b"));
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	fputc(c ^ 1, f);
	fclose(f);
}

/* The offset of the slot holding the latest record (highest seq). */
static long
latest_slot(const char *dir)
{
	unsigned long long seq[2] = {0, 0};
	char p[4096], buf[384];
	FILE *f;
	int k;

	path(p, dir, "signed-tree");
	assert_non_null(f = fopen(p, "rb"));
	assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
	fclose(f);
	for (k = 0; k < 2; k++) {
		buf[k * 192 + 191] = '\0';
		if (sscanf(buf + k * 192, "procured signed-tree 2 %llu",
		        &seq[k]) != 1)
			seq[k] = 0;
	}
	assert_true(seq[0] != seq[1]);
	return seq[1] > seq[0] ? 192 : 0;
}

/* A torn write of one slot leaves the previous record. */
static void
test_torn_signed(void **state)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_stats s;
	struct st_store *st;
	char *dir;

	(void)state;
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 5, 5), 0);
	assert_int_equal(append(st, 5, 5, 5), 0);
	assert_int_equal(append(st, 10, 5, 5), 0);
	st_close(st);
	/* Damage the latest record (the two slots take turns). */
	flip(dir, latest_slot(dir) + 40);
	assert_int_equal(tst_open(dir, 1, &st), 0);
	assert_int_equal(st_stats(st, &s), 0);
	assert_int_equal(s.signed_size, 10);
	st_close(st);
	/* A read-write open brings it back up to the latest checkpoint. */
	assert_int_equal(tst_open(dir, 0, &st), 0);
	st_close(st);
	assert_int_equal(tst_open(dir, 1, &st), 0);
	assert_int_equal(st_stats(st, &s), 0);
	assert_int_equal(s.signed_size, 15);
	st_close(st);
	/* Both slots damaged: refused. */
	flip(dir, 40);
	flip(dir, 192 + 40);
	assert_int_equal(open_msg(dir, 1, &st, &msg), PR_ECORRUPT);
	assert_non_null(strstr((char *)msg.data, "not a valid signed-tree"));
	pr_buf_free(&msg);
	tst_rmtree(dir);
	free(dir);
}

/* Recovery as procured(8) describes it: the newest backup, and the
 * latest published checkpoint written into signed-tree by hand. */
static void
test_manual_signed(void **state)
{
	char hex[2 * PR_HASH_LEN + 1], p[4096];
	struct pr_buf msg = PR_BUF_INIT;
	struct st_store *st;
	struct stat sb;
	char *dir, *bak, *fresh;
	uint64_t size;
	pr_hash root;
	FILE *f;

	(void)state;
	dir = tst_mkdtemp();
	bak = tst_mkdtemp();
	fresh = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 7, 6), 0);
	assert_int_equal(st_backup(st, bak), 0);
	assert_int_equal(st_tree(st, &size, root), 0);
	st_close(st);
	put_file(bak, fresh, "data.mdb");
	/* Without signed-tree a read-write open is refused ... */
	assert_int_equal(open_msg(fresh, 0, &st, &msg), PR_EROLLBACK);
	assert_non_null(strstr((char *)msg.data, "signed-tree is missing"));
	/* ... a hand-written one claiming more entries too ... */
	path(p, fresh, "signed-tree");
	pr_hex_encode(root, PR_HASH_LEN, hex);
	assert_non_null(f = fopen(p, "w"));
	fprintf(f, "procured signed-tree 1\n%llu %s\n",
	    (unsigned long long)size + 1, hex);
	fclose(f);
	assert_int_equal(open_msg(fresh, 0, &st, &msg), PR_EROLLBACK);
	/* ... and the true one is accepted, then kept in the new form. */
	assert_non_null(f = fopen(p, "w"));
	fprintf(f, "procured signed-tree 1\n%llu %s\n",
	    (unsigned long long)size, hex);
	fclose(f);
	assert_int_equal(tst_open(fresh, 0, &st), 0);
	assert_int_equal(append(st, 7, 3, 6), 0);
	st_close(st);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 384);
	assert_int_equal(tst_open(fresh, 0, &st), 0);
	assert_int_equal(st_tree(st, &size, NULL), 0);
	assert_int_equal(size, 10);
	st_close(st);
	pr_buf_free(&msg);
	tst_rmtree(fresh);
	free(fresh);
	tst_rmtree(bak);
	free(bak);
	tst_rmtree(dir);
	free(dir);
}

static void
test_readonly(void **state)
{
	struct pr_buf msg = PR_BUF_INIT, b = PR_BUF_INIT;
	struct st_appended r[1];
	struct st_append a;
	struct st_store *st;
	struct stat sb;
	char *dir, *copy, p[4096];
	uint64_t size, bad;

	(void)state;
	dir = tst_mkdtemp();
	/* Nothing there: refused, and nothing created. */
	assert_int_equal(open_msg(dir, 1, &st, &msg), PR_ENOTFOUND);
	assert_non_null(strstr((char *)msg.data, "holds no store"));
	path(p, dir, "lock.mdb");
	assert_int_equal(stat(p, &sb), -1);
	assert_int_equal(
	    open_msg("/nonexistent/st", 0, &st, &msg), PR_ENOTFOUND);

	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 50, 3), 0);
	st_close(st);
	/* An offline copy without signed-tree: readable, left untouched. */
	copy = tst_mkdtemp();
	put_file(dir, copy, "data.mdb");
	assert_int_equal(tst_open(copy, 1, &st), 0);
	assert_int_equal(st_tree(st, &size, NULL), 0);
	assert_int_equal(size, 50);
	assert_int_equal(st_entry(st, 49, &b), 0);
	assert_int_equal(pr_load_be64(b.data), 49);
	assert_int_equal(st_verify(st, &bad, NULL), 0);
	memset(&a, 0, sizeof(a));
	a.entry = (const uint8_t *)"x";
	a.entry_len = 1;
	assert_int_equal(
	    st_append_batch(st, &a, 1, tst_sign, NULL, r, NULL, NULL),
	    PR_EINVAL);
	st_close(st);
	path(p, copy, "signed-tree");
	assert_int_equal(stat(p, &sb), -1);
	pr_buf_free(&msg);
	pr_buf_free(&b);
	tst_rmtree(copy);
	free(copy);
	tst_rmtree(dir);
	free(dir);
}

/* A read-only store sees the writer's index entries for 0..n-1. */
static void
follow_check(struct st_store *ro, uint64_t n)
{
	uint64_t out[4], idx, i;
	size_t got, k;
	pr_hash h;

	for (i = 0; i < n; i += 1 + i / 3) {
		tst_envelope(i ^ ((uint64_t)4 << 40), h);
		assert_int_equal(st_find_envelope(ro, h, &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(
	    st_scan_desc(ro, ST_IDX_OCID, "ocds-rb", ST_SCAN_END, 4, out, &got),
	    0);
	assert_int_equal(got, 4);
	assert_int_equal(out[0], n - 1);
	assert_int_equal(out[3], n - 4);
	/* "award": the odd indexes. */
	assert_int_equal(
	    st_scan(ro, ST_IDX_KIND, "award", n / 2, 4, out, &got), 0);
	for (i = n / 2 + 1, k = 0; i < n && k < 4; i++)
		if (i % 2 == 1)
			assert_int_equal(out[k++], i);
	assert_int_equal(got, k);
}

/*
 * A reader process holds the store open read-only while a writer process
 * appends enough to grow the map past the reader's mapping.
 */
static void
test_two_processes(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	struct st_config cfg;
	struct st_store *st, *ro;
	int go[2], status;
	uint64_t size, i;
	char c = 0;
	pid_t pid;
	char *dir;

	(void)state;
	dir = tst_mkdtemp();
	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(append(st, 0, 10, 4), 0);
	st_close(st);
	assert_int_equal(pipe(go), 0);
	if ((pid = fork()) == 0) {
		/* The writer: waits until the reader has opened. */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		memset(&cfg, 0, sizeof(cfg));
		cfg.dir = dir;
		cfg.map_size_initial = 1 << 20;
		cfg.index_buffer_max = 50000; /* merges as it goes */
		if (st_open(&cfg, &st) != 0)
			_exit(3);
		for (i = 10; i < 20010; i += 100)
			if (append(st, i, 100, 4) != 0)
				_exit(4);
		st_close(st);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(tst_open(dir, 1, &ro), 0);
	assert_int_equal(st_tree(ro, &size, NULL), 0);
	assert_int_equal(size, 10);
	follow_check(ro, 10);
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(st_tree(ro, &size, NULL), 0);
	assert_int_equal(size, 20010);
	assert_int_equal(st_entry(ro, 20009, &b), 0);
	assert_int_equal(pr_load_be64(b.data), 20009);
	/* Indexes as the writer left them, merged or in its journal. */
	follow_check(ro, 20010);
	st_close(ro);
	close(go[0]);
	close(go[1]);
	pr_buf_free(&b);
	tst_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollback),
	    cmocka_unit_test(test_torn_signed),
	    cmocka_unit_test(test_manual_signed),
	    cmocka_unit_test(test_readonly),
	    cmocka_unit_test(test_two_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
