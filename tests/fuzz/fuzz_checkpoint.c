/*
 * Fuzz: checkpoint text parsing and the signed-checkpoint path.
 * Invariant: a checkpoint text that parses formats back to its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/key.h"
#include "proto/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *vkey_text =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pr_vkey vk;
	static int ready;
	struct pr_buf out = PR_BUF_INIT;
	struct pr_checkpoint cp, back;

	if (!ready) {
		if (pr_vkey_parse(vkey_text, strlen(vkey_text), &vk) != 0)
			abort();
		ready = 1;
	}
	if (pr_checkpoint_parse((const char *)data, size, &cp) == 0) {
		if (pr_checkpoint_format(&cp, &out) != 0 || out.len != size ||
		    memcmp(out.data, data, size) != 0)
			abort();
		if (pr_checkpoint_parse((char *)out.data, out.len, &back) !=
		        0 ||
		    back.size != cp.size ||
		    memcmp(back.root, cp.root, sizeof(cp.root)) != 0 ||
		    strcmp(back.origin, cp.origin) != 0)
			abort();
		pr_checkpoint_clear(&back);
		pr_checkpoint_clear(&cp);
	}
	/* The same bytes as a whole signed checkpoint. */
	if (pr_checkpoint_open(
	        (const char *)data, size, "example.com/foo", &vk, 1, &cp) == 0)
		pr_checkpoint_clear(&cp);
	/* And the first line as a verifier key. */
	{
		const uint8_t *nl = memchr(data, '\n', size);
		struct pr_vkey v;

		if (pr_vkey_parse((const char *)data,
		        nl ? (size_t)(nl - data) : size, &v) == 0)
			pr_vkey_clear(&v);
	}
	pr_buf_free(&out);
	return 0;
}
