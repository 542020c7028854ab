#include <sys/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/hmap.h"
#include "daemon/http.h"
#include "daemon/ingest.h"
#include "daemon/ingest_int.h"
#include "daemon/flags.h"
#include "daemon/procured.h"
#include "daemon/ratelimit.h"
#include "daemon/receipt.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/json.h"
#include "proto/log.h"

/* Events answered before an idle moment returns memory (on_trim). */
#define TRIM_AFTER 256

struct queue {
	struct item *head, *tail;
	size_t n;
};

struct ingest {
	struct procured *d;
	pthread_mutex_t mtx;
	pthread_cond_t verify_cv, seq_cv;
	struct queue verify_q; /* event loop -> verify threads */
	struct queue verified_q; /* verify threads -> event loop */
	struct queue seq_q; /* event loop -> sequencer */
	struct queue done_q; /* sequencer -> event loop */
	uint64_t fail_epoch; /* sequencer: reject items older than this */
	int fail_rc; /* ... with the error of the batch that failed */
	int quit;
	pthread_t *verifiers;
	size_t nverifiers;
	pthread_t sequencer;
	int seq_started;
	struct event *ev_verified, *ev_done;
	struct event *ev_trim; /* gives a burst's memory back once idle */
	uint64_t since_trim; /* events answered since */

	/* event loop only */
	struct hmap *overlay; /* admitted, uncommitted state changes */
	struct hmap *pending; /* envelope hash -> item */
	uint64_t seq, epoch;
	size_t inflight;
	int shutting_down;
	int fatal;
	uint64_t last_commit_us;
	struct ratelimit *rl_addr, *rl_key;

	/* metrics (sequencer writes under mtx) */
	uint64_t committed, batches, rejected, duplicates;
	uint64_t batch_hist[8]; /* sizes <=1,<=10,<=100,<=1000,... */
	uint64_t commit_us_sum, commit_us_max;
	uint64_t verified;
	uint64_t tree_size;
};

static void
q_push(struct queue *q, struct item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
}

static struct item *
q_pop(struct queue *q)
{
	struct item *it = q->head;

	if (it == NULL)
		return NULL;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	it->next = NULL;
	return it;
}

void
item_fail(struct item *it, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	it->status = status;
	it->code = code;
	snprintf(it->field, sizeof(it->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(it->message, sizeof(it->message), fmt, ap);
	va_end(ap);
}

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	pr_dsse_free(it->env);
	pr_event_free(it->ev);
	pr_buf_free(&it->entry);
	pr_buf_free(&it->admit_mem);
	pr_buf_free(&it->receipt);
	free(it);
}

/* Leave the loop after a moment, so answers just sent get written. */
static void
loopexit_soon(struct event_base *base)
{
	struct timeval tv = {0, 200000};

	event_base_loopexit(base, &tv);
}

static void
on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ig = arg;

	(void)fd;
	(void)what;
	if (ig->inflight != 0)
		return; /* busy again: the next idle moment re-arms it */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	ig->since_trim = 0;
}

/* ---- answers: a request, or a line of a batch ---- */

/* POST /v1/events/batch: one answer a line, sent when all are in. */
struct batch {
	struct http_req *r; /* detached */
	size_t n, left;
	struct pr_buf *out; /* n JSON objects */
	int oom;
};

static void
batch_line_done(struct batch *b)
{
	struct pr_buf body = PR_BUF_INIT;
	size_t i;

	if (--b->left > 0)
		return;
	for (i = 0; i < b->n && !b->oom; i++)
		if (pr_buf_append(&body, b->out[i].data, b->out[i].len) != 0 ||
		    pr_buf_append(&body, "\n", 1) != 0)
			b->oom = 1;
	if (b->oom)
		http_error(b->r, 500, "internal", NULL,
		    "out of memory while answering; the events may be "
		    "logged: submit them again to get their receipts");
	else
		http_reply(b->r, 200, "application/x-ndjson", body.data,
		    body.len, "no-store");
	pr_buf_free(&body);
	for (i = 0; i < b->n; i++)
		pr_buf_free(&b->out[i]);
	free(b->out);
	free(b);
}

static void waiter_fail(const struct waiter *w, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
waiter_fail(const struct waiter *w, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	struct pr_buf *o, err = PR_BUF_INIT;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->b == NULL) {
		if (status == 429)
			http_set_header(w->r, "Retry-After", "1");
		http_error(w->r, status, code, field, "%s", msg);
		return;
	}
	/* {"status":S,"error":{...}}: the error body with the status. */
	o = &w->b->out[w->line];
	pr_buf_reset(o);
	if (http_error_body(&err, code, field, msg) != 0 || err.len < 2 ||
	    pr_buf_printf(o, "{\"status\":%d,", status) != 0 ||
	    pr_buf_append(o, err.data + 1, err.len - 1) != 0)
		w->b->oom = 1;
	pr_buf_free(&err);
	batch_line_done(w->b);
}

static void
waiter_reply(
    const struct waiter *w, int status, const void *receipt, size_t len)
{
	struct pr_buf *o;

	if (w->b == NULL) {
		http_reply(
		    w->r, status, "application/json", receipt, len, "no-store");
		return;
	}
	o = &w->b->out[w->line];
	pr_buf_reset(o);
	/* The receipt ends with a newline: leave it out. */
	while (len > 0 && ((const char *)receipt)[len - 1] == '\n')
		len--;
	if (pr_buf_printf(o, "{\"status\":%d,\"receipt\":", status) != 0 ||
	    pr_buf_append(o, receipt, len) != 0 ||
	    pr_buf_append(o, "}", 1) != 0)
		w->b->oom = 1;
	batch_line_done(w->b);
}

/* Answer every request waiting on it, then free it. */
static void
item_answer(struct ingest *ig, struct item *it)
{
	unsigned i;
	void *p;

	/* Identical submissions wait on this item until it is answered. */
	if (hmap_get(ig->pending, it->env_hash, PR_HASH_LEN, NULL, NULL, &p) &&
	    p == it)
		hmap_del(ig->pending, it->env_hash, PR_HASH_LEN);
	for (i = 0; i < it->nwaiters; i++) {
		if (it->status != 0)
			waiter_fail(&it->waiters[i], it->status, it->code,
			    it->field[0] ? it->field : NULL, "%s", it->message);
		else
			waiter_reply(&it->waiters[i], i == 0 ? 201 : 200,
			    it->receipt.data, it->receipt.len);
	}
	if (it->status != 0)
		ig->rejected++;
	if (ig->inflight > 0)
		ig->inflight--;
	item_free(it);
	/* After a burst the allocator keeps what it used; once the log has
	 * been idle a second, on_trim() returns it to the system. */
	if (++ig->since_trim >= TRIM_AFTER && ig->inflight == 0 &&
	    ig->ev_trim != NULL) {
		struct timeval tv = {1, 0};
		event_add(ig->ev_trim, &tv);
	}
	if (ig->shutting_down && ig->inflight == 0)
		loopexit_soon(ig->d->base);
}

/* ---- verify threads ---- */

static void *
verify_main(void *arg)
{
	struct ingest *ig = arg;
	struct item *it;
	size_t i;

	(void)prctl(PR_SET_NAME, "verify");
	pthread_mutex_lock(&ig->mtx);
	for (;;) {
		while (!ig->quit && ig->verify_q.head == NULL)
			pthread_cond_wait(&ig->verify_cv, &ig->mtx);
		if ((it = q_pop(&ig->verify_q)) == NULL)
			break; /* quit with nothing left */
		pthread_mutex_unlock(&ig->mtx);
		it->valid = 0;
		/* Parsing is as costly as a signature check: do it here, on
		 * all cores, rather than on the event loop. */
		memset(&it->eerr, 0, sizeof(it->eerr));
		it->parse_rc = pr_event_parse(
		    it->env->payload, it->env->payload_len, &it->ev, &it->eerr);
		for (i = 0; i < it->env->nsigs; i++)
			if (it->keys[i] != NULL &&
			    pr_dsse_verify(it->env, i, it->keys[i]) == 0)
				it->valid |= 1u << i;
		pthread_mutex_lock(&ig->mtx);
		ig->verified += it->env->nsigs;
		/* A non-empty queue has its wake-up pending already. */
		if (ig->verified_q.head == NULL)
			event_active(ig->ev_verified, EV_READ, 0);
		q_push(&ig->verified_q, it);
	}
	pthread_mutex_unlock(&ig->mtx);
	return NULL;
}

/* ---- sequencer thread ---- */

static uint64_t
mono_us(void)
{
	return http_now_us();
}

static void
fail_batch(struct item **batch, size_t n, int rc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		batch[i]->rc = rc;
		if (rc == PR_EMAPFULL || rc == PR_ENOSPC)
			item_fail(batch[i], 507, "out_of_space", NULL,
			    "the log is out of %s space; nothing was written; "
			    "retry later",
			    rc == PR_ENOSPC ? "disk" : "database");
		else if (rc == PR_ECONFLICT)
			item_fail(batch[i], 503, "retry", NULL,
			    "an earlier event this one depended on was not "
			    "logged; submit again");
		else
			item_fail(batch[i], 500, "store_error", NULL,
			    "the log could not commit: %s", pr_strerror(rc));
	}
}

/* The receipts of a batch's new entries, as their proofs come. */
struct receipts {
	struct item **batch;
	const struct st_appended *res;
	size_t n, next;
	uint64_t size;
	const char *note_json;
};

static int
new_receipt(void *arg, uint64_t index, const pr_hash *proof, size_t len)
{
	struct receipts *r = arg;
	struct item *it;

	/* New entries have ascending indexes in batch order. */
	while (r->next < r->n &&
	    (r->res[r->next].duplicate || r->res[r->next].index != index))
		r->next++;
	if (r->next == r->n)
		return PR_EINVAL;
	it = r->batch[r->next++];
	if (receipt_format(index, it->res.leaf_hash, it->env_hash,
	        it->log_time_ms, r->size, r->note_json, proof, len,
	        &it->receipt) != 0)
		item_fail(it, 500, "internal", NULL,
		    "logged at index %llu but the receipt could not be "
		    "built; fetch it with GET /v1/entries",
		    (unsigned long long)index);
	return 0;
}

static void
commit_batch(struct ingest *ig, struct item **batch, size_t n)
{
	struct procured *d = ig->d;
	struct st_append *apps;
	struct st_appended *res;
	struct pr_buf note = PR_BUF_INIT, nj = PR_BUF_INIT;
	struct receipts rr;
	uint64_t size, t0, dt, first = UINT64_MAX, nnew = 0;
	pr_hash root;
	size_t i, b;
	int rc;

	apps = calloc(n, sizeof(*apps));
	res = calloc(n, sizeof(*res));
	if (apps == NULL || res == NULL) {
		rc = PR_ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++)
		apps[i] = batch[i]->app;
	t0 = mono_us();
	rc = st_append_batch(
	    d->store, apps, n, procured_sign_checkpoint, d, res, &size, root);
	if (rc != 0)
		goto fail;
	if ((rc = st_checkpoint(d->store, &note)) != 0)
		goto fail;
	dt = mono_us() - t0;
	for (i = 0; i < n; i++) {
		batch[i]->res = res[i];
		if (!res[i].duplicate) {
			if (first == UINT64_MAX)
				first = res[i].index;
			nnew++;
			continue;
		}
		if (receipt_build(d->store, res[i].index, size,
		        (const char *)note.data, &batch[i]->receipt) != 0)
			item_fail(batch[i], 500, "internal", NULL,
			    "logged at index %llu but the receipt could not "
			    "be built; fetch it with GET /v1/entries",
			    (unsigned long long)res[i].index);
	}
	/* A fresh entry's facts are at hand: only the proofs are read, for
	 * the whole batch in one snapshot. */
	if (nnew > 0) {
		rr.batch = batch;
		rr.res = res;
		rr.n = n;
		rr.next = 0;
		rr.size = size;
		rr.note_json = NULL;
		if ((rc = pr_json_quote(&nj, (const char *)note.data)) == 0) {
			rr.note_json = (const char *)nj.data;
			rc = st_inclusion_proofs(
			    d->store, first, nnew, size, new_receipt, &rr);
		}
		for (i = 0; rc != 0 && i < n; i++)
			if (!res[i].duplicate && batch[i]->receipt.len == 0)
				item_fail(batch[i], 500, "internal", NULL,
				    "logged at index %llu but the receipt "
				    "could not be built; fetch it with GET "
				    "/v1/entries",
				    (unsigned long long)res[i].index);
	}
	/* The red-flag indexer takes the parsed events from here. */
	for (i = 0; i < n; i++)
		if (!res[i].duplicate && batch[i]->ev != NULL) {
			flags_feed(d->flags, res[i].index, res[i].leaf_hash,
			    batch[i]->ev);
			batch[i]->ev = NULL;
		}
	pthread_mutex_lock(&ig->mtx);
	ig->committed += n;
	ig->batches++;
	for (b = 0; b < 7 && n > (size_t)1 << (2 * b); b++)
		;
	ig->batch_hist[b]++;
	ig->commit_us_sum += dt;
	if (dt > ig->commit_us_max)
		ig->commit_us_max = dt;
	ig->tree_size = size;
	pthread_mutex_unlock(&ig->mtx);
	free(apps);
	free(res);
	pr_buf_free(&note);
	pr_buf_free(&nj);
	return;
fail:
	log_warnx("commit of %zu events failed: %s", n, pr_strerror(rc));
	fail_batch(batch, n, rc);
	free(apps);
	free(res);
	pr_buf_free(&note);
}

static void *
sequencer_main(void *arg)
{
	struct ingest *ig = arg;
	struct procured *d = ig->d;
	struct item **batch, *it;
	size_t n, max = (size_t)d->conf.batch_max;
	struct timespec until;
	uint64_t delay_ns = d->conf.batch_delay_ms * 1000000u;
	int fatal = 0, backlog = 0;

	(void)prctl(PR_SET_NAME, "sequencer");
	if ((batch = calloc(max, sizeof(*batch))) == NULL)
		return NULL;
	pthread_mutex_lock(&ig->mtx);
	for (;;) {
		while (!ig->quit && ig->seq_q.head == NULL)
			pthread_cond_wait(&ig->seq_cv, &ig->mtx);
		if (ig->seq_q.head == NULL)
			break;
		/* Group commit: wait a little for more unless full, or unless
		 * these events queued up during the last commit (a busy log
		 * batches by itself; waiting would only add latency). */
		if (ig->seq_q.n < max && delay_ns > 0 && !ig->quit &&
		    !backlog) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (long)delay_ns;
			while (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (ig->seq_q.n < max && !ig->quit &&
			    pthread_cond_timedwait(
			        &ig->seq_cv, &ig->mtx, &until) != ETIMEDOUT)
				;
		}
		n = 0;
		while (n < max && (it = q_pop(&ig->seq_q)) != NULL) {
			if (it->epoch < ig->fail_epoch || fatal) {
				fail_batch(
				    &it, 1, fatal ? PR_EPANIC : ig->fail_rc);
				q_push(&ig->done_q, it);
				continue;
			}
			batch[n++] = it;
		}
		if (n == 0) {
			event_active(ig->ev_done, EV_READ, 0);
			continue;
		}
		pthread_mutex_unlock(&ig->mtx);
		commit_batch(ig, batch, n);
		pthread_mutex_lock(&ig->mtx);
		if (batch[0]->rc != 0) {
			/* Everything admitted after a failed batch may depend
			 * on it: refuse it, and reset the overlay. */
			ig->fail_epoch = batch[0]->epoch + 1;
			/* Out of space: those fail alike (507); otherwise they
			 * may be submitted again. */
			ig->fail_rc = batch[0]->rc == PR_EMAPFULL ||
			        batch[0]->rc == PR_ENOSPC
			    ? batch[0]->rc
			    : PR_ECONFLICT;
			if (batch[0]->rc != PR_EMAPFULL &&
			    batch[0]->rc != PR_ENOSPC)
				fatal = 1;
		}
		for (size_t i = 0; i < n; i++)
			q_push(&ig->done_q, batch[i]);
		event_active(ig->ev_done, EV_READ, 0);
		backlog = ig->seq_q.head != NULL;
	}
	pthread_mutex_unlock(&ig->mtx);
	free(batch);
	return NULL;
}

/* ---- event loop side ---- */

static void
on_verified(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ig = arg;
	struct queue q, admitted = {NULL, NULL, 0};
	struct item *it;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&ig->mtx);
	q = ig->verified_q;
	memset(&ig->verified_q, 0, sizeof(ig->verified_q));
	pthread_mutex_unlock(&ig->mtx);
	while ((it = q_pop(&q)) != NULL) {
		if (ig->fatal) {
			item_fail(it, 503, "unavailable", NULL,
			    "the log is stopping after a store failure");
			goto reject;
		}
		it->seq = ++ig->seq;
		it->epoch = ig->epoch;
		if (admit(ig->d, ig->overlay, it) != 0)
			goto reject;
		q_push(&admitted, it);
		continue;
	reject:
		item_answer(ig, it);
	}
	/* Hand the sequencer everything at once: one lock, one wake-up. */
	if (admitted.head == NULL)
		return;
	pthread_mutex_lock(&ig->mtx);
	if (ig->seq_q.tail != NULL)
		ig->seq_q.tail->next = admitted.head;
	else
		ig->seq_q.head = admitted.head;
	ig->seq_q.tail = admitted.tail;
	ig->seq_q.n += admitted.n;
	pthread_cond_signal(&ig->seq_cv);
	pthread_mutex_unlock(&ig->mtx);
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ig = arg;
	struct queue q;
	struct item *it;
	uint64_t fail_epoch, upto = 0;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&ig->mtx);
	q = ig->done_q;
	memset(&ig->done_q, 0, sizeof(ig->done_q));
	fail_epoch = ig->fail_epoch;
	pthread_mutex_unlock(&ig->mtx);
	if (fail_epoch > ig->epoch) {
		/* The overlay holds changes that will never commit. */
		hmap_clear(ig->overlay);
		ig->epoch = fail_epoch;
	}
	while ((it = q_pop(&q)) != NULL) {
		if (it->rc == 0 && it->status == 0 && it->seq > upto)
			upto = it->seq;
		if (it->rc == PR_EPANIC || it->rc == PR_EIO) {
			if (!ig->fatal)
				log_warnx("fatal store error: stopping");
			ig->fatal = 1;
		}
		ig->last_commit_us = http_now_us();
		item_answer(ig, it);
	}
	/* Committed state is in the store now: drop it from the overlay,
	 * in one sweep of the table rather than one an event. */
	if (upto > 0)
		hmap_del_upto(ig->overlay, upto);
	if (ig->fatal && ig->inflight == 0)
		loopexit_soon(ig->d->base);
}

void
ingest_set_rates(struct ingest *ig)
{
	ratelimit_set(ig->rl_addr, ig->d->conf.rate_per_addr);
	ratelimit_set(ig->rl_key, ig->d->conf.rate_per_key);
}

struct ingest *
ingest_new(struct procured *d)
{
	struct ingest *ig;
	size_t i;

	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return NULL;
	ig->d = d;
	pthread_mutex_init(&ig->mtx, NULL);
	pthread_cond_init(&ig->verify_cv, NULL);
	pthread_cond_init(&ig->seq_cv, NULL);
	ig->overlay = hmap_new();
	ig->pending = hmap_new();
	ig->ev_verified = event_new(d->base, -1, 0, on_verified, ig);
	ig->ev_done = event_new(d->base, -1, 0, on_done, ig);
	ig->ev_trim = event_new(d->base, -1, 0, on_trim, ig);
	ig->rl_addr = ratelimit_new(4096);
	ig->rl_key = ratelimit_new(4096);
	if (ig->rl_addr == NULL || ig->rl_key == NULL)
		goto fail;
	ingest_set_rates(ig);
	ig->nverifiers = (size_t)d->conf.verify_threads;
	ig->verifiers = calloc(ig->nverifiers, sizeof(*ig->verifiers));
	if (ig->overlay == NULL || ig->pending == NULL ||
	    ig->ev_verified == NULL || ig->ev_done == NULL ||
	    ig->verifiers == NULL)
		goto fail;
	for (i = 0; i < ig->nverifiers; i++)
		if (pthread_create(&ig->verifiers[i], NULL, verify_main, ig))
			goto fail_threads;
	if (pthread_create(&ig->sequencer, NULL, sequencer_main, ig))
		goto fail_threads;
	ig->seq_started = 1;
	st_tree(d->store, &ig->tree_size, NULL);
	ig->last_commit_us = http_now_us();
	return ig;
fail_threads:
	ig->nverifiers = i;
fail:
	ingest_free(ig);
	return NULL;
}

void
ingest_free(struct ingest *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	pthread_mutex_lock(&ig->mtx);
	ig->quit = 1;
	pthread_cond_broadcast(&ig->verify_cv);
	pthread_cond_broadcast(&ig->seq_cv);
	pthread_mutex_unlock(&ig->mtx);
	for (i = 0; i < ig->nverifiers; i++)
		pthread_join(ig->verifiers[i], NULL);
	if (ig->seq_started)
		pthread_join(ig->sequencer, NULL);
	/* Requests still queued: their connections are gone with evhttp. */
	{
		struct queue *qs[] = {
		    &ig->verify_q, &ig->verified_q, &ig->seq_q, &ig->done_q};
		struct item *it;
		for (i = 0; i < 4; i++)
			while ((it = q_pop(qs[i])) != NULL)
				item_free(it);
	}
	if (ig->ev_verified)
		event_free(ig->ev_verified);
	if (ig->ev_done)
		event_free(ig->ev_done);
	if (ig->ev_trim)
		event_free(ig->ev_trim);
	hmap_free(ig->overlay);
	hmap_free(ig->pending);
	ratelimit_free(ig->rl_addr);
	ratelimit_free(ig->rl_key);
	free(ig->verifiers);
	pthread_mutex_destroy(&ig->mtx);
	pthread_cond_destroy(&ig->verify_cv);
	pthread_cond_destroy(&ig->seq_cv);
	free(ig);
}

/*
 * One envelope of a request or a batch line: parse, deduplicate, find the
 * signers' keys and queue it for the verify threads, or answer w now.
 */
static void
submit_one(struct ingest *ig, const struct waiter *w, const char *body,
    size_t len, uint64_t start_us)
{
	struct procured *d = ig->d;
	struct pr_dsse_error derr;
	struct item *it, *dup;
	size_t i;
	void *p;
	int rc;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		waiter_fail(w, 503, "overloaded", NULL, "out of memory");
		return;
	}
	it->arrived_us = start_us;
	memset(&derr, 0, sizeof(derr));
	if ((rc = pr_dsse_parse(body, len, &it->env, &derr)) != 0) {
		waiter_fail(w, rc == PR_ETOOBIG ? 413 : 400,
		    derr.code ? derr.code : "bad_envelope",
		    derr.field[0] ? derr.field : NULL, "%s",
		    derr.message[0] ? derr.message : pr_strerror(rc));
		item_free(it);
		return;
	}
	if (strcmp(it->env->payload_type, PR_DSSE_PAYLOAD_TYPE) != 0) {
		waiter_fail(w, 422, "bad_payload_type", "payloadType",
		    "payloadType must be \"%s\"", PR_DSSE_PAYLOAD_TYPE);
		item_free(it);
		return;
	}
	/* The entry, its log time set at admission; the envelope hash is
	 * the hash of its envelope part. */
	if ((rc = pr_entry_encode(it->env, 0, &it->entry)) != 0 ||
	    (rc = pr_entry_envelope_hash(
	         it->entry.data, it->entry.len, it->env_hash)) != 0) {
		waiter_fail(w, 413, "too_large", NULL,
		    "the envelope does not fit in a log entry: %s",
		    pr_errmsg(rc));
		item_free(it);
		return;
	}
	/* The same envelope in flight: wait for its receipt. */
	if (hmap_get(ig->pending, it->env_hash, PR_HASH_LEN, NULL, NULL, &p)) {
		dup = p;
		item_free(it);
		if (dup->nwaiters == ITEM_MAX_WAITERS) {
			waiter_fail(w, 503, "overloaded", NULL,
			    "this envelope is already being logged; retry");
			return;
		}
		dup->waiters[dup->nwaiters] = *w;
		if (w->r != NULL)
			http_req_detach(w->r);
		dup->nwaiters++;
		ig->duplicates++;
		return;
	}
	/* Already logged: the same receipt, at the current tree size. */
	if (receipt_for_envelope(d->store, it->env_hash, &it->receipt) == 0) {
		ig->duplicates++;
		waiter_reply(w, 200, it->receipt.data, it->receipt.len);
		item_free(it);
		return;
	}
	for (i = 0; i < it->env->nsigs; i++) {
		if (it->env->sigs[i].keyid == NULL) {
			waiter_fail(w, 401, "unknown_key", "signatures",
			    "signature %zu has no keyid; the log finds keys "
			    "by keyid",
			    i);
			item_free(it);
			return;
		}
		it->keys[i] =
		    keycache_get(d, ig->overlay, it->env->sigs[i].keyid);
		if (!ratelimit_take(
		        ig->rl_key, it->env->sigs[i].keyid, start_us)) {
			waiter_fail(w, 429, "rate_limited", "signatures",
			    "too many submissions signed by %s; slow down",
			    it->env->sigs[i].keyid);
			item_free(it);
			return;
		}
	}
	if (hmap_put(ig->pending, it->env_hash, PR_HASH_LEN, NULL, 0, 0, it)) {
		waiter_fail(w, 503, "overloaded", NULL, "out of memory");
		item_free(it);
		return;
	}
	it->waiters[it->nwaiters++] = *w;
	if (w->r != NULL)
		http_req_detach(w->r);
	ig->inflight++;
	pthread_mutex_lock(&ig->mtx);
	q_push(&ig->verify_q, it);
	pthread_cond_signal(&ig->verify_cv);
	pthread_mutex_unlock(&ig->mtx);
}

/* The checks common to both ways of submitting, for n events of len bytes
 * in all: 0, or -1 after answering r. */
static int
submit_check(struct ingest *ig, struct http_req *r, size_t n, size_t len,
    uint64_t max, const char *const *ctypes, const char *what)
{
	const char *ctype, *const *c;
	size_t i;

	if (ig->shutting_down || ig->fatal) {
		http_error(r, 503, "unavailable", NULL,
		    "the log is shutting down; retry shortly");
		return -1;
	}
	if (ig->inflight + n > ig->d->conf.queue_max) {
		http_error(r, 503, "overloaded", NULL,
		    "%zu events are waiting; retry shortly", ig->inflight);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!ratelimit_take(ig->rl_addr, r->peer, r->start_us)) {
			http_set_header(r, "Retry-After", "1");
			http_error(r, 429, "rate_limited", NULL,
			    "too many submissions from %s; slow down", r->peer);
			return -1;
		}
	ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Content-Type");
	if (ctype != NULL) {
		for (c = ctypes; *c != NULL; c++)
			if (strncmp(ctype, *c, strlen(*c)) == 0)
				break;
		if (*c == NULL) {
			http_error(r, 415, "unsupported_media_type",
			    "Content-Type", "send %s; Content-Type %s", what,
			    ctypes[0]);
			return -1;
		}
	}
	if (len == 0) {
		http_error(
		    r, 400, "empty_body", NULL, "the body must be %s", what);
		return -1;
	}
	if (len > max) {
		http_error(r, 413, "too_large", NULL,
		    "the body is %zu bytes; the limit is %llu", len,
		    (unsigned long long)max);
		return -1;
	}
	return 0;
}

void
ingest_submit(struct http_req *r, struct procured *d)
{
	static const char *const ctypes[] = {
	    "application/json", "application/vnd.dsse", NULL};
	struct ingest *ig = d->ingest;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct waiter w = {r, NULL, 0};
	size_t len = evbuffer_get_length(in);
	char *body;

	if (submit_check(ig, r, 1, len, d->conf.max_body, ctypes,
	        "a DSSE envelope") != 0)
		return;
	if ((body = (char *)evbuffer_pullup(in, (ev_ssize_t)len)) == NULL) {
		http_error(r, 500, "internal", NULL, "out of memory");
		return;
	}
	submit_one(ig, &w, body, len, r->start_us);
}

/* The length of the line at body[off..len), without its newline. */
static size_t
line_len(const char *body, size_t len, size_t off)
{
	const char *nl = memchr(body + off, '\n', len - off);

	return nl != NULL ? (size_t)(nl - (body + off)) : len - off;
}

void
ingest_submit_batch(struct http_req *r, struct procured *d)
{
	static const char *const ctypes[] = {
	    "application/x-ndjson", "application/jsonl", NULL};
	struct ingest *ig = d->ingest;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct waiter w = {NULL, NULL, 0};
	size_t len = evbuffer_get_length(in), n = 0, i, off, next, l;
	struct batch *b;
	char *body;

	if (len > 0 && len <= d->conf.max_body) {
		if ((body = (char *)evbuffer_pullup(in, (ev_ssize_t)len)) ==
		    NULL) {
			http_error(r, 500, "internal", NULL, "out of memory");
			return;
		}
		/* One envelope a line; the last newline is optional. */
		for (off = 0; off < len; off += line_len(body, len, off) + 1)
			n++;
		if (n > d->conf.max_batch_events) {
			http_error(r, 413, "too_many_events", NULL,
			    "the batch has %zu events; the limit is %llu", n,
			    (unsigned long long)d->conf.max_batch_events);
			return;
		}
	} else
		body = NULL;
	if (submit_check(ig, r, n > 0 ? n : 1, len, d->conf.max_body, ctypes,
	        "DSSE envelopes, one a line") != 0)
		return;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->out = calloc(n, sizeof(*b->out))) == NULL) {
		free(b);
		http_error(r, 503, "overloaded", NULL, "out of memory");
		return;
	}
	b->r = http_req_detach(r);
	b->n = b->left = n;
	w.b = b;
	/* The last line may complete the batch, answer r and free b and the
	 * body: nothing below touches them after submitting it. */
	for (i = 0, off = 0; i < n; i++, off = next) {
		l = line_len(body, len, off);
		next = off + l + 1;
		w.line = i;
		/* CRLF line ends too (the CR is not part of the line). */
		if (l > 0 && body[off + l - 1] == '\r')
			l--;
		if (l == 0)
			waiter_fail(&w, 400, "empty_body", NULL,
			    "line %zu is empty; send one envelope a line",
			    i + 1);
		else
			submit_one(ig, &w, body + off, l, r->start_us);
	}
}

size_t
ingest_pending(const struct ingest *ig)
{
	return ig->inflight;
}

int
ingest_healthy(const struct ingest *ig)
{
	uint64_t age;

	if (ig->fatal)
		return 0;
	age = http_now_us() - ig->last_commit_us;
	return ig->inflight == 0 ||
	    age < ig->d->conf.checkpoint_max_age_s * 1000000u;
}

void
ingest_shutdown(struct ingest *ig, struct event_base *base)
{
	ig->shutting_down = 1;
	if (ig->inflight == 0)
		loopexit_soon(base);
}

int
ingest_exit_status(const struct ingest *ig)
{
	return ig->fatal ? 1 : 0;
}

int
ingest_metrics(const struct ingest *ig, struct pr_buf *out)
{
	static const char *le[] = {
	    "1", "4", "16", "64", "256", "1024", "4096", "+Inf"};
	struct ingest *m = (struct ingest *)ig;
	uint64_t cum = 0;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&m->mtx);
	rc |= pr_buf_printf(out,
	    "# TYPE procured_events_committed_total counter\n"
	    "procured_events_committed_total %llu\n"
	    "# TYPE procured_events_rejected_total counter\n"
	    "procured_events_rejected_total %llu\n"
	    "# TYPE procured_events_duplicate_total counter\n"
	    "procured_events_duplicate_total %llu\n"
	    "# TYPE procured_signatures_verified_total counter\n"
	    "procured_signatures_verified_total %llu\n"
	    "# TYPE procured_queue_depth gauge\n"
	    "procured_queue_depth %zu\n"
	    "# TYPE procured_tree_size gauge\n"
	    "procured_tree_size %llu\n"
	    "# TYPE procured_commit_seconds summary\n"
	    "procured_commit_seconds_sum %.6f\n"
	    "procured_commit_seconds_count %llu\n"
	    "# TYPE procured_commit_seconds_max gauge\n"
	    "procured_commit_seconds_max %.6f\n"
	    "# TYPE procured_batch_size histogram\n",
	    (unsigned long long)m->committed, (unsigned long long)m->rejected,
	    (unsigned long long)m->duplicates, (unsigned long long)m->verified,
	    m->inflight, (unsigned long long)m->tree_size,
	    (double)m->commit_us_sum / 1e6, (unsigned long long)m->batches,
	    (double)m->commit_us_max / 1e6);
	for (i = 0; i < 8; i++) {
		cum += m->batch_hist[i];
		rc |= pr_buf_printf(out,
		    "procured_batch_size_bucket{le=\"%s\"} %llu\n", le[i],
		    (unsigned long long)cum);
	}
	rc |= pr_buf_printf(out, "procured_batch_size_count %llu\n",
	    (unsigned long long)m->batches);
	pthread_mutex_unlock(&m->mtx);
	return rc ? PR_ENOMEM : 0;
}
