/*
 * A pool of threads checking Ed25519 signatures for verify.
 *
 * The caller fills a batch of jobs, submits it and later waits for it;
 * batches are worked on in submission order by every pool thread, and the
 * waiting thread helps instead of sleeping.  The jobs array and
 * everything a job points to must stay valid and unchanged until
 * vf_pool_wait() returns for its batch.
 */
#ifndef CL_VPOOL_H
#define CL_VPOOL_H

#include <stddef.h>
#include <stdint.h>

struct pr_key;

struct vf_job {
	const struct pr_key *key; /* NULL: no known key, ok stays 0 */
	const uint8_t *msg; /* the DSSE PAE */
	size_t msglen;
	const uint8_t *sig;
	size_t siglen;
	int ok; /* out: 1 if the signature verified */
};

struct vf_batch {
	struct vf_job *jobs;
	size_t n;
	/* private */
	size_t next, done;
	struct vf_batch *qnext;
};

struct vf_pool;

/* nthreads 0: one a core. */
int vf_pool_new(unsigned nthreads, struct vf_pool **out);
void vf_pool_free(struct vf_pool *p);
unsigned vf_pool_threads(const struct vf_pool *p);

/* Queue b (b->jobs and b->n set; n may be 0). */
void vf_pool_submit(struct vf_pool *p, struct vf_batch *b);
/* Return when every job of b is done. */
void vf_pool_wait(struct vf_pool *p, struct vf_batch *b);

#endif
