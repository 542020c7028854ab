/*
 * C2SP tlog-tiles with tiles of height 8: paths, arithmetic, hash tiles
 * and entry bundles.
 */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/tile.h"

#define PATH_GROUPS 7 /* 3-digit groups in 2^64 - 1 */

static int
tile_valid(const struct pr_tile *t)
{
	return t->level >= PR_TILE_ENTRIES && t->level <= PR_TILE_MAX_LEVEL &&
	    t->width >= 1 && t->width <= PR_TILE_WIDTH;
}

int
pr_tile_path(const struct pr_tile *t, char *buf, size_t size)
{
	char tmp[PR_TILE_PATH_MAX];
	unsigned group[PATH_GROUPS];
	uint64_t n = t->index;
	size_t len;
	int ng = 0, w;

	if (!tile_valid(t))
		return PR_EINVAL;
	do {
		group[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n > 0);
	if (t->level == PR_TILE_ENTRIES)
		w = snprintf(tmp, sizeof(tmp), "tile/entries/");
	else
		w = snprintf(tmp, sizeof(tmp), "tile/%d/", t->level);
	len = (size_t)w;
	while (ng-- > 0) {
		w = snprintf(tmp + len, sizeof(tmp) - len, "%s%03u%s",
		    ng > 0 ? "x" : "", group[ng], ng > 0 ? "/" : "");
		len += (size_t)w;
	}
	if (t->width < PR_TILE_WIDTH) {
		w = snprintf(tmp + len, sizeof(tmp) - len, ".p/%u", t->width);
		len += (size_t)w;
	}
	if (len >= size)
		return PR_ETOOBIG;
	memcpy(buf, tmp, len + 1);
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A decimal number of at most maxdig digits without leading zeros, ending
 * at end or at a character that is not a digit.  -1 if malformed.
 */
static long
parse_small(const char **pp, const char *end, int maxdig)
{
	const char *p = *pp;
	long v = 0;
	int k = 0;

	while (p < end && is_digit(*p)) {
		if (k == maxdig || (k == 1 && v == 0))
			return -1;
		v = v * 10 + (*p - '0');
		p++;
		k++;
	}
	if (k == 0)
		return -1;
	*pp = p;
	return v;
}

int
pr_tile_parse(const char *path, size_t len, struct pr_tile *t)
{
	const char *p = path, *end = path + len;
	struct pr_tile r;
	unsigned g, groups = 0;
	long v;
	int x;

	/* The longest valid path is well under PR_TILE_PATH_MAX. */
	if (len >= PR_TILE_PATH_MAX || len < 5 || memcmp(p, "tile/", 5) != 0)
		return PR_EFORMAT;
	p += 5;
	if (end - p >= 8 && memcmp(p, "entries/", 8) == 0) {
		r.level = PR_TILE_ENTRIES;
		p += 8;
	} else {
		if ((v = parse_small(&p, end, 2)) < 0 ||
		    v > PR_TILE_MAX_LEVEL || p == end || *p != '/')
			return PR_EFORMAT;
		r.level = (int)v;
		p++;
	}
	r.index = 0;
	for (;;) {
		x = p < end && *p == 'x';
		p += x;
		if (end - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) ||
		    !is_digit(p[2]))
			return PR_EFORMAT;
		g = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
		    (unsigned)(p[2] - '0');
		p += 3;
		/* No leading zero groups: "x000/..." is not canonical. */
		if (groups == 0 && x && g == 0)
			return PR_EFORMAT;
		if (r.index > (UINT64_MAX - g) / 1000)
			return PR_EFORMAT;
		r.index = r.index * 1000 + g;
		groups++;
		if (!x)
			break;
		if (p == end || *p != '/')
			return PR_EFORMAT;
		p++;
	}
	r.width = PR_TILE_WIDTH;
	if (p != end) {
		if (end - p < 3 || memcmp(p, ".p/", 3) != 0)
			return PR_EFORMAT;
		p += 3;
		if ((v = parse_small(&p, end, 3)) < 1 || v >= PR_TILE_WIDTH ||
		    p != end)
			return PR_EFORMAT;
		r.width = (unsigned)v;
	}
	*t = r;
	return 0;
}

/* Hashes (or entries) at a tile level in a tree of size leaves. */
static uint64_t
level_count(int level, uint64_t size)
{
	if (level == PR_TILE_ENTRIES)
		level = 0;
	if (level < 0 || level >= PR_TILE_MAX_LEVELS)
		return 0;
	return size >> (PR_TILE_HEIGHT * level);
}

unsigned
pr_tile_width(int level, uint64_t index, uint64_t size)
{
	uint64_t c = level_count(level, size);

	if (index < c / PR_TILE_WIDTH)
		return PR_TILE_WIDTH;
	if (index == c / PR_TILE_WIDTH)
		return (unsigned)(c % PR_TILE_WIDTH);
	return 0;
}

uint64_t
pr_tile_count(int level, uint64_t size)
{
	uint64_t c = level_count(level, size);

	return c / PR_TILE_WIDTH + (c % PR_TILE_WIDTH != 0);
}

unsigned
pr_tile_levels(uint64_t size)
{
	unsigned l = 0;

	while (l < PR_TILE_MAX_LEVELS && level_count((int)l, size) > 0)
		l++;
	return l;
}

unsigned
pr_tile_root_tiles(uint64_t size, struct pr_tile *out)
{
	unsigned l, w, n = 0;
	uint64_t c;

	for (l = 0; l < PR_TILE_MAX_LEVELS; l++) {
		c = level_count((int)l, size);
		if ((w = (unsigned)(c % PR_TILE_WIDTH)) == 0)
			continue;
		out[n].level = (int)l;
		out[n].index = c / PR_TILE_WIDTH;
		out[n].width = w;
		n++;
	}
	return n;
}

int
pr_tile_for_hash(
    unsigned level, uint64_t index, uint64_t size, struct pr_tile *t)
{
	unsigned tl;
	uint64_t pos;

	/* The subtree must be complete: (index + 1) << level <= size. */
	if (level >= 64 || index >= size >> level)
		return PR_EINVAL;
	tl = level / PR_TILE_HEIGHT;
	pos = index << (level % PR_TILE_HEIGHT);
	t->level = (int)tl;
	t->index = pos / PR_TILE_WIDTH;
	t->width = pr_tile_width((int)tl, t->index, size);
	return 0;
}

int
pr_tile_read_hash(const struct pr_tile *t, const uint8_t *data, size_t len,
    unsigned level, uint64_t index, pr_hash out)
{
	pr_hash h[PR_TILE_WIDTH / 2];
	unsigned k, first, cnt, i;
	uint64_t pos;

	if (!tile_valid(t) || t->level < 0 || level >= 64 ||
	    level / PR_TILE_HEIGHT != (unsigned)t->level)
		return PR_EINVAL;
	if (len != (size_t)t->width * PR_HASH_LEN)
		return PR_EFORMAT;
	/* index << level must stay below 2^64. */
	if (level > 0 && index >> (64 - level) != 0)
		return PR_EINVAL;
	k = level % PR_TILE_HEIGHT;
	pos = index << k;
	cnt = 1u << k;
	if (pos / PR_TILE_WIDTH != t->index)
		return PR_EINVAL;
	first = (unsigned)(pos % PR_TILE_WIDTH);
	if (first + cnt > t->width)
		return PR_EINVAL;
	if (cnt == 1) {
		memcpy(out, data + (size_t)first * PR_HASH_LEN, PR_HASH_LEN);
		return 0;
	}
	/* The first fold reads the tile; later ones work in place. */
	for (i = 0; i < cnt / 2; i++)
		pr_merkle_node_hash(
		    data + (size_t)(first + 2 * i) * PR_HASH_LEN,
		    data + (size_t)(first + 2 * i + 1) * PR_HASH_LEN, h[i]);
	for (cnt /= 2; cnt > 1; cnt /= 2)
		for (i = 0; i < cnt / 2; i++)
			pr_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
	memcpy(out, h[0], PR_HASH_LEN);
	return 0;
}

int
pr_tile_build(const struct pr_tile *t, pr_merkle_get_fn get, void *ctx,
    struct pr_buf *out)
{
	unsigned i;
	uint64_t start;
	size_t n;
	int rc;

	if (!tile_valid(t) || t->level < 0 || t->level >= PR_TILE_MAX_LEVELS)
		return PR_EINVAL;
	/* A level-L tile index is below 2^(56 - 8L) in any tree. */
	if (t->index >> (56 - PR_TILE_HEIGHT * t->level) != 0)
		return PR_EINVAL;
	n = (size_t)t->width * PR_HASH_LEN;
	if ((rc = pr_buf_reserve(out, n)) != 0)
		return rc;
	start = t->index * PR_TILE_WIDTH;
	for (i = 0; i < t->width; i++) {
		rc = get(ctx, (unsigned)(PR_TILE_HEIGHT * t->level), start + i,
		    out->data + out->len + (size_t)i * PR_HASH_LEN);
		if (rc != 0) {
			out->data[out->len] = '\0';
			return rc;
		}
	}
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

int
pr_tile_bundle_append(struct pr_buf *b, const uint8_t *entry, size_t len)
{
	int rc;

	if (len > PR_TILE_MAX_ENTRY)
		return PR_ETOOBIG;
	if ((rc = pr_buf_reserve(b, 2 + len)) != 0)
		return rc;
	pr_store_be16(b->data + b->len, (uint16_t)len);
	if (len > 0)
		memcpy(b->data + b->len + 2, entry, len);
	b->len += 2 + len;
	b->data[b->len] = '\0';
	return 0;
}

void
pr_tile_bundle_iter_init(
    struct pr_tile_bundle_iter *it, const uint8_t *data, size_t len)
{
	it->data = data;
	it->len = len;
	it->off = 0;
	it->count = 0;
}

int
pr_tile_bundle_next(
    struct pr_tile_bundle_iter *it, const uint8_t **entry, size_t *elen)
{
	size_t rest = it->len - it->off, n;

	if (rest == 0)
		return 0;
	if (rest < 2)
		return PR_ETRUNC;
	n = pr_load_be16(it->data + it->off);
	if (n > rest - 2)
		return PR_ETRUNC;
	*entry = it->data + it->off + 2;
	*elen = n;
	it->off += 2 + n;
	it->count++;
	return 1;
}

int
pr_tile_bundle_decode(const uint8_t *data, size_t len, uint64_t expect,
    pr_tile_entry_fn cb, void *ctx, uint64_t *count)
{
	struct pr_tile_bundle_iter it;
	const uint8_t *e;
	size_t elen;
	int rc;

	pr_tile_bundle_iter_init(&it, data, len);
	while ((rc = pr_tile_bundle_next(&it, &e, &elen)) == 1)
		if (expect != 0 && it.count > expect)
			return PR_EFORMAT;
	if (rc != 0)
		return rc;
	if (expect != 0 && it.count != expect)
		return PR_EFORMAT;
	if (cb != NULL) {
		pr_tile_bundle_iter_init(&it, data, len);
		while (pr_tile_bundle_next(&it, &e, &elen) == 1)
			if ((rc = cb(ctx, it.count - 1, e, elen)) != 0)
				return rc;
	}
	if (count != NULL)
		*count = it.count;
	return 0;
}

struct verify_ctx {
	const uint8_t *tile;
};

static int
verify_entry(void *ctx, uint64_t i, const uint8_t *entry, size_t len)
{
	struct verify_ctx *v = ctx;
	pr_hash h;

	pr_merkle_leaf_hash(entry, len, h);
	if (memcmp(h, v->tile + i * PR_HASH_LEN, PR_HASH_LEN) != 0)
		return PR_EPROOF;
	return 0;
}

int
pr_tile_bundle_verify(
    const uint8_t *bundle, size_t blen, const uint8_t *tile, size_t tlen)
{
	struct verify_ctx v = {tile};

	if (tlen == 0 || tlen % PR_HASH_LEN != 0 ||
	    tlen / PR_HASH_LEN > PR_TILE_WIDTH)
		return PR_EFORMAT;
	return pr_tile_bundle_decode(
	    bundle, blen, tlen / PR_HASH_LEN, verify_entry, &v, NULL);
}
