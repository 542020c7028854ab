/*
 * tlog_dump: write the C2SP tile tree of a log of N deterministic entries
 * to a directory, for checking by an independent implementation.
 *
 * usage: tlog_dump N DIR
 *
 * Writes DIR/tile/<L>/<N>[.p/<W>] (hash tiles) and
 * DIR/tile/entries/<N>[.p/<W>] (entry bundles) for the tree of size N,
 * and DIR/proofs.txt with lines
 *
 *	root SIZE HASH
 *	incl INDEX SIZE HASH...
 *	cons M N HASH...
 *
 * (hashes in hex) for a selection of sizes up to N.  Prints the root of
 * the tree of size N in hex.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/merkle.h"
#include "proto/tile.h"

struct store {
	pr_hash *lvl[64];
	uint64_t cnt[64];
	uint64_t cap[64];
};

static int
store_put(void *ctx, unsigned level, uint64_t index, const pr_hash hash)
{
	struct store *s = ctx;
	pr_hash *p;
	uint64_t ncap;

	if (index != s->cnt[level])
		return PR_ECORRUPT;
	if (s->cnt[level] == s->cap[level]) {
		ncap = s->cap[level] ? 2 * s->cap[level] : 64;
		if ((p = realloc(s->lvl[level], ncap * sizeof(pr_hash))) ==
		    NULL)
			return PR_ENOMEM;
		s->lvl[level] = p;
		s->cap[level] = ncap;
	}
	memcpy(s->lvl[level][s->cnt[level]++], hash, PR_HASH_LEN);
	return 0;
}

static int
store_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct store *s = ctx;

	if (level >= 64 || index >= s->cnt[level])
		return PR_ENOTFOUND;
	memcpy(out, s->lvl[level][index], PR_HASH_LEN);
	return 0;
}

/*
 * Entry i: mostly short and of varied length, the first empty and the
 * sixth of the largest size a bundle allows.
 */
static size_t
make_entry(uint64_t i, uint8_t *buf)
{
	size_t len, k;

	if (i == 0)
		return 0;
	len = i == 5 ? PR_TILE_MAX_ENTRY : (size_t)(i * 7919 % 97);
	for (k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k * 7 + (k >> 8));
	return len;
}

static int
mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			perror(path);
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int
write_file(const char *dir, const struct pr_tile *t, const struct pr_buf *b)
{
	char rel[PR_TILE_PATH_MAX], path[4096];
	FILE *f;

	if (pr_tile_path(t, rel, sizeof(rel)) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdirs(path) != 0)
		return -1;
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	if (fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static void
put_hashes(FILE *f, const pr_hash *h, size_t n)
{
	char hex[2 * PR_HASH_LEN + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		pr_hex_encode(h[i], PR_HASH_LEN, hex);
		fprintf(f, " %s", hex);
	}
	fputc('\n', f);
}

static size_t
add_size(uint64_t *set, size_t n, uint64_t v, uint64_t max)
{
	size_t i;

	if (v < 1 || v > max)
		return n;
	for (i = 0; i < n; i++)
		if (set[i] == v)
			return n;
	set[n] = v;
	return n + 1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
write_proofs(const char *dir, uint64_t n, struct store *s)
{
	static const uint64_t fixed[] = {
	    255, 256, 257, 511, 512, 513, 65535, 65536, 65537};
	uint64_t sizes[64], idx[32], t, m, x = 88172645463325252ull;
	pr_hash proof[PR_MERKLE_MAX_PROOF], root;
	char path[4096];
	size_t ns = 0, ni, i, j, len;
	FILE *f;
	int rc;

	for (t = 1; t <= 20; t++)
		ns = add_size(sizes, ns, t, n);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ns = add_size(sizes, ns, fixed[i], n);
	ns = add_size(sizes, ns, n, n);
	ns = add_size(sizes, ns, n - 1, n);
	ns = add_size(sizes, ns, n / 2, n);
	ns = add_size(sizes, ns, n / 3 + 1, n);
	qsort(sizes, ns, sizeof(sizes[0]), cmp_u64);

	snprintf(path, sizeof(path), "%s/proofs.txt", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	for (i = 0; i < ns; i++) {
		t = sizes[i];
		if ((rc = pr_merkle_root(t, store_get, s, root)) != 0)
			goto fail;
		fprintf(f, "root %llu", (unsigned long long)t);
		put_hashes(f, &root, 1);
		ni = 0;
		if (t <= 24) {
			for (j = 0; j < t; j++)
				idx[ni++] = j;
		} else {
			idx[ni++] = 0;
			idx[ni++] = 1;
			idx[ni++] = t / 2;
			idx[ni++] = t - 2;
			idx[ni++] = t - 1;
			if (t > 257) {
				idx[ni++] = 255;
				idx[ni++] = 256;
			}
			for (j = 0; j < 6; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				idx[ni++] = x % t;
			}
		}
		for (j = 0; j < ni; j++) {
			rc = pr_merkle_inclusion_proof(
			    idx[j], t, store_get, s, proof, &len);
			if (rc != 0)
				goto fail;
			fprintf(f, "incl %llu %llu", (unsigned long long)idx[j],
			    (unsigned long long)t);
			put_hashes(f, proof, len);
		}
		for (j = 0; j < ns; j++) {
			if ((m = sizes[j]) > t)
				continue;
			rc = pr_merkle_consistency_proof(
			    m, t, store_get, s, proof, &len);
			if (rc != 0)
				goto fail;
			fprintf(f, "cons %llu %llu", (unsigned long long)m,
			    (unsigned long long)t);
			put_hashes(f, proof, len);
		}
	}
	if (fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
fail:
	fprintf(stderr, "tlog_dump: proof: %s\n", pr_strerror(rc));
	fclose(f);
	return -1;
}

int
main(int argc, char **argv)
{
	static uint8_t entry[PR_TILE_MAX_ENTRY];
	struct pr_merkle_stack st;
	struct store s;
	struct pr_buf b = PR_BUF_INIT;
	struct pr_tile t;
	pr_hash h;
	char hex[2 * PR_HASH_LEN + 1], *end;
	uint64_t n, i, k, cnt;
	unsigned l;
	size_t len;
	int rc, status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: tlog_dump N DIR\n");
		return 2;
	}
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 100000000) {
		fprintf(stderr, "tlog_dump: bad size %s\n", argv[1]);
		return 2;
	}
	if (mkdir(argv[2], 0755) == -1 && errno != EEXIST) {
		perror(argv[2]);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	pr_merkle_stack_init(&st);

	/* Entries: leaf hashes into the tree, bytes into bundles. */
	t.level = PR_TILE_ENTRIES;
	for (i = 0; i < n; i++) {
		len = make_entry(i, entry);
		pr_merkle_leaf_hash(entry, len, h);
		if ((rc = pr_merkle_stack_push(&st, h, store_put, &s)) != 0 ||
		    (rc = pr_tile_bundle_append(&b, entry, len)) != 0)
			goto fail;
		if ((i + 1) % PR_TILE_WIDTH == 0 || i + 1 == n) {
			t.index = i / PR_TILE_WIDTH;
			t.width = pr_tile_width(t.level, t.index, n);
			if (write_file(argv[2], &t, &b) != 0)
				goto out;
			pr_buf_reset(&b);
		}
	}

	/* Hash tiles, full and partial, at every level. */
	for (l = 0; l < pr_tile_levels(n); l++) {
		cnt = pr_tile_count((int)l, n);
		for (k = 0; k < cnt; k++) {
			t.level = (int)l;
			t.index = k;
			t.width = pr_tile_width(t.level, k, n);
			pr_buf_reset(&b);
			if ((rc = pr_tile_build(&t, store_get, &s, &b)) != 0)
				goto fail;
			if (write_file(argv[2], &t, &b) != 0)
				goto out;
		}
	}
	if (write_proofs(argv[2], n, &s) != 0)
		goto out;

	pr_merkle_stack_root(&st, h);
	pr_hex_encode(h, PR_HASH_LEN, hex);
	printf("%s\n", hex);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "tlog_dump: %s\n", pr_strerror(rc));
out:
	pr_buf_free(&b);
	for (l = 0; l < 64; l++)
		free(s.lvl[l]);
	return status;
}
