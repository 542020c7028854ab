/*
 * Fuzz: DSSE envelope parsing.  Invariants: an envelope that parses
 * serializes to JSON that parses to the same envelope, and encodes to a
 * log entry that decodes to the same envelope with the same hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/entry.h"
#include "proto/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct pr_dsse *a, const struct pr_dsse *b)
{
	size_t i;

	if (a->payload_type_len != b->payload_type_len ||
	    strcmp(a->payload_type, b->payload_type) != 0 ||
	    a->payload_len != b->payload_len ||
	    memcmp(a->payload, b->payload, a->payload_len) != 0 ||
	    a->nsigs != b->nsigs)
		abort();
	for (i = 0; i < a->nsigs; i++) {
		if ((a->sigs[i].keyid == NULL) != (b->sigs[i].keyid == NULL) ||
		    (a->sigs[i].keyid != NULL &&
		        strcmp(a->sigs[i].keyid, b->sigs[i].keyid) != 0) ||
		    a->sigs[i].siglen != b->sigs[i].siglen ||
		    memcmp(a->sigs[i].sig, b->sigs[i].sig, a->sigs[i].siglen))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pr_key *key;
	static const uint8_t pub[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1,
	    0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e,
	    0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
	    0xf7, 0x07, 0x51, 0x1a};
	struct pr_buf json = PR_BUF_INIT, ent = PR_BUF_INIT;
	struct pr_dsse_error err;
	struct pr_dsse *e, *back;
	pr_hash h1, h2;
	uint64_t t;

	if (key == NULL && pr_key_from_raw_public(pub, &key) != 0)
		abort();
	/* The skeleton path and jansson on the text as given agree. */
	{
		struct pr_dsse_error err2;
		struct pr_dsse *e2 = NULL;
		int rc1, rc2;

		pr_dsse_skeleton = 0;
		rc2 = pr_dsse_parse((const char *)data, size, &e2, &err2);
		pr_dsse_skeleton = 1;
		rc1 = pr_dsse_parse((const char *)data, size, &e, &err);
		if (rc1 != rc2)
			abort();
		if (rc1 != 0) {
			if (err.code == NULL ||
			    strcmp(err.code, err2.code) != 0 ||
			    strcmp(err.field, err2.field) != 0 ||
			    strcmp(err.message, err2.message) != 0)
				abort();
			return 0;
		}
		same(e, e2);
		pr_dsse_free(e2);
	}
	if (pr_dsse_size(e) > PR_DSSE_MAX_SIZE)
		abort();
	(void)pr_dsse_verify(e, 0, key);
	if (pr_dsse_serialize(e, &json) != 0 ||
	    pr_dsse_parse((char *)json.data, json.len, &back, &err) != 0)
		abort();
	same(e, back);
	pr_dsse_free(back);
	if (pr_entry_encode(e, 42, &ent) != 0 || ent.len > PR_ENTRY_MAX ||
	    pr_entry_decode(ent.data, ent.len, &t, &back) != 0 || t != 42)
		abort();
	same(e, back);
	if (pr_entry_envelope_hash(ent.data, ent.len, h1) != 0 ||
	    pr_entry_dsse_hash(e, h2) != 0 || memcmp(h1, h2, 32) != 0)
		abort();
	pr_dsse_free(back);
	pr_dsse_free(e);
	pr_buf_free(&json);
	pr_buf_free(&ent);
	return 0;
}
