#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
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

int pr_dsse_skeleton = 1;

/*
 * jansson lexes strings a byte at a time, so the long base64 values of an
 * envelope (payload, sig) would dominate its parsing.  Before the text
 * goes to jansson we copy it with each long string *value* made only of
 * printable ASCII without escapes (base64, hex keyids) replaced by a
 * marker "\u0001<n>", and keep where the original lies.  jansson still
 * checks the whole structure (syntax, members, duplicate keys, types); the
 * elided strings are ones it would accept unchanged.  Keys are never elided,
 * and a text that contains
 * "\u0001" itself is parsed as it is, so a marker is never ambiguous.
 */
#define SKEL_MIN 16
#define SKEL_MAX 40

struct span {
	const char *p;
	size_t n;
};

struct pctx {
	struct span spans[SKEL_MAX];
	size_t nspans;
	struct pr_dsse_error *err;
};

/*
 * 1 if p[0..n) is printable ASCII without '\\' (the caller knows it holds
 * no '"'): what a string may hold to be elided.  Base64 in either alphabet
 * and hex keyids qualify.  Eight bytes at a time: a byte is outside
 * 0x20..0x7e when it is below 0x20 or above 0x7e.
 */
static int
plain_span(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t x, bad = 0;
	size_t i = 0;

	if (memchr(p, '\\', n) != NULL)
		return 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, p + i, 8);
		bad |= ((x - ones * 0x20) & ~x) | ((x + ones * 0x01) | x);
	}
	if ((bad & high) != 0)
		return 0;
	for (; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return 0;
	return 1;
}

static int
has_marker_escape(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 6 && memcmp(p + 1, "u0001", 5) == 0)
			return 1;
		p++;
	}
	return 0;
}

/*
 * Build the skeleton of json[0..len) into *out (malloc'd).  Returns 0, 1
 * when the text is to be parsed as it is, or PR_ENOMEM.
 */
static int
skeleton(
    const char *json, size_t len, struct pctx *c, char **out, size_t *outlen)
{
	size_t i = 0, j, k, o = 0, q;
	const char *end;
	char *t;

	if (!pr_dsse_skeleton || has_marker_escape(json, len))
		return 1;
	if ((t = malloc(len + 1)) == NULL)
		return PR_ENOMEM;
	while (i < len) {
		/* Copy up to the next string. */
		q = i;
		while (q < len && json[q] != '"')
			q++;
		memcpy(t + o, json + i, q - i);
		o += q - i;
		if ((i = q) == len)
			break;
		/* The first '"' ends the string unless there are escapes. */
		end = memchr(json + i + 1, '"', len - i - 1);
		q = end != NULL ? (size_t)(end - json) : len;
		if (q < len && q - i - 1 >= SKEL_MIN && c->nspans < SKEL_MAX &&
		    plain_span(json + i + 1, q - i - 1)) {
			for (k = q + 1; k < len &&
			     (json[k] == ' ' || json[k] == '\t' ||
			         json[k] == '\n' || json[k] == '\r');
			     k++)
				;
			if (k == len || json[k] != ':') {
				c->spans[c->nspans].p = json + i + 1;
				c->spans[c->nspans].n = q - i - 1;
				o += (size_t)sprintf(
				    t + o, "\"\\u0001%zu\"", c->nspans);
				c->nspans++;
				i = q + 1;
				continue;
			}
		}
		/* Copied as it is: find the real end past any escapes. */
		for (j = i + 1; j < len && json[j] != '"'; j++)
			if (json[j] == '\\')
				j++;
		if (j >= len) { /* unterminated: jansson will say so */
			memcpy(t + o, json + i, len - i);
			o += len - i;
			break;
		}
		memcpy(t + o, json + i, j + 1 - i);
		o += j + 1 - i;
		i = j + 1;
	}
	t[o] = '\0';
	*out = t;
	*outlen = o;
	return 0;
}

/* The text of string v, resolving skeleton markers. */
static void
str_get(const struct pctx *c, json_t *v, const char **p, size_t *n)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), idx = 0, i;

	if (len >= 2 && s[0] == '\x01') {
		for (i = 1; i < len; i++)
			idx = idx * 10 + (size_t)(s[i] - '0');
		if (idx < c->nspans) {
			*p = c->spans[idx].p;
			*n = c->spans[idx].n;
			return;
		}
	}
	*p = s;
	*n = len;
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
decode_b64(const struct pctx *c, json_t *v, uint8_t **p, size_t *len)
{
	struct pr_buf b = PR_BUF_INIT;
	const char *s;
	size_t n;
	int rc;

	str_get(c, v, &s, &n);
	if ((rc = pr_b64_decode(&b, s, n, PR_B64_ANY)) != 0) {
		pr_buf_free(&b);
		return rc;
	}
	if (b.data == NULL && (rc = pr_buf_reserve(&b, 0)) != 0)
		return rc;
	*p = b.data;
	*len = b.len;
	return 0;
}

static int
parse_sig(struct pctx *c, json_t *o, size_t i, struct pr_dsse *e)
{
	struct pr_dsse_sig *s = &e->sigs[e->nsigs];
	struct pr_dsse_error *err = c->err;
	char field[64];
	const char *key, *kid = NULL;
	json_t *v, *sig, *keyid;
	size_t kidlen = 0;
	int rc;

	snprintf(field, sizeof(field), "signatures[%zu]", i);
	if (!json_is_object(o))
		return fail(
		    err, PR_EFORMAT, "wrong_type", field, "must be an object");
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "sig") != 0 && strcmp(key, "keyid") != 0) {
			snprintf(
			    field, sizeof(field), "signatures[%zu].%s", i, key);
			return fail(err, PR_EFORMAT, "unknown_field", field,
			    "unknown member");
		}
	}
	snprintf(field, sizeof(field), "signatures[%zu].keyid", i);
	if ((keyid = json_object_get(o, "keyid")) != NULL) {
		if (!json_is_string(keyid))
			return fail(err, PR_EFORMAT, "wrong_type", field,
			    "must be a string");
		str_get(c, keyid, &kid, &kidlen);
		if (kidlen > PR_DSSE_MAX_KEYID)
			return fail(err, PR_EFORMAT, "too_long", field,
			    "longer than 255 bytes");
	}
	snprintf(field, sizeof(field), "signatures[%zu].sig", i);
	if ((sig = json_object_get(o, "sig")) == NULL)
		return fail(err, PR_EFORMAT, "missing", field, "required");
	if (!json_is_string(sig))
		return fail(
		    err, PR_EFORMAT, "wrong_type", field, "must be a string");
	if (json_string_length(sig) == 0)
		return fail(
		    err, PR_EFORMAT, "empty", field, "must not be empty");
	if ((rc = decode_b64(c, sig, &s->sig, &s->siglen)) == PR_ENOMEM)
		return rc;
	if (rc != 0)
		return fail(err, PR_EFORMAT, "bad_base64", field,
		    "not canonical base64");
	if (kidlen > 0 && (s->keyid = strndup(kid, kidlen)) == NULL) {
		free(s->sig);
		s->sig = NULL;
		return PR_ENOMEM;
	}
	e->nsigs++;
	return 0;
}

static int
parse_root(struct pctx *c, json_t *root, struct pr_dsse *e)
{
	struct pr_dsse_error *err = c->err;
	const char *key, *t;
	json_t *v, *pt, *pl, *sigs;
	size_t i, tlen;
	int rc;

	if (!json_is_object(root))
		return fail(err, PR_EFORMAT, "not_object", "",
		    "envelope must be a JSON object");
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "payloadType") != 0 &&
		    strcmp(key, "payload") != 0 &&
		    strcmp(key, "signatures") != 0)
			return fail(err, PR_EFORMAT, "unknown_field", key,
			    "unknown member");
	}
	if ((pt = json_object_get(root, "payloadType")) == NULL)
		return fail(
		    err, PR_EFORMAT, "missing", "payloadType", "required");
	if (!json_is_string(pt))
		return fail(err, PR_EFORMAT, "wrong_type", "payloadType",
		    "must be a string");
	if (json_string_length(pt) == 0)
		return fail(err, PR_EFORMAT, "empty", "payloadType",
		    "must not be empty");
	if ((pl = json_object_get(root, "payload")) == NULL)
		return fail(err, PR_EFORMAT, "missing", "payload", "required");
	if (!json_is_string(pl))
		return fail(err, PR_EFORMAT, "wrong_type", "payload",
		    "must be a string");
	if ((sigs = json_object_get(root, "signatures")) == NULL)
		return fail(
		    err, PR_EFORMAT, "missing", "signatures", "required");
	if (!json_is_array(sigs))
		return fail(err, PR_EFORMAT, "wrong_type", "signatures",
		    "must be an array");
	if (json_array_size(sigs) == 0)
		return fail(err, PR_EFORMAT, "empty", "signatures",
		    "at least one signature is required");
	if (json_array_size(sigs) > PR_DSSE_MAX_SIGS)
		return fail(err, PR_EFORMAT, "too_many", "signatures",
		    "more than 16 signatures");
	str_get(c, pt, &t, &tlen);
	if ((e->payload_type = strndup(t, tlen)) == NULL)
		return PR_ENOMEM;
	e->payload_type_len = tlen;
	if ((rc = decode_b64(c, pl, &e->payload, &e->payload_len)) == PR_ENOMEM)
		return rc;
	if (rc != 0)
		return fail(err, PR_EFORMAT, "bad_base64", "payload",
		    "not canonical base64");
	json_array_foreach(sigs, i, v)
	{
		if ((rc = parse_sig(c, v, i, e)) != 0)
			return rc;
	}
	if (pr_dsse_size(e) > PR_DSSE_MAX_SIZE)
		return fail(err, PR_ETOOBIG, "too_large", "",
		    "decoded envelope larger than 65,526 bytes");
	return 0;
}

/* jansson's verdict on a text it refused. */
static int
json_fail(struct pr_dsse_error *err, const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_out_of_memory:
		return PR_ENOMEM;
	case json_error_duplicate_key:
		return fail(err, PR_EFORMAT, "duplicate_key", "", jerr->text);
	case json_error_invalid_utf8:
		return fail(err, PR_EFORMAT, "bad_utf8", "", jerr->text);
	default:
		return fail(err, PR_EFORMAT, "bad_json", "", jerr->text);
	}
}

int
pr_dsse_parse(const char *json, size_t len, struct pr_dsse **out,
    struct pr_dsse_error *err)
{
	struct pr_dsse *e;
	struct pctx c;
	json_error_t jerr;
	json_t *root;
	char *skel = NULL;
	size_t skellen = 0;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	memset(&c, 0, sizeof(c));
	c.err = err;
	if (len > PR_DSSE_MAX_JSON)
		return fail(err, PR_ETOOBIG, "too_large", "",
		    "envelope JSON larger than 262,144 bytes");
	if ((rc = skeleton(json, len, &c, &skel, &skellen)) < 0)
		return rc;
	if (rc == 0)
		root = json_loadb(skel, skellen, JSON_REJECT_DUPLICATES, &jerr);
	else
		root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	free(skel);
	if (root == NULL) {
		/* Report positions in the text as given. */
		if (rc == 0 &&
		    (root = json_loadb(
		         json, len, JSON_REJECT_DUPLICATES, &jerr)) != NULL)
			json_decref(root);
		return json_fail(err, &jerr);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		json_decref(root);
		return PR_ENOMEM;
	}
	if ((rc = parse_root(&c, root, e)) != 0) {
		pr_dsse_free(e);
		json_decref(root);
		return rc;
	}
	json_decref(root);
	*out = e;
	return 0;
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
