/*
 * The LMDB environment: opening and schema, transactions, map growth,
 * recovery from LMDB's fatal state, backup and statistics, and the one
 * translation of LMDB (and errno) codes into PR_E* codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/err.h"
#include "proto/log.h"
#include "store/st_int.h"

const char *const sti_dbname[ST_NDB] = {"meta", "entries", "offsets", "tiles",
    "checkpoints", "leaf", "envelope", "ocid", "party", "item", "kind", "time",
    "state", "journal"};

#define DUPS (MDB_DUPSORT | MDB_DUPFIXED)
static const unsigned dbflags[ST_NDB] = {
    0, 0, 0, 0, 0, 0, 0, DUPS, DUPS, DUPS, DUPS, 0, 0, 0};

/*
 * LMDB codes and errno values (LMDB passes system errors through) to
 * PR_E* codes; PR_E* codes pass unchanged.
 */
int
sti_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
	case ENOENT:
		return PR_ENOTFOUND;
	case MDB_KEYEXIST:
	case EEXIST:
		return PR_EEXIST;
	case MDB_MAP_FULL:
		return PR_EMAPFULL;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
	case EBUSY:
	case EAGAIN:
		return PR_EBUSY;
	case MDB_PANIC:
		return PR_EPANIC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_INCOMPATIBLE:
		return PR_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return PR_EVERSION;
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
	case MDB_BAD_VALSIZE:
		return PR_ETOOBIG;
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
	case MDB_BAD_RSLOT:
	case MDB_BAD_TXN:
	case MDB_BAD_DBI:
	case EINVAL:
		return PR_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return PR_ENOSPC;
	case ENOMEM:
		return PR_ENOMEM;
	case EIO:
		return PR_EIO;
	}
	if (rc <= PR_ENOMEM && rc > PR_ENOMEM - 1000)
		return rc;
	return PR_ESYS;
}

void
sti_errmsg(struct pr_buf *msg, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	if (msg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (msg->len > 0)
		pr_buf_append_str(msg, " ");
	pr_buf_append_str(msg, line);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The largest value LMDB stores inside a leaf page with an 8-byte key,
 * two to a page: its me_nodemax, less the node header and key.  Keeping
 * heap segments at this size fills every page and avoids overflow pages.
 */
static size_t
segsize_for(unsigned psize)
{
	size_t nodemax;

	nodemax = (((psize - 16) / 2) & ~(size_t)1) - 2;
	return nodemax - 8 - 8;
}

static int
meta_put(
    struct st_store *st, MDB_txn *txn, const char *key, void *val, size_t len)
{
	MDB_val k, v;

	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = val;
	v.mv_size = len;
	return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

static int
init_meta(struct st_store *st, MDB_txn *txn, unsigned psize)
{
	uint8_t v4[4], v8[8], head[STI_HEAD_LEN], wm[8 + 8 * STI_SHARDS];
	struct sti_head h;
	int rc;

	memset(&h, 0, sizeof(h));
	pr_merkle_empty_root(h.root);
	sti_head_encode(&h, head);
	/* Index merge watermarks: all zero, next shard 0. */
	memset(wm, 0, sizeof(wm));
	pr_store_be32(wm, STI_SHARDS);
	pr_store_be32(v4, ST_SCHEMA_VERSION);
	if ((rc = meta_put(st, txn, "version", v4, 4)) != 0)
		return rc;
	pr_store_be64(v8, now_ms());
	if ((rc = meta_put(st, txn, "created", v8, 8)) != 0)
		return rc;
	pr_store_be32(v4, (uint32_t)segsize_for(psize));
	if ((rc = meta_put(st, txn, "segsize", v4, 4)) != 0 ||
	    (rc = meta_put(st, txn, "head", head, sizeof(head))) != 0)
		return rc;
	return meta_put(st, txn, "ibuf", wm, sizeof(wm));
}

/* Open the named DBs, checking (or, on a fresh store, writing) meta. */
static int
open_dbs(struct st_store *st, MDB_env *env, struct pr_buf *msg)
{
	MDB_txn *txn;
	MDB_dbi maindb;
	MDB_stat ms;
	MDB_val k, v;
	unsigned i, create, psize;
	uint32_t ver;
	int rc, fresh;

	rc = mdb_txn_begin(env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return sti_err(rc);
	if ((rc = mdb_dbi_open(txn, NULL, 0, &maindb)) != 0 ||
	    (rc = mdb_stat(txn, maindb, &ms)) != 0)
		goto txn_abort;
	psize = ms.ms_psize;
	fresh = ms.ms_entries == 0;
	if (fresh && st->readonly) {
		sti_errmsg(msg, "%s holds no store yet.", st->dir);
		rc = PR_ENOTFOUND;
		goto txn_abort;
	}
	create = fresh ? MDB_CREATE : 0;
	rc = mdb_dbi_open(txn, sti_dbname[DB_META], create, &st->dbi[DB_META]);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
		sti_errmsg(msg,
		    "%s holds an LMDB database that is not a "
		    "procured store.",
		    st->dir);
		rc = PR_ECORRUPT;
		goto txn_abort;
	}
	if (rc != 0)
		goto txn_abort;
	if (!fresh) {
		k.mv_data = "version", k.mv_size = 7;
		rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
		if (rc != 0 || v.mv_size != 4) {
			sti_errmsg(
			    msg, "%s: store has no schema version.", st->dir);
			rc = PR_ECORRUPT;
			goto txn_abort;
		}
		ver = pr_load_be32(v.mv_data);
		if (ver != ST_SCHEMA_VERSION) {
			sti_errmsg(msg,
			    "%s holds a store of schema version "
			    "%u; this procured supports version %u only. Use "
			    "a procured release that reads version %u.",
			    st->dir, ver, ST_SCHEMA_VERSION, ver);
			rc = PR_EVERSION;
			goto txn_abort;
		}
	}
	for (i = 1; i < ST_NDB; i++) {
		rc = mdb_dbi_open(
		    txn, sti_dbname[i], dbflags[i] | create, &st->dbi[i]);
		if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
			sti_errmsg(msg,
			    "%s: store lacks its \"%s\" database "
			    "or has it in another format.",
			    st->dir, sti_dbname[i]);
			rc = PR_ECORRUPT;
			goto txn_abort;
		}
		if (rc != 0)
			goto txn_abort;
	}
	if (fresh && (rc = init_meta(st, txn, psize)) != 0)
		goto txn_abort;
	k.mv_data = "segsize", k.mv_size = 7;
	if (mdb_get(txn, st->dbi[DB_META], &k, &v) != 0 || v.mv_size != 4 ||
	    pr_load_be32(v.mv_data) < 64 || pr_load_be32(v.mv_data) > 65536) {
		sti_errmsg(
		    msg, "%s: store has no valid segment size.", st->dir);
		rc = PR_ECORRUPT;
		goto txn_abort;
	}
	st->segsize = pr_load_be32(v.mv_data);
	/* Committing keeps the DB handles, read-only or not. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return sti_err(rc);
	return 0;

txn_abort:
	mdb_txn_abort(txn);
	return sti_err(rc);
}

int
sti_env_open(struct st_store *st, struct pr_buf *msg)
{
	MDB_env *env;
	MDB_envinfo info;
	int rc, dead;

again:
	if ((rc = mdb_env_create(&env)) != 0)
		return sti_err(rc);
	if ((rc = mdb_env_set_maxdbs(env, ST_NDB + 3)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, st->max_readers)) != 0)
		goto env_close;
	rc = mdb_env_open(env, st->dir, st->envflags, 0600);
	if (rc == EROFS && st->readonly && !(st->envflags & MDB_NOLOCK)) {
		/* A read-only file system: no writer can exist. */
		mdb_env_close(env);
		st->envflags |= MDB_NOLOCK;
		goto again;
	}
	if (rc != 0) {
		sti_errmsg(msg, "cannot open the LMDB environment in %s: %s.",
		    st->dir, mdb_strerror(rc));
		goto env_close;
	}
	if (!(st->envflags & MDB_NOLOCK) && mdb_reader_check(env, &dead) == 0 &&
	    dead > 0)
		log_info("store: cleared %d stale reader slot%s in %s", dead,
		    dead == 1 ? "" : "s", st->dir);
	if (!st->readonly && mdb_env_info(env, &info) == 0 &&
	    info.me_mapsize < st->map_initial &&
	    (rc = mdb_env_set_mapsize(env, st->map_initial)) != 0)
		goto env_close;
	if ((rc = open_dbs(st, env, msg)) != 0) {
		mdb_env_close(env);
		return rc;
	}
	st->env = env;
	return 0;

env_close:
	mdb_env_close(env);
	return sti_err(rc);
}

void
sti_env_close(struct st_store *st)
{
	if (st->env != NULL)
		mdb_env_close(st->env);
	st->env = NULL;
}

/*
 * After LMDB's fatal error (a failed meta page write) the environment
 * must be closed and reopened; the data on disk is intact.  gen is the
 * generation the caller saw fail, so concurrent callers reopen once.
 */
static int
recover_gen(struct st_store *st, unsigned gen)
{
	int rc = 0;

	pthread_rwlock_wrlock(&st->maplock);
	if (st->gen == gen) {
		log_warnx("store: reopening the LMDB environment in %s after "
		          "a fatal error",
		    st->dir);
		sti_env_close(st);
		rc = sti_env_open(st, NULL);
		st->gen++;
	}
	pthread_rwlock_unlock(&st->maplock);
	return rc;
}

int
sti_recover(struct st_store *st)
{
	unsigned gen;

	pthread_rwlock_rdlock(&st->maplock);
	gen = st->gen;
	pthread_rwlock_unlock(&st->maplock);
	return recover_gen(st, gen);
}

/* Another process grew the map: adopt its size. */
void
sti_adopt_mapsize(struct st_store *st)
{
	pthread_rwlock_wrlock(&st->maplock);
	if (st->env != NULL)
		mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->maplock);
}

int
sti_rbegin(struct st_store *st, MDB_txn **txn)
{
	unsigned gen;
	int rc, tries;

	for (tries = 0;; tries++) {
		pthread_rwlock_rdlock(&st->maplock);
		gen = st->gen;
		if (st->env == NULL)
			rc = MDB_PANIC;
		else
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->maplock);
		if (tries < 2 && rc == MDB_MAP_RESIZED)
			sti_adopt_mapsize(st);
		else if (tries < 2 && rc == MDB_PANIC)
			recover_gen(st, gen);
		else
			return sti_err(rc);
	}
}

void
sti_rend(struct st_store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->maplock);
}

int
sti_get(struct st_store *st, MDB_txn *txn, enum sti_db db, const void *k,
    size_t klen, MDB_val *v)
{
	MDB_val key;

	key.mv_data = (void *)k;
	key.mv_size = klen;
	return sti_err(mdb_get(txn, st->dbi[db], &key, v));
}

/* Returns a raw code (see struct sti_wtxn). */
int
sti_wbegin(struct st_store *st, struct sti_wtxn *w)
{
	int rc;

	w->st = st;
	w->txn = NULL;
	w->rc = 0;
	w->digdirty = 0;
	memcpy(w->dig, st->digest, sizeof(w->dig));
	pthread_rwlock_rdlock(&st->maplock);
	if (st->env == NULL)
		rc = MDB_PANIC;
	else
		rc = mdb_txn_begin(st->env, NULL, 0, &w->txn);
	if (rc != 0)
		pthread_rwlock_unlock(&st->maplock);
	return rc;
}

/* Commit (if asked and no error was seen) or abort; returns a raw code. */
int
sti_wend(struct sti_wtxn *w, int commit)
{
	int rc;

	if (commit && w->rc == 0 && w->digdirty && w->st->have_digest &&
	    (rc = sti_dig_put(w->st, w->txn, w->dig)) != 0)
		w->rc = rc;
	if (commit && w->rc == 0) {
		rc = mdb_txn_commit(w->txn);
		if (rc == 0 && w->digdirty)
			memcpy(w->st->digest, w->dig, sizeof(w->dig));
	} else {
		mdb_txn_abort(w->txn);
		rc = w->rc;
	}
	w->txn = NULL;
	pthread_rwlock_unlock(&w->st->maplock);
	return rc;
}

void
sti_wfail(struct sti_wtxn *w, int rc)
{
	if (w->rc == 0)
		w->rc = rc;
}

int
sti_wput(struct sti_wtxn *w, enum sti_db db, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags)
{
	MDB_val key, val, old;
	uint8_t oldsum[STI_DIG_LEN];
	int rc, track, replace = 0;

	if (w->rc != 0)
		return w->rc;
	key.mv_data = (void *)k;
	key.mv_size = klen;
	val.mv_data = (void *)v;
	val.mv_size = vlen;
	/* Record digests: appends and no-overwrite puts add a record;
	 * anything else may replace one, whose hash then comes off. */
	track = w->st->have_digest && db != DB_META && sti_dig_tracked(db);
	if (track &&
	    !(flags & (MDB_APPEND | MDB_APPENDDUP | MDB_NOOVERWRITE))) {
		if ((dbflags[db] & MDB_DUPSORT) != 0)
			return w->rc = EINVAL; /* not used: no digest rule */
		rc = mdb_get(w->txn, w->st->dbi[db], &key, &old);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return w->rc = rc;
		if (rc == 0) {
			memset(oldsum, 0, sizeof(oldsum));
			sti_dig_rec(oldsum, db, &key, &old, 0);
			replace = 1;
		}
	}
	rc = mdb_put(w->txn, w->st->dbi[db], &key, &val, flags & ~STI_EXIST_OK);
	if (rc == MDB_KEYEXIST && (flags & STI_EXIST_OK))
		return rc;
	if (rc != 0) {
		w->rc = rc;
		return rc;
	}
	if (track) {
		if (replace)
			sti_dig_sub(w->dig[db], oldsum);
		sti_dig_rec(w->dig[db], db, &key, &val, 0);
		w->digdirty = 1;
	}
	return rc;
}

/* Count a record added without sti_wput() (MDB_MULTIPLE) in the
 * record digests. */
void
sti_wdig_add(
    struct sti_wtxn *w, enum sti_db db, const MDB_val *k, const MDB_val *v)
{
	if (w->rc != 0 || !w->st->have_digest || db == DB_META ||
	    !sti_dig_tracked(db))
		return;
	sti_dig_rec(w->dig[db], db, k, v, 0);
	w->digdirty = 1;
}

/* Delete the record under cursor c (of db), keeping the digests. */
int
sti_wdel(struct sti_wtxn *w, enum sti_db db, MDB_cursor *c)
{
	MDB_val k, v;
	int rc;

	if (w->rc != 0)
		return w->rc;
	if (w->st->have_digest && db != DB_META && sti_dig_tracked(db)) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) != 0)
			return w->rc = rc;
		sti_dig_rec(w->dig[db], db, &k, &v, 1);
		w->digdirty = 1;
	}
	if ((rc = mdb_cursor_del(c, 0)) != 0)
		w->rc = rc;
	return rc;
}

/* 0 and *v, MDB_NOTFOUND (not an error), or the transaction's error. */
int
sti_wget(
    struct sti_wtxn *w, enum sti_db db, const void *k, size_t klen, MDB_val *v)
{
	MDB_val key;
	int rc;

	if (w->rc != 0)
		return w->rc;
	key.mv_data = (void *)k;
	key.mv_size = klen;
	rc = mdb_get(w->txn, w->st->dbi[db], &key, v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		w->rc = rc;
	return rc;
}

/*
 * Double the map, up to the limit (caller holds wlock, no transaction).
 * PR_EMAPFULL at the limit.
 */
int
sti_grow(struct st_store *st)
{
	MDB_envinfo info;
	uint64_t cur, next, max;
	int rc;

	pthread_rwlock_wrlock(&st->maplock);
	if (st->env == NULL) {
		rc = PR_EPANIC;
		goto unlock;
	}
	mdb_env_info(st->env, &info);
	cur = info.me_mapsize;
	max = atomic_load(&st->map_max);
	if (cur >= max) {
		rc = PR_EMAPFULL;
		goto unlock;
	}
	next = cur > max / 2 ? max : cur * 2;
	if ((rc = mdb_env_set_mapsize(st->env, next)) != 0) {
		/* LMDB has unmapped the old map: start over from disk. */
		log_warnx("store: cannot grow the map to %llu bytes: %s",
		    (unsigned long long)next, mdb_strerror(rc));
		sti_env_close(st);
		st->gen++;
		rc = sti_err(rc);
		goto unlock;
	}
	log_info("store: map grown from %llu to %llu bytes",
	    (unsigned long long)cur, (unsigned long long)next);
unlock:
	pthread_rwlock_unlock(&st->maplock);
	return rc;
}

int
st_set_map_size_max(struct st_store *st, uint64_t bytes)
{
	if (bytes == 0)
		return PR_EINVAL;
	atomic_store(&st->map_max, bytes);
	return 0;
}

static int
fsync_path(const char *path, int dir)
{
	int fd, rc = 0;

	if ((fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY)) == -1)
		return sti_err(errno);
	if (fsync(fd) == -1)
		rc = sti_err(errno);
	close(fd);
	return rc;
}

int
st_backup(struct st_store *st, const char *path)
{
	struct pr_buf file = PR_BUF_INIT;
	struct stat sb;
	int rc;

	if (path == NULL)
		return PR_EINVAL;
	if (stat(path, &sb) == -1)
		return sti_err(errno);
	if (!S_ISDIR(sb.st_mode))
		return PR_EINVAL;
	if ((rc = pr_buf_printf(&file, "%s/data.mdb", path)) != 0)
		return rc;
	if (stat((char *)file.data, &sb) == 0) {
		rc = PR_EEXIST;
		goto file_free;
	}
	pthread_rwlock_rdlock(&st->maplock);
	if (st->env == NULL)
		rc = PR_EPANIC;
	else
		rc = sti_err(mdb_env_copy2(st->env, path, MDB_CP_COMPACT));
	pthread_rwlock_unlock(&st->maplock);
	if (rc == 0 && (rc = fsync_path((char *)file.data, 0)) == 0)
		rc = fsync_path(path, 1);
file_free:
	pr_buf_free(&file);
	return rc;
}

int
st_stats(struct st_store *st, struct st_stats *out)
{
	struct st_stats s;
	struct sti_head h;
	struct sti_wmeta m;
	struct pr_buf file = PR_BUF_INIT;
	struct stat sb;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	unsigned i;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0)
		goto txn_end;
	s.tree_size = h.size;
	s.entry_bytes = h.heap_end - 2 * h.size;
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	s.map_size = info.me_mapsize;
	s.page_size = ms.ms_psize;
	s.map_used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	s.max_readers = info.me_maxreaders;
	s.readers_used = info.me_numreaders;
	s.last_txn = info.me_last_txnid;
	for (i = 0; i < ST_NDB; i++) {
		if ((rc = sti_err(mdb_stat(txn, st->dbi[i], &ms))) != 0)
			goto txn_end;
		s.db[i].name = sti_dbname[i];
		s.db[i].entries = ms.ms_entries;
		s.db[i].pages = ms.ms_branch_pages + ms.ms_leaf_pages +
		    ms.ms_overflow_pages;
		s.db[i].depth = ms.ms_depth;
	}
	s.checkpoints = s.db[DB_CKPT].entries;
	if ((rc = sti_wmeta_get(st, txn, &m)) != 0)
		goto txn_end;
	s.index_pending = h.size - m.min;
txn_end:
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	s.map_size_max = atomic_load(&st->map_max);
	s.signed_size = atomic_load(&st->signed_size);
	s.signed_pending = atomic_load(&st->signed_pending);
	pthread_rwlock_rdlock(&st->ibuf.lock);
	s.index_buffer = sti_ibuf_bytes(&st->ibuf);
	pthread_rwlock_unlock(&st->ibuf.lock);
	if ((rc = pr_buf_printf(&file, "%s/data.mdb", st->dir)) != 0)
		return rc;
	if (stat((char *)file.data, &sb) == 0)
		s.file_size = (uint64_t)sb.st_size;
	pr_buf_free(&file);
	*out = s;
	return 0;
}
