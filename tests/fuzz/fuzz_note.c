/*
 * Fuzz: signed-note parsing, re-serialization and verification.
 * Invariant: a note that parses serializes back to exactly its input.
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
	struct pr_checkpoint cp;
	struct pr_note *n;
	unsigned char ok[1];

	if (!ready) {
		if (pr_vkey_parse(vkey_text, strlen(vkey_text), &vk) != 0)
			abort();
		ready = 1;
	}
	if (pr_note_parse((const char *)data, size, &n) != 0)
		return 0;
	if (pr_note_serialize(n, &out) != 0 || out.len != size ||
	    memcmp(out.data, data, size) != 0)
		abort();
	(void)pr_note_verify(n, &vk, 1, ok);
	if (pr_checkpoint_parse(n->text, n->textlen, &cp) == 0) {
		pr_buf_reset(&out);
		if (pr_checkpoint_format(&cp, &out) != 0 ||
		    out.len != n->textlen ||
		    memcmp(out.data, n->text, out.len) != 0)
			abort();
		pr_checkpoint_clear(&cp);
	}
	pr_buf_free(&out);
	pr_note_free(n);
	return 0;
}
