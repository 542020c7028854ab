/*
 * verify's state file.
 *
 * Layout (integers big-endian):
 *
 *	"procurectl verify state\n"	magic (24 bytes)
 *	u32	version (2; version 1 lacked the entry index of l/ records)
 *	u32 len, origin
 *	u32 len, the last verified signed checkpoint
 *	32	its root hash
 *	u64	tree size
 *	u8 n, n x 32	compact range (largest subtree first)
 *	8 x (u16 n, n x 32)	rightmost tile hashes of each level
 *	u64	log time of the last entry (ms)
 *	u32 n, n x 32	public keys granted so far
 *	u64 n, n x (u32 len, key, u32 len, value)	replayed state
 *	32	SHA-256 of everything above
 *
 * The file is written to a temporary name, synced and renamed over the
 * old one, so a crash leaves either state whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "cli/verify.h"
#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"

#define MAGIC "procurectl verify state\n"
#define MAGIC_LEN 24
#define VERSION 2 /* 2: l/ records carry the entry's index */

static void
free_key(void *p)
{
	pr_key_free(p);
}

int
vf_state_init(struct vf_state *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	pr_merkle_stack_init(&s->tree.stack);
	if ((rc = cl_kv_new(&s->kv)) != 0)
		return rc;
	if ((rc = cl_kv_new(&s->keys)) != 0) {
		cl_kv_free(s->kv, NULL);
		s->kv = NULL;
		return rc;
	}
	return 0;
}

void
vf_state_clear(struct vf_state *s)
{
	free(s->origin);
	free(s->checkpoint);
	cl_kv_free(s->kv, NULL);
	cl_kv_free(s->keys, free_key);
	memset(s, 0, sizeof(*s));
}

int
vf_state_add_key(struct vf_state *s, const uint8_t pub[PR_KEY_PUB_LEN],
    const struct pr_key **out)
{
	struct cl_kv_ent *e;
	struct pr_key *k;
	const char *id;
	int rc;

	if ((rc = pr_key_from_raw_public(pub, &k)) != 0)
		return rc;
	id = pr_key_keyid(k);
	if ((e = cl_kv_find(s->keys, id, strlen(id))) != NULL) {
		pr_key_free(k);
		if (out != NULL)
			*out = e->ptr;
		return 0;
	}
	if ((rc = cl_kv_put(
	         s->keys, id, strlen(id), pub, PR_KEY_PUB_LEN, &e)) != 0) {
		pr_key_free(k);
		return rc;
	}
	e->ptr = k;
	if (out != NULL)
		*out = k;
	return 0;
}

const struct pr_key *
vf_state_key(const struct vf_state *s, const char *keyid, size_t len)
{
	struct cl_kv_ent *e = cl_kv_find(s->keys, keyid, len);

	return e ? e->ptr : NULL;
}

/* Writing */

static int
put_kv(void *ctx, const struct cl_kv_ent *e)
{
	struct pr_buf *b = ctx;
	int rc;

	if ((rc = pr_buf_append_be32(b, (uint32_t)e->klen)) != 0 ||
	    (rc = pr_buf_append(b, e->key, e->klen)) != 0 ||
	    (rc = pr_buf_append_be32(b, (uint32_t)e->vlen)) != 0)
		return rc;
	return e->vlen ? pr_buf_append(b, e->val, e->vlen) : 0;
}

static int
put_pub(void *ctx, const struct cl_kv_ent *e)
{
	return pr_buf_append(ctx, e->val, e->vlen);
}

static int
encode(const struct vf_state *s, struct pr_buf *b)
{
	const struct vf_tree *t = &s->tree;
	unsigned k;
	uint8_t sum[32];
	int rc;

	if ((rc = pr_buf_append(b, MAGIC, MAGIC_LEN)) != 0 ||
	    (rc = pr_buf_append_be32(b, VERSION)) != 0 ||
	    (rc = pr_buf_append_be32(b, (uint32_t)strlen(s->origin))) != 0 ||
	    (rc = pr_buf_append_str(b, s->origin)) != 0 ||
	    (rc = pr_buf_append_be32(b, (uint32_t)s->cplen)) != 0 ||
	    (rc = pr_buf_append(b, s->checkpoint, s->cplen)) != 0 ||
	    (rc = pr_buf_append(b, s->root, PR_HASH_LEN)) != 0 ||
	    (rc = pr_buf_append_be64(b, t->stack.size)) != 0 ||
	    (rc = pr_buf_append_byte(b, (uint8_t)t->stack.n)) != 0 ||
	    (rc = pr_buf_append(b, t->stack.h, t->stack.n * PR_HASH_LEN)) != 0)
		return rc;
	for (k = 0; k < PR_TILE_MAX_LEVELS; k++)
		if ((rc = pr_buf_append_be16(b, (uint16_t)t->edge_n[k])) != 0 ||
		    (rc = pr_buf_append(b, t->edge[k],
		         (size_t)t->edge_n[k] * PR_HASH_LEN)) != 0)
			return rc;
	if ((rc = pr_buf_append_be64(b, (uint64_t)s->last_log_time)) != 0 ||
	    (rc = pr_buf_append_be32(b, (uint32_t)cl_kv_count(s->keys))) != 0 ||
	    (rc = cl_kv_foreach(s->keys, put_pub, b)) != 0 ||
	    (rc = pr_buf_append_be64(b, cl_kv_count(s->kv))) != 0 ||
	    (rc = cl_kv_foreach(s->kv, put_kv, b)) != 0)
		return rc;
	if (EVP_Digest(b->data, b->len, sum, NULL, EVP_sha256(), NULL) != 1)
		return PR_ECRYPTO;
	return pr_buf_append(b, sum, sizeof(sum));
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
vf_state_save(const char *path, const struct vf_state *s)
{
	struct pr_buf b = PR_BUF_INIT, tmp = PR_BUF_INIT;
	int fd, rc;

	if ((rc = encode(s, &b)) != 0 ||
	    (rc = pr_buf_printf(&tmp, "%s.XXXXXX", path)) != 0)
		goto free_bufs;
	if ((fd = mkstemp((char *)tmp.data)) < 0) {
		rc = pr_errmsg_set(PR_EIO, "cannot create %s: %s",
		    (char *)tmp.data, strerror(errno));
		goto free_bufs;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, b.data, b.len) != 0 ||
	    fsync(fd) != 0) {
		rc = pr_errmsg_set(PR_EIO, "cannot write %s: %s",
		    (char *)tmp.data, strerror(errno));
		close(fd);
		unlink((char *)tmp.data);
		goto free_bufs;
	}
	close(fd);
	if (rename((char *)tmp.data, path) != 0) {
		rc = pr_errmsg_set(PR_EIO, "cannot rename %s to %s: %s",
		    (char *)tmp.data, path, strerror(errno));
		unlink((char *)tmp.data);
	}
free_bufs:
	pr_buf_free(&tmp);
	pr_buf_free(&b);
	return rc;
}

/* Reading */

struct rd {
	const uint8_t *p;
	size_t len, off;
	int bad;
};

static const uint8_t *
take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t
take_be(struct rd *r, size_t n)
{
	const uint8_t *p = take(r, n);
	uint64_t v = 0;
	size_t i;

	for (i = 0; p != NULL && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static char *
take_str(struct rd *r, size_t *len)
{
	size_t n = (size_t)take_be(r, 4);
	const uint8_t *p = take(r, n);
	char *s;

	if (p == NULL || (s = malloc(n + 1)) == NULL) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

static int
decode(struct rd *r, struct vf_state *s)
{
	struct vf_tree *t = &s->tree;
	const uint8_t *p;
	uint64_t n, i;
	unsigned k;
	int rc;

	if ((p = take(r, MAGIC_LEN)) == NULL ||
	    memcmp(p, MAGIC, MAGIC_LEN) != 0)
		return pr_errmsg_set(PR_ECORRUPT, "not a verify state file");
	if (take_be(r, 4) != VERSION)
		return pr_errmsg_set(PR_EVERSION,
		    "state file of another version of procurectl; remove it "
		    "to verify from scratch");
	if ((s->origin = take_str(r, NULL)) == NULL ||
	    (s->checkpoint = take_str(r, &s->cplen)) == NULL ||
	    (p = take(r, PR_HASH_LEN)) == NULL)
		return PR_ECORRUPT;
	memcpy(s->root, p, PR_HASH_LEN);
	t->stack.size = take_be(r, 8);
	t->stack.n = (unsigned)take_be(r, 1);
	if (t->stack.n > 64 || (p = take(r, t->stack.n * PR_HASH_LEN)) == NULL)
		return PR_ECORRUPT;
	memcpy(t->stack.h, p, t->stack.n * PR_HASH_LEN);
	if ((unsigned)__builtin_popcountll(t->stack.size) != t->stack.n)
		return PR_ECORRUPT;
	for (k = 0; k < PR_TILE_MAX_LEVELS; k++) {
		t->edge_n[k] = (unsigned)take_be(r, 2);
		if (t->edge_n[k] !=
		        (unsigned)((t->stack.size >> (8 * k)) %
		            PR_TILE_WIDTH) ||
		    (p = take(r, (size_t)t->edge_n[k] * PR_HASH_LEN)) == NULL)
			return PR_ECORRUPT;
		memcpy(t->edge[k], p, (size_t)t->edge_n[k] * PR_HASH_LEN);
	}
	s->last_log_time = (int64_t)take_be(r, 8);
	n = take_be(r, 4);
	for (i = 0; i < n && !r->bad; i++)
		if ((p = take(r, PR_KEY_PUB_LEN)) != NULL &&
		    (rc = vf_state_add_key(s, p, NULL)) != 0)
			return rc;
	n = take_be(r, 8);
	/* The file holds at least 8 bytes an entry. */
	if (n > (r->len - r->off) / 8)
		return PR_ECORRUPT;
	if ((rc = cl_kv_reserve(s->kv, (size_t)n)) != 0)
		return rc;
	for (i = 0; i < n && !r->bad; i++) {
		size_t klen = (size_t)take_be(r, 4);
		const uint8_t *key = take(r, klen);
		size_t vlen = (size_t)take_be(r, 4);
		const uint8_t *val = take(r, vlen);

		if (val == NULL)
			break;
		if ((rc = cl_kv_put(
		         s->kv, (const char *)key, klen, val, vlen, NULL)) != 0)
			return rc;
	}
	if (r->bad || r->off != r->len)
		return PR_ECORRUPT;
	return 0;
}

int
vf_state_load(const char *path, struct vf_state *s)
{
	struct pr_buf b = PR_BUF_INIT;
	struct rd r;
	uint8_t sum[32];
	int rc;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return PR_ENOTFOUND;
	if ((rc = cl_read_file(path, (size_t)1 << 34, &b)) != 0)
		return rc;
	if (b.len < MAGIC_LEN + 32 ||
	    EVP_Digest(b.data, b.len - 32, sum, NULL, EVP_sha256(), NULL) !=
	        1 ||
	    memcmp(sum, b.data + b.len - 32, 32) != 0) {
		pr_buf_free(&b);
		return pr_errmsg_set(PR_ECORRUPT,
		    "%s is damaged (checksum mismatch); remove it to verify "
		    "from scratch",
		    path);
	}
	r.p = b.data;
	r.len = b.len - 32;
	r.off = 0;
	r.bad = 0;
	rc = decode(&r, s);
	pr_buf_free(&b);
	if (rc == PR_ECORRUPT)
		return pr_errmsg_set(PR_ECORRUPT,
		    "%s is damaged; remove it to verify from scratch", path);
	if (rc != 0)
		return cl_wrap(rc, "%s", path);
	return 0;
}
