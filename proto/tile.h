/*
 * C2SP tlog-tiles: tile paths, tile arithmetic, hash tiles and entry
 * bundles, for tiles of height 8 (256 hashes).
 *
 * Hash tile (L, N) holds the Merkle hashes at tree level 8L with indices
 * 256N .. 256N + W - 1 (merkle.h coordinates), 32 bytes each, W the width
 * (256 for a full tile, 1..255 for a partial one).  Entry bundle N holds
 * entries 256N .. 256N + W - 1, each as a big-endian uint16 length and
 * the entry bytes, so an entry is at most 65,535 bytes.
 *
 * Paths are relative to the log's prefix:
 *
 *	tile/<L>/<N>[.p/<W>]		hash tile, L in 0..63
 *	tile/entries/<N>[.p/<W>]	entry bundle
 *
 * with N written in 3-digit groups, all but the last prefixed with 'x'
 * (1234067 is x001/x234/067) and no leading zero groups, and no leading
 * zeros in L or W.  Parsing accepts exactly the paths encoding produces.
 */
#ifndef PR_TILE_H
#define PR_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/merkle.h"

#define PR_TILE_HEIGHT 8
#define PR_TILE_WIDTH 256 /* hashes or entries in a full tile */
#define PR_TILE_MAX_LEVEL 63
#define PR_TILE_ENTRIES (-1) /* level of an entry bundle */
/* Room for the longest path and its NUL ("tile/entries/x018/.../615.p/255"). */
#define PR_TILE_PATH_MAX 64
/* Levels that can hold a tile in a tree below 2^64 leaves: 0..7. */
#define PR_TILE_MAX_LEVELS 8
#define PR_TILE_MAX_ENTRY 65535

struct pr_tile {
	int level; /* 0..63, or PR_TILE_ENTRIES */
	uint64_t index; /* N */
	unsigned width; /* 1..256; PR_TILE_WIDTH for a full tile */
};

/*
 * Write the path of t, NUL-terminated, into buf of size bytes
 * (PR_TILE_PATH_MAX always suffices).  PR_EINVAL if t is out of range,
 * PR_ETOOBIG if buf is too small.
 */
int pr_tile_path(const struct pr_tile *t, char *buf, size_t size);

/*
 * Parse the len bytes at path (no NUL needed) as a tile path.  Anything
 * pr_tile_path() would not produce is PR_EFORMAT, including N above
 * 2^64 - 1.  *t is written only on success.
 */
int pr_tile_parse(const char *path, size_t len, struct pr_tile *t);

/*
 * Tile arithmetic for a tree of size leaves.  level is a hash tile level
 * or PR_TILE_ENTRIES (laid out as level 0).
 *
 * pr_tile_width():  width of tile (level, index), 0 if it does not exist.
 * pr_tile_count():  number of tiles at level, full and partial.
 * pr_tile_levels(): number of levels holding tiles (0 for an empty tree).
 */
unsigned pr_tile_width(int level, uint64_t index, uint64_t size);
uint64_t pr_tile_count(int level, uint64_t size);
unsigned pr_tile_levels(uint64_t size);

/*
 * The tiles a client needs to compute the root of a tree of size leaves:
 * the rightmost tile of each level whose width (size >> 8L) mod 256 is
 * not zero, i.e. the partial tiles, lowest level first.  out must hold
 * PR_TILE_MAX_LEVELS; returns the count (0 for an empty tree).
 */
unsigned pr_tile_root_tiles(uint64_t size, struct pr_tile *out);

/*
 * The tile of the tree of size leaves from which the hash of the full
 * subtree (level, index) is computed: tile level level / 8, its width
 * for this size.  PR_EINVAL if that subtree is not complete in the tree.
 */
int pr_tile_for_hash(
    unsigned level, uint64_t index, uint64_t size, struct pr_tile *t);

/*
 * Compute the hash (level, index) from the len bytes of hash tile t,
 * folding the 2^(level mod 8) tile hashes beneath it.  PR_EINVAL if the
 * hash is not inside t, PR_EFORMAT if len is not t->width * 32.
 */
int pr_tile_read_hash(const struct pr_tile *t, const uint8_t *data, size_t len,
    unsigned level, uint64_t index, pr_hash out);

/*
 * Append the bytes of hash tile t to out: t->width hashes fetched with
 * get at tree level 8 * t->level.  On error out is left as it was; get
 * errors are returned unchanged.
 */
int pr_tile_build(const struct pr_tile *t, pr_merkle_get_fn get, void *ctx,
    struct pr_buf *out);

/* Entry bundles. */

/* Append one entry; PR_ETOOBIG above PR_TILE_MAX_ENTRY bytes. */
int pr_tile_bundle_append(struct pr_buf *b, const uint8_t *entry, size_t len);

/*
 * Iterate over the entries of a bundle.  The iterator borrows data, which
 * must outlive it; entries point into data.
 */
struct pr_tile_bundle_iter {
	const uint8_t *data;
	size_t len;
	size_t off;
	uint64_t count; /* entries returned so far */
};

void pr_tile_bundle_iter_init(
    struct pr_tile_bundle_iter *it, const uint8_t *data, size_t len);
/*
 * 1 and the next entry in *entry, *elen; 0 at the end of the bundle;
 * PR_ETRUNC if a length prefix or an entry runs past the end (the
 * iterator then stays at the error).
 */
int pr_tile_bundle_next(
    struct pr_tile_bundle_iter *it, const uint8_t **entry, size_t *elen);

typedef int (*pr_tile_entry_fn)(
    void *ctx, uint64_t i, const uint8_t *entry, size_t len);

/*
 * Check a whole bundle, then call cb (if not NULL) for each entry in
 * order.  With expect != 0 the bundle must hold exactly expect entries
 * (PR_EFORMAT otherwise).  cb is called only for well-formed bundles; its
 * error stops the walk and is returned.  *count (if not NULL) receives
 * the number of entries on success.
 */
int pr_tile_bundle_decode(const uint8_t *data, size_t len, uint64_t expect,
    pr_tile_entry_fn cb, void *ctx, uint64_t *count);

/*
 * Check that a bundle matches the level-0 hash tile of the same index:
 * as many entries as hashes, each entry's leaf hash equal to its hash.
 * PR_EPROOF on a mismatch, PR_ETRUNC / PR_EFORMAT on malformed input.
 */
int pr_tile_bundle_verify(
    const uint8_t *bundle, size_t blen, const uint8_t *tile, size_t tlen);

#endif
