#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/json.h"
#include "proto/utf8.h"

void
pr_dsse_free(struct pr_dsse *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nsigs; i++) {
		free(e->sigs[i].keyid);
		free(e->sigs[i].sig);
	}
	free(e->payload_type);
	free(e->payload);
	free(e);
}

size_t
pr_dsse_size(const struct pr_dsse *e)
{
	size_t i, n;

	n = 2 + e->payload_type_len + 2 + e->payload_len + 1;
	for (i = 0; i < e->nsigs; i++)
		n += 1 + (e->sigs[i].keyid ? strlen(e->sigs[i].keyid) : 0) + 2 +
		    e->sigs[i].siglen;
	return n;
}

int
pr_dsse_new(const char *payload_type, const uint8_t *payload, size_t len,
    struct pr_dsse **out)
{
	struct pr_dsse *e;
	size_t tlen = strlen(payload_type);

	if (tlen == 0 || !pr_utf8_valid((const uint8_t *)payload_type, tlen))
		return pr_errmsg_set(
		    PR_EINVAL, "payloadType must be non-empty UTF-8");
	if (2 + tlen + 2 + len + 1 > PR_DSSE_MAX_SIZE)
		return pr_errmsg_set(PR_ETOOBIG,
		    "envelope larger than %d bytes", PR_DSSE_MAX_SIZE);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return PR_ENOMEM;
	if ((e->payload_type = strdup(payload_type)) == NULL ||
	    (e->payload = malloc(len + 1)) == NULL) {
		pr_dsse_free(e);
		return PR_ENOMEM;
	}
	e->payload_type_len = tlen;
	if (len > 0)
		memcpy(e->payload, payload, len);
	e->payload[len] = '\0';
	e->payload_len = len;
	*out = e;
	return 0;
}

int
pr_dsse_add_sig(struct pr_dsse *e, const char *keyid, size_t keyidlen,
    const uint8_t *sig, size_t siglen)
{
	struct pr_dsse_sig s;

	if (e->nsigs == PR_DSSE_MAX_SIGS)
		return pr_errmsg_set(PR_ERANGE,
		    "envelope already has %d signatures", PR_DSSE_MAX_SIGS);
	if (siglen == 0 || siglen > 65535)
		return pr_errmsg_set(
		    PR_EINVAL, "bad signature length %zu", siglen);
	if (keyid != NULL && keyidlen > 0 &&
	    (keyidlen > PR_DSSE_MAX_KEYID ||
	        memchr(keyid, '\0', keyidlen) != NULL ||
	        !pr_utf8_valid((const uint8_t *)keyid, keyidlen)))
		return pr_errmsg_set(PR_EINVAL,
		    "keyid must be UTF-8 of at most %d bytes",
		    PR_DSSE_MAX_KEYID);
	if (keyid == NULL)
		keyidlen = 0;
	if (pr_dsse_size(e) + 1 + keyidlen + 2 + siglen > PR_DSSE_MAX_SIZE)
		return pr_errmsg_set(PR_ETOOBIG,
		    "envelope larger than %d bytes", PR_DSSE_MAX_SIZE);
	memset(&s, 0, sizeof(s));
	if (keyidlen > 0 && (s.keyid = strndup(keyid, keyidlen)) == NULL)
		return PR_ENOMEM;
	if ((s.sig = malloc(siglen)) == NULL) {
		free(s.keyid);
		return PR_ENOMEM;
	}
	memcpy(s.sig, sig, siglen);
	s.siglen = siglen;
	e->sigs[e->nsigs++] = s;
	return 0;
}

/* Append v in decimal, without leading zeros (the PAE's lengths). */
static int
append_dec(struct pr_buf *b, size_t v)
{
	char d[24];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return pr_buf_append(b, d + i, sizeof(d) - i);
}

int
pr_dsse_pae(const char *type, size_t typelen, const uint8_t *body,
    size_t bodylen, struct pr_buf *out)
{
	size_t start = out->len;
	int rc;

	if ((rc = pr_buf_reserve(out, typelen + bodylen + 50)) != 0 ||
	    (rc = pr_buf_append(out, "DSSEv1 ", 7)) != 0 ||
	    (rc = append_dec(out, typelen)) != 0 ||
	    (rc = pr_buf_append_byte(out, ' ')) != 0 ||
	    (rc = pr_buf_append(out, type, typelen)) != 0 ||
	    (rc = pr_buf_append_byte(out, ' ')) != 0 ||
	    (rc = append_dec(out, bodylen)) != 0 ||
	    (rc = pr_buf_append_byte(out, ' ')) != 0 ||
	    (rc = pr_buf_append(out, body, bodylen)) != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}

int
pr_dsse_sign(struct pr_dsse *e, const struct pr_key *k)
{
	struct pr_buf pae = PR_BUF_INIT;
	uint8_t sig[PR_KEY_SIG_LEN];
	int rc;

	if ((rc = pr_dsse_pae(e->payload_type, e->payload_type_len, e->payload,
	         e->payload_len, &pae)) != 0)
		return rc;
	rc = pr_key_sign(k, pae.data, pae.len, sig);
	pr_buf_free(&pae);
	if (rc != 0)
		return rc;
	return pr_dsse_add_sig(
	    e, pr_key_keyid(k), PR_KEY_KEYID_LEN, sig, sizeof(sig));
}

int
pr_dsse_verify_raw(const char *type, size_t typelen, const uint8_t *body,
    size_t bodylen, const uint8_t *sig, size_t siglen, const struct pr_key *k)
{
	struct pr_buf pae = PR_BUF_INIT;
	int rc;

	if ((rc = pr_dsse_pae(type, typelen, body, bodylen, &pae)) != 0)
		return rc;
	rc = pr_key_verify(k, pae.data, pae.len, sig, siglen);
	pr_buf_free(&pae);
	return rc;
}

int
pr_dsse_verify(const struct pr_dsse *e, size_t i, const struct pr_key *k)
{
	if (i >= e->nsigs)
		return pr_errmsg_set(PR_EINVAL, "no signature %zu", i);
	return pr_dsse_verify_raw(e->payload_type, e->payload_type_len,
	    e->payload, e->payload_len, e->sigs[i].sig, e->sigs[i].siglen, k);
}

/* Parsing */

/*
 * The text is parsed with proto/json.h into an arena freed before
 * pr_dsse_parse() returns; the envelope then copies what it keeps.  The
 * tree of an envelope takes about the text's length (its strings) and a
 * few hundred bytes (its values), so the first chunk, sized from the
 * text, holds it in one allocation; a text made of many small values
 * (an unknown member, refused after parsing) gets further chunks.
 */
#define DEPTH_MAX 2048 /* as jansson's JSON_PARSER_MAX_DEPTH */
#define CHUNK_SLACK 2048
#define CHUNK_SIZE 16384

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

static void *
arena_alloc(void *ctx, size_t size)
{
	struct chunk **head = ctx, *c = *head;
	size_t want, align = sizeof(max_align_t);
	void *p;

	if (size > SIZE_MAX - align)
		return NULL;
	size = size == 0 ? align : (size + align - 1) / align * align;
	if (c == NULL || c->size - c->used < size) {
		want = size < CHUNK_SIZE ? CHUNK_SIZE : size;
		if ((c = malloc(sizeof(*c) + want)) == NULL)
			return NULL;
		c->size = want;
		c->used = 0;
		c->next = *head;
		*head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static void
chunks_free(struct chunk *c)
{
	struct chunk *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

/* Copy at most dstlen - 1 bytes of s, cutting at a code point boundary. */
static void
copy_utf8(char *dst, size_t dstlen, const char *s)
{
	size_t off = 0, n, len = strlen(s);
	uint32_t cp;

	while (off < len) {
		n = pr_utf8_next((const uint8_t *)s + off, len - off, &cp);
		if (n == 0 || off + n >= dstlen)
			break;
		off += n;
	}
	memcpy(dst, s, off);
	dst[off] = '\0';
}

static int
fail(struct pr_dsse_error *err, int rc, const char *code, const char *field,
    const char *msg)
{
	if (err != NULL) {
		err->code = code;
		copy_utf8(err->field, sizeof(err->field), field);
		snprintf(err->message, sizeof(err->message), "%s%s%s", field,
		    field[0] ? ": " : "", msg);
		pr_errmsg_set(rc, "DSSE envelope: %s", err->message);
	}
	return rc;
}

/* Decode the base64 string v into *p, *len (NUL-terminated). */
static int
decode_b64(const struct pr_json *v, uint8_t **p, size_t *len)
{
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	if ((rc = pr_b64_decode(
	         &b, pr_json_str(v), pr_json_len(v), PR_B64_ANY)) != 0) {
		pr_buf_free(&b);
		return rc;
	}
	if (b.data == NULL && (rc = pr_buf_reserve(&b, 0)) != 0)
		return rc;
	*p = b.data;
	*len = b.len;
	return 0;
}

/* Fail on member member (NULL: the element itself) of signature i. */
static int
sig_fail(struct pr_dsse_error *err, const char *code, size_t i,
    const char *member, const char *msg)
{
	char field[64];

	snprintf(field, sizeof(field), "signatures[%zu]%s%s", i,
	    member != NULL ? "." : "", member != NULL ? member : "");
	return fail(err, PR_EFORMAT, code, field, msg);
}

static int
parse_sig(struct pr_dsse_error *err, const struct pr_json *o, size_t i,
    struct pr_dsse *e)
{
	struct pr_dsse_sig *s = &e->sigs[e->nsigs];
	const struct pr_json *sig, *keyid;
	const char *kid = NULL;
	size_t k, kidlen = 0;
	int rc;

	if (!pr_json_is_object(o))
		return sig_fail(
		    err, "wrong_type", i, NULL, "must be an object");
	for (k = 0; k < o->n; k++)
		if (strcmp(o->u.v[k].key, "sig") != 0 &&
		    strcmp(o->u.v[k].key, "keyid") != 0)
			return sig_fail(err, "unknown_field", i, o->u.v[k].key,
			    "unknown member");
	if ((keyid = pr_json_get(o, "keyid")) != NULL) {
		if (!pr_json_is_string(keyid))
			return sig_fail(
			    err, "wrong_type", i, "keyid", "must be a string");
		kid = pr_json_str(keyid);
		kidlen = pr_json_len(keyid);
		if (kidlen > PR_DSSE_MAX_KEYID)
			return sig_fail(err, "too_long", i, "keyid",
			    "longer than 255 bytes");
	}
	if ((sig = pr_json_get(o, "sig")) == NULL)
		return sig_fail(err, "missing", i, "sig", "required");
	if (!pr_json_is_string(sig))
		return sig_fail(
		    err, "wrong_type", i, "sig", "must be a string");
	if (pr_json_len(sig) == 0)
		return sig_fail(err, "empty", i, "sig", "must not be empty");
	if ((rc = decode_b64(sig, &s->sig, &s->siglen)) == PR_ENOMEM)
		return rc;
	if (rc != 0)
		return sig_fail(
		    err, "bad_base64", i, "sig", "not canonical base64");
	if (kidlen > 0 && (s->keyid = strndup(kid, kidlen)) == NULL) {
		free(s->sig);
		s->sig = NULL;
		return PR_ENOMEM;
	}
	e->nsigs++;
	return 0;
}

static int
parse_root(
    struct pr_dsse_error *err, const struct pr_json *root, struct pr_dsse *e)
{
	const struct pr_json *v, *pt, *pl, *sigs;
	const char *key;
	size_t i;
	int rc;

	if (!pr_json_is_object(root))
		return fail(err, PR_EFORMAT, "not_object", "",
		    "envelope must be a JSON object");
	for (i = 0; i < root->n; i++) {
		key = root->u.v[i].key;
		if (strcmp(key, "payloadType") != 0 &&
		    strcmp(key, "payload") != 0 &&
		    strcmp(key, "signatures") != 0)
			return fail(err, PR_EFORMAT, "unknown_field", key,
			    "unknown member");
	}
	if ((pt = pr_json_get(root, "payloadType")) == NULL)
		return fail(
		    err, PR_EFORMAT, "missing", "payloadType", "required");
	if (!pr_json_is_string(pt))
		return fail(err, PR_EFORMAT, "wrong_type", "payloadType",
		    "must be a string");
	if (pr_json_len(pt) == 0)
		return fail(err, PR_EFORMAT, "empty", "payloadType",
		    "must not be empty");
	if ((pl = pr_json_get(root, "payload")) == NULL)
		return fail(err, PR_EFORMAT, "missing", "payload", "required");
	if (!pr_json_is_string(pl))
		return fail(err, PR_EFORMAT, "wrong_type", "payload",
		    "must be a string");
	if ((sigs = pr_json_get(root, "signatures")) == NULL)
		return fail(
		    err, PR_EFORMAT, "missing", "signatures", "required");
	if (!pr_json_is_array(sigs))
		return fail(err, PR_EFORMAT, "wrong_type", "signatures",
		    "must be an array");
	if (pr_json_size(sigs) == 0)
		return fail(err, PR_EFORMAT, "empty", "signatures",
		    "at least one signature is required");
	if (pr_json_size(sigs) > PR_DSSE_MAX_SIGS)
		return fail(err, PR_EFORMAT, "too_many", "signatures",
		    "more than 16 signatures");
	if ((e->payload_type = strndup(pr_json_str(pt), pr_json_len(pt))) ==
	    NULL)
		return PR_ENOMEM;
	e->payload_type_len = pr_json_len(pt);
	if ((rc = decode_b64(pl, &e->payload, &e->payload_len)) == PR_ENOMEM)
		return rc;
	if (rc != 0)
		return fail(err, PR_EFORMAT, "bad_base64", "payload",
		    "not canonical base64");
	pr_json_array_foreach(sigs, i, v)
	{
		if ((rc = parse_sig(err, v, i, e)) != 0)
			return rc;
	}
	if (pr_dsse_size(e) > PR_DSSE_MAX_SIZE)
		return fail(err, PR_ETOOBIG, "too_large", "",
		    "decoded envelope larger than 65,526 bytes");
	return 0;
}

/*
 * Is the fault at line:column of json[0..len) invalid UTF-8?  The byte
 * there, or the first one past the number or word that starts there (a
 * token read to its end before it is judged), begins no valid sequence.
 */
static int
utf8_fault(const char *json, size_t len, int line, int column)
{
	size_t off = 0;
	uint32_t cp;

	for (; line > 1 && off < len; off++)
		if (json[off] == '\n')
			line--;
	if (column < 1 || (size_t)column - 1 > len - off)
		return 0;
	off += (size_t)column - 1;
	while (off < len && (unsigned char)json[off] < 0x80 &&
	    (strchr("+-.", json[off]) != NULL ||
	        (json[off] >= '0' && json[off] <= '9') ||
	        (json[off] >= 'a' && json[off] <= 'z') ||
	        (json[off] >= 'A' && json[off] <= 'Z')))
		off++;
	return off < len && (unsigned char)json[off] >= 0x80 &&
	    pr_utf8_next((const uint8_t *)json + off, len - off, &cp) == 0;
}

/* proto/json.h's verdict on a text it refused, as an envelope error. */
static int
json_fail(struct pr_dsse_error *err, const char *json, size_t len,
    const struct pr_json_error *jerr)
{
	const char *code = "bad_json";
	char msg[160], *p;

	if (jerr->code == PR_JSON_ENOMEM)
		return PR_ENOMEM;
	if (jerr->code == PR_JSON_EDUPLICATE)
		code = "duplicate_key";
	else if (jerr->code == PR_JSON_ESYNTAX &&
	    utf8_fault(json, len, jerr->line, jerr->column))
		code = "bad_utf8";
	snprintf(msg, sizeof(msg), "%s at line %d, column %d", jerr->text,
	    jerr->line, jerr->column);
	for (p = msg; *p != '\0'; p++) /* printable ASCII for replies */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return fail(err, PR_EFORMAT, code, "", msg);
}

int
pr_dsse_parse(const char *json, size_t len, struct pr_dsse **out,
    struct pr_dsse_error *err)
{
	struct pr_json_error jerr;
	struct pr_json *root;
	struct pr_dsse *e;
	struct chunk *arena;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (len > PR_DSSE_MAX_JSON)
		return fail(err, PR_ETOOBIG, "too_large", "",
		    "envelope JSON larger than 262,144 bytes");
	if ((arena = malloc(sizeof(*arena) + len + CHUNK_SLACK)) == NULL)
		return PR_ENOMEM;
	arena->next = NULL;
	arena->used = 0;
	arena->size = len + CHUNK_SLACK;
	if ((root = pr_json_parse(
	         json, len, DEPTH_MAX, arena_alloc, &arena, &jerr)) == NULL) {
		rc = json_fail(err, json, len, &jerr);
		goto arena_free;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		rc = PR_ENOMEM;
		goto arena_free;
	}
	if ((rc = parse_root(err, root, e)) != 0) {
		pr_dsse_free(e);
		goto arena_free;
	}
	*out = e;
arena_free:
	chunks_free(arena);
	return rc;
}

/* Serializing */

static json_t *
b64_string(const uint8_t *p, size_t len)
{
	struct pr_buf b = PR_BUF_INIT;
	json_t *s;

	if (pr_b64_encode(&b, p, len) != 0)
		return NULL;
	s = json_stringn_nocheck(b.data ? (char *)b.data : "", b.len);
	pr_buf_free(&b);
	return s;
}

int
pr_dsse_serialize(const struct pr_dsse *e, struct pr_buf *out)
{
	json_t *root, *sigs, *o;
	size_t i, n;
	char *s;
	int rc = PR_ENOMEM;

	if ((root = json_object()) == NULL)
		return PR_ENOMEM;
	if (json_object_set_new(root, "payloadType",
	        json_stringn(e->payload_type, e->payload_type_len)) != 0 ||
	    json_object_set_new(
	        root, "payload", b64_string(e->payload, e->payload_len)) != 0 ||
	    json_object_set_new(root, "signatures", sigs = json_array()) != 0)
		goto root_free;
	for (i = 0; i < e->nsigs; i++) {
		if (json_array_append_new(sigs, o = json_object()) != 0)
			goto root_free;
		if (e->sigs[i].keyid != NULL &&
		    json_object_set_new(
		        o, "keyid", json_string(e->sigs[i].keyid)) != 0)
			goto root_free;
		if (json_object_set_new(o, "sig",
		        b64_string(e->sigs[i].sig, e->sigs[i].siglen)) != 0)
			goto root_free;
	}
	if ((s = json_dumps(root, JSON_COMPACT)) == NULL)
		goto root_free;
	n = strlen(s);
	rc = pr_buf_append(out, s, n);
	free(s);
root_free:
	json_decref(root);
	return rc;
}
