/*
 * Fuzz entry bundle decoding: the iterator and pr_tile_bundle_decode()
 * must agree, and a bundle that decodes must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/err.h"
#include "proto/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct again {
	struct pr_buf b;
	uint64_t n;
};

static int
reencode(void *ctx, uint64_t i, const uint8_t *entry, size_t len)
{
	struct again *a = ctx;

	if (i != a->n++)
		abort();
	return pr_tile_bundle_append(&a->b, entry, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_tile_bundle_iter it;
	struct again a = {PR_BUF_INIT, 0};
	const uint8_t *e;
	size_t elen, seen = 0;
	uint64_t count = 0, n;
	int rc, rc2;

	pr_tile_bundle_iter_init(&it, data, size);
	while ((rc = pr_tile_bundle_next(&it, &e, &elen)) == 1) {
		if (e < data || elen > size || e + elen > data + size)
			abort();
		seen += 2 + elen;
	}
	if (rc != 0 && rc != PR_ETRUNC)
		abort();
	rc2 = pr_tile_bundle_decode(data, size, 0, reencode, &a, &count);
	if ((rc == 0) != (rc2 == 0))
		abort();
	if (rc2 == 0) {
		if (seen != size || count != it.count || a.n != count)
			abort();
		if (a.b.len != size ||
		    (size > 0 && memcmp(a.b.data, data, size) != 0))
			abort();
		/* An expected count is met exactly or refused. */
		n = count + 1;
		if (pr_tile_bundle_decode(data, size, n, NULL, NULL, NULL) !=
		    PR_EFORMAT)
			abort();
		if (count > 1 &&
		    pr_tile_bundle_decode(
		        data, size, count - 1, NULL, NULL, NULL) != PR_EFORMAT)
			abort();
	}
	/* The input as both bundle and tile: must not crash. */
	(void)pr_tile_bundle_verify(
	    data, size / 2, data + size / 2, size - size / 2);
	pr_buf_free(&a.b);
	return 0;
}
