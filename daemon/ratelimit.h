/*
 * Token buckets keyed by a string (client address, DSSE keyid): `rate`
 * requests a second with bursts of twice that.  A fixed table: when two
 * keys collide the newer one takes the slot, which can only make the
 * limit more lenient, never refuse an unrelated client.
 */
#ifndef PROCURED_RATELIMIT_H
#define PROCURED_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(unsigned slots);
void ratelimit_free(struct ratelimit *rl);
/* Change the rate (0: unlimited), e.g. after SIGHUP. */
void ratelimit_set(struct ratelimit *rl, uint64_t per_second);
/* 1 if a request for key may proceed now (and takes a token). */
int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_us);

#endif
