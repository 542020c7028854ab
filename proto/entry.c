#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/utf8.h"

/* Append the envelope part of e to out; out is unchanged on failure. */
static int
append_envelope(const struct pr_dsse *e, struct pr_buf *out)
{
	const struct pr_dsse_sig *s;
	size_t i, start = out->len, kl;
	int rc;

	if (e->nsigs == 0 || e->nsigs > PR_ENTRY_MAX_SIGS)
		return pr_errmsg_set(PR_EINVAL,
		    "an entry holds 1 to 16 signatures, not %zu", e->nsigs);
	if (e->payload_type_len == 0 || e->payload_type_len > 65535 ||
	    e->payload_len > 65535)
		return pr_errmsg_set(PR_ETOOBIG, "envelope field too long");
	if (pr_dsse_size(e) > PR_ENTRY_MAX - PR_ENTRY_HEADER)
		return pr_errmsg_set(
		    PR_ETOOBIG, "entry larger than %d bytes", PR_ENTRY_MAX);
	if ((rc = pr_buf_reserve(out, pr_dsse_size(e))) != 0)
		return rc;
	pr_buf_append_be16(out, (uint16_t)e->payload_type_len);
	pr_buf_append(out, e->payload_type, e->payload_type_len);
	pr_buf_append_be16(out, (uint16_t)e->payload_len);
	pr_buf_append(out, e->payload, e->payload_len);
	pr_buf_append_byte(out, (uint8_t)e->nsigs);
	for (i = 0; i < e->nsigs; i++) {
		s = &e->sigs[i];
		kl = s->keyid != NULL ? strlen(s->keyid) : 0;
		if (kl > 255 || s->siglen == 0 || s->siglen > 65535) {
			out->len = start;
			out->data[start] = '\0';
			return pr_errmsg_set(PR_EINVAL,
			    "signature %zu: keyid or sig length out of range",
			    i);
		}
		pr_buf_append_byte(out, (uint8_t)kl);
		pr_buf_append(out, s->keyid, kl);
		pr_buf_append_be16(out, (uint16_t)s->siglen);
		pr_buf_append(out, s->sig, s->siglen);
	}
	return 0;
}

int
pr_entry_encode(const struct pr_dsse *e, uint64_t log_time, struct pr_buf *out)
{
	size_t start = out->len;
	int rc;

	if ((rc = pr_buf_append_byte(out, PR_ENTRY_VERSION)) != 0 ||
	    (rc = pr_buf_append_be64(out, log_time)) != 0 ||
	    (rc = append_envelope(e, out)) != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}

void
pr_entry_set_time(uint8_t *entry, uint64_t log_time)
{
	pr_store_be64(entry + 1, log_time);
}

/* A cursor over the entry bytes. */
struct rd {
	const uint8_t *p;
	size_t len, off;
};

static int
rd_need(struct rd *r, size_t n, const char *what)
{
	if (r->len - r->off < n)
		return pr_errmsg_set(PR_ETRUNC,
		    "entry truncated at offset %zu (%s)", r->off, what);
	return 0;
}

static int
rd_u8(struct rd *r, size_t *v, const char *what)
{
	int rc;

	if ((rc = rd_need(r, 1, what)) != 0)
		return rc;
	*v = r->p[r->off++];
	return 0;
}

static int
rd_u16(struct rd *r, size_t *v, const char *what)
{
	int rc;

	if ((rc = rd_need(r, 2, what)) != 0)
		return rc;
	*v = pr_load_be16(r->p + r->off);
	r->off += 2;
	return 0;
}

static int
rd_bytes(struct rd *r, size_t n, const uint8_t **v, const char *what)
{
	int rc;

	if ((rc = rd_need(r, n, what)) != 0)
		return rc;
	*v = r->p + r->off;
	r->off += n;
	return 0;
}

static int
text_ok(const uint8_t *p, size_t n)
{
	return memchr(p, '\0', n) == NULL && pr_utf8_valid(p, n);
}

int
pr_entry_parse(const uint8_t *p, size_t len, struct pr_entry *out)
{
	struct rd r = {p, len, 0};
	struct pr_entry ent;
	const uint8_t *b;
	size_t n, i;
	int rc;

	if (len > PR_ENTRY_MAX)
		return pr_errmsg_set(
		    PR_ETOOBIG, "entry larger than %d bytes", PR_ENTRY_MAX);
	if (len < PR_ENTRY_HEADER)
		return pr_errmsg_set(PR_ETRUNC, "entry shorter than header");
	if (p[0] != PR_ENTRY_VERSION)
		return pr_errmsg_set(PR_EVERSION, "entry version %u is not %d",
		    p[0], PR_ENTRY_VERSION);
	memset(&ent, 0, sizeof(ent));
	ent.log_time = pr_load_be64(p + 1);
	r.off = PR_ENTRY_HEADER;
	if ((rc = rd_u16(&r, &n, "payloadType length")) != 0 ||
	    (rc = rd_bytes(&r, n, &b, "payloadType")) != 0)
		return rc;
	if (n == 0 || !text_ok(b, n))
		return pr_errmsg_set(
		    PR_EFORMAT, "entry payloadType is empty or not UTF-8");
	ent.payload_type = (const char *)b;
	ent.payload_type_len = n;
	if ((rc = rd_u16(&r, &n, "payload length")) != 0 ||
	    (rc = rd_bytes(&r, n, &ent.payload, "payload")) != 0)
		return rc;
	ent.payload_len = n;
	if ((rc = rd_u8(&r, &ent.nsigs, "signature count")) != 0)
		return rc;
	if (ent.nsigs == 0 || ent.nsigs > PR_ENTRY_MAX_SIGS)
		return pr_errmsg_set(PR_EFORMAT,
		    "entry has %zu signatures, not 1 to 16", ent.nsigs);
	for (i = 0; i < ent.nsigs; i++) {
		if ((rc = rd_u8(&r, &n, "keyid length")) != 0 ||
		    (rc = rd_bytes(&r, n, &b, "keyid")) != 0)
			return rc;
		if (n > 0 && !text_ok(b, n))
			return pr_errmsg_set(PR_EFORMAT,
			    "entry signature %zu: keyid is not UTF-8", i);
		ent.sigs[i].keyid = n > 0 ? (const char *)b : NULL;
		ent.sigs[i].keyidlen = n;
		if ((rc = rd_u16(&r, &n, "sig length")) != 0 ||
		    (rc = rd_bytes(&r, n, &ent.sigs[i].sig, "sig")) != 0)
			return rc;
		if (n == 0)
			return pr_errmsg_set(
			    PR_EFORMAT, "entry signature %zu is empty", i);
		ent.sigs[i].siglen = n;
	}
	if (r.off != len)
		return pr_errmsg_set(
		    PR_EFORMAT, "entry has %zu trailing bytes", len - r.off);
	ent.envelope = p + PR_ENTRY_HEADER;
	ent.envelope_len = len - PR_ENTRY_HEADER;
	*out = ent;
	return 0;
}

int
pr_entry_to_dsse(const struct pr_entry *ent, struct pr_dsse **out)
{
	struct pr_dsse *e;
	char *type;
	size_t i;
	int rc;

	if ((type = strndup(ent->payload_type, ent->payload_type_len)) == NULL)
		return PR_ENOMEM;
	rc = pr_dsse_new(type, ent->payload, ent->payload_len, &e);
	free(type);
	if (rc != 0)
		return rc;
	for (i = 0; i < ent->nsigs; i++) {
		rc = pr_dsse_add_sig(e, ent->sigs[i].keyid,
		    ent->sigs[i].keyidlen, ent->sigs[i].sig,
		    ent->sigs[i].siglen);
		if (rc != 0) {
			pr_dsse_free(e);
			return rc;
		}
	}
	*out = e;
	return 0;
}

int
pr_entry_decode(
    const uint8_t *p, size_t len, uint64_t *log_time, struct pr_dsse **out)
{
	struct pr_entry ent;
	int rc;

	if ((rc = pr_entry_parse(p, len, &ent)) != 0)
		return rc;
	if ((rc = pr_entry_to_dsse(&ent, out)) != 0)
		return rc;
	if (log_time != NULL)
		*log_time = ent.log_time;
	return 0;
}

static int
sha256(const uint8_t *p, size_t len, pr_hash out)
{
	unsigned int n = PR_HASH_LEN;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1)
		return pr_errmsg_set(PR_ECRYPTO, "SHA-256 failed");
	return 0;
}

int
pr_entry_envelope_hash(const uint8_t *p, size_t len, pr_hash out)
{
	if (len < PR_ENTRY_HEADER)
		return pr_errmsg_set(PR_ETRUNC, "entry shorter than header");
	return sha256(p + PR_ENTRY_HEADER, len - PR_ENTRY_HEADER, out);
}

int
pr_entry_dsse_hash(const struct pr_dsse *e, pr_hash out)
{
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	if ((rc = append_envelope(e, &b)) == 0)
		rc = sha256(b.data, b.len, out);
	pr_buf_free(&b);
	return rc;
}
