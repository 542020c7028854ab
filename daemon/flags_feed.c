/*
 * The feed: events the sequencer hands the red-flag indexer as it commits
 * them, already parsed by the verify threads, so that the indexer need not
 * read each entry back from the store and parse it a second time; and the
 * engine's metrics, which count where its entries came from.
 *
 * A bounded ring under its own mutex (never flags.lock, which a query may
 * hold for a while: the sequencer must not wait on a query).  Events that
 * find the ring full are dropped; the indexer reads those back from the
 * store as it does at start.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/flags.h"
#include "daemon/flags_int.h"

#define FEED_MAX 2048 /* parsed events waiting for the indexer */

struct fl_feed_slot {
	uint64_t idx;
	uint8_t leaf[PR_HASH_LEN];
	struct pr_event *ev;
};

struct fl_feed {
	pthread_mutex_t lock;
	pthread_cond_t more; /* the indexer waits on it */
	bool kick;
	struct fl_feed_slot slot[FEED_MAX];
	size_t head, n;
	uint64_t upto; /* entries before it have been fed or dropped */
	uint64_t fed, dropped;
};

struct fl_feed *
fl_feed_new(int (*cond_init)(pthread_cond_t *))
{
	struct fl_feed *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q);
		return NULL;
	}
	if (cond_init(&q->more) != 0) {
		pthread_mutex_destroy(&q->lock);
		free(q);
		return NULL;
	}
	return q;
}

void
fl_feed_wait(struct flags *f, uint64_t from, unsigned ms)
{
	struct fl_feed *q = f->feed;
	struct timespec ts;

	fl_deadline(&ts, ms);
	pthread_mutex_lock(&q->lock);
	if (q->upto <= from && !q->kick)
		pthread_cond_timedwait(&q->more, &q->lock, &ts);
	q->kick = false;
	pthread_mutex_unlock(&q->lock);
}

void
fl_feed_kick(struct flags *f)
{
	struct fl_feed *q = f->feed;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->kick = true;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
}

void
fl_feed_free(struct fl_feed *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		pr_event_free(q->slot[(q->head + i) % FEED_MAX].ev);
	pthread_cond_destroy(&q->more);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void
flags_feed(struct flags *f, uint64_t idx, const uint8_t leaf[PR_HASH_LEN],
    struct pr_event *ev)
{
	struct fl_feed *q;
	struct fl_feed_slot *s;

	if (f == NULL || (q = f->feed) == NULL) {
		pr_event_free(ev);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (idx + 1 > q->upto)
		q->upto = idx + 1;
	if (q->n == FEED_MAX ||
	    (q->n > 0 && q->slot[(q->head + q->n - 1) % FEED_MAX].idx >= idx)) {
		/* Full, or out of order: the store has it. */
		q->dropped++;
		pthread_cond_signal(&q->more);
		pthread_mutex_unlock(&q->lock);
		pr_event_free(ev);
		return;
	}
	s = &q->slot[(q->head + q->n) % FEED_MAX];
	s->idx = idx;
	memcpy(s->leaf, leaf, PR_HASH_LEN);
	s->ev = ev;
	q->n++;
	q->fed++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
}

int
flags_metrics(struct flags *f, struct pr_buf *out)
{
	uint64_t indexed, feed, store, errors, dropped = 0;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->lock);
	indexed = f->indexed;
	feed = f->from_feed;
	store = f->from_store;
	errors = f->errors;
	pthread_mutex_unlock(&f->lock);
	if (f->feed != NULL) {
		pthread_mutex_lock(&f->feed->lock);
		dropped = f->feed->dropped;
		pthread_mutex_unlock(&f->feed->lock);
	}
	return pr_buf_printf(out,
	    "# HELP procured_flags_indexed_entries Entries the red-flag "
	    "engine has analysed.\n"
	    "# TYPE procured_flags_indexed_entries gauge\n"
	    "procured_flags_indexed_entries %llu\n"
	    "# HELP procured_flags_entries_total Entries analysed, by where "
	    "their event came from: parsed at submission (feed) or read "
	    "back from the store.\n"
	    "# TYPE procured_flags_entries_total counter\n"
	    "procured_flags_entries_total{source=\"feed\"} %llu\n"
	    "procured_flags_entries_total{source=\"store\"} %llu\n"
	    "# HELP procured_flags_feed_dropped_total Events the feed had no "
	    "room for (read back from the store instead).\n"
	    "# TYPE procured_flags_feed_dropped_total counter\n"
	    "procured_flags_feed_dropped_total %llu\n"
	    "# HELP procured_flags_errors_total Entries that could not be "
	    "read or analysed.\n"
	    "# TYPE procured_flags_errors_total counter\n"
	    "procured_flags_errors_total %llu\n",
	    (unsigned long long)indexed, (unsigned long long)feed,
	    (unsigned long long)store, (unsigned long long)dropped,
	    (unsigned long long)errors);
}

size_t
fl_feed_take(struct flags *f, uint64_t from, size_t max, struct pr_event **ev,
    uint8_t (*leaf)[PR_HASH_LEN], uint64_t *next, uint64_t *upto)
{
	struct fl_feed *q = f->feed;
	struct fl_feed_slot *s;
	size_t n = 0;

	*next = UINT64_MAX;
	*upto = UINT64_MAX;
	if (q == NULL)
		return 0;
	pthread_mutex_lock(&q->lock);
	*upto = q->upto;
	while (q->n > 0) {
		s = &q->slot[q->head];
		if (s->idx < from) {
			/* Read from the store already. */
			pr_event_free(s->ev);
		} else if (s->idx == from + n && n < max) {
			ev[n] = s->ev;
			memcpy(leaf[n], s->leaf, PR_HASH_LEN);
			n++;
		} else {
			*next = s->idx;
			break;
		}
		s->ev = NULL;
		q->head = (q->head + 1) % FEED_MAX;
		q->n--;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}
