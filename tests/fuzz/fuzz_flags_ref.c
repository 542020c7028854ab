/*
 * Fuzz the reference price list parser of the red-flag engine
 * (daemon/flags_ref.c): any input is accepted or refused with
 * PR_ECONFIG, never a crash, and every accepted row can be found again
 * with a positive price.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flags.h"
#include "daemon/flags_int.h"
#include "daemon/hmap.h"
#include "proto/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check_ref(void *arg, const void *k, size_t klen, void *ptr)
{
	struct flags *f = arg;
	const struct fl_ref *r = ptr;

	(void)k;
	(void)klen;
	if (r->price <= 0 ||
	    fl_ref_find(f, r->code, r->unit, r->currency) != r ||
	    fl_s(f, r->code) == NULL || strchr(fl_s(f, r->code), ':') == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flags *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return 0;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->done, NULL);
	f->refmap = hmap_new();
	if (fl_init(f, NULL) == 0 && f->refmap != NULL) {
		rc = fl_ref_parse(f, (const char *)data, size, "fuzz");
		if (rc != 0 && rc != PR_ECONFIG && rc != PR_ENOMEM)
			abort();
		if (rc == 0 && hmap_count(f->refmap) != f->nrefs)
			abort();
		if (rc == 0)
			hmap_walk(f->refmap, check_ref, f);
	}
	flags_free(f);
	return 0;
}
