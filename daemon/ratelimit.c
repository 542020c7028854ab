#include <stdlib.h>
#include <string.h>

#include "daemon/ratelimit.h"

#define KEYLEN 72

struct bucket {
	char key[KEYLEN];
	double tokens;
	uint64_t last_us;
};

struct ratelimit {
	struct bucket *b;
	unsigned n;
	uint64_t rate;
};

struct ratelimit *
ratelimit_new(unsigned slots)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->b = calloc(slots, sizeof(*rl->b))) == NULL) {
		free(rl);
		return NULL;
	}
	rl->n = slots;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->b);
	free(rl);
}

void
ratelimit_set(struct ratelimit *rl, uint64_t per_second)
{
	rl->rate = per_second;
}

static unsigned
hash(const char *s, unsigned n)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % n;
}

int
ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_us)
{
	struct bucket *b;
	double burst;

	if (rl == NULL || rl->rate == 0)
		return 1;
	burst = 2.0 * (double)rl->rate;
	b = &rl->b[hash(key, rl->n)];
	if (strncmp(b->key, key, KEYLEN - 1) != 0) {
		strncpy(b->key, key, KEYLEN - 1);
		b->key[KEYLEN - 1] = '\0';
		b->tokens = burst;
		b->last_us = now_us;
	}
	b->tokens += (double)(now_us - b->last_us) / 1e6 * (double)rl->rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_us = now_us;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}
