/*
 * Fuzz pr_tile_parse(): whatever parses must encode back to the very same
 * bytes, and every tile built from the input must survive a round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_tile t, back;
	char buf[PR_TILE_PATH_MAX];
	uint64_t idx = 0;
	size_t i;

	if (pr_tile_parse((const char *)data, size, &t) == 0) {
		if (pr_tile_path(&t, buf, sizeof(buf)) != 0)
			abort();
		if (strlen(buf) != size || memcmp(buf, data, size) != 0)
			abort();
	}
	/* The input as a tile: level, width, index. */
	if (size >= 3) {
		for (i = 3; i < size && i < 11; i++)
			idx = idx << 8 | data[i];
		t.level = data[0] % 66 - 1;
		t.width = (unsigned)(data[1] | (data[2] & 1) << 8);
		t.index = idx;
		if (pr_tile_path(&t, buf, sizeof(buf)) == 0) {
			if (t.level > PR_TILE_MAX_LEVEL || t.width == 0 ||
			    t.width > PR_TILE_WIDTH)
				abort();
			if (pr_tile_parse(buf, strlen(buf), &back) != 0 ||
			    back.level != t.level || back.index != t.index ||
			    back.width != t.width)
				abort();
		} else if (t.level <= PR_TILE_MAX_LEVEL && t.width >= 1 &&
		    t.width <= PR_TILE_WIDTH)
			abort();
	}
	return 0;
}
