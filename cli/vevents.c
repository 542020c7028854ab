/*
 * The events of verified entries, for the chain rules.
 *
 * Entries are kept as the second stage admits them, in a table indexed
 * by entry index modulo its size, so a parent among the last few
 * thousand entries (the usual case: a process's events follow each other
 * closely) costs one lookup.  An older parent, or one verified by an
 * earlier run, is read again from the source: its whole entry bundle
 * (the last few are kept, as parents of one period cluster), hashed and
 * compared with the leaf hash verified before, then parsed.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/source.h"
#include "cli/verify.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"

#define NSLOTS 4096 /* parsed events kept, a power of two */
#define NBUNDLES 8 /* entry bundles read again, kept */

struct ev_slot {
	uint64_t index; /* VF_NO_ENTRY when empty */
	struct pr_event *ev;
};

struct ev_bundle {
	uint64_t n; /* VF_NO_ENTRY when empty */
	struct pr_buf b;
};

struct vf_events {
	struct cl_src *src;
	uint64_t size;
	struct ev_slot slot[NSLOTS];
	struct ev_bundle old[NBUNDLES];
	unsigned next_old;
	uint64_t hits, reads;
};

int
vf_events_new(struct cl_src *src, uint64_t size, struct vf_events **out)
{
	struct vf_events *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PR_ENOMEM;
	c->src = src;
	c->size = size;
	for (i = 0; i < NSLOTS; i++)
		c->slot[i].index = VF_NO_ENTRY;
	for (i = 0; i < NBUNDLES; i++)
		c->old[i].n = VF_NO_ENTRY;
	*out = c;
	return 0;
}

void
vf_events_free(struct vf_events *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NSLOTS; i++)
		pr_event_free(c->slot[i].ev);
	for (i = 0; i < NBUNDLES; i++)
		pr_buf_free(&c->old[i].b);
	free(c);
}

void
vf_events_keep(struct vf_events *c, uint64_t index, struct pr_event *ev)
{
	struct ev_slot *s = &c->slot[index & (NSLOTS - 1)];

	pr_event_free(s->ev);
	s->index = index;
	s->ev = ev;
}

/* Entry bundle n, from the kept ones or the source. */
static int
bundle(struct vf_events *c, uint64_t n, const struct pr_buf **out)
{
	struct ev_bundle *o;
	struct pr_tile t;
	unsigned i;
	int rc;

	for (i = 0; i < NBUNDLES; i++)
		if (c->old[i].n == n) {
			*out = &c->old[i].b;
			return 0;
		}
	o = &c->old[c->next_old];
	c->next_old = (c->next_old + 1) % NBUNDLES;
	o->n = VF_NO_ENTRY;
	pr_buf_reset(&o->b);
	t.level = PR_TILE_ENTRIES;
	t.index = n;
	t.width = pr_tile_width(PR_TILE_ENTRIES, n, c->size);
	if ((rc = cl_src_tile(c->src, &t, &o->b)) != 0)
		return rc;
	c->reads++;
	o->n = n;
	*out = &o->b;
	return 0;
}

/* Read entry index again and parse its event. */
static int
reread(struct vf_events *c, uint64_t index, const uint8_t *leaf,
    struct pr_event **out, struct vf_fail *f)
{
	struct pr_tile_bundle_iter it;
	const struct pr_buf *b;
	struct pr_entry ent;
	const uint8_t *p = NULL;
	pr_hash h;
	size_t len = 0;
	uint64_t k;
	int rc;

	if ((rc = bundle(c, index / PR_TILE_WIDTH, &b)) == PR_ECORRUPT)
		return vf_failf(f, index, "store_damaged",
		    "the entry cannot be read again as a parent: %s",
		    pr_errmsg(rc));
	if (rc != 0)
		return rc;
	pr_tile_bundle_iter_init(&it, b->data, b->len);
	for (k = 0; k <= index % PR_TILE_WIDTH; k++)
		if (pr_tile_bundle_next(&it, &p, &len) != 1)
			return vf_failf(f, index, "entry_rewritten",
			    "read again as a parent, its bundle ends before "
			    "it");
	pr_merkle_leaf_hash(p, len, h);
	if (memcmp(h, leaf, PR_HASH_LEN) != 0)
		return vf_failf(f, index, "entry_rewritten",
		    "read again as a parent, the entry differs from the one "
		    "verified before");
	/* It hashes to a verified leaf: it decoded then, it decodes now. */
	if ((rc = pr_entry_parse(p, len, &ent)) != 0 ||
	    (rc = pr_event_parse(ent.payload, ent.payload_len, out, NULL)) != 0)
		return vf_failf(f, index, "bad_event",
		    "read again as a parent, the entry does not decode: %s",
		    pr_strerror(rc));
	return 0;
}

int
vf_events_get(struct vf_events *c, uint64_t index, const uint8_t *leaf,
    struct pr_event **out, struct vf_fail *f)
{
	struct ev_slot *s = &c->slot[index & (NSLOTS - 1)];
	struct pr_event *ev;
	int rc;

	if (s->index == index && s->ev != NULL) {
		c->hits++;
		*out = s->ev;
		return 0;
	}
	if (index >= c->size)
		return vf_failf(f, index, "state_error",
		    "a parent at entry %llu is past the tree of %llu entries",
		    (unsigned long long)index, (unsigned long long)c->size);
	if ((rc = reread(c, index, leaf, &ev, f)) != 0)
		return rc;
	vf_events_keep(c, index, ev);
	*out = ev;
	return 0;
}

void
vf_events_stats(const struct vf_events *c, uint64_t *hits, uint64_t *reads)
{
	*hits = c->hits;
	*reads = c->reads;
}
