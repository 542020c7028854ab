#include <stdlib.h>
#include <string.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/note.h"
#include "proto/utf8.h"

/* U+2014 EM DASH, then a space. */
#define SIG_PREFIX "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4

static void
sig_clear(struct pr_note_sig *s)
{
	free(s->name);
	free(s->sig);
	memset(s, 0, sizeof(*s));
}

void
pr_note_free(struct pr_note *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nsigs; i++)
		sig_clear(&n->sigs[i]);
	free(n->text);
	free(n);
}

static int
note_alloc(const char *text, size_t len, struct pr_note **out)
{
	struct pr_note *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return PR_ENOMEM;
	if ((n->text = malloc(len + 1)) == NULL) {
		free(n);
		return PR_ENOMEM;
	}
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->textlen = len;
	*out = n;
	return 0;
}

int
pr_note_new(const char *text, size_t len, struct pr_note **out)
{
	if (len == 0 || text[len - 1] != '\n')
		return pr_errmsg_set(
		    PR_EFORMAT, "note text must end with a newline");
	if (len > PR_NOTE_MAX_SIZE)
		return pr_errmsg_set(PR_ETOOBIG, "note text is too large");
	if (!pr_utf8_text_valid((const uint8_t *)text, len, 1))
		return pr_errmsg_set(PR_EFORMAT,
		    "note text is not UTF-8 without control characters");
	return note_alloc(text, len, out);
}

/* Parse one signature line p[0..len) (without its newline) into s. */
static int
sig_parse(const char *p, size_t len, size_t lineno, struct pr_note_sig *s)
{
	struct pr_buf raw = PR_BUF_INIT;
	const char *sp;
	size_t namelen;
	int rc;

	if (len < SIG_PREFIX_LEN || memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return pr_errmsg_set(PR_EFORMAT,
		    "signature line %zu does not start with an em dash and a "
		    "space",
		    lineno);
	p += SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	if ((sp = memchr(p, ' ', len)) == NULL)
		return pr_errmsg_set(PR_EFORMAT,
		    "signature line %zu has no space after the key name",
		    lineno);
	namelen = (size_t)(sp - p);
	if (!pr_key_name_valid(p, namelen))
		return pr_errmsg_set(
		    PR_EFORMAT, "signature line %zu: invalid key name", lineno);
	rc = pr_b64_decode(&raw, sp + 1, len - namelen - 1, PR_B64_STD);
	if (rc == PR_ENOMEM)
		return rc;
	if (rc != 0 || raw.len < 5) {
		pr_buf_free(&raw);
		return pr_errmsg_set(PR_EFORMAT,
		    "signature line %zu: signature is not base64 of a key ID "
		    "and at least one byte",
		    lineno);
	}
	if ((s->name = strndup(p, namelen)) == NULL) {
		pr_buf_free(&raw);
		return PR_ENOMEM;
	}
	s->id = pr_load_be32(raw.data);
	s->siglen = raw.len - 4;
	memmove(raw.data, raw.data + 4, s->siglen);
	s->sig = raw.data; /* the buffer becomes the signature */
	return 0;
}

/* Last "\n\n" in msg[0..len): the offset of its first newline, or -1. */
static long
last_blank(const char *msg, size_t len)
{
	size_t i;

	for (i = len; i >= 2; i--)
		if (msg[i - 1] == '\n' && msg[i - 2] == '\n')
			return (long)(i - 2);
	return -1;
}

int
pr_note_parse(const char *msg, size_t len, struct pr_note **out)
{
	struct pr_note *n;
	const char *p, *end, *nl;
	size_t lineno = 0;
	long split;
	int rc;

	if (len > PR_NOTE_MAX_SIZE)
		return pr_errmsg_set(
		    PR_ETOOBIG, "note larger than %d bytes", PR_NOTE_MAX_SIZE);
	if (!pr_utf8_text_valid((const uint8_t *)msg, len, 1))
		return pr_errmsg_set(
		    PR_EFORMAT, "note is not UTF-8 without control characters");
	if ((split = last_blank(msg, len)) < 0)
		return pr_errmsg_set(
		    PR_EFORMAT, "note has no blank line before its signatures");
	p = msg + split + 2;
	end = msg + len;
	if (p == end || end[-1] != '\n')
		return pr_errmsg_set(PR_EFORMAT,
		    "note has no signature line ending with a newline");
	if ((rc = note_alloc(msg, (size_t)split + 1, &n)) != 0)
		return rc;
	while (p < end) {
		lineno++;
		if (n->nsigs == PR_NOTE_MAX_SIGS) {
			rc = pr_errmsg_set(PR_ETOOBIG,
			    "note has more than %d signatures",
			    PR_NOTE_MAX_SIGS);
			goto note_free;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = sig_parse(p, (size_t)(nl - p), lineno, &n->sigs[n->nsigs]);
		if (rc != 0)
			goto note_free;
		n->nsigs++;
		p = nl + 1;
	}
	*out = n;
	return 0;
note_free:
	pr_note_free(n);
	return rc;
}

int
pr_note_sign(struct pr_note *n, const char *name, const struct pr_key *k)
{
	struct pr_note_sig s;
	size_t i, namelen = strlen(name);
	int rc;

	if (!pr_key_name_valid(name, namelen))
		return pr_errmsg_set(
		    PR_EINVAL, "invalid key name \"%s\"", name);
	memset(&s, 0, sizeof(s));
	if ((rc = pr_key_note_id(name, namelen, pr_key_raw_public(k), &s.id)) !=
	    0)
		return rc;
	for (i = 0; i < n->nsigs; i++)
		if (n->sigs[i].id == s.id && strcmp(n->sigs[i].name, name) == 0)
			break;
	if (i == PR_NOTE_MAX_SIGS)
		return pr_errmsg_set(PR_ETOOBIG,
		    "note already has %d signatures", PR_NOTE_MAX_SIGS);
	if ((s.name = strdup(name)) == NULL ||
	    (s.sig = malloc(PR_KEY_SIG_LEN)) == NULL) {
		rc = PR_ENOMEM;
		goto sig_clear;
	}
	s.siglen = PR_KEY_SIG_LEN;
	rc = pr_key_sign(k, (const uint8_t *)n->text, n->textlen, s.sig);
	if (rc != 0)
		goto sig_clear;
	if (i < n->nsigs)
		sig_clear(&n->sigs[i]);
	else
		n->nsigs++;
	n->sigs[i] = s;
	return 0;
sig_clear:
	sig_clear(&s);
	return rc;
}

int
pr_note_serialize(const struct pr_note *n, struct pr_buf *out)
{
	const struct pr_note_sig *s;
	uint8_t *raw;
	size_t i, start = out->len;
	int rc = 0;

	if (n->nsigs == 0)
		return pr_errmsg_set(PR_EINVAL, "note has no signature");
	if ((rc = pr_buf_append(out, n->text, n->textlen)) != 0 ||
	    (rc = pr_buf_append_byte(out, '\n')) != 0)
		goto out_reset;
	for (i = 0; i < n->nsigs; i++) {
		s = &n->sigs[i];
		if ((raw = malloc(4 + s->siglen)) == NULL) {
			rc = PR_ENOMEM;
			goto out_reset;
		}
		pr_store_be32(raw, s->id);
		memcpy(raw + 4, s->sig, s->siglen);
		if ((rc = pr_buf_append_str(out, SIG_PREFIX)) == 0 &&
		    (rc = pr_buf_append_str(out, s->name)) == 0 &&
		    (rc = pr_buf_append_byte(out, ' ')) == 0 &&
		    (rc = pr_b64_encode(out, raw, 4 + s->siglen)) == 0)
			rc = pr_buf_append_byte(out, '\n');
		free(raw);
		if (rc != 0)
			goto out_reset;
	}
	return 0;
out_reset:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return rc;
}

int
pr_note_verify(const struct pr_note *n, const struct pr_vkey *vkeys,
    size_t nvkeys, unsigned char *verified)
{
	const struct pr_note_sig *s;
	size_t i, j, nok = 0;
	unsigned char *ok;
	int rc;

	if ((ok = calloc(nvkeys ? nvkeys : 1, 1)) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < n->nsigs; i++) {
		s = &n->sigs[i];
		for (j = 0; j < nvkeys; j++)
			if (vkeys[j].id == s->id &&
			    strcmp(vkeys[j].name, s->name) == 0)
				break;
		if (j == nvkeys)
			continue; /* unknown signer: ignored */
		rc = pr_key_verify(vkeys[j].key, (const uint8_t *)n->text,
		    n->textlen, s->sig, s->siglen);
		if (rc != 0) {
			free(ok);
			if (rc == PR_ESIG)
				return pr_errmsg_set(PR_ESIG,
				    "signature by known key %s+%08x does not "
				    "verify",
				    s->name, (unsigned)s->id);
			return rc;
		}
		if (!ok[j])
			nok++;
		ok[j] = 1;
	}
	if (nok == 0) {
		free(ok);
		return pr_errmsg_set(
		    PR_EUNKNOWNKEY, "note carries no signature by a known key");
	}
	if (verified != NULL)
		memcpy(verified, ok, nvkeys);
	free(ok);
	return 0;
}

/* Checkpoints */

void
pr_checkpoint_clear(struct pr_checkpoint *cp)
{
	free(cp->origin);
	free(cp->ext);
	memset(cp, 0, sizeof(*cp));
}

int
pr_note_parse_decimal(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && p[0] == '0'))
		return PR_EFORMAT;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return PR_EFORMAT;
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return PR_ERANGE;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Next line of p[*off..len) without its newline; PR_EFORMAT if none. */
static int
next_line(
    const char *p, size_t len, size_t *off, const char **line, size_t *linelen)
{
	const char *nl;

	if (*off >= len)
		return PR_EFORMAT;
	if ((nl = memchr(p + *off, '\n', len - *off)) == NULL)
		return PR_EFORMAT;
	*line = p + *off;
	*linelen = (size_t)(nl - *line);
	*off = (size_t)(nl - p) + 1;
	return 0;
}

int
pr_checkpoint_parse(const char *text, size_t len, struct pr_checkpoint *out)
{
	struct pr_buf raw = PR_BUF_INIT;
	struct pr_checkpoint cp;
	const char *line;
	size_t off = 0, n, i;
	int rc;

	memset(&cp, 0, sizeof(cp));
	if (len == 0 || text[len - 1] != '\n')
		return pr_errmsg_set(
		    PR_EFORMAT, "checkpoint text must end with a newline");
	if (!pr_utf8_text_valid((const uint8_t *)text, len, 1))
		return pr_errmsg_set(PR_EFORMAT,
		    "checkpoint is not UTF-8 without control characters");
	if (next_line(text, len, &off, &line, &n) != 0 || n == 0)
		return pr_errmsg_set(PR_EFORMAT, "checkpoint has no origin");
	if ((cp.origin = strndup(line, n)) == NULL)
		return PR_ENOMEM;
	if (next_line(text, len, &off, &line, &n) != 0) {
		rc = pr_errmsg_set(PR_EFORMAT, "checkpoint has no tree size");
		goto cp_clear;
	}
	if ((rc = pr_note_parse_decimal(line, n, &cp.size)) != 0) {
		rc = pr_errmsg_set(rc,
		    "checkpoint tree size is not a decimal number without "
		    "leading zeros below 2^64");
		goto cp_clear;
	}
	if (next_line(text, len, &off, &line, &n) != 0) {
		rc = pr_errmsg_set(PR_EFORMAT, "checkpoint has no root hash");
		goto cp_clear;
	}
	rc = pr_b64_decode(&raw, line, n, PR_B64_STD);
	if (rc == PR_ENOMEM)
		goto cp_clear;
	if (rc != 0 || raw.len != PR_HASH_LEN) {
		rc = pr_errmsg_set(PR_EFORMAT,
		    "checkpoint root hash is not base64 of 32 bytes");
		goto cp_clear;
	}
	memcpy(cp.root, raw.data, PR_HASH_LEN);
	if (off < len) {
		/* Extension lines: every one non-empty. */
		for (i = off; i < len; i++)
			if (text[i] == '\n' && text[i - 1] == '\n') {
				rc = pr_errmsg_set(PR_EFORMAT,
				    "checkpoint has an empty extension line");
				goto cp_clear;
			}
		if ((cp.ext = strndup(text + off, len - off)) == NULL) {
			rc = PR_ENOMEM;
			goto cp_clear;
		}
		cp.extlen = len - off;
	}
	pr_buf_free(&raw);
	*out = cp;
	return 0;
cp_clear:
	pr_buf_free(&raw);
	pr_checkpoint_clear(&cp);
	return rc;
}

int
pr_checkpoint_format(const struct pr_checkpoint *cp, struct pr_buf *out)
{
	size_t start = out->len, olen, i;
	int rc;

	olen = cp->origin != NULL ? strlen(cp->origin) : 0;
	if (olen == 0 ||
	    !pr_utf8_text_valid((const uint8_t *)cp->origin, olen, 0))
		return pr_errmsg_set(PR_EINVAL, "invalid checkpoint origin");
	if (cp->extlen > 0) {
		if (cp->ext[cp->extlen - 1] != '\n' || cp->ext[0] == '\n' ||
		    !pr_utf8_text_valid(
		        (const uint8_t *)cp->ext, cp->extlen, 1))
			return pr_errmsg_set(
			    PR_EINVAL, "invalid checkpoint extension lines");
		for (i = 1; i < cp->extlen; i++)
			if (cp->ext[i] == '\n' && cp->ext[i - 1] == '\n')
				return pr_errmsg_set(PR_EINVAL,
				    "empty checkpoint extension line");
	}
	if ((rc = pr_buf_printf(out, "%s\n%llu\n", cp->origin,
	         (unsigned long long)cp->size)) != 0 ||
	    (rc = pr_b64_encode(out, cp->root, PR_HASH_LEN)) != 0 ||
	    (rc = pr_buf_append_byte(out, '\n')) != 0 ||
	    (cp->extlen > 0 &&
	        (rc = pr_buf_append(out, cp->ext, cp->extlen)) != 0)) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return rc;
	}
	return 0;
}

int
pr_checkpoint_sign(const struct pr_checkpoint *cp, const char *name,
    const struct pr_key *k, struct pr_buf *out)
{
	struct pr_buf text = PR_BUF_INIT;
	struct pr_note *n = NULL;
	int rc;

	if ((rc = pr_checkpoint_format(cp, &text)) != 0)
		goto text_free;
	if ((rc = pr_note_new((char *)text.data, text.len, &n)) != 0)
		goto text_free;
	if ((rc = pr_note_sign(n, name, k)) == 0)
		rc = pr_note_serialize(n, out);
	pr_note_free(n);
text_free:
	pr_buf_free(&text);
	return rc;
}

int
pr_checkpoint_open(const char *msg, size_t len, const char *origin,
    const struct pr_vkey *vkeys, size_t nvkeys, struct pr_checkpoint *out)
{
	struct pr_checkpoint cp;
	struct pr_note *n;
	int rc;

	if ((rc = pr_note_parse(msg, len, &n)) != 0)
		return rc;
	if ((rc = pr_note_verify(n, vkeys, nvkeys, NULL)) != 0)
		goto note_free;
	if ((rc = pr_checkpoint_parse(n->text, n->textlen, &cp)) != 0)
		goto note_free;
	if (origin != NULL && strcmp(cp.origin, origin) != 0) {
		rc = pr_errmsg_set(PR_EFORMAT,
		    "checkpoint origin \"%s\" is not the expected \"%s\"",
		    cp.origin, origin);
		pr_checkpoint_clear(&cp);
		goto note_free;
	}
	*out = cp;
note_free:
	pr_note_free(n);
	return rc;
}
