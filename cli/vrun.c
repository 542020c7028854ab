/*
 * The verify engine: entry bundles in, every check out.
 *
 * Bundles are worked in a two-stage pipeline.  The first stage (this
 * thread) fetches a bundle and its level-0 hash tile, hashes each entry
 * into the tree (comparing every hash tile it completes), decodes the
 * entry and its event, and queues the signatures for the pool.  The
 * second stage waits for the signatures of the previous bundle and
 * replays the admission rules over it in log order, while the pool works
 * on the next.  Failures are recorded with their entry index; the lowest
 * one is reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/source.h"
#include "cli/verify.h"
#include "cli/vfetch.h"
#include "cli/vpool.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"

struct vitem {
	uint64_t index;
	pr_hash leaf;
	int64_t log_time;
	struct pr_dsse *env;
	struct pr_event *ev;
	size_t pae_off, pae_len; /* its PAE in the batch's pae */
	size_t job0, njobs;
	int bad; /* failed in the first stage: no rules for it */
};

struct vbatch {
	struct pr_buf bundle;
	struct vitem items[PR_TILE_WIDTH];
	size_t nitems;
	/* Every entry's PAE in one buffer (one allocation a batch, not one
	 * an entry: large requests from a heap full of small objects are
	 * what malloc does slowest); jobs point into it once it is full. */
	struct pr_buf pae;
	struct vf_job *jobs;
	size_t *joboff; /* offset of each job's PAE in pae */
	size_t njobs, capjobs;
	struct vf_batch pb;
	int submitted; /* pb is with the pool until finish() */
};

double
vf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
vf_failf(
    struct vf_fail *f, uint64_t index, const char *rule, const char *fmt, ...)
{
	va_list ap;

	if (f->rule[0] != '\0' && f->index <= index)
		return PR_ECORRUPT;
	f->index = index;
	snprintf(f->rule, sizeof(f->rule), "%s", rule);
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return PR_ECORRUPT;
}

static int vfail(struct vf_run *r, uint64_t index, const char *rule,
    const char *fmt, ...) PR_PRINTF(4, 5);

static int
vfail(struct vf_run *r, uint64_t index, const char *rule, const char *fmt, ...)
{
	char msg[sizeof(r->fail.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = 1;
	return vf_failf(&r->fail, index, rule, "%s", msg);
}

static void
hex32(const uint8_t *h, char out[2 * PR_HASH_LEN + 1])
{
	pr_hex_encode(h, PR_HASH_LEN, out);
}

/* Fetch hash tile (level, index, width) and compare it with want. */
static int
check_tile(struct vf_run *r, unsigned level, uint64_t index, unsigned width,
    const uint8_t *want)
{
	struct pr_tile t = {(int)level, index, width};
	struct pr_buf b = PR_BUF_INIT;
	uint64_t first, span;
	unsigned k;
	int rc;

	if ((rc = cl_src_tile(r->src, &t, &b)) != 0)
		return rc;
	r->hash_tiles++;
	span = (uint64_t)1 << (8 * level);
	first = index * PR_TILE_WIDTH * span;
	if (b.len != (size_t)width * PR_HASH_LEN)
		rc = vfail(r, VF_NO_ENTRY, "tile_mismatch",
		    "hash tile %u/%llu holds %zu bytes, not %u hashes", level,
		    (unsigned long long)index, b.len, width);
	else
		for (k = 0; k < width; k++)
			if (memcmp(b.data + (size_t)k * PR_HASH_LEN,
			        want + (size_t)k * PR_HASH_LEN,
			        PR_HASH_LEN) != 0) {
				rc = vfail(r, VF_NO_ENTRY, "tile_mismatch",
				    "hash %u of tile %u/%llu differs from the "
				    "tree recomputed from entries %llu to "
				    "%llu",
				    k, level, (unsigned long long)index,
				    (unsigned long long)(first + k * span),
				    (unsigned long long)(first +
				        (k + 1) * span - 1));
				break;
			}
	pr_buf_free(&b);
	return rc == PR_ECORRUPT ? 0 : rc;
}

struct tree_push {
	struct vf_tree *t;
	vf_tile_fn full;
	void *ctx;
};

/* Every full subtree the tree completes: keep the tile levels' edges and
 * report each hash tile above level 0 when it is full. */
static int
on_subtree(void *arg, unsigned level, uint64_t index, const pr_hash hash)
{
	struct tree_push *tp = arg;
	struct vf_tree *t = tp->t;
	unsigned k = level / PR_TILE_HEIGHT, pos;

	if (level % PR_TILE_HEIGHT != 0 || k >= PR_TILE_MAX_LEVELS)
		return 0;
	pos = (unsigned)(index % PR_TILE_WIDTH);
	memcpy(t->edge[k] + (size_t)pos * PR_HASH_LEN, hash, PR_HASH_LEN);
	t->edge_n[k] = pos + 1;
	if (pos + 1 < PR_TILE_WIDTH)
		return 0;
	t->edge_n[k] = 0;
	if (k == 0 || tp->full == NULL)
		return 0; /* level 0 is compared entry by entry */
	return tp->full(tp->ctx, k, index / PR_TILE_WIDTH, t->edge[k]);
}

int
vf_tree_push(struct vf_tree *t, const pr_hash leaf, vf_tile_fn full, void *ctx)
{
	struct tree_push tp = {t, full, ctx};

	return pr_merkle_stack_push(&t->stack, leaf, on_subtree, &tp);
}

/* A full hash tile above level 0: compare it with the server's. */
static int
full_tile(void *ctx, unsigned level, uint64_t index, const uint8_t *hashes)
{
	return check_tile(ctx, level, index, PR_TILE_WIDTH, hashes);
}

static void
item_clear(struct vitem *it)
{
	pr_dsse_free(it->env);
	pr_event_free(it->ev);
	memset(it, 0, sizeof(*it));
}

static void
batch_clear(struct vbatch *b)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		item_clear(&b->items[i]);
	b->nitems = 0;
	b->njobs = 0;
	pr_buf_reset(&b->bundle);
	pr_buf_reset(&b->pae);
}

static int
add_job(struct vbatch *b, const struct pr_key *k, const struct vitem *it,
    const struct pr_entry_sig *s)
{
	struct vf_job *j;
	size_t *o;

	if (b->njobs == b->capjobs) {
		size_t cap = b->capjobs ? b->capjobs * 2 : 512;

		if ((o = realloc(b->joboff, cap * sizeof(*o))) == NULL)
			return PR_ENOMEM;
		b->joboff = o;
		if ((j = realloc(b->jobs, cap * sizeof(*j))) == NULL)
			return PR_ENOMEM;
		b->jobs = j;
		b->capjobs = cap;
	}
	b->joboff[b->njobs] = it->pae_off;
	j = &b->jobs[b->njobs++];
	j->key = k;
	j->msg = NULL; /* set by prepare() */
	j->msglen = it->pae_len;
	j->sig = s->sig;
	j->siglen = s->siglen;
	j->ok = 0;
	return 0;
}

/* First stage for one new entry: decode, check, queue its signatures. */
static int
prepare_entry(struct vf_run *r, struct vbatch *b, struct vitem *it,
    const uint8_t *p, size_t len)
{
	struct pr_event_error everr;
	struct pr_entry ent;
	const struct pr_key *k;
	size_t i;
	int rc;

	if ((rc = pr_entry_parse(p, len, &ent)) != 0)
		return vfail(r, it->index, "malformed_entry",
		    "the entry cannot be decoded: %s", pr_strerror(rc));
	it->log_time = (int64_t)ent.log_time;
	if (it->log_time < r->st->last_log_time)
		return vfail(r, it->index, "log_time_backwards",
		    "log time %lld ms is before the previous entry's %lld ms",
		    (long long)it->log_time, (long long)r->st->last_log_time);
	r->st->last_log_time = it->log_time;
	if (ent.payload_type_len != strlen(PR_DSSE_PAYLOAD_TYPE) ||
	    memcmp(ent.payload_type, PR_DSSE_PAYLOAD_TYPE,
	        ent.payload_type_len) != 0)
		return vfail(r, it->index, "payload_type",
		    "payloadType '%.*s' is not procured's event type",
		    (int)(ent.payload_type_len > 80 ? 80
		                                    : ent.payload_type_len),
		    ent.payload_type);
	memset(&everr, 0, sizeof(everr));
	if ((rc = pr_event_parse(
	         ent.payload, ent.payload_len, &it->ev, &everr)) != 0)
		return vfail(r, it->index, "bad_event", "%s%s%s (%s)",
		    everr.path, everr.path[0] ? ": " : "",
		    everr.message[0] ? everr.message : pr_strerror(rc),
		    everr.code ? everr.code : pr_errname(rc));
	/* A grant's key can sign from the next entry on; keyids are hashes
	 * of the keys, so the map is right whatever the rules decide. */
	if (it->ev->kind == PR_KIND_KEY_GRANT &&
	    (rc = vf_state_add_key(r->st, it->ev->public_key, NULL)) != 0)
		return rc;
	it->pae_off = b->pae.len;
	if ((rc = pr_entry_to_dsse(&ent, &it->env)) != 0 ||
	    (rc = pr_dsse_pae(ent.payload_type, ent.payload_type_len,
	         ent.payload, ent.payload_len, &b->pae)) != 0)
		return rc;
	it->pae_len = b->pae.len - it->pae_off;
	it->job0 = b->njobs;
	for (i = 0; i < ent.nsigs; i++) {
		k = ent.sigs[i].keyid ? vf_state_key(r->st, ent.sigs[i].keyid,
		                            ent.sigs[i].keyidlen)
		                      : NULL;
		if ((rc = add_job(b, k, it, &ent.sigs[i])) != 0)
			return rc;
	}
	it->njobs = ent.nsigs;
	r->sigs += ent.nsigs;
	return 0;
}

/*
 * Bundle n of a data directory cannot be read: the store found it
 * damaged.  Its deep check names the damaged entry when one is to blame.
 */
static int
damaged_bundle(struct vf_run *r, uint64_t n, const char *why)
{
	struct pr_buf m = PR_BUF_INIT;
	uint64_t bad = VF_NO_ENTRY, first = n * PR_TILE_WIDTH;
	char msg[sizeof(r->fail.msg)];
	int rc;

	snprintf(msg, sizeof(msg), "%s", why);
	rc = cl_src_deep_check(r->src, &bad, &m);
	if (rc == PR_ECORRUPT && bad != VF_NO_ENTRY && bad >= first &&
	    bad < first + PR_TILE_WIDTH)
		rc = vfail(r, bad, "store_damaged",
		    "entry %llu of bundle %llu is damaged: %s",
		    (unsigned long long)bad, (unsigned long long)n,
		    m.len ? (char *)m.data : msg);
	else
		rc = vfail(r, first, "store_damaged",
		    "entry bundle %llu cannot be read: %s",
		    (unsigned long long)n, msg);
	pr_buf_free(&m);
	return rc;
}

/* First stage for bundle n, up to its first failure. */
static int
prepare_bundle(struct vf_run *r, struct vbatch *b, uint64_t n)
{
	struct pr_tile_bundle_iter iter;
	struct vf_tree *t = &r->st->tree;
	const uint8_t *e;
	char got[2 * PR_HASH_LEN + 1], want[2 * PR_HASH_LEN + 1];
	unsigned w, k;
	size_t elen;
	int rc;

	w = pr_tile_width(PR_TILE_ENTRIES, n, r->size);
	if ((rc = vf_fetch_get(r->fetch, n, &b->bundle, &r->tile0)) ==
	    PR_ECORRUPT)
		/* A damaged store: a failure, not a wait for the next one. */
		return damaged_bundle(r, n, pr_errmsg(rc));
	if (rc != 0)
		return rc;
	r->bundles++;
	r->hash_tiles++;
	r->bytes += b->bundle.len;
	if (r->tile0.len != (size_t)w * PR_HASH_LEN)
		return vfail(r, VF_NO_ENTRY, "tile_mismatch",
		    "hash tile 0/%llu holds %zu bytes, not %u hashes",
		    (unsigned long long)n, r->tile0.len, w);
	pr_tile_bundle_iter_init(&iter, b->bundle.data, b->bundle.len);
	for (k = 0; k < w; k++) {
		struct vitem *it = &b->items[b->nitems];
		uint64_t idx = n * PR_TILE_WIDTH + k;

		if (pr_tile_bundle_next(&iter, &e, &elen) != 1)
			return vfail(r, idx, "malformed_bundle",
			    "entry bundle %llu ends before entry %llu",
			    (unsigned long long)n, (unsigned long long)idx);
		memset(it, 0, sizeof(*it));
		it->index = idx;
		pr_merkle_leaf_hash(e, elen, it->leaf);
		if (memcmp(it->leaf, r->tile0.data + (size_t)k * PR_HASH_LEN,
		        PR_HASH_LEN) != 0) {
			hex32(it->leaf, got);
			hex32(r->tile0.data + (size_t)k * PR_HASH_LEN, want);
			return vfail(r, idx, "leaf_mismatch",
			    "the entry hashes to %s but hash tile 0/%llu "
			    "says %s",
			    got, (unsigned long long)n, want);
		}
		if (idx < r->start) {
			/* Verified by an earlier run: it must not change. */
			if (memcmp(it->leaf,
			        t->edge[0] + (size_t)k * PR_HASH_LEN,
			        PR_HASH_LEN) != 0)
				return vfail(r, idx, "entry_rewritten",
				    "the entry differs from the one verified "
				    "in the state file's tree");
			continue;
		}
		if ((rc = vf_tree_push(t, it->leaf, full_tile, r)) != 0)
			return rc;
		b->nitems++;
		r->entries++;
		if ((rc = prepare_entry(r, b, it, e, elen)) != 0) {
			it->bad = 1;
			return rc;
		}
	}
	if (iter.off != iter.len)
		return vfail(r, n * PR_TILE_WIDTH + w - 1, "malformed_bundle",
		    "entry bundle %llu has %zu bytes after its last entry",
		    (unsigned long long)n, iter.len - iter.off);
	return 0;
}

/* First stage, then the bundle's signatures go to the pool. */
static int
prepare(struct vf_run *r, struct vbatch *b, uint64_t n)
{
	int rc = prepare_bundle(r, b, n);
	size_t j;

	for (j = 0; j < b->njobs; j++)
		b->jobs[j].msg = b->pae.data + b->joboff[j];
	b->pb.jobs = b->jobs;
	b->pb.n = b->njobs;
	vf_pool_submit(r->pool, &b->pb);
	b->submitted = 1;
	return rc;
}

/* Second stage: the rules over a bundle whose signatures are done. */
static int
finish(struct vf_run *r, struct vbatch *b)
{
	struct vf_entry e;
	size_t i, s;
	int rc;

	vf_pool_wait(r->pool, &b->pb);
	b->submitted = 0;
	for (i = 0; i < b->nitems; i++) {
		struct vitem *it = &b->items[i];

		/* Past a failure, the replay means nothing. */
		if (r->failed && it->index >= r->fail.index)
			break;
		if (it->bad)
			continue;
		e.index = it->index;
		e.log_time = it->log_time;
		e.leaf = it->leaf;
		e.env = it->env;
		e.ev = it->ev;
		e.valid = 0;
		for (s = 0; s < it->njobs; s++)
			if (b->jobs[it->job0 + s].ok)
				e.valid |= 1u << s;
		if ((rc = vf_policy_check(&r->pol, &e, &r->fail)) != 0) {
			r->failed = 1;
			if (rc != PR_ECORRUPT)
				return rc;
			continue;
		}
		/* Admitted: the event may be a later entry's parent. */
		if (r->pol.events != NULL && it->ev->ocid != NULL) {
			vf_events_keep(r->pol.events, it->index, it->ev);
			it->ev = NULL;
		}
	}
	batch_clear(b);
	return 0;
}

static void
show_progress(struct vf_run *r, int last)
{
	double now = vf_now(), el = now - r->t0, rate;
	uint64_t total = r->size - r->start, done = r->entries;
	unsigned long eta;

	if (!r->progress || (!last && now - r->shown < 0.25))
		return;
	r->shown = now;
	if (last) {
		fputs("\r\033[K", stderr);
		return;
	}
	rate = el > 0 ? (double)done / el : 0;
	eta = rate > 0 ? (unsigned long)((double)(total - done) / rate) : 0;
	fprintf(stderr,
	    "\r\033[Kverify: %llu/%llu entries (%.1f%%), %.0f entries/s, ETA "
	    "%lu:%02lu",
	    (unsigned long long)done, (unsigned long long)total,
	    total ? 100.0 * (double)done / (double)total : 100.0, rate,
	    eta / 60, eta % 60);
}

/* The partial tiles above level 0 and the root. */
static int
check_top(struct vf_run *r)
{
	struct vf_tree *t = &r->st->tree;
	pr_hash root;
	char got[2 * PR_HASH_LEN + 1], want[2 * PR_HASH_LEN + 1];
	unsigned k;
	int rc;

	for (k = 1; k < PR_TILE_MAX_LEVELS; k++)
		if (t->edge_n[k] != 0 &&
		    (rc = check_tile(r, k, (r->size >> (8 * k)) / PR_TILE_WIDTH,
		         t->edge_n[k], t->edge[k])) != 0)
			return rc;
	if (t->stack.size == 0)
		pr_merkle_empty_root(root);
	else
		pr_merkle_stack_root(&t->stack, root);
	if (memcmp(root, r->root, PR_HASH_LEN) != 0) {
		hex32(root, got);
		hex32(r->root, want);
		vfail(r, VF_NO_ENTRY, "root_mismatch",
		    "the tree of the %llu entries has root %s, the "
		    "checkpoint says %s",
		    (unsigned long long)r->size, got, want);
	}
	return 0;
}

int
vf_run_entries(struct vf_run *r)
{
	struct vbatch *b[2];
	struct cl_src *fsrc = NULL;
	uint64_t n, last;
	int rc = 0, cur = 0, pending = 0, k;

	r->start = r->st->tree.stack.size;
	r->t0 = r->shown = vf_now();
	if ((b[0] = calloc(1, sizeof(*b[0]))) == NULL)
		return PR_ENOMEM;
	if ((b[1] = calloc(1, sizeof(*b[1]))) == NULL) {
		free(b[0]);
		return PR_ENOMEM;
	}
	last = pr_tile_count(PR_TILE_ENTRIES, r->size);
	/* Parents are read again on the main source, by this thread. */
	if ((rc = vf_events_new(r->src, r->size, &r->pol.events)) != 0)
		goto free_batches;
	r->pol.parents = 0;
	/* Bundles are read ahead on a source of their own. */
	if ((rc = cl_src_dup(r->src, r->ctx, &fsrc)) != 0 ||
	    (rc = vf_fetch_start(fsrc, r->start / PR_TILE_WIDTH, last, r->size,
	         &r->fetch)) != 0) {
		cl_src_free(fsrc);
		goto free_batches;
	}
	for (n = r->start / PR_TILE_WIDTH; n < last && !r->failed; n++) {
		rc = prepare(r, b[cur], n);
		if (rc == PR_ECORRUPT)
			rc = 0;
		if (rc == 0 && pending)
			rc = finish(r, b[!cur]);
		pending = 1;
		cur = !cur;
		if (rc != 0)
			break;
		show_progress(r, 0);
	}
	/* The last bundle, or the one in flight when something failed. */
	if (rc == 0 && pending)
		rc = finish(r, b[!cur]);
	for (k = 0; k < 2; k++) {
		if (b[k]->submitted)
			vf_pool_wait(r->pool, &b[k]->pb);
		batch_clear(b[k]);
	}
	vf_fetch_stop(r->fetch);
	r->fetch = NULL;
	cl_src_free(fsrc);
	show_progress(r, 1);
	if (rc == 0 && !r->failed)
		rc = check_top(r);
free_batches:
	r->seconds = vf_now() - r->t0;
	if (r->pol.events != NULL) {
		uint64_t hits;

		vf_events_stats(r->pol.events, &hits, &r->parent_reads);
		r->parents = r->pol.parents;
		vf_events_free(r->pol.events);
		r->pol.events = NULL;
	}
	for (k = 0; k < 2; k++) {
		free(b[k]->jobs);
		free(b[k]->joboff);
		pr_buf_free(&b[k]->pae);
	}
	pr_buf_free(&b[0]->bundle);
	pr_buf_free(&b[1]->bundle);
	pr_buf_free(&r->tile0);
	free(b[0]);
	free(b[1]);
	if (rc != 0)
		return rc;
	return r->failed ? PR_ECORRUPT : 0;
}
