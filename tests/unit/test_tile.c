/* Unit tests: proto/tile.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"
#include "proto/err.h"
#include "proto/merkle.h"
#include "proto/tile.h"

static void
check_path(int level, uint64_t index, unsigned width, const char *want)
{
	struct pr_tile t = {level, index, width}, back;
	char buf[PR_TILE_PATH_MAX];

	assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(pr_tile_parse(want, strlen(want), &back), 0);
	assert_int_equal(back.level, level);
	assert_int_equal(back.index, index);
	assert_int_equal(back.width, width);
}

/* The examples of c2sp.org/tlog-tiles, and the edges of the encoding. */
static void
test_path_vectors(void **state)
{
	(void)state;
	/* "index 1234067 will be encoded as x001/x234/067" */
	check_path(0, 1234067, 256, "tile/0/x001/x234/067");
	check_path(PR_TILE_ENTRIES, 1234067, 256, "tile/entries/x001/x234/067");
	check_path(3, 1234067, 17, "tile/3/x001/x234/067.p/17");
	check_path(0, 0, 256, "tile/0/000");
	check_path(0, 0, 1, "tile/0/000.p/1");
	check_path(0, 5, 255, "tile/0/005.p/255");
	check_path(1, 999, 256, "tile/1/999");
	check_path(1, 1000, 256, "tile/1/x001/000");
	check_path(2, 1000000, 3, "tile/2/x001/x000/000.p/3");
	check_path(PR_TILE_ENTRIES, 273, 112, "tile/entries/273.p/112");
	check_path(63, UINT64_MAX, 255,
	    "tile/63/x018/x446/x744/x073/x709/x551/615.p/255");
	check_path(PR_TILE_ENTRIES, UINT64_MAX, 255,
	    "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
	check_path(10, 123456789, 256, "tile/10/x123/x456/789");
}

static void
test_path_errors(void **state)
{
	struct pr_tile t = {0, 1, 256};
	char buf[PR_TILE_PATH_MAX];

	(void)state;
	/* "tile/0/001" needs 11 bytes with its NUL. */
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(pr_tile_path(&t, buf, 10), PR_ETOOBIG);
	assert_int_equal(buf[0], 'z');
	assert_int_equal(pr_tile_path(&t, buf, 11), 0);
	assert_string_equal(buf, "tile/0/001");
	memset(buf, 'z', sizeof(buf));
	t.index = 1000;
	assert_int_equal(pr_tile_path(&t, buf, 15), PR_ETOOBIG);
	assert_int_equal(buf[0], 'z');
	assert_int_equal(pr_tile_path(&t, buf, 16), 0);
	t.width = 0;
	assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), PR_EINVAL);
	t.width = 257;
	assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), PR_EINVAL);
	t.width = 1;
	t.level = 64;
	assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), PR_EINVAL);
	t.level = -2;
	assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), PR_EINVAL);
}

static const char *const bad_paths[] = {
    "",
    "tile",
    "tile/",
    "tile/0",
    "tile/0/",
    "/tile/0/000",
    "tiles/0/000",
    "Tile/0/000",
    "tile/0/0",
    "tile/0/00",
    "tile/0/0000",
    "tile/0/1",
    "tile/00/000",
    "tile/01/000",
    "tile/64/000",
    "tile/100/000",
    "tile/-1/000",
    "tile/+1/000",
    "tile/ 1/000",
    "tile/a/000",
    "tile/data/000",
    "tile/entry/000",
    "tile/entries/",
    "tile/entries/1",
    "tile/8/0/000", /* Go's sumdb form, with the height */
    "tile/0/x000/001",
    "tile/0/x000/000",
    "tile/0/x001",
    "tile/0/x001/",
    "tile/0/001/002",
    "tile/0/001/x002",
    "tile/0/x1/000",
    "tile/0/xx001/000",
    "tile/0/X001/000",
    "tile/0/x001.p/5",
    "tile/0/000/",
    "tile/0/000.p",
    "tile/0/000.p/",
    "tile/0/000.p/0",
    "tile/0/000.p/00",
    "tile/0/000.p/01",
    "tile/0/000.p/256",
    "tile/0/000.p/1000",
    "tile/0/000.p/-1",
    "tile/0/000.p/+1",
    "tile/0/000.p/1/",
    "tile/0/000.p/1x",
    "tile/0/000.P/1",
    "tile/0/000.q/1",
    "tile/0/000p/1",
    "tile/0/000.p./1",
    "tile/0/000 ",
    "tile/0/000\n",
    "tile/0//000",
    "tile//0/000",
    "tile/0/00a",
    "tile/0/-01",
    "tile/0/000?x=1",
    "tile/entries/000.p/256",
    /* 2^64 and beyond. */
    "tile/0/x018/x446/x744/x073/x709/x551/616",
    "tile/0/x018/x446/x744/x073/x709/x552/000",
    "tile/0/x019/x000/x000/x000/x000/x000/000",
    "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
    "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
};

static void
test_parse_rejects(void **state)
{
	struct pr_tile t = {5, 5, 5};
	size_t i;
	static const char nul[] = "tile/0/000\0.p/1";

	(void)state;
	assert_true(sizeof(bad_paths) / sizeof(bad_paths[0]) >= 25);
	for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		if (pr_tile_parse(bad_paths[i], strlen(bad_paths[i]), &t) !=
		    PR_EFORMAT)
			fail_msg("accepted \"%s\"", bad_paths[i]);
		/* Out-parameter untouched. */
		assert_int_equal(t.level, 5);
		assert_int_equal(t.index, 5);
		assert_int_equal(t.width, 5);
	}
	/* An embedded NUL is part of the input, not its end. */
	assert_int_equal(pr_tile_parse(nul, sizeof(nul) - 1, &t), PR_EFORMAT);
	/* Length is honoured: a valid prefix of a longer string. */
	assert_int_equal(pr_tile_parse("tile/0/000.p/12", 14, &t), 0);
	assert_int_equal(t.width, 1);
	assert_int_equal(pr_tile_parse("tile/0/000.p/12", 10, &t), 0);
	assert_int_equal(t.width, 256);
}

/* A small deterministic generator for the round trips. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_path_roundtrip(void **state)
{
	struct pr_tile t, back;
	char buf[PR_TILE_PATH_MAX];
	uint64_t s = 0x9e3779b97f4a7c15;
	unsigned i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		t.level = (int)(rnd(&s) % 65) - 1;
		/* Indices of every magnitude, not just huge ones. */
		t.index = rnd(&s) >> (rnd(&s) % 64);
		t.width = (unsigned)(rnd(&s) % 256) + 1;
		assert_int_equal(pr_tile_path(&t, buf, sizeof(buf)), 0);
		assert_true(strlen(buf) < PR_TILE_PATH_MAX);
		assert_int_equal(pr_tile_parse(buf, strlen(buf), &back), 0);
		assert_int_equal(back.level, t.level);
		assert_int_equal(back.index, t.index);
		assert_int_equal(back.width, t.width);
		/* Cutting a path short never yields a different tile. */
		if (pr_tile_parse(buf, strlen(buf) - 1, &back) == 0)
			assert_true(
			    back.width != t.width || back.index != t.index);
	}
}

static const struct {
	uint64_t size;
	int level;
	uint64_t index;
	unsigned width;
} widths[] = {
    {0, 0, 0, 0},
    {0, PR_TILE_ENTRIES, 0, 0},
    {1, 0, 0, 1},
    {1, PR_TILE_ENTRIES, 0, 1},
    {1, 0, 1, 0},
    {1, 1, 0, 0},
    {255, 0, 0, 255},
    {255, 1, 0, 0},
    {256, 0, 0, 256},
    {256, 0, 1, 0},
    {256, 1, 0, 1},
    {256, 2, 0, 0},
    {257, 0, 0, 256},
    {257, 0, 1, 1},
    {257, PR_TILE_ENTRIES, 1, 1},
    {257, 1, 0, 1},
    {65535, 0, 254, 256},
    {65535, 0, 255, 255},
    {65535, 0, 256, 0},
    {65535, 1, 0, 255},
    {65535, 2, 0, 0},
    {65536, 0, 255, 256},
    {65536, 0, 256, 0},
    {65536, 1, 0, 256},
    {65536, 1, 1, 0},
    {65536, 2, 0, 1},
    {65537, 0, 256, 1},
    {65537, 1, 0, 256},
    {65537, 2, 0, 1},
    {65537, 3, 0, 0},
    /* The specification's example. */
    {70000, 0, 272, 256},
    {70000, 0, 273, 112},
    {70000, 1, 0, 256},
    {70000, 1, 1, 17},
    {70000, 2, 0, 1},
    {70000, 3, 0, 0},
    {UINT64_MAX, 7, 0, 255},
    {UINT64_MAX, 8, 0, 0},
    {UINT64_MAX, 0, (UINT64_MAX >> 8) - 1, 256},
    {UINT64_MAX, 0, UINT64_MAX >> 8, 255},
    {UINT64_MAX, 63, 0, 0},
};

static void
test_widths(void **state)
{
	struct pr_tile rt[PR_TILE_MAX_LEVELS];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++)
		if (pr_tile_width(widths[i].level, widths[i].index,
		        widths[i].size) != widths[i].width)
			fail_msg("size %llu tile %d/%llu: width %u, want %u",
			    (unsigned long long)widths[i].size, widths[i].level,
			    (unsigned long long)widths[i].index,
			    pr_tile_width(widths[i].level, widths[i].index,
			        widths[i].size),
			    widths[i].width);
	/* 70000: 273 full level-0 tiles and a partial; 2 and 1 above. */
	assert_int_equal(pr_tile_count(0, 70000), 274);
	assert_int_equal(pr_tile_count(PR_TILE_ENTRIES, 70000), 274);
	assert_int_equal(pr_tile_count(1, 70000), 2);
	assert_int_equal(pr_tile_count(2, 70000), 1);
	assert_int_equal(pr_tile_count(3, 70000), 0);
	assert_int_equal(pr_tile_levels(70000), 3);
	assert_int_equal(pr_tile_levels(0), 0);
	assert_int_equal(pr_tile_levels(1), 1);
	assert_int_equal(pr_tile_levels(255), 1);
	assert_int_equal(pr_tile_levels(256), 2);
	assert_int_equal(pr_tile_levels(65536), 3);
	assert_int_equal(pr_tile_levels(UINT64_MAX), 8);
	assert_int_equal(pr_tile_count(0, 0), 0);
	assert_int_equal(pr_tile_count(0, 256), 1);
	assert_int_equal(pr_tile_count(1, 256), 1);
	assert_int_equal(pr_tile_count(0, UINT64_MAX), (UINT64_MAX >> 8) + 1);
	assert_int_equal(pr_tile_count(-2, 1000), 0);
	assert_int_equal(pr_tile_count(64, 1000), 0);

	assert_int_equal(pr_tile_root_tiles(0, rt), 0);
	assert_int_equal(pr_tile_root_tiles(70000, rt), 3);
	assert_int_equal(rt[0].level, 0);
	assert_int_equal(rt[0].index, 273);
	assert_int_equal(rt[0].width, 112);
	assert_int_equal(rt[1].level, 1);
	assert_int_equal(rt[1].index, 1);
	assert_int_equal(rt[1].width, 17);
	assert_int_equal(rt[2].level, 2);
	assert_int_equal(rt[2].index, 0);
	assert_int_equal(rt[2].width, 1);
	/* 256 = one full level-0 tile; its hash is the partial level 1. */
	assert_int_equal(pr_tile_root_tiles(256, rt), 1);
	assert_int_equal(rt[0].level, 1);
	assert_int_equal(rt[0].width, 1);
	assert_int_equal(pr_tile_root_tiles(UINT64_MAX, rt), 8);
	assert_int_equal(rt[7].level, 7);
	assert_int_equal(rt[7].index, 0);
	assert_int_equal(rt[7].width, 255);
}

/* Every full subtree hash of a tree, filled by the stack's put callback. */
struct mem_tree {
	struct pr_merkle_stack st;
	pr_hash *lvl[64];
	uint64_t cnt[64];
	uint64_t cap[64];
};

static int
mem_put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	struct mem_tree *t = ctx;

	assert_int_equal(index, t->cnt[level]);
	if (t->cnt[level] == t->cap[level]) {
		t->cap[level] = t->cap[level] ? 2 * t->cap[level] : 16;
		t->lvl[level] =
		    realloc(t->lvl[level], t->cap[level] * sizeof(pr_hash));
		assert_non_null(t->lvl[level]);
	}
	memcpy(t->lvl[level][t->cnt[level]++], hash, PR_HASH_LEN);
	return 0;
}

static int
mem_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct mem_tree *t = ctx;

	if (level >= 64 || index >= t->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, t->lvl[level][index], PR_HASH_LEN);
	return 0;
}

static void
entry_bytes(uint64_t i, uint8_t *b, size_t *len)
{
	*len = (size_t)(i % 13);
	memset(b, (int)(i & 0xff), *len);
	if (*len >= 8)
		memcpy(b, &i, sizeof(i));
}

static void
mem_build(struct mem_tree *t, uint64_t n)
{
	uint8_t e[16];
	size_t len;
	pr_hash h;
	uint64_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		entry_bytes(i, e, &len);
		pr_merkle_leaf_hash(e, len, h);
		assert_int_equal(
		    pr_merkle_stack_push(&t->st, h, mem_put, t), 0);
	}
}

static void
mem_free(struct mem_tree *t)
{
	unsigned i;

	for (i = 0; i < 64; i++)
		free(t->lvl[i]);
}

/* A pr_merkle_get_fn reading hashes out of built tiles. */
struct tile_store {
	uint64_t size;
	struct pr_buf tiles[PR_TILE_MAX_LEVELS][300];
	unsigned fetches;
};

static int
tile_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct tile_store *ts = ctx;
	struct pr_tile t;
	struct pr_buf *b;
	int rc;

	if ((rc = pr_tile_for_hash(level, index, ts->size, &t)) != 0)
		return rc;
	assert_true(t.width > 0);
	assert_true(t.index < 300);
	b = &ts->tiles[t.level][t.index];
	ts->fetches++;
	return pr_tile_read_hash(&t, b->data, b->len, level, index, out);
}

static void
test_tiles_of_tree(void **state)
{
	static const uint64_t sizes[] = {
	    1, 2, 7, 255, 256, 257, 511, 65535, 65536, 65537, 70000};
	static struct tile_store ts;
	struct mem_tree mt;
	struct pr_tile t, rt[PR_TILE_MAX_LEVELS];
	pr_hash want, got, pw[PR_MERKLE_MAX_PROOF], pg[PR_MERKLE_MAX_PROOF];
	size_t lw, lg;
	uint64_t size, n, i;
	unsigned k, l, nrt;

	(void)state;
	mem_build(&mt, 70000);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size = sizes[k];
		memset(&ts, 0, sizeof(ts));
		ts.size = size;
		for (l = 0; l < pr_tile_levels(size); l++) {
			for (n = 0; n < pr_tile_count((int)l, size); n++) {
				t.level = (int)l;
				t.index = n;
				t.width = pr_tile_width((int)l, n, size);
				assert_int_equal(pr_tile_build(&t, mem_get, &mt,
				                     &ts.tiles[l][n]),
				    0);
				assert_int_equal(
				    ts.tiles[l][n].len, t.width * PR_HASH_LEN);
			}
		}
		/* The root from tiles, and from the root tiles only. */
		assert_int_equal(pr_merkle_root(size, mem_get, &mt, want), 0);
		ts.fetches = 0;
		assert_int_equal(pr_merkle_root(size, tile_get, &ts, got), 0);
		assert_memory_equal(got, want, PR_HASH_LEN);
		nrt = pr_tile_root_tiles(size, rt);
		for (l = 0; l < 64; l++) {
			if ((size >> l & 1) == 0)
				continue;
			i = (size >> l) - 1;
			assert_int_equal(pr_tile_for_hash(l, i, size, &t), 0);
			for (n = 0; n < nrt; n++)
				if (rt[n].level == t.level &&
				    rt[n].index == t.index &&
				    rt[n].width == t.width)
					break;
			assert_true(n < nrt);
		}
		/* Proofs from tiles equal proofs from the hash store. */
		for (i = 0; i < size; i += 1 + i / 3) {
			assert_int_equal(pr_merkle_inclusion_proof(
			                     i, size, mem_get, &mt, pw, &lw),
			    0);
			assert_int_equal(pr_merkle_inclusion_proof(
			                     i, size, tile_get, &ts, pg, &lg),
			    0);
			assert_int_equal(lg, lw);
			assert_memory_equal(pg, pw, lw * PR_HASH_LEN);
			if (i == 0)
				continue;
			assert_int_equal(pr_merkle_consistency_proof(
			                     i, size, mem_get, &mt, pw, &lw),
			    0);
			assert_int_equal(pr_merkle_consistency_proof(
			                     i, size, tile_get, &ts, pg, &lg),
			    0);
			assert_int_equal(lg, lw);
			assert_memory_equal(pg, pw, lw * PR_HASH_LEN);
		}
		/* Every complete subtree of some levels, read from a tile. */
		for (l = 0; l < 17; l++) {
			for (i = 0; i < size >> l; i += 1 + i / 50) {
				assert_int_equal(
				    pr_tile_for_hash(l, i, size, &t), 0);
				assert_int_equal(tile_get(&ts, l, i, got), 0);
				assert_int_equal(mem_get(&mt, l, i, want), 0);
				assert_memory_equal(got, want, PR_HASH_LEN);
			}
			/* The first incomplete subtree is no tile's. */
			assert_int_equal(
			    pr_tile_for_hash(l, size >> l, size, &t),
			    PR_EINVAL);
		}
		for (l = 0; l < PR_TILE_MAX_LEVELS; l++)
			for (n = 0; n < 300; n++)
				pr_buf_free(&ts.tiles[l][n]);
	}
	mem_free(&mt);
}

static int
fail_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	(void)ctx;
	(void)level;
	if (index == 7)
		return PR_EIO;
	memset(out, (int)index, PR_HASH_LEN);
	return 0;
}

static void
test_build_and_read_errors(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	struct pr_tile t = {0, 0, 256};
	uint8_t data[8 * PR_HASH_LEN];
	pr_hash h;

	(void)state;
	assert_int_equal(pr_buf_append(&b, "xy", 2), 0);
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), PR_EIO);
	assert_int_equal(b.len, 2);
	t.width = 7;
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), 0);
	assert_int_equal(b.len, 2 + 7 * PR_HASH_LEN);
	assert_int_equal(b.data[2 + 6 * PR_HASH_LEN], 6);
	t.level = PR_TILE_ENTRIES;
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), PR_EINVAL);
	t.level = 8;
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), PR_EINVAL);
	t.level = 7;
	t.index = 1;
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), PR_EINVAL);
	t.level = 0;
	t.index = (uint64_t)1 << 56;
	assert_int_equal(pr_tile_build(&t, fail_get, NULL, &b), PR_EINVAL);
	assert_int_equal(b.len, 2 + 7 * PR_HASH_LEN);
	pr_buf_free(&b);

	memset(data, 0x11, sizeof(data));
	t.level = 0;
	t.index = 1;
	t.width = 8;
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 0, 256 + 7, h), 0);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 0, 256 + 8, h),
	    PR_EINVAL);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 0, 7, h), PR_EINVAL);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 3, 32, h), 0);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 4, 16, h), PR_EINVAL);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 8, 0, h), PR_EINVAL);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data) - 1, 0, 256, h),
	    PR_EFORMAT);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, 9 * PR_HASH_LEN, 0, 256, h),
	    PR_EFORMAT);
	assert_int_equal(
	    pr_tile_read_hash(&t, data, sizeof(data), 1, UINT64_MAX, h),
	    PR_EINVAL);
	assert_int_equal(pr_tile_for_hash(64, 0, UINT64_MAX, &t), PR_EINVAL);
	assert_int_equal(pr_tile_for_hash(0, 0, 0, &t), PR_EINVAL);
	assert_int_equal(pr_tile_for_hash(63, 0, UINT64_MAX, &t), 0);
	assert_int_equal(t.level, 7);
	assert_int_equal(t.index, 0);
	assert_int_equal(t.width, 255);
}

struct collect {
	uint64_t n;
	size_t total;
	int fail_at;
};

static int
collect_entry(void *ctx, uint64_t i, const uint8_t *entry, size_t len)
{
	struct collect *c = ctx;
	size_t k;

	assert_int_equal(i, c->n);
	if (c->fail_at >= 0 && (uint64_t)c->fail_at == i)
		return PR_ECONFLICT;
	for (k = 0; k < len; k++)
		assert_int_equal(entry[k], (uint8_t)(i + k));
	c->n++;
	c->total += len;
	return 0;
}

static void
test_bundle(void **state)
{
	static const size_t lens[] = {0, 1, 2, 255, 256, 65535, 0, 3};
	static uint8_t e[65536];
	struct pr_buf b = PR_BUF_INIT;
	struct pr_tile_bundle_iter it;
	struct collect c;
	const uint8_t *p;
	size_t i, k, len, cut, total = 0, bounds[9];
	uint64_t count;
	int rc;

	(void)state;
	bounds[0] = 0;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (k = 0; k < lens[i]; k++)
			e[k] = (uint8_t)(i + k);
		assert_int_equal(pr_tile_bundle_append(&b, e, lens[i]), 0);
		total += lens[i];
		bounds[i + 1] = b.len;
	}
	assert_int_equal(b.len, total + 2 * 8);
	assert_int_equal(pr_tile_bundle_append(&b, e, 65536), PR_ETOOBIG);
	assert_int_equal(b.len, total + 2 * 8);
	/* Big-endian length prefixes. */
	assert_int_equal(b.data[0], 0);
	assert_int_equal(b.data[1], 0);
	assert_int_equal(b.data[2], 0);
	assert_int_equal(b.data[3], 1);
	assert_int_equal(b.data[bounds[5]], 0xff);
	assert_int_equal(b.data[bounds[5] + 1], 0xff);
	assert_int_equal(b.data[bounds[4]], 0x01);
	assert_int_equal(b.data[bounds[4] + 1], 0x00);

	pr_tile_bundle_iter_init(&it, b.data, b.len);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pr_tile_bundle_next(&it, &p, &len), 1);
		assert_int_equal(len, lens[i]);
		if (len > 0)
			assert_int_equal(p[len - 1], (uint8_t)(i + len - 1));
	}
	assert_int_equal(pr_tile_bundle_next(&it, &p, &len), 0);
	assert_int_equal(it.count, 8);

	memset(&c, 0, sizeof(c));
	c.fail_at = -1;
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, b.len, 8, collect_entry, &c, &count),
	    0);
	assert_int_equal(count, 8);
	assert_int_equal(c.n, 8);
	assert_int_equal(c.total, total);
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, b.len, 0, NULL, NULL, &count), 0);
	assert_int_equal(count, 8);
	/* Expected counts either side. */
	count = 99;
	memset(&c, 0, sizeof(c));
	c.fail_at = -1;
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, b.len, 7, collect_entry, &c, &count),
	    PR_EFORMAT);
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, b.len, 9, collect_entry, &c, &count),
	    PR_EFORMAT);
	assert_int_equal(c.n, 0); /* no callback for a bad bundle */
	assert_int_equal(count, 99);
	/* A callback error stops the walk. */
	c.fail_at = 3;
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, b.len, 8, collect_entry, &c, NULL),
	    PR_ECONFLICT);
	assert_int_equal(c.n, 3);

	/* Every cut: at an entry boundary fewer entries, else truncated. */
	for (cut = 0; cut < b.len; cut++) {
		rc = pr_tile_bundle_decode(b.data, cut, 0, NULL, NULL, &count);
		for (i = 0; i <= 8 && bounds[i] != cut; i++)
			;
		if (i <= 8) {
			assert_int_equal(rc, 0);
			assert_int_equal(count, i);
			if (i > 0)
				assert_int_equal(pr_tile_bundle_decode(b.data,
				                     cut, 8, NULL, NULL, NULL),
				    PR_EFORMAT);
		} else
			assert_int_equal(rc, PR_ETRUNC);
	}
	/* An empty bundle has no entries. */
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, 0, 0, NULL, NULL, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(
	    pr_tile_bundle_decode(b.data, 0, 1, NULL, NULL, NULL), PR_EFORMAT);
	/* The iterator reports truncation and stays there. */
	pr_tile_bundle_iter_init(&it, b.data, 3);
	assert_int_equal(pr_tile_bundle_next(&it, &p, &len), 1);
	assert_int_equal(pr_tile_bundle_next(&it, &p, &len), PR_ETRUNC);
	assert_int_equal(pr_tile_bundle_next(&it, &p, &len), PR_ETRUNC);
	pr_buf_free(&b);
}

static void
test_bundle_verify(void **state)
{
	struct pr_buf bundle = PR_BUF_INIT, tile = PR_BUF_INIT;
	uint8_t e[16];
	size_t len;
	pr_hash h;
	unsigned i;

	(void)state;
	for (i = 0; i < 256; i++) {
		entry_bytes(i, e, &len);
		assert_int_equal(pr_tile_bundle_append(&bundle, e, len), 0);
		pr_merkle_leaf_hash(e, len, h);
		assert_int_equal(pr_buf_append(&tile, h, sizeof(h)), 0);
	}
	assert_int_equal(
	    pr_tile_bundle_verify(bundle.data, bundle.len, tile.data, tile.len),
	    0);
	/* One hash too few or too many. */
	assert_int_equal(pr_tile_bundle_verify(bundle.data, bundle.len,
	                     tile.data, tile.len - PR_HASH_LEN),
	    PR_EFORMAT);
	/* Without its last entry (entry 255 is 8 bytes long). */
	entry_bytes(255, e, &len);
	assert_int_equal(len, 8);
	assert_int_equal(pr_tile_bundle_verify(bundle.data,
	                     bundle.len - 2 - len, tile.data, tile.len),
	    PR_EFORMAT);
	assert_int_equal(pr_tile_bundle_verify(
	                     bundle.data, bundle.len, tile.data, tile.len - 1),
	    PR_EFORMAT);
	assert_int_equal(
	    pr_tile_bundle_verify(bundle.data, bundle.len, tile.data, 0),
	    PR_EFORMAT);
	assert_int_equal(pr_tile_bundle_verify(
	                     bundle.data, bundle.len - 1, tile.data, tile.len),
	    PR_ETRUNC);
	/* A changed entry byte, a changed hash. */
	bundle.data[bundle.len - 1] ^= 1;
	assert_int_equal(
	    pr_tile_bundle_verify(bundle.data, bundle.len, tile.data, tile.len),
	    PR_EPROOF);
	bundle.data[bundle.len - 1] ^= 1;
	tile.data[100 * PR_HASH_LEN + 31] ^= 0x40;
	assert_int_equal(
	    pr_tile_bundle_verify(bundle.data, bundle.len, tile.data, tile.len),
	    PR_EPROOF);
	pr_buf_free(&bundle);
	pr_buf_free(&tile);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_vectors),
	    cmocka_unit_test(test_path_errors),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_path_roundtrip),
	    cmocka_unit_test(test_widths),
	    cmocka_unit_test(test_tiles_of_tree),
	    cmocka_unit_test(test_build_and_read_errors),
	    cmocka_unit_test(test_bundle),
	    cmocka_unit_test(test_bundle_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
