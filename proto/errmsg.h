/*
 * A detail message for the last failure, per thread.
 *
 * The error space stays the int PR_E* codes of proto/err.h; a function that
 * can say more than pr_strerror() (which file, which line, how to fix it)
 * records a sentence with pr_errmsg_set() when it fails.  pr_errmsg(err)
 * returns that sentence if the last recorded failure on this thread had
 * code err, else pr_strerror(err): callers can always print
 * pr_errmsg(rc) after a failure.
 */
#ifndef PR_ERRMSG_H
#define PR_ERRMSG_H

#include "proto/log.h" /* PR_PRINTF */

/* Record a detail message for err; returns err. */
int pr_errmsg_set(int err, const char *fmt, ...) PR_PRINTF(2, 3);

/* The detail for err, or pr_strerror(err).  Valid until the next call to
 * pr_errmsg_set() on this thread. */
const char *pr_errmsg(int err);

/* Forget the recorded detail. */
void pr_errmsg_clear(void);

#endif
