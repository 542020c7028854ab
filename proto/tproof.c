#include <stdlib.h>
#include <string.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/tproof.h"

void
pr_tproof_clear(struct pr_tproof *p)
{
	free(p->extra);
	free(p->checkpoint);
	memset(p, 0, sizeof(*p));
}

int
pr_tproof_format(const struct pr_tproof *p, struct pr_buf *out)
{
	size_t i, start = out->len;
	int rc;

	if (p->nproof > PR_MERKLE_MAX_PROOF)
		return pr_errmsg_set(PR_EINVAL, "more than %d proof hashes",
		    PR_MERKLE_MAX_PROOF);
	if (p->checkpointlen == 0 ||
	    p->checkpoint[p->checkpointlen - 1] != '\n')
		return pr_errmsg_set(
		    PR_EINVAL, "checkpoint must end with a newline");
	if (p->extralen > PR_TPROOF_MAX_EXTRA)
		return pr_errmsg_set(PR_ETOOBIG, "extra data too large");
	if ((rc = pr_buf_append_str(out, PR_TPROOF_HEADER "\n")) != 0)
		goto out_reset;
	if (p->extra != NULL && p->extralen > 0 &&
	    ((rc = pr_buf_append_str(out, "extra ")) != 0 ||
	        (rc = pr_b64_encode(out, p->extra, p->extralen)) != 0 ||
	        (rc = pr_buf_append_byte(out, '\n')) != 0))
		goto out_reset;
	if ((rc = pr_buf_printf(
	         out, "index %llu\n", (unsigned long long)p->index)) != 0)
		goto out_reset;
	for (i = 0; i < p->nproof; i++)
		if ((rc = pr_b64_encode(out, p->proof[i], PR_HASH_LEN)) != 0 ||
		    (rc = pr_buf_append_byte(out, '\n')) != 0)
			goto out_reset;
	if ((rc = pr_buf_append_byte(out, '\n')) != 0 ||
	    (rc = pr_buf_append(out, p->checkpoint, p->checkpointlen)) != 0)
		goto out_reset;
	return 0;
out_reset:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return rc;
}

/* A cursor over the lines of the file. */
struct lines {
	const char *s;
	size_t len, off, no;
};

static int
next_line(struct lines *l, const char **line, size_t *n)
{
	const char *nl;

	if (l->off >= l->len ||
	    (nl = memchr(l->s + l->off, '\n', l->len - l->off)) == NULL)
		return pr_errmsg_set(PR_ETRUNC,
		    "proof ends before line %zu is complete", l->no + 1);
	*line = l->s + l->off;
	*n = (size_t)(nl - *line);
	l->off = (size_t)(nl - l->s) + 1;
	l->no++;
	return 0;
}

static int
has_prefix(const char *line, size_t n, const char *prefix)
{
	size_t plen = strlen(prefix);

	return n >= plen && memcmp(line, prefix, plen) == 0;
}

static int
parse_extra(struct lines *l, const char *line, size_t n, struct pr_tproof *p)
{
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	line += 6;
	n -= 6;
	if (n == 0 || n > pr_b64_len(PR_TPROOF_MAX_EXTRA))
		return pr_errmsg_set(PR_EFORMAT,
		    "line %zu: extra data is empty or larger than %d bytes",
		    l->no, PR_TPROOF_MAX_EXTRA);
	if ((rc = pr_b64_decode(&b, line, n, PR_B64_STD)) != 0) {
		pr_buf_free(&b);
		if (rc == PR_ENOMEM)
			return rc;
		return pr_errmsg_set(PR_EFORMAT,
		    "line %zu: extra data is not canonical base64", l->no);
	}
	p->extra = b.data;
	p->extralen = b.len;
	return 0;
}

static int
parse_hash(struct lines *l, const char *line, size_t n, pr_hash out)
{
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	if (n > 64)
		return pr_errmsg_set(
		    PR_EFORMAT, "line %zu: proof hash line too long", l->no);
	if ((rc = pr_b64_decode(&b, line, n, PR_B64_STD)) != 0) {
		pr_buf_free(&b);
		if (rc == PR_ENOMEM)
			return rc;
		return pr_errmsg_set(PR_EFORMAT,
		    "line %zu: proof hash is not canonical base64", l->no);
	}
	if (b.len != PR_HASH_LEN) {
		rc = pr_errmsg_set(PR_EFORMAT,
		    "line %zu: proof hash is %zu bytes, not 32", l->no, b.len);
		pr_buf_free(&b);
		return rc;
	}
	memcpy(out, b.data, PR_HASH_LEN);
	pr_buf_free(&b);
	return 0;
}

/* The checkpoint must be a signed note with a checkpoint text. */
static int
check_checkpoint(const char *s, size_t len)
{
	struct pr_checkpoint cp;
	struct pr_note *n;
	int rc;

	if ((rc = pr_note_parse(s, len, &n)) != 0)
		return pr_errmsg_set(rc, "checkpoint: %s", pr_errmsg(rc));
	rc = pr_checkpoint_parse(n->text, n->textlen, &cp);
	pr_note_free(n);
	if (rc != 0)
		return pr_errmsg_set(rc, "checkpoint: %s", pr_errmsg(rc));
	pr_checkpoint_clear(&cp);
	return 0;
}

int
pr_tproof_parse(const char *s, size_t len, struct pr_tproof *out)
{
	struct lines l = {s, len, 0, 0};
	struct pr_tproof p;
	const char *line;
	size_t n;
	int rc;

	memset(&p, 0, sizeof(p));
	if (len > PR_TPROOF_MAX_SIZE)
		return pr_errmsg_set(PR_ETOOBIG, "proof larger than %d bytes",
		    PR_TPROOF_MAX_SIZE);
	if ((rc = next_line(&l, &line, &n)) != 0)
		return rc;
	if (n != strlen(PR_TPROOF_HEADER) ||
	    memcmp(line, PR_TPROOF_HEADER, n) != 0)
		return pr_errmsg_set(
		    PR_EFORMAT, "line 1 is not \"" PR_TPROOF_HEADER "\"");
	if ((rc = next_line(&l, &line, &n)) != 0)
		return rc;
	if (has_prefix(line, n, "extra ")) {
		if ((rc = parse_extra(&l, line, n, &p)) != 0)
			goto proof_clear;
		if ((rc = next_line(&l, &line, &n)) != 0)
			goto proof_clear;
	}
	if (!has_prefix(line, n, "index ") ||
	    pr_note_parse_decimal(line + 6, n - 6, &p.index) != 0) {
		rc = pr_errmsg_set(PR_EFORMAT,
		    "line %zu is not \"index\" and a decimal number without "
		    "leading zeros below 2^64",
		    l.no);
		goto proof_clear;
	}
	for (;;) {
		if ((rc = next_line(&l, &line, &n)) != 0) {
			rc = pr_errmsg_set(
			    PR_ETRUNC, "proof ends before the checkpoint");
			goto proof_clear;
		}
		if (n == 0)
			break;
		if (p.nproof == PR_MERKLE_MAX_PROOF) {
			rc = pr_errmsg_set(PR_EFORMAT,
			    "more than %d proof hashes", PR_MERKLE_MAX_PROOF);
			goto proof_clear;
		}
		if ((rc = parse_hash(&l, line, n, p.proof[p.nproof])) != 0)
			goto proof_clear;
		p.nproof++;
	}
	if (l.off == len) {
		rc = pr_errmsg_set(PR_ETRUNC, "proof has no checkpoint");
		goto proof_clear;
	}
	if ((rc = check_checkpoint(s + l.off, len - l.off)) != 0)
		goto proof_clear;
	if ((p.checkpoint = strndup(s + l.off, len - l.off)) == NULL) {
		rc = PR_ENOMEM;
		goto proof_clear;
	}
	p.checkpointlen = len - l.off;
	*out = p;
	return 0;
proof_clear:
	pr_tproof_clear(&p);
	return rc;
}

size_t
pr_tproof_proof_len(uint64_t index, uint64_t size)
{
	uint64_t x = index ^ (size - 1), rest;
	size_t inner = 0, border = 0;

	while (x != 0) {
		inner++;
		x >>= 1;
	}
	for (rest = inner < 64 ? index >> inner : 0; rest != 0; rest >>= 1)
		border += rest & 1;
	return inner + border;
}

int
pr_tproof_verify(const struct pr_tproof *p, const pr_hash leaf,
    const char *origin, const struct pr_vkey *vkeys, size_t nvkeys,
    struct pr_checkpoint *cp)
{
	struct pr_checkpoint c;
	size_t want;
	int rc;

	if ((rc = pr_checkpoint_open(p->checkpoint, p->checkpointlen, origin,
	         vkeys, nvkeys, &c)) != 0)
		return rc;
	if (p->index >= c.size) {
		rc = pr_errmsg_set(PR_EPROOF,
		    "index %llu is not below the tree size %llu",
		    (unsigned long long)p->index, (unsigned long long)c.size);
		goto cp_clear;
	}
	want = pr_tproof_proof_len(p->index, c.size);
	if (p->nproof != want) {
		rc = pr_errmsg_set(PR_EPROOF,
		    "inclusion proof has %zu hashes; index %llu in a tree of "
		    "%llu needs %zu",
		    p->nproof, (unsigned long long)p->index,
		    (unsigned long long)c.size, want);
		goto cp_clear;
	}
	rc = pr_merkle_verify_inclusion(p->index, c.size, leaf,
	    (const pr_hash *)p->proof, p->nproof, c.root);
	if (rc != 0) {
		rc = pr_errmsg_set(rc == PR_EPROOF ? PR_EPROOF : rc,
		    "inclusion proof does not lead to the checkpoint's root "
		    "hash");
		goto cp_clear;
	}
	if (cp != NULL) {
		*cp = c;
		return 0;
	}
cp_clear:
	pr_checkpoint_clear(&c);
	return rc;
}
