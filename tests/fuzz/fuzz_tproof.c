/*
 * Fuzz: tlog-proof parsing and verification.  Invariant: a proof that
 * parses formats back to exactly its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/key.h"
#include "proto/note.h"
#include "proto/tproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key that signed the committed corpus (tests/fuzz/corpus/tproof). */
static const char *vkey_text =
    "example.com/log+ec4bb071+AUtN4BZi9JoSW7BkscFEcWFYtiYdHLN6GFEHc8Qz8CU8";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pr_vkey vk;
	static int ready;
	struct pr_buf out = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_tproof p;
	pr_hash leaf;

	if (!ready) {
		if (pr_vkey_parse(vkey_text, strlen(vkey_text), &vk) != 0)
			abort();
		ready = 1;
	}
	if (pr_tproof_parse((const char *)data, size, &p) != 0)
		return 0;
	if (pr_tproof_format(&p, &out) != 0 || out.len != size ||
	    memcmp(out.data, data, size) != 0)
		abort();
	memset(leaf, 0, sizeof(leaf));
	if (p.nproof > 0)
		memcpy(leaf, p.proof[0], sizeof(leaf));
	if (pr_tproof_verify(&p, leaf, NULL, &vk, 1, &cp) == 0)
		pr_checkpoint_clear(&cp);
	pr_tproof_clear(&p);
	pr_buf_free(&out);
	return 0;
}
