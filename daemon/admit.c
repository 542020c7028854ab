/*
 * Admission: the rules of proto/policy.c applied on the event loop, in
 * arrival order, against the committed state plus the overlay of events
 * admitted but not yet committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/hmap.h"
#include "daemon/ingest_int.h"
#include "daemon/procured.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/event.h"
#include "proto/log.h"
#include "proto/policy.h"

struct state_ctx {
	struct procured *d;
	struct hmap *overlay;
};

static int
state_get(void *arg, const char *key, size_t klen, struct pr_buf *val)
{
	struct state_ctx *c = arg;
	const void *v;
	size_t vlen;

	if (hmap_get(c->overlay, key, klen, &v, &vlen, NULL))
		return pr_buf_append(val, v, vlen);
	return st_state_get(c->d->store, key, klen, val);
}

/* The overlay also maps "E/" + leaf hash to admitted, uncommitted items. */
#define PENDING_EVENT "E/"

static int
get_event(void *arg, const uint8_t *leaf, struct pr_event **out)
{
	struct state_ctx *c = arg;
	uint8_t key[2 + PR_HASH_LEN];
	struct pr_buf raw = PR_BUF_INIT;
	struct pr_entry ent;
	struct item *it;
	uint64_t index;
	void *ptr;
	int rc;

	memcpy(key, PENDING_EVENT, 2);
	memcpy(key + 2, leaf, PR_HASH_LEN);
	if (hmap_get(c->overlay, key, sizeof(key), NULL, NULL, &ptr)) {
		it = ptr;
		return pr_event_parse(
		    it->env->payload, it->env->payload_len, out, NULL);
	}
	if ((rc = st_find_leaf(c->d->store, leaf, &index)) != 0)
		return rc;
	if ((rc = st_entry(c->d->store, index, &raw)) == 0 &&
	    (rc = pr_entry_parse(raw.data, raw.len, &ent)) == 0)
		rc = pr_event_parse(ent.payload, ent.payload_len, out, NULL);
	pr_buf_free(&raw);
	return rc;
}

static void
policy_init(struct pr_policy *p, struct state_ctx *c, struct procured *d,
    struct hmap *overlay)
{
	c->d = d;
	c->overlay = overlay;
	memset(p, 0, sizeof(*p));
	p->get = state_get;
	p->get_event = get_event;
	p->ctx = c;
	p->admins = (const struct pr_key *const *)d->admin_keys;
	p->nadmins = d->nadmins;
}

struct pr_key *
keycache_get(struct procured *d, struct hmap *overlay, const char *keyid)
{
	struct pr_policy p;
	struct state_ctx c;
	struct pr_policy_key k;
	struct pr_key *key;
	void *ptr;

	if (hmap_get(d->keycache, keyid, strlen(keyid), NULL, NULL, &ptr))
		return ptr;
	policy_init(&p, &c, d, overlay);
	if (pr_policy_key_get(&p, keyid, &k) != 0)
		return NULL;
	if (pr_key_from_raw_public(k.pub, &key) != 0)
		return NULL;
	/* Keys are never removed: a keyid always names the same key. */
	if (hmap_put(d->keycache, keyid, strlen(keyid), NULL, 0, 0, key)) {
		pr_key_free(key);
		return NULL;
	}
	return key;
}

static uint64_t
log_clock(struct procured *d)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	/* Log times never go backwards, whatever the wall clock does. */
	if (now < d->last_log_time)
		now = d->last_log_time;
	d->last_log_time = now;
	return now;
}

struct keys_ctx {
	struct pr_buf *mem;
	size_t party_off[16], item_off[32];
	size_t nparties, nitems;
	size_t ocid_off, kind_off;
};

static int
collect_key(void *arg, enum pr_index_type type, const char *key, size_t len)
{
	struct keys_ctx *k = arg;
	size_t off = k->mem->len;
	int rc;

	if ((rc = pr_buf_append(k->mem, key, len)) != 0 ||
	    (rc = pr_buf_append_byte(k->mem, 0)) != 0)
		return rc;
	switch (type) {
	case PR_INDEX_OCID:
		k->ocid_off = off;
		break;
	case PR_INDEX_KIND:
		k->kind_off = off;
		break;
	case PR_INDEX_PARTY:
		if (k->nparties < 16)
			k->party_off[k->nparties++] = off;
		break;
	case PR_INDEX_ITEM:
		if (k->nitems < 32)
			k->item_off[k->nitems++] = off;
		break;
	}
	return 0;
}

int
admit(struct procured *d, struct hmap *overlay, struct item *it)
{
	struct pr_event *ev = NULL;
	struct pr_event_error eerr;
	struct pr_policy p;
	struct state_ctx c;
	struct pr_policy_input in;
	struct pr_policy_effects fx;
	struct pr_policy_error perr;
	struct keys_ctx kc;
	size_t i, koff[PR_POLICY_MAX_PUTS], voff[PR_POLICY_MAX_PUTS];
	pr_hash leaf;
	int rc;

	/* The verify thread parsed the payload (or recorded why not). */
	ev = it->ev;
	it->ev = NULL;
	eerr = it->eerr;
	rc = it->parse_rc;
	if (rc != 0) {
		item_fail(it,
		    rc == PR_ETOOBIG      ? 413
		        : rc == PR_EEVENT ? 422
		                          : 400,
		    eerr.code ? eerr.code : "bad_event",
		    eerr.path[0] ? eerr.path : "payload", "%s",
		    eerr.message[0] ? eerr.message : pr_strerror(rc));
		return -1;
	}
	it->log_time_ms = log_clock(d);
	/* Encoded at submission, before it had a log time. */
	pr_entry_set_time(it->entry.data, it->log_time_ms);
	pr_merkle_leaf_hash(it->entry.data, it->entry.len, leaf);

	policy_init(&p, &c, d, overlay);
	memset(&in, 0, sizeof(in));
	in.ev = ev;
	in.env = it->env;
	in.valid = it->valid;
	in.log_time = (int64_t)it->log_time_ms;
	in.leaf = leaf;
	if (pr_policy_check(&p, &in, &fx, &perr) != 0) {
		item_fail(it, perr.status, perr.code,
		    perr.field[0] ? perr.field : NULL, "%s", perr.message);
		goto fail;
	}

	/* Everything st_append points to lives in it->admit_mem. */
	memset(&kc, 0, sizeof(kc));
	kc.mem = &it->admit_mem;
	kc.ocid_off = kc.kind_off = (size_t)-1;
	if ((rc = pr_event_index_keys(ev, collect_key, &kc)) != 0)
		goto oom;
	for (i = 0; i < fx.nputs; i++) {
		koff[i] = it->admit_mem.len;
		if (pr_buf_append(
		        &it->admit_mem, fx.puts[i].key, fx.puts[i].klen) != 0)
			goto oom;
		voff[i] = it->admit_mem.len;
		if (pr_buf_append(
		        &it->admit_mem, fx.puts[i].val, fx.puts[i].vlen) != 0)
			goto oom;
	}
	/* Last, so a rejected event never leaves state behind. */
	{
		uint8_t key[2 + PR_HASH_LEN];

		memcpy(key, PENDING_EVENT, 2);
		memcpy(key + 2, leaf, PR_HASH_LEN);
		if (hmap_put(overlay, key, sizeof(key), NULL, 0, it->seq, it))
			goto oom;
	}
	for (i = 0; i < fx.nputs; i++) {
		if (hmap_put(overlay, fx.puts[i].key, fx.puts[i].klen,
		        fx.puts[i].val, fx.puts[i].vlen, it->seq, NULL) != 0) {
			while (i-- > 0)
				hmap_del(
				    overlay, fx.puts[i].key, fx.puts[i].klen);
			goto oom;
		}
	}
	memset(&it->app, 0, sizeof(it->app));
	it->app.entry = it->entry.data;
	it->app.entry_len = it->entry.len;
	memcpy(it->app.envelope_hash, it->env_hash, PR_HASH_LEN);
	/* Computed once, here (the store takes it as it is). */
	it->app.has_leaf = 1;
	memcpy(it->app.leaf_hash, leaf, PR_HASH_LEN);
	it->app.log_time_ms = it->log_time_ms;
	if (kc.ocid_off != (size_t)-1)
		it->app.ocid = (char *)it->admit_mem.data + kc.ocid_off;
	if (kc.kind_off != (size_t)-1)
		it->app.kind = (char *)it->admit_mem.data + kc.kind_off;
	for (i = 0; i < kc.nparties; i++)
		it->parties[i] = (char *)it->admit_mem.data + kc.party_off[i];
	for (i = 0; i < kc.nitems; i++)
		it->items[i] = (char *)it->admit_mem.data + kc.item_off[i];
	it->app.parties = it->parties;
	it->app.nparties = kc.nparties;
	it->app.items = it->items;
	it->app.nitems = kc.nitems;
	for (i = 0; i < fx.nputs; i++) {
		it->puts[i].key = it->admit_mem.data + koff[i];
		it->puts[i].klen = fx.puts[i].klen;
		it->puts[i].val = it->admit_mem.data + voff[i];
		it->puts[i].vlen = fx.puts[i].vlen;
	}
	it->app.state = it->puts;
	it->app.nstate = fx.nputs;
	pr_policy_effects_clear(&fx);
	/* Kept for the red-flag engine once committed (flags_feed). */
	it->ev = ev;
	return 0;
oom:
	pr_policy_effects_clear(&fx);
	item_fail(it, 503, "overloaded", NULL, "out of memory");
fail:
	pr_event_free(ev);
	return -1;
}
