/*
 * bench_event: parse + validate rate of event payloads on one core.
 *
 *	bench_event [-s SECONDS] FILE...
 *
 * Each FILE is compacted first (as a submitter's client would send it),
 * then parsed repeatedly for SECONDS (default 2) by pr_event_parse() and,
 * for reference, by its JSON parser alone (proto/json.h) and by jansson
 * (json_loadb with the same rules), a general-purpose parser.
 * Rates are per second of this thread's CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "proto/err.h"
#include "proto/event.h"
#include "proto/json.h"

static double
now(void)
{
	struct timespec ts;

	/* CPU time of this thread: figures per CPU-second, robust to other
	 * processes sharing the machine. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn over p for about secs seconds; returns calls per second. */
static double
rate(int (*fn)(const char *, size_t), const char *p, size_t len, double secs)
{
	double t0 = now(), t;
	unsigned long n = 0, i;

	do {
		for (i = 0; i < 1000; i++)
			if (fn(p, len) != 0) {
				fprintf(stderr, "bench_event: parse failed\n");
				exit(1);
			}
		n += 1000;
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

static int
run_event(const char *p, size_t len)
{
	struct pr_event_error err;
	struct pr_event *ev;
	int rc;

	rc = pr_event_parse((const uint8_t *)p, len, &ev, &err);
	if (rc == 0)
		pr_event_free(ev);
	else
		fprintf(stderr, "%s %s %s\n", err.code, err.path, err.message);
	return rc;
}

/* A bump allocator over a static buffer, emptied before every parse. */
struct bump {
	size_t used;
	max_align_t buf[(1u << 20) / sizeof(max_align_t)];
};

static void *
bump_alloc(void *ctx, size_t size)
{
	struct bump *b = ctx;
	void *p;

	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
	if (size > sizeof(b->buf) - b->used)
		return NULL;
	p = (char *)b->buf + b->used;
	b->used += size;
	return p;
}

static int
run_json(const char *p, size_t len)
{
	static struct bump b;

	b.used = 0;
	return pr_json_parse(p, len, 16, bump_alloc, &b, NULL) != NULL ? 0 : -1;
}

static int
run_jansson(const char *p, size_t len)
{
	json_error_t jerr;
	json_t *j;

	if ((j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return -1;
	json_decref(j);
	return 0;
}

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *j;
	char *compact;
	double secs = 2, ev, pj, js;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-s") == 0) {
		secs = atof(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: bench_event [-s SECONDS] FILE...\n");
		return 2;
	}
	for (; i < argc; i++) {
		if ((j = json_load_file(
		         argv[i], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], jerr.text);
			return 1;
		}
		compact = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		if (compact == NULL)
			return 1;
		ev = rate(run_event, compact, strlen(compact), secs);
		pj = rate(run_json, compact, strlen(compact), secs);
		js = rate(run_jansson, compact, strlen(compact), secs);
		printf("%-28s %5zu bytes  parse+validate %8.0f events/s "
		       "(%5.1f us, %5.1f MB/s)  JSON alone %8.0f/s  "
		       "validation share %4.1f%%  jansson %7.0f/s\n",
		    argv[i], strlen(compact), ev, 1e6 / ev,
		    ev * (double)strlen(compact) / 1e6, pj,
		    100.0 * (1.0 - ev / pj), js);
		free(compact);
	}
	return 0;
}
