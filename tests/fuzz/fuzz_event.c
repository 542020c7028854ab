/*
 * Fuzz the event model: pr_event_parse() over the input as a DSSE
 * payload (strict JSON, duplicate keys, depth, numbers, money, times,
 * identifiers, every kind's fields), then what the log derives from an
 * accepted event: index keys, totals, the bid deadline, and a reveal
 * checked against itself.  Errors must carry a code; keys must be
 * non-empty and NUL-free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
key_cb(void *ctx, enum pr_index_type type, const char *key, size_t len)
{
	(void)ctx;
	if (type < PR_INDEX_OCID || type > PR_INDEX_ITEM || len == 0 ||
	    strlen(key) != len)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_event_totals tot;
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	int64_t ms;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pr_event_parse(data, size, &ev, &err);
	if (rc != 0) {
		if (rc != PR_ENOMEM && err.code == NULL)
			abort(); /* every refusal has a stable code */
		return 0;
	}
	(void)pr_event_index_keys(ev, key_cb, NULL);
	if (pr_event_totals(ev, &tot) != 0)
		abort(); /* never overflows for a parsed event */
	(void)pr_event_deadline(ev, &ms);
	(void)pr_kind_name(ev->kind);
	memset(&err, 0, sizeof(err));
	(void)pr_event_reveal_matches(ev, ev, &err);
	pr_event_free(ev);
	return 0;
}
