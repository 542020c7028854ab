/*
 * The red-flag engine's memory: an allocator over one file of the data
 * directory mapped shared, so that the aggregates (daemon/flags_int.h),
 * which grow with the log, live in the page cache rather than in the
 * process's anonymous memory.  The kernel writes them back and drops them
 * under pressure like any file page; the daemon's private memory stays
 * bounded whatever the size of the log.
 *
 * The file is created unlinked (O_TMPFILE, or created and unlinked at
 * once): it lives as long as the process and never outlives a crash.  Its
 * mapping sits in an address range reserved at start, so it grows in
 * place (posix_fallocate, then a fixed mapping of the new part) and every
 * pointer into it stays valid until fl_mem_free().  Blocks are kept in
 * size classes (16, 24, 32, 48, 64 ... bytes); a freed block goes back to
 * its class's list.  Not thread-safe: the engine calls it with
 * flags.lock held.
 */
#ifndef PROCURED_FLAGS_MEM_H
#define PROCURED_FLAGS_MEM_H

#include <stddef.h>

struct fl_mem;

/*
 * A new arena backed by a file in dir, or by anonymous memory when dir is
 * NULL (unit tests).  NULL, after logging why, when no address range can
 * be reserved or no file created.
 */
struct fl_mem *fl_mem_new(const char *dir);
/* Unmap and close everything; every block becomes invalid (NULL ok). */
void fl_mem_free(struct fl_mem *m);

/* As malloc(3), calloc(3), realloc(3), free(3) and strdup(3), inside m.
 * NULL when the file cannot grow (disk full) or the range is used up. */
void *fl_malloc(struct fl_mem *m, size_t n);
void *fl_calloc(struct fl_mem *m, size_t n, size_t size);
void *fl_realloc(struct fl_mem *m, void *p, size_t n);
void fl_free(struct fl_mem *m, void *p);
char *fl_strdup(struct fl_mem *m, const char *s);

/* Bytes of file mapped so far (the arena's high-water mark). */
size_t fl_mem_mapped(const struct fl_mem *m);

#endif
