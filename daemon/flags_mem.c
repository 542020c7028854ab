/*
 * A file-backed arena for the red-flag engine (daemon/flags_mem.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/flags_mem.h"
#include "proto/log.h"

#define RESERVE_MAX ((size_t)1 << 36) /* 64 GiB of addresses */
#define RESERVE_MIN ((size_t)1 << 28) /* 256 MiB */
#define GROW_MIN ((size_t)16 << 20) /* the file grows 16 MiB at a time */
#define NCLASS 64
#define HDR 8 /* a block's header: its size class */

struct fl_mem {
	char *base; /* the reserved range */
	size_t reserved;
	size_t mapped; /* [base, base + mapped) is usable */
	size_t used; /* [base, base + used) has been handed out */
	int fd; /* the backing file, or -1 for anonymous memory */
	int full; /* the file could not grow: anonymous memory since */
	void *freel[NCLASS]; /* freed blocks of each class */
};

/* 16, 24, 32, 48, 64, 96 ... bytes, header included. */
static size_t
class_size(unsigned c)
{
	return (size_t)((c & 1) ? 24 : 16) << (c >> 1);
}

static int
class_of(size_t n, unsigned *out)
{
	unsigned c = 0;

	while (c < NCLASS && class_size(c) < n)
		c++;
	if (c >= NCLASS)
		return -1;
	*out = c;
	return 0;
}

static int
reserve(struct fl_mem *m)
{
	size_t len;
	void *p;

	for (len = RESERVE_MAX; len >= RESERVE_MIN; len /= 2) {
		p = mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			m->base = p;
			m->reserved = len;
			return 0;
		}
	}
	log_warn("flags: reserving addresses for the aggregates");
	return -1;
}

static int
open_file(struct fl_mem *m, const char *dir)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/flags.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		log_warnx("flags: data directory path too long");
		return -1;
	}
	if ((fd = mkstemp(path)) == -1) {
		log_warn("flags: creating %s", path);
		return -1;
	}
	/* The file lives as long as the descriptor, never longer. */
	(void)unlink(path);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	m->fd = fd;
	return 0;
}

struct fl_mem *
fl_mem_new(const char *dir)
{
	struct fl_mem *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->fd = -1;
	if (reserve(m) != 0)
		goto free_m;
	if (dir != NULL && open_file(m, dir) != 0)
		goto unmap;
	return m;
unmap:
	munmap(m->base, m->reserved);
free_m:
	free(m);
	return NULL;
}

void
fl_mem_free(struct fl_mem *m)
{
	if (m == NULL)
		return;
	munmap(m->base, m->reserved);
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

size_t
fl_mem_mapped(const struct fl_mem *m)
{
	return m->mapped;
}

/* Make [base, base + end) usable. */
static int
grow(struct fl_mem *m, size_t end)
{
	size_t step = m->mapped / 8 > GROW_MIN ? m->mapped / 8 : GROW_MIN;
	size_t want = (end + step - 1) / step * step, len;
	int rc;

	if (want > m->reserved)
		want = m->reserved;
	if (end > want)
		return -1;
	len = want - m->mapped;
	if (m->fd == -1) {
		if (mprotect(
		        m->base + m->mapped, len, PROT_READ | PROT_WRITE) != 0)
			return -1;
	} else {
		/* Blocks, not a sparse hole: a full disk is seen here,
		 * not as a SIGBUS on first write.  Then this part of the
		 * range is anonymous memory, so that the aggregates stay
		 * complete; the next part tries the file again. */
		if ((rc = posix_fallocate(
		         m->fd, (off_t)m->mapped, (off_t)len)) != 0) {
			if (!m->full) {
				errno = rc;
				log_warn("flags: growing the aggregates file "
				         "to %zu MiB; in memory meanwhile",
				    want >> 20);
			}
			m->full = 1;
			if (mprotect(m->base + m->mapped, len,
			        PROT_READ | PROT_WRITE) != 0)
				return -1;
			m->mapped = want;
			return 0;
		}
		m->full = 0;
		if (mmap(m->base + m->mapped, len, PROT_READ | PROT_WRITE,
		        MAP_SHARED | MAP_FIXED, m->fd,
		        (off_t)m->mapped) == MAP_FAILED) {
			log_warn("flags: mapping the aggregates file");
			return -1;
		}
	}
	m->mapped = want;
	return 0;
}

void *
fl_malloc(struct fl_mem *m, size_t n)
{
	unsigned c;
	size_t sz;
	char *b;

	if (n > SIZE_MAX - HDR || class_of(n + HDR, &c) != 0)
		return NULL;
	if ((b = m->freel[c]) != NULL) {
		memcpy(&m->freel[c], b + HDR, sizeof(void *));
	} else {
		sz = class_size(c);
		if (sz > m->reserved - m->used)
			return NULL;
		if (m->used + sz > m->mapped && grow(m, m->used + sz) != 0)
			return NULL;
		b = m->base + m->used;
		m->used += sz;
	}
	memcpy(b, &(uint64_t){c}, sizeof(uint64_t));
	return b + HDR;
}

void *
fl_calloc(struct fl_mem *m, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = fl_malloc(m, n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

static unsigned
class_at(const void *p)
{
	uint64_t c;

	memcpy(&c, (const char *)p - HDR, sizeof(c));
	return (unsigned)c;
}

void
fl_free(struct fl_mem *m, void *p)
{
	char *b;
	unsigned c;

	if (p == NULL)
		return;
	b = (char *)p - HDR;
	c = class_at(p);
	memcpy(b + HDR, &m->freel[c], sizeof(void *));
	m->freel[c] = b;
}

void *
fl_realloc(struct fl_mem *m, void *p, size_t n)
{
	size_t have;
	void *np;

	if (p == NULL)
		return fl_malloc(m, n);
	have = class_size(class_at(p)) - HDR;
	if (n <= have)
		return p;
	if ((np = fl_malloc(m, n)) == NULL)
		return NULL;
	memcpy(np, p, have);
	fl_free(m, p);
	return np;
}

char *
fl_strdup(struct fl_mem *m, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if ((d = fl_malloc(m, n)) != NULL)
		memcpy(d, s, n);
	return d;
}
