/*
 * Signature-checking threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/vpool.h"
#include "proto/err.h"
#include "proto/key.h"

/* Jobs taken at a time: few enough to balance, enough to amortize the
 * lock. */
#define CHUNK 8
#define MAX_THREADS 64

struct vf_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a batch was queued, or stop */
	pthread_cond_t done; /* a chunk finished */
	struct vf_batch *head, *tail;
	int stop;
	unsigned nthreads;
	pthread_t tid[MAX_THREADS];
};

static void
run_jobs(struct vf_job *j, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		j[i].ok = j[i].key != NULL &&
		    pr_key_verify(j[i].key, j[i].msg, j[i].msglen, j[i].sig,
		        j[i].siglen) == 0;
}

/* With the lock held: take a chunk from the queue; NULL if empty. */
static struct vf_batch *
take_chunk(struct vf_pool *p, size_t *first, size_t *n)
{
	struct vf_batch *b = p->head;

	if (b == NULL)
		return NULL;
	*first = b->next;
	*n = b->n - b->next < CHUNK ? b->n - b->next : CHUNK;
	b->next += *n;
	if (b->next == b->n) {
		p->head = b->qnext;
		if (p->head == NULL)
			p->tail = NULL;
	}
	return b;
}

/* With the lock held: do one chunk unlocked; 0 if there was none. */
static int
work_one(struct vf_pool *p)
{
	struct vf_batch *b;
	size_t first, n;

	if ((b = take_chunk(p, &first, &n)) == NULL)
		return 0;
	pthread_mutex_unlock(&p->mu);
	run_jobs(b->jobs + first, n);
	pthread_mutex_lock(&p->mu);
	b->done += n;
	if (b->done == b->n)
		pthread_cond_broadcast(&p->done);
	return 1;
}

static void *
worker(void *arg)
{
	struct vf_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (work_one(p))
			continue;
		if (p->stop)
			break;
		pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
vf_pool_new(unsigned nthreads, struct vf_pool **out)
{
	struct vf_pool *p;
	long ncpu;
	unsigned i;

	if (nthreads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = ncpu < 1 ? 1 : (unsigned)ncpu;
	}
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PR_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->tid[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		vf_pool_free(p);
		return PR_ESYS;
	}
	*out = p;
	return 0;
}

void
vf_pool_free(struct vf_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

unsigned
vf_pool_threads(const struct vf_pool *p)
{
	return p->nthreads;
}

void
vf_pool_submit(struct vf_pool *p, struct vf_batch *b)
{
	b->next = b->done = 0;
	b->qnext = NULL;
	if (b->n == 0)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->qnext = b;
	else
		p->head = b;
	p->tail = b;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void
vf_pool_wait(struct vf_pool *p, struct vf_batch *b)
{
	pthread_mutex_lock(&p->mu);
	while (b->done < b->n)
		if (!work_one(p))
			pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
