/*
 * Helpers shared by the store unit tests (tests/unit/test_store*.c):
 * temporary data directories, synthetic entries, a test signer, and a
 * naive RFC 6962 Merkle tree to compare the store against.
 */
#ifndef STORE_TEST_H
#define STORE_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/merkle.h"
#include "store/store.h"

/* A fresh empty directory, 0700, under $TMPDIR or /tmp. */
static inline char *
tst_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((p = malloc(strlen(base) + 32)) == NULL)
		abort();
	sprintf(p, "%s/st-test.XXXXXX", base);
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

static inline void
tst_rmtree(const char *path)
{
	struct pr_buf sub = PR_BUF_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			pr_buf_reset(&sub);
			if (pr_buf_printf(&sub, "%s/%s", path, de->d_name) != 0)
				abort();
			if (lstat((char *)sub.data, &sb) == 0 &&
			    S_ISDIR(sb.st_mode))
				tst_rmtree((char *)sub.data);
			else
				unlink((char *)sub.data);
		}
		closedir(d);
	}
	pr_buf_free(&sub);
	rmdir(path);
}

/* Copy file src to dst (replacing it). */
static inline int
tst_copy(const char *src, const char *dst)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;

	if ((in = fopen(src, "rb")) == NULL)
		return -1;
	if ((out = fopen(dst, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out) == 0 ? 0 : -1;
}

static inline int
tst_open(const char *dir, int readonly, struct st_store **st)
{
	struct st_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.readonly = readonly;
	cfg.map_size_initial = 1 << 20;
	return st_open(&cfg, st);
}

/*
 * Synthetic entry number i: "entry <i>" and, for variety, i % 7 filler
 * bytes.  Returns the length written to buf (>= 32 bytes).
 */
static inline size_t
tst_entry(uint64_t i, uint8_t *buf)
{
	int n;
	unsigned k;

	n = snprintf((char *)buf, 24, "entry %llu", (unsigned long long)i);
	for (k = 0; k < i % 7; k++)
		buf[n + k] = (uint8_t)('a' + k);
	return (size_t)n + i % 7;
}

static inline void
tst_envelope(uint64_t i, pr_hash out)
{
	uint8_t b[8];

	pr_store_be64(b, i);
	pr_merkle_leaf_hash(b, sizeof(b), out);
	out[0] ^= 0x5a; /* not the leaf hash of anything we log */
}

/* The test signer: "test\n<size>\n<root hex>\n", counting its calls. */
struct tst_signer {
	int calls;
	int fail; /* return this code instead */
};

static inline int
tst_sign(void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	struct tst_signer *s = ctx;
	char hex[2 * PR_HASH_LEN + 1];

	if (s != NULL) {
		s->calls++;
		if (s->fail)
			return s->fail;
	}
	pr_hex_encode(root, PR_HASH_LEN, hex);
	return pr_buf_printf(
	    note, "test\n%llu\n%s\n", (unsigned long long)size, hex);
}

/* Parse a test note; 0 on success. */
static inline int
tst_note_parse(const struct pr_buf *note, uint64_t *size, pr_hash root)
{
	unsigned long long n;
	char hex[2 * PR_HASH_LEN + 1];

	if (note->len == 0 ||
	    sscanf((const char *)note->data, "test\n%llu\n%64s\n", &n, hex) !=
	        2)
		return -1;
	*size = n;
	return pr_hex_decode(hex, strlen(hex), root, PR_HASH_LEN);
}

/* RFC 6962 MTH over leaf hashes l[0..n), computed recursively. */
static inline void
tst_mth(const pr_hash *l, uint64_t n, pr_hash out)
{
	pr_hash a, b;
	uint64_t k = 1;

	if (n == 0) {
		pr_merkle_empty_root(out);
		return;
	}
	if (n == 1) {
		memcpy(out, l[0], PR_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	tst_mth(l, k, a);
	tst_mth(l + k, n - k, b);
	pr_merkle_node_hash(a, b, out);
}

#endif
