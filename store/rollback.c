/*
 * Rollback protection: the file signed-tree in the data directory,
 * outside LMDB, records the largest tree this log ever signed, so that a
 * store restored from an old backup (or otherwise rolled back) is caught
 * at open: its tree is smaller, or has another root at that size.
 *
 * The file holds two slots of SLOT bytes, each one text line padded with
 * spaces:
 *
 *   procured signed-tree 2 <seq> <size> <root hex> <check>\n
 *
 * where check is the first 4 bytes, in hex, of SHA-256(0x00 || the line
 * up to the space before it).  Updates go to the slot of the other
 * parity, in place, followed by one fdatasync(): the previous record
 * survives a torn write, as LMDB's two meta pages do.  The record with
 * the highest seq among the valid ones is current.
 *
 * A file in the first format, one line "procured signed-tree 1" and one
 * "<size> <root hex>" (what procured(8) tells an operator to write after
 * restoring a backup), is read too, and replaced atomically by the
 * two-slot form at the first write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "store/st_int.h"

#define MAGIC "procured signed-tree 2 "
#define MAGIC1 "procured signed-tree 1\n"
#define NAME "signed-tree"
#define TMPNAME "signed-tree.tmp"
#define SLOT 192

static int
path_of(struct st_store *st, struct pr_buf *p)
{
	return pr_buf_printf(p, "%s/%s", st->dir, NAME);
}

static void
check_of(const char *s, size_t len, char out[9])
{
	pr_hash h;

	pr_merkle_leaf_hash((const uint8_t *)s, len, h);
	pr_hex_encode(h, 4, out);
}

/* A decimal u64 at s[*i..), no leading zeros, followed by a space. */
static int
parse_u64(const char *s, size_t len, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	size_t b = *i;

	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		if (v > (UINT64_MAX - (uint64_t)(s[*i] - '0')) / 10)
			return PR_EFORMAT;
		v = v * 10 + (uint64_t)(s[*i] - '0');
	}
	if (*i == b || *i - b > 20 || (s[b] == '0' && *i - b > 1) ||
	    *i >= len || s[*i] != ' ')
		return PR_EFORMAT;
	(*i)++;
	*out = v;
	return 0;
}

/* Parse one slot; 0 and its fields if valid. */
static int
parse_slot(const char *s, uint64_t *seq, uint64_t *size, pr_hash root)
{
	size_t len = SLOT, i = sizeof(MAGIC) - 1;
	char check[9];

	if (s[SLOT - 1] != '\n')
		return PR_EFORMAT;
	for (len = SLOT - 1; len > 0 && s[len - 1] == ' '; len--)
		;
	if (len < i || memcmp(s, MAGIC, i) != 0 ||
	    parse_u64(s, len, &i, seq) != 0 ||
	    parse_u64(s, len, &i, size) != 0 ||
	    len - i != 2 * PR_HASH_LEN + 1 + 8 ||
	    s[i + 2 * PR_HASH_LEN] != ' ' ||
	    pr_hex_decode(s + i, 2 * PR_HASH_LEN, root, PR_HASH_LEN) != 0)
		return PR_EFORMAT;
	check_of(s, len - 9, check);
	return memcmp(check, s + len - 8, 8) == 0 ? 0 : PR_EFORMAT;
}

/* The first format: "<size> <root hex>\n" after MAGIC1. */
static int
parse_v1(const char *s, size_t len, uint64_t *size, pr_hash root)
{
	size_t i = sizeof(MAGIC1) - 1;

	if (len < i || memcmp(s, MAGIC1, i) != 0 ||
	    parse_u64(s, len, &i, size) != 0 ||
	    len - i != 2 * PR_HASH_LEN + 1 || s[len - 1] != '\n' ||
	    pr_hex_decode(s + i, 2 * PR_HASH_LEN, root, PR_HASH_LEN) != 0)
		return PR_EFORMAT;
	return 0;
}

int
sti_signed_read(struct st_store *st, int *found, uint64_t *size, pr_hash root,
    struct pr_buf *msg)
{
	struct pr_buf path = PR_BUF_INIT;
	char buf[2 * SLOT];
	uint64_t seq[2], sz[2];
	pr_hash r[2];
	int fd, k, ok[2], rc = 0;
	ssize_t n;

	if ((rc = path_of(st, &path)) != 0)
		return rc;
	if ((fd = open((char *)path.data, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			*found = 0;
		} else {
			sti_errmsg(msg, "cannot read %s: %s.",
			    (char *)path.data, strerror(errno));
			rc = sti_err(errno);
		}
		goto path_free;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n == -1) {
		rc = sti_err(errno);
		goto path_free;
	}
	for (k = 0; k < 2; k++)
		ok[k] = (size_t)n == sizeof(buf) &&
		    parse_slot(buf + k * SLOT, &seq[k], &sz[k], r[k]) == 0;
	if (!ok[0] && !ok[1] && (size_t)n < sizeof(buf) &&
	    parse_v1(buf, (size_t)n, &sz[0], r[0]) == 0) {
		seq[0] = 0;
		ok[0] = 1;
	}
	if (!ok[0] && !ok[1]) {
		sti_errmsg(msg,
		    "%s is not a valid signed-tree file; it records "
		    "the largest tree this log signed and must not be edited.",
		    (char *)path.data);
		rc = PR_ECORRUPT;
		goto path_free;
	}
	k = !ok[0] || (ok[1] && seq[1] > seq[0]);
	*found = 1;
	*size = sz[k];
	memcpy(root, r[k], PR_HASH_LEN);
	st->signed_seq = seq[k];
path_free:
	pr_buf_free(&path);
	return rc;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return sti_err(errno);
	if (fsync(fd) == -1)
		rc = sti_err(errno);
	close(fd);
	return rc;
}

/* The text of a slot holding record seq. */
static void
format_slot(char slot[SLOT], uint64_t seq, uint64_t size, const pr_hash root)
{
	char hex[2 * PR_HASH_LEN + 1], check[9];
	int n;

	pr_hex_encode(root, PR_HASH_LEN, hex);
	n = snprintf(slot, SLOT, "%s%llu %llu %s", MAGIC,
	    (unsigned long long)seq, (unsigned long long)size, hex);
	check_of(slot, (size_t)n, check);
	n += snprintf(slot + n, SLOT - (size_t)n, " %s", check);
	memset(slot + n, ' ', SLOT - 1 - (size_t)n);
	slot[SLOT - 1] = '\n';
}

/*
 * Write a new file holding record seq in its slot and an empty other
 * slot (temp file, fsync, rename, fsync of the directory), and open it:
 * the file is never seen without a valid record.
 */
static int
create(struct st_store *st, const char *path, uint64_t seq, uint64_t size,
    const pr_hash root)
{
	struct pr_buf tmp = PR_BUF_INIT;
	char buf[2 * SLOT];
	int fd, rc = 0;

	if ((rc = pr_buf_printf(&tmp, "%s/%s", st->dir, TMPNAME)) != 0)
		return rc;
	memset(buf, ' ', sizeof(buf));
	buf[SLOT - 1] = buf[2 * SLOT - 1] = '\n';
	format_slot(buf + (seq % 2) * SLOT, seq, size, root);
	fd = open(
	    (char *)tmp.data, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = sti_err(errno);
		goto tmp_free;
	}
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fsync(fd) == -1 || rename((char *)tmp.data, path) == -1) {
		rc = errno == ENOSPC || errno == EDQUOT ? PR_ENOSPC : PR_EIO;
		close(fd);
		unlink((char *)tmp.data);
		goto tmp_free;
	}
	if ((rc = fsync_dir(st->dir)) != 0) {
		close(fd);
		goto tmp_free;
	}
	st->signfd = fd;
tmp_free:
	pr_buf_free(&tmp);
	return rc;
}

/*
 * Open the file for writing.  A first-format file is replaced by the
 * two-slot form holding its record; a missing one is created holding
 * record seq (*created set): no other write is needed.
 */
static int
signed_open(struct st_store *st, uint64_t seq, uint64_t size,
    const pr_hash root, int *created)
{
	struct pr_buf path = PR_BUF_INIT;
	struct stat sb;
	int fd, rc;

	*created = 0;
	if (st->signfd != -1)
		return 0;
	if ((rc = path_of(st, &path)) != 0)
		return rc;
	if ((fd = open((char *)path.data, O_RDWR | O_CLOEXEC)) != -1) {
		if (fstat(fd, &sb) == 0 && sb.st_size == 2 * SLOT) {
			st->signfd = fd;
			goto path_free;
		}
		/* The first format: replace it with two slots. */
		close(fd);
		rc = create(st, (char *)path.data, st->signed_seq,
		    atomic_load(&st->signed_size), st->signed_root);
		goto path_free;
	}
	if (errno != ENOENT) {
		rc = sti_err(errno);
		goto path_free;
	}
	if ((rc = create(st, (char *)path.data, seq, size, root)) == 0)
		*created = 1;
path_free:
	pr_buf_free(&path);
	return rc;
}

int
sti_signed_write(struct st_store *st, uint64_t size, const pr_hash root)
{
	char slot[SLOT];
	uint64_t seq = st->signed_seq + 1;
	ssize_t w;
	int created, rc;

	if ((rc = signed_open(st, seq, size, root, &created)) != 0)
		return rc;
	if (created) {
		st->signed_seq = seq;
		return 0;
	}
	format_slot(slot, seq, size, root);
	if ((w = pwrite(st->signfd, slot, SLOT, (off_t)(seq % 2) * SLOT)) !=
	    SLOT)
		return sti_err(w == -1 ? errno : EIO);
	if (fdatasync(st->signfd) == -1)
		return sti_err(errno);
	st->signed_seq = seq;
	return 0;
}
