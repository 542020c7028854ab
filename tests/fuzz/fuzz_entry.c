/*
 * Fuzz: log entry decoding.  Invariant: an entry that decodes re-encodes
 * to exactly its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_buf out = PR_BUF_INIT, json = PR_BUF_INIT;
	struct pr_entry ent;
	struct pr_dsse *e, *back;
	pr_hash h;
	uint64_t t;

	(void)pr_entry_envelope_hash(data, size, h);
	if (pr_entry_parse(data, size, &ent) != 0)
		return 0;
	if (pr_entry_decode(data, size, &t, &e) != 0 || t != ent.log_time)
		abort();
	if (pr_entry_encode(e, t, &out) != 0 || out.len != size ||
	    memcmp(out.data, data, size) != 0)
		abort();
	/* Every stored envelope can be served as JSON and read back. */
	if (pr_dsse_serialize(e, &json) != 0 ||
	    pr_dsse_parse((char *)json.data, json.len, &back, NULL) != 0)
		abort();
	pr_dsse_free(back);
	pr_dsse_free(e);
	pr_buf_free(&out);
	pr_buf_free(&json);
	return 0;
}
