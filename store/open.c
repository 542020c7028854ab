/*
 * st_open() and st_close(): configuration, the environment, and the
 * checks a store must pass before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/err.h"
#include "proto/log.h"
#include "store/st_int.h"

#define MAP_INITIAL (64ULL << 20)
#define MAP_MAX (64ULL << 30)
#define MAX_READERS 126
#define IBUF_MAX (64ULL << 20)
#define IBUF_ENTRIES_MAX (1ULL << 20)
/* Buffer bytes a typical entry's index items take (~145 measured). */
#define IBUF_ENTRY_BYTES 160

static void
store_free(struct st_store *st)
{
	sti_env_close(st);
	sti_ibuf_free(&st->ibuf);
	sti_filter_free(st);
	if (st->lockfd != -1)
		close(st->lockfd);
	if (st->signfd != -1)
		close(st->signfd);
	pthread_mutex_destroy(&st->wlock);
	pthread_rwlock_destroy(&st->maplock);
	pthread_rwlock_destroy(&st->envf_lock);
	free(st->tilebuf);
	free(st->tiles);
	free(st->segbuf);
	free(st->dir);
	free(st);
}

static int
check_dir(const struct st_config *cfg)
{
	struct pr_buf path = PR_BUF_INIT;
	struct stat sb;
	int rc = 0;

	if (stat(cfg->dir, &sb) == -1) {
		sti_errmsg(cfg->errmsg, "data directory %s: %s.", cfg->dir,
		    strerror(errno));
		return sti_err(errno);
	}
	if (!S_ISDIR(sb.st_mode)) {
		sti_errmsg(cfg->errmsg, "data directory %s is not a directory.",
		    cfg->dir);
		return PR_EINVAL;
	}
	if (!cfg->readonly && (sb.st_mode & 077) != 0)
		log_warnx("store: data directory %s is accessible to group or "
		          "others (mode %04o); 0700 is expected",
		    cfg->dir, (unsigned)(sb.st_mode & 07777));
	if (!cfg->readonly)
		return 0;
	if ((rc = pr_buf_printf(&path, "%s/data.mdb", cfg->dir)) != 0)
		return rc;
	if (stat((char *)path.data, &sb) == -1) {
		sti_errmsg(cfg->errmsg, "%s holds no store (%s).", cfg->dir,
		    strerror(errno));
		rc = sti_err(errno);
	}
	pr_buf_free(&path);
	return rc;
}

/* One read-write process at a time: its index buffer is the truth. */
static int
lock_dir(struct st_store *st, struct pr_buf *msg)
{
	if ((st->lockfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return sti_err(errno);
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			return sti_err(errno);
		sti_errmsg(
		    msg, "%s is open read-write in another process.", st->dir);
		return PR_EBUSY;
	}
	return 0;
}

/* Load the index journal into the buffer. */
static int
load_ibuf(struct st_store *st, struct pr_buf *msg)
{
	struct sti_wmeta m;
	struct sti_head h;
	MDB_txn *txn;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0 &&
	    (rc = sti_wmeta_get(st, txn, &m)) == 0) {
		if (m.min > h.size)
			rc = PR_ECORRUPT;
		else {
			sti_ibuf_reset(&st->ibuf, m.w, m.min);
			rc = sti_journal_replay(st, txn, &m, m.min, h.size);
		}
	}
	sti_rend(st, txn);
	if (rc != 0)
		sti_errmsg(msg, "%s: the index journal is damaged (%s).",
		    st->dir, pr_strerror(rc));
	return rc;
}

int
st_open(const struct st_config *cfg, struct st_store **out)
{
	struct st_store *st;
	int rc;

	if (cfg == NULL || cfg->dir == NULL || out == NULL)
		return PR_EINVAL;
	if ((rc = check_dir(cfg)) != 0)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PR_ENOMEM;
	st->lockfd = st->signfd = -1;
	if (sti_ibuf_init(&st->ibuf) != 0) {
		free(st);
		return PR_ENOMEM;
	}
	pthread_rwlock_init(&st->maplock, NULL);
	pthread_rwlock_init(&st->envf_lock, NULL);
	pthread_mutex_init(&st->wlock, NULL);
	st->readonly = cfg->readonly != 0;
	st->map_initial =
	    cfg->map_size_initial ? cfg->map_size_initial : MAP_INITIAL;
	atomic_init(
	    &st->map_max, cfg->map_size_max ? cfg->map_size_max : MAP_MAX);
	if (st->map_initial > atomic_load(&st->map_max))
		st->map_initial = atomic_load(&st->map_max);
	st->max_readers = cfg->max_readers ? cfg->max_readers : MAX_READERS;
	st->ibuf_max = cfg->index_buffer_max ? cfg->index_buffer_max : IBUF_MAX;
	st->ibuf_entries_max = IBUF_ENTRIES_MAX;
	st->ibuf_pace = st->ibuf_max / IBUF_ENTRY_BYTES;
	st->envflags = MDB_NOTLS | (st->readonly ? MDB_RDONLY : 0);
	if ((st->dir = strdup(cfg->dir)) == NULL) {
		rc = PR_ENOMEM;
		goto store_free;
	}
	if (!st->readonly &&
	    ((st->tiles = calloc(STI_LEVELS, sizeof(*st->tiles))) == NULL ||
	        (st->tilebuf = malloc(STI_TILE_MAX * PR_HASH_LEN)) == NULL)) {
		rc = PR_ENOMEM;
		goto store_free;
	}
	if (!st->readonly && (rc = lock_dir(st, cfg->errmsg)) != 0)
		goto store_free;
	if ((rc = sti_env_open(st, cfg->errmsg)) != 0)
		goto store_free;
	if (!st->readonly && (st->segbuf = malloc(st->segsize)) == NULL) {
		rc = PR_ENOMEM;
		goto store_free;
	}
	if ((rc = sti_open_check(st, cfg->errmsg)) != 0 ||
	    (rc = load_ibuf(st, cfg->errmsg)) != 0)
		goto store_free;
	*out = st;
	return 0;

store_free:
	store_free(st);
	return rc;
}

void
st_close(struct st_store *st)
{
	if (st != NULL)
		store_free(st);
}
