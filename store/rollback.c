/*
 * Rollback protection: the file signed-tree in the data directory,
 * outside LMDB, records the largest tree this log ever signed:
 *
 *   procured signed-tree 1\n
 *   <size in decimal> <root in lower-case hex>\n
 *
 * It is replaced atomically after every signed commit (temp file, fsync,
 * rename, fsync of the directory), so a store restored from an old backup
 * (or otherwise rolled back) is caught at open: its tree is smaller, or
 * has another root at that size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "store/st_int.h"

#define MAGIC "procured signed-tree 1\n"
#define NAME "signed-tree"
#define TMPNAME "signed-tree.tmp"

static int
path_of(struct st_store *st, const char *name, struct pr_buf *p)
{
	return pr_buf_printf(p, "%s/%s", st->dir, name);
}

/* Strict parse of "<decimal> <64 hex>\n" exactly filling s[0..len). */
static int
parse(const char *s, size_t len, uint64_t *size, pr_hash root)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len < 2 || s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != ' '))
		return PR_EFORMAT;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return PR_EFORMAT;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (len - i != 1 + 2 * PR_HASH_LEN + 1 || s[i] != ' ' ||
	    s[len - 1] != '\n')
		return PR_EFORMAT;
	if (pr_hex_decode(s + i + 1, 2 * PR_HASH_LEN, root, PR_HASH_LEN) != 0)
		return PR_EFORMAT;
	*size = v;
	return 0;
}

int
sti_signed_read(struct st_store *st, int *found, uint64_t *size, pr_hash root,
    struct pr_buf *msg)
{
	struct pr_buf path = PR_BUF_INIT;
	char buf[256];
	size_t len = 0, ml = sizeof(MAGIC) - 1;
	ssize_t r;
	int fd, rc = 0;

	if ((rc = path_of(st, NAME, &path)) != 0)
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
	while (len < sizeof(buf) &&
	    (r = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = sti_err(errno);
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (rc == 0 &&
	    (len <= ml || memcmp(buf, MAGIC, ml) != 0 ||
	        parse(buf + ml, len - ml, size, root) != 0)) {
		sti_errmsg(msg,
		    "%s is not a valid signed-tree file; it records "
		    "the largest tree this log signed and must not be edited.",
		    (char *)path.data);
		rc = PR_ECORRUPT;
	}
	if (rc == 0)
		*found = 1;
path_free:
	pr_buf_free(&path);
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t r;

	while (len > 0) {
		if ((r = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int
sti_signed_write(struct st_store *st, uint64_t size, const pr_hash root)
{
	struct pr_buf path = PR_BUF_INIT, tmp = PR_BUF_INIT;
	char text[sizeof(MAGIC) + 21 + 2 * PR_HASH_LEN + 2];
	char hex[2 * PR_HASH_LEN + 1];
	int fd, dfd, n, rc;

	if ((rc = path_of(st, NAME, &path)) != 0 ||
	    (rc = path_of(st, TMPNAME, &tmp)) != 0)
		goto path_free;
	pr_hex_encode(root, PR_HASH_LEN, hex);
	n = snprintf(text, sizeof(text), "%s%llu %s\n", MAGIC,
	    (unsigned long long)size, hex);
	fd = open(
	    (char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = sti_err(errno);
		goto path_free;
	}
	if (write_all(fd, text, (size_t)n) == -1 || fsync(fd) == -1) {
		rc = sti_err(errno);
		close(fd);
		goto tmp_unlink;
	}
	if (close(fd) == -1 ||
	    rename((char *)tmp.data, (char *)path.data) == -1) {
		rc = sti_err(errno);
		goto tmp_unlink;
	}
	if ((dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = sti_err(errno);
		goto path_free;
	}
	if (fsync(dfd) == -1)
		rc = sti_err(errno);
	close(dfd);
	goto path_free;

tmp_unlink:
	unlink((char *)tmp.data);
path_free:
	pr_buf_free(&tmp);
	pr_buf_free(&path);
	return rc;
}
