/*
 * A thread that fetches entry bundles and their level-0 hash tiles ahead
 * of verify, on its own source (its own connection to a server), so that
 * network round trips overlap with the checking.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source.h"
#include "cli/vfetch.h"
#include "proto/err.h"
#include "proto/errmsg.h"

/* Bundles fetched ahead of the one being checked. */
#define DEPTH 4

struct slot {
	uint64_t n; /* bundle index */
	int ready, rc;
	char msg[256]; /* pr_errmsg() of rc, from the fetching thread */
	struct pr_buf bundle, tile0;
};

struct vf_fetch {
	struct cl_src *src;
	uint64_t next, end, size; /* to fetch: bundles [next, end) */
	uint64_t taken; /* bundles handed out */
	int stop;
	struct slot slot[DEPTH];
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t tid;
};

static int
fetch_one(struct vf_fetch *f, uint64_t n, struct slot *s)
{
	struct pr_tile t;

	t.level = PR_TILE_ENTRIES;
	t.index = n;
	t.width = pr_tile_width(PR_TILE_ENTRIES, n, f->size);
	pr_buf_reset(&s->bundle);
	pr_buf_reset(&s->tile0);
	if ((s->rc = cl_src_tile(f->src, &t, &s->bundle)) == 0) {
		t.level = 0;
		s->rc = cl_src_tile(f->src, &t, &s->tile0);
	}
	if (s->rc != 0)
		snprintf(s->msg, sizeof(s->msg), "%s", pr_errmsg(s->rc));
	return s->rc;
}

static void *
run(void *arg)
{
	struct vf_fetch *f = arg;
	struct slot *s;
	uint64_t n;

	pthread_mutex_lock(&f->mu);
	while (!f->stop && f->next < f->end) {
		if (f->next - f->taken >= DEPTH) {
			pthread_cond_wait(&f->cond, &f->mu);
			continue;
		}
		n = f->next++;
		s = &f->slot[n % DEPTH];
		s->n = n;
		s->ready = 0;
		pthread_mutex_unlock(&f->mu);
		fetch_one(f, n, s);
		pthread_mutex_lock(&f->mu);
		s->ready = 1;
		pthread_cond_broadcast(&f->cond);
		if (s->rc != 0)
			break; /* the checker sees the error in order */
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
vf_fetch_start(struct cl_src *src, uint64_t first, uint64_t end, uint64_t size,
    struct vf_fetch **out)
{
	struct vf_fetch *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return PR_ENOMEM;
	f->src = src;
	f->next = f->taken = first;
	f->end = end;
	f->size = size;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cond, NULL);
	if (pthread_create(&f->tid, NULL, run, f) != 0) {
		pthread_cond_destroy(&f->cond);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return PR_ESYS;
	}
	*out = f;
	return 0;
}

int
vf_fetch_get(
    struct vf_fetch *f, uint64_t n, struct pr_buf *bundle, struct pr_buf *tile0)
{
	struct slot *s = &f->slot[n % DEPTH];
	struct pr_buf tmp;
	int rc;

	pthread_mutex_lock(&f->mu);
	if (n != f->taken) {
		pthread_mutex_unlock(&f->mu);
		return PR_EINVAL; /* bundles are taken in order */
	}
	while (!(s->ready && s->n == n))
		pthread_cond_wait(&f->cond, &f->mu);
	if ((rc = s->rc) == 0) {
		/* Swap buffers: the caller's old ones are reused. */
		tmp = *bundle;
		*bundle = s->bundle;
		s->bundle = tmp;
		tmp = *tile0;
		*tile0 = s->tile0;
		s->tile0 = tmp;
	} else
		pr_errmsg_set(rc, "%s", s->msg);
	s->ready = 0;
	f->taken++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

void
vf_fetch_stop(struct vf_fetch *f)
{
	size_t i;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->tid, NULL);
	for (i = 0; i < DEPTH; i++) {
		pr_buf_free(&f->slot[i].bundle);
		pr_buf_free(&f->slot[i].tile0);
	}
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
