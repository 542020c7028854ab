/*
 * Fuzz: DSSE envelope parsing.  Invariants: pr_dsse_parse() (proto/json.h)
 * gives every input the verdict of ref_parse() below, a plain reading of
 * the same rules with jansson (JSON_REJECT_DUPLICATES), and the same
 * envelope when both accept; an envelope that parses serializes to JSON
 * that parses to the same envelope, and encodes to a log entry that
 * decodes to the same envelope with the same hash.
 *
 * Where the two JSON parsers differ by design the verdict is still the
 * same, only the reason changes.  proto/json.h refuses numbers of more
 * than 400 bytes, counts nesting by arrays and objects (jansson by
 * values), and refuses a NUL byte after a number or true, false, null,
 * which jansson skips; none of these can be in an envelope that either
 * accepts, and such a text is bad_json rather than, say, unknown_field.
 * When a text has several faults each parser reports the first it meets,
 * so error codes are compared only where jansson read the JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/key.h"
#include "proto/utf8.h"

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

/* The reference's verdict: 0 or a PR_E* code, and why. */
struct ref {
	int rc;
	int json_ok; /* jansson read the text */
	const char *code;
	char field[64];
};

/* field cut to fit, at a code point boundary as pr_dsse_parse() does */
static int
ref_fail(struct ref *r, int rc, const char *code, const char *field)
{
	size_t off = 0, n, len = strlen(field);
	uint32_t cp;

	r->rc = rc;
	r->code = code;
	while (off < len &&
	    (n = pr_utf8_next((const uint8_t *)field + off, len - off, &cp)) >
	        0 &&
	    off + n < sizeof(r->field))
		off += n;
	memcpy(r->field, field, off);
	r->field[off] = '\0';
	return rc;
}

static int
ref_b64(json_t *v, uint8_t **p, size_t *len)
{
	struct pr_buf b = PR_BUF_INIT;

	if (pr_b64_decode(&b, json_string_value(v), json_string_length(v),
	        PR_B64_ANY) != 0) {
		pr_buf_free(&b);
		return -1;
	}
	if (b.data == NULL && pr_buf_reserve(&b, 0) != 0)
		abort();
	*p = b.data;
	*len = b.len;
	return 0;
}

static int
ref_walk(json_t *root, struct pr_dsse *e, struct ref *r)
{
	json_t *v, *pt, *pl, *sigs, *sig, *kid;
	struct pr_dsse_sig *s;
	const char *key;
	char f[64];
	size_t i;

	if (!json_is_object(root))
		return ref_fail(r, PR_EFORMAT, "not_object", "");
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "payloadType") && strcmp(key, "payload") &&
		    strcmp(key, "signatures"))
			return ref_fail(r, PR_EFORMAT, "unknown_field", key);
	}
	if ((pt = json_object_get(root, "payloadType")) == NULL)
		return ref_fail(r, PR_EFORMAT, "missing", "payloadType");
	if (!json_is_string(pt))
		return ref_fail(r, PR_EFORMAT, "wrong_type", "payloadType");
	if (json_string_length(pt) == 0)
		return ref_fail(r, PR_EFORMAT, "empty", "payloadType");
	if ((pl = json_object_get(root, "payload")) == NULL)
		return ref_fail(r, PR_EFORMAT, "missing", "payload");
	if (!json_is_string(pl))
		return ref_fail(r, PR_EFORMAT, "wrong_type", "payload");
	if ((sigs = json_object_get(root, "signatures")) == NULL)
		return ref_fail(r, PR_EFORMAT, "missing", "signatures");
	if (!json_is_array(sigs))
		return ref_fail(r, PR_EFORMAT, "wrong_type", "signatures");
	if (json_array_size(sigs) == 0)
		return ref_fail(r, PR_EFORMAT, "empty", "signatures");
	if (json_array_size(sigs) > PR_DSSE_MAX_SIGS)
		return ref_fail(r, PR_EFORMAT, "too_many", "signatures");
	if ((e->payload_type = strdup(json_string_value(pt))) == NULL)
		abort();
	e->payload_type_len = json_string_length(pt);
	if (ref_b64(pl, &e->payload, &e->payload_len) != 0)
		return ref_fail(r, PR_EFORMAT, "bad_base64", "payload");
	json_array_foreach(sigs, i, v)
	{
		s = &e->sigs[i];
		snprintf(f, sizeof(f), "signatures[%zu]", i);
		if (!json_is_object(v))
			return ref_fail(r, PR_EFORMAT, "wrong_type", f);
		json_object_foreach(v, key, sig)
		{
			if (strcmp(key, "sig") && strcmp(key, "keyid")) {
				snprintf(
				    f, sizeof(f), "signatures[%zu].%s", i, key);
				return ref_fail(
				    r, PR_EFORMAT, "unknown_field", f);
			}
		}
		snprintf(f, sizeof(f), "signatures[%zu].keyid", i);
		if ((kid = json_object_get(v, "keyid")) != NULL &&
		    !json_is_string(kid))
			return ref_fail(r, PR_EFORMAT, "wrong_type", f);
		if (kid != NULL && json_string_length(kid) > PR_DSSE_MAX_KEYID)
			return ref_fail(r, PR_EFORMAT, "too_long", f);
		snprintf(f, sizeof(f), "signatures[%zu].sig", i);
		if ((sig = json_object_get(v, "sig")) == NULL)
			return ref_fail(r, PR_EFORMAT, "missing", f);
		if (!json_is_string(sig))
			return ref_fail(r, PR_EFORMAT, "wrong_type", f);
		if (json_string_length(sig) == 0)
			return ref_fail(r, PR_EFORMAT, "empty", f);
		if (ref_b64(sig, &s->sig, &s->siglen) != 0)
			return ref_fail(r, PR_EFORMAT, "bad_base64", f);
		e->nsigs++;
		if (kid != NULL && json_string_length(kid) > 0 &&
		    (s->keyid = strdup(json_string_value(kid))) == NULL)
			abort();
	}
	if (pr_dsse_size(e) > PR_DSSE_MAX_SIZE)
		return ref_fail(r, PR_ETOOBIG, "too_large", "");
	return 0;
}

/* The rules of proto/dsse.h read with jansson: *out on success. */
static void
ref_parse(const uint8_t *data, size_t size, struct pr_dsse **out, struct ref *r)
{
	json_error_t jerr;
	json_t *root;
	struct pr_dsse *e;

	memset(r, 0, sizeof(*r));
	if (size > PR_DSSE_MAX_JSON) {
		ref_fail(r, PR_ETOOBIG, "too_large", "");
		return;
	}
	if ((root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	         &jerr)) == NULL) {
		ref_fail(r, PR_EFORMAT, "bad_json", "");
		return;
	}
	r->json_ok = 1;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		abort();
	if (ref_walk(root, e, r) != 0)
		pr_dsse_free(e);
	else
		*out = e;
	json_decref(root);
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
	struct pr_dsse *e = NULL, *back, *want = NULL;
	struct ref ref;
	pr_hash h1, h2;
	uint64_t t;
	int rc;

	if (key == NULL && pr_key_from_raw_public(pub, &key) != 0)
		abort();
	ref_parse(data, size, &want, &ref);
	rc = pr_dsse_parse((const char *)data, size, &e, &err);
	if (rc != ref.rc)
		abort();
	if (rc != 0) {
		if (e != NULL || err.code == NULL || err.message[0] == '\0')
			abort();
		/* Where jansson read the JSON, the same reason. */
		if (ref.json_ok && strcmp(err.code, "bad_json") == 0 &&
		    strstr(err.message, "number too long") == NULL &&
		    strstr(err.message, "nest at most") == NULL &&
		    memchr(data, '\0', size) == NULL)
			abort();
		if (ref.json_ok && strcmp(err.code, "bad_json") != 0 &&
		    (strcmp(err.code, ref.code) != 0 ||
		        strcmp(err.field, ref.field) != 0))
			abort();
		return 0;
	}
	same(e, want);
	pr_dsse_free(want);
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
