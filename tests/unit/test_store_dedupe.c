/*
 * Unit tests: store/ dedupe at scale, through the writer's envelope
 * filter (store/filter.c): duplicates of envelopes held in DB "envelope",
 * in the index buffer and earlier in the same batch are all found, across
 * the filter's growth (it is rebuilt past 65,536 hashes) and after a
 * reopen (it is rebuilt from the store), and with a buffer small enough
 * that most hashes are merged into the DB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test.h"

#define TOTAL 70000
#define BATCH 1000

static struct st_store *
open_store(const char *dir, uint64_t bufmax)
{
	struct st_config cfg;
	struct st_store *st;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.map_size_initial = 1 << 20;
	cfg.index_buffer_max = bufmax;
	assert_int_equal(st_open(&cfg, &st), 0);
	return st;
}

static void
set_entry(struct st_append *a, uint8_t *buf, uint64_t i)
{
	memset(a, 0, sizeof(*a));
	a->entry = buf;
	a->entry_len = tst_entry(i, buf);
	tst_envelope(i, a->envelope_hash);
	a->log_time_ms = 1000 + i;
}

/* Earlier envelopes (and one new one, twice) come back as duplicates. */
static void
check_dups(struct st_store *st, uint64_t size)
{
	static const uint64_t old[] = {0, 1, 4095, 12345, 65535, 65536, 69998};
	uint8_t e[7 + 2][32];
	struct st_append a[7 + 2];
	struct st_appended r[7 + 2];
	uint64_t n, idx;
	size_t k;

	for (k = 0; k < 7; k++) {
		set_entry(&a[k], e[k], old[k]);
		a[k].log_time_ms = 1000 + size; /* never earlier than the log */
	}
	set_entry(&a[7], e[7], size);
	set_entry(&a[8], e[8], size);
	a[8].entry = e[0]; /* same envelope, other bytes */
	assert_int_equal(st_append_batch(st, a, 9, NULL, NULL, r, &n, NULL), 0);
	assert_int_equal(n, size + 1);
	for (k = 0; k < 7; k++) {
		assert_true(r[k].duplicate);
		assert_int_equal(r[k].index, old[k]);
		assert_int_equal(
		    st_find_envelope(st, a[k].envelope_hash, &idx), 0);
		assert_int_equal(idx, old[k]);
	}
	assert_false(r[7].duplicate);
	assert_int_equal(r[7].index, size);
	assert_true(r[8].duplicate);
	assert_int_equal(r[8].index, size);
	assert_memory_equal(r[8].leaf_hash, r[7].leaf_hash, PR_HASH_LEN);
}

/* In run(): the index of envelope x (the last of every batch but the
 * first is a duplicate, so takes no index). */
static uint64_t
idx_of(uint64_t x)
{
	return x < BATCH ? x : x - (x / BATCH - 1);
}

static void
run(uint64_t bufmax)
{
	uint8_t(*e)[32] = calloc(BATCH, sizeof(*e));
	struct st_append *a = calloc(BATCH, sizeof(*a));
	struct st_appended *r = calloc(BATCH, sizeof(*r));
	struct st_store *st;
	char *dir = tst_mkdtemp();
	uint64_t i, n, idx;
	pr_hash h;
	size_t k;

	assert_non_null(e);
	assert_non_null(a);
	assert_non_null(r);
	st = open_store(dir, bufmax);
	for (i = 0; i < TOTAL; i += BATCH) {
		for (k = 0; k < BATCH; k++)
			set_entry(&a[k], e[k], i + k);
		/* The batch's last envelope repeats one of the batch before:
		 * found while the filter fills and grows. */
		if (i > 0)
			tst_envelope(i - 1 - i / BATCH % BATCH,
			    a[BATCH - 1].envelope_hash);
		assert_int_equal(
		    st_append_batch(st, a, BATCH, NULL, NULL, r, &n, NULL), 0);
		if (i > 0) {
			assert_true(r[BATCH - 1].duplicate);
			assert_int_equal(r[BATCH - 1].index,
			    idx_of(i - 1 - i / BATCH % BATCH));
		}
		assert_false(r[0].duplicate);
		assert_int_equal(r[0].index, i == 0 ? 0 : n - (BATCH - 1));
	}
	/* One entry a batch after the first was a duplicate. */
	assert_int_equal(n, TOTAL - (TOTAL / BATCH - 1));
	for (i = 0; i < TOTAL; i += 4999) {
		if (i % BATCH == BATCH - 1 && i >= BATCH)
			continue; /* a duplicate's slot */
		tst_envelope(i, h);
		assert_int_equal(st_find_envelope(st, h, &idx), 0);
		assert_int_equal(idx, idx_of(i));
	}
	st_close(st);
	/* Reopened: the filter is rebuilt from the DB and the buffer. */
	st = open_store(dir, bufmax);
	tst_envelope(BATCH - 1, h);
	assert_int_equal(st_find_envelope(st, h, &idx), 0);
	assert_int_equal(idx, BATCH - 1);
	tst_envelope(TOTAL - 2, h);
	assert_int_equal(st_find_envelope(st, h, &idx), 0);
	assert_int_equal(idx, idx_of(TOTAL - 2));
	st_close(st);
	tst_rmtree(dir);
	free(dir);
	free(r);
	free(a);
	free(e);
}

/* Envelopes logged at known indexes; then duplicates of them. */
static void
run_known(uint64_t bufmax)
{
	uint8_t(*e)[32] = calloc(BATCH, sizeof(*e));
	struct st_append *a = calloc(BATCH, sizeof(*a));
	struct st_appended *r = calloc(BATCH, sizeof(*r));
	struct st_store *st;
	char *dir = tst_mkdtemp();
	uint64_t i, n;
	size_t k;

	assert_non_null(e);
	assert_non_null(a);
	assert_non_null(r);
	st = open_store(dir, bufmax);
	for (i = 0; i < TOTAL; i += BATCH) {
		for (k = 0; k < BATCH; k++)
			set_entry(&a[k], e[k], i + k);
		assert_int_equal(
		    st_append_batch(st, a, BATCH, NULL, NULL, r, &n, NULL), 0);
		assert_int_equal(n, i + BATCH);
	}
	check_dups(st, TOTAL);
	st_close(st);
	st = open_store(dir, bufmax);
	check_dups(st, TOTAL + 1);
	st_close(st);
	tst_rmtree(dir);
	free(dir);
	free(r);
	free(a);
	free(e);
}

/* Default buffer: the hashes stay in the buffer. */
static void
test_dedupe_buffered(void **state)
{
	(void)state;
	run(0);
	run_known(0);
}

/* A 64 KiB buffer: most hashes are merged into DB "envelope". */
static void
test_dedupe_merged(void **state)
{
	(void)state;
	run(64 << 10);
	run_known(64 << 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedupe_buffered),
	    cmocka_unit_test(test_dedupe_merged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
