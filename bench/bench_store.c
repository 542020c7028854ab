/*
 * Store benchmark: append rates for typical entries (~2 KiB random-ish
 * bytes with ocid / party / item / kind / time indexes and a state put)
 * in batches of 1, 100 and 1,000, next to LMDB's raw mdb_put rate for the
 * same bytes with the same (durable, default) sync policy; the rate over
 * the first and the last 100,000 entries of the large run; tile, proof,
 * entry and bundle read rates; bytes on disk per entry.  Append and raw
 * rates and CPU figures leave out generating the entries.
 *
 * usage: bench_store [-b index-buffer-bytes] [-n entries] [-m
 * entries-batch-100] [-o entries-batch-1]
 *                    [-r raw-entries] DIR
 * DIR must exist; the benchmark creates and removes subdirectories in it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/log.h"
#include "proto/merkle.h"
#include "store/store.h"

#define MAXB 1000
#define EMAX 2400

static const char *const kinds[] = {"plan", "tender", "tender.amend",
    "bid.commit", "bid.reveal", "award", "contract", "contract.amend",
    "delivery", "payment", "key.grant", "tender.cancel", "contract.terminate",
    "key.revoke"};

struct gen {
	uint64_t s;
	uint64_t i;
	uint8_t e[MAXB][EMAX];
	char ocid[MAXB][40];
	char party[MAXB][2][24];
	char item[MAXB][2][24];
	char skey[MAXB][48];
	uint8_t sval[MAXB][40];
	const char *pp[MAXB][2];
	const char *ip[MAXB][2];
	struct st_kv kv[MAXB];
	struct st_append a[MAXB];
	struct st_appended r[MAXB];
	uint64_t bytes;
};

static uint64_t
rnd(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

/* Bytes this process caused to be written to storage (Linux). */
static uint64_t
io_written(void)
{
	char line[128];
	unsigned long long v = 0;
	FILE *f;

	if ((f = fopen("/proc/self/io", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "write_bytes: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int verbose; /* -v: a line every 100,000 entries */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fill batch slots [0, n) with the next n typical entries. */
static void
gen_batch(struct gen *g, size_t n)
{
	uint64_t x, proc;
	size_t k, j, len;

	for (k = 0; k < n; k++, g->i++) {
		struct st_append *a = &g->a[k];

		len = 1800 + rnd(g) % 497; /* 1800..2296, mean 2048 */
		for (j = 0; j + 8 <= len; j += 8) {
			x = rnd(g);
			memcpy(g->e[k] + j, &x, 8);
		}
		/* Some structure, as real entries have. */
		memcpy(g->e[k], "\x01\x00procured-entry-v1", 20);
		memset(a, 0, sizeof(*a));
		a->entry = g->e[k];
		a->entry_len = len;
		for (j = 0; j < PR_HASH_LEN; j += 8) {
			x = rnd(g);
			memcpy(a->envelope_hash + j, &x, 8);
		}
		a->log_time_ms = 1700000000000ULL + g->i;
		/* ~10 events a process, processes interleaved. */
		proc = g->i / 10 + (g->i % 7) * 13;
		snprintf(g->ocid[k], sizeof(g->ocid[k]), "ocds-b5fd17-%08llu",
		    (unsigned long long)proc);
		a->ocid = g->ocid[k];
		a->kind = kinds[g->i % 14];
		snprintf(g->party[k][0], 24, "KZ-BIN-%012llu",
		    (unsigned long long)(100000000000ULL + proc % 300));
		snprintf(g->party[k][1], 24, "KZ-BIN-%012llu",
		    (unsigned long long)(200000000000ULL + rnd(g) % 2000));
		g->pp[k][0] = g->party[k][0];
		g->pp[k][1] = g->party[k][1];
		a->parties = g->pp[k];
		a->nparties = 2;
		snprintf(g->item[k][0], 24, "ATC:J%02lluAA%02llu",
		    (unsigned long long)(rnd(g) % 30),
		    (unsigned long long)(rnd(g) % 17));
		snprintf(g->item[k][1], 24, "GTIN:%013llu",
		    (unsigned long long)(rnd(g) % 500));
		g->ip[k][0] = g->item[k][0];
		g->ip[k][1] = g->item[k][1];
		a->items = g->ip[k];
		a->nitems = 1 + g->i % 2;
		snprintf(g->skey[k], sizeof(g->skey[k]), "head/%s", g->ocid[k]);
		pr_store_be64(g->sval[k], g->i);
		memcpy(g->sval[k] + 8, a->envelope_hash, 32);
		g->kv[k].key = g->skey[k];
		g->kv[k].klen = strlen(g->skey[k]);
		g->kv[k].val = g->sval[k];
		g->kv[k].vlen = 40;
		a->state = &g->kv[k];
		a->nstate = 1;
		g->bytes += len;
	}
}

/*
 * Generating entries is not the store's work: the append and raw rates
 * leave it out.  gen_timed() adds its time to these, and now_x() and
 * cpu_x() are the clocks without it.
 */
static double gen_wall, gen_cpu;

static void
gen_timed(struct gen *g, size_t n)
{
	double w = now(), c = cpu();

	gen_batch(g, n);
	gen_wall += now() - w;
	gen_cpu += cpu() - c;
}

static double
now_x(void)
{
	return now() - gen_wall;
}

static double
cpu_x(void)
{
	return cpu() - gen_cpu;
}

/* A checkpoint note of the real shape and size (no real signature). */
static int
sign(void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	static const uint8_t sig[68] = {1, 2, 3, 4};
	int rc;

	(void)ctx;
	if ((rc = pr_buf_printf(note, "procured.example.kz/log\n%llu\n",
	         (unsigned long long)size)) != 0 ||
	    (rc = pr_b64_encode(note, root, PR_HASH_LEN)) != 0 ||
	    (rc = pr_buf_append_str(note,
	         "\n\n\xe2\x80\x94 "
	         "procured.example.kz/log ")) != 0 ||
	    (rc = pr_b64_encode(note, sig, sizeof(sig))) != 0)
		return rc;
	return pr_buf_append_str(note, "\n");
}

static void
mkdir_or_die(const char *p)
{
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", p);
}

static void
rm_store(const char *p)
{
	char f[4096];

	snprintf(f, sizeof(f), "%s/data.mdb", p);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", p);
	unlink(f);
	snprintf(f, sizeof(f), "%s/signed-tree", p);
	unlink(f);
	rmdir(p);
}

/* Raw LMDB: u64 BE index -> entry, MDB_APPEND, default durable sync. */
static double
raw_rate(const char *dir, uint64_t n, size_t b, double *wpe)
{
	struct gen *g = calloc(1, sizeof(*g));
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t key[8];
	uint64_t done = 0;
	size_t i, m;
	double t0, t;

	uint64_t io0;

	g->s = 88172645463325252ULL;
	mkdir_or_die(dir);
	io0 = io_written();
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 2) ||
	    mdb_env_set_mapsize(env, (size_t)(n * 4200 + (256 << 20))) ||
	    mdb_env_open(env, dir, MDB_NOTLS, 0600))
		fatalx("raw lmdb open");
	if (mdb_txn_begin(env, NULL, 0, &txn) ||
	    mdb_dbi_open(txn, "entries", MDB_CREATE, &dbi) ||
	    mdb_txn_commit(txn))
		fatalx("raw lmdb dbi");
	t0 = now_x();
	while (done < n) {
		m = n - done < b ? (size_t)(n - done) : b;
		gen_timed(g, m);
		if (mdb_txn_begin(env, NULL, 0, &txn))
			fatalx("raw txn");
		for (i = 0; i < m; i++) {
			pr_store_be64(key, done + i);
			k.mv_data = key;
			k.mv_size = 8;
			v.mv_data = (void *)g->a[i].entry;
			v.mv_size = g->a[i].entry_len;
			if (mdb_put(txn, dbi, &k, &v, MDB_APPEND))
				fatalx("raw put");
		}
		if (mdb_txn_commit(txn))
			fatalx("raw commit");
		done += m;
	}
	t = now_x() - t0;
	*wpe = (double)(io_written() - io0) / (double)n;
	mdb_env_close(env);
	rm_store(dir);
	free(g);
	return (double)n / t;
}

static uint64_t bufmax; /* -b: index buffer bytes, 0: the default */

static struct st_store *
open_store(const char *dir)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_config cfg;
	struct st_store *st;
	int rc;

	mkdir_or_die(dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.errmsg = &msg;
	cfg.index_buffer_max = bufmax;
	if ((rc = st_open(&cfg, &st)) != 0)
		fatalx("st_open %s: %s %s", dir, pr_strerror(rc),
		    msg.data ? (char *)msg.data : "");
	pr_buf_free(&msg);
	return st;
}

/* Append n entries in batches of b; rates over the first and last 100k. */
/* CPU seconds an entry over the first and the last 100k (-1: none). */
static double cpu_first = -1, cpu_last = -1;

static double
store_rate(struct st_store *st, struct gen *g, uint64_t n, size_t b,
    double *first, double *last, double *wpe)
{
	uint64_t done = 0, mark = n > 100000 ? n - 100000 : 0,
	         io0 = io_written();
	double t0, tmark = 0, t, tv, tc, c0, cmark = 0;
	size_t m;
	int rc;

	t0 = tv = now_x();
	tc = c0 = cpu_x();
	while (done < n) {
		m = n - done < b ? (size_t)(n - done) : b;
		gen_timed(g, m);
		if ((rc = st_append_batch(
		         st, g->a, m, sign, NULL, g->r, NULL, NULL)) != 0)
			fatalx("st_append_batch: %s", pr_strerror(rc));
		done += m;
		if (first != NULL && done == 100000) {
			*first = 100000 / (now_x() - t0);
			cpu_first = (cpu_x() - c0) / 100000;
		}
		if (verbose && done % 100000 == 0) {
			printf(
			    "    %7llu: %6.0f entries/s, %5.1f us CPU/entry\n",
			    (unsigned long long)done, 100000 / (now_x() - tv),
			    (cpu_x() - tc) * 1e6 / 100000);
			tv = now_x();
			tc = cpu_x();
		}
		if (done == mark) {
			tmark = now_x();
			cmark = cpu_x();
		}
	}
	t = now_x();
	if (last != NULL) {
		*last = (double)(n - mark) / (t - tmark);
		cpu_last = (cpu_x() - cmark) / (double)(n - mark);
	}
	*wpe = (double)(io_written() - io0) / (double)n;
	return (double)n / (t - t0);
}

static void
reads(struct st_store *st, uint64_t size, double secs)
{
	struct pr_buf b = PR_BUF_INIT;
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	struct gen g;
	uint64_t n, i, m, full = size / 256;
	size_t len;
	double t0;
	int rc, kind;
	static const char *const names[] = {"full level-0 tile",
	    "full level-1 tile", "inclusion proof", "consistency proof",
	    "entry", "full entry bundle", "st_tree", "process scan (ocid, 10)"};
	uint64_t out[16];

	g.s = 4242;
	for (kind = 0; kind < 8; kind++) {
		t0 = now();
		for (n = 0; now() - t0 < secs; n++) {
			pr_buf_reset(&b);
			i = rnd(&g);
			switch (kind) {
			case 0:
				rc = st_tile(st, 0, i % full, 256, &b);
				break;
			case 1:
				rc = full >= 256
				    ? st_tile(st, 1, i % (full / 256), 256, &b)
				    : 0;
				break;
			case 2:
				rc = st_inclusion_proof(
				    st, i % size, size, proof, &len);
				break;
			case 3:
				m = 1 + i % (size - 1);
				rc = st_consistency_proof(
				    st, m, size, proof, &len);
				break;
			case 4:
				rc = st_entry(st, i % size, &b);
				break;
			case 5:
				rc = st_entry_bundle(st, i % full, 256, &b);
				break;
			case 6:
				rc = st_tree(st, &m, proof[0]);
				break;
			default: {
				char ocid[40];

				snprintf(ocid, sizeof(ocid),
				    "ocds-b5fd17-%08llu",
				    (unsigned long long)(i % (size / 10)));
				rc = st_scan_desc(st, ST_IDX_OCID, ocid,
				    ST_SCAN_END, 10, out, &len);
			}
			}
			if (rc != 0)
				fatalx("read %s: %s", names[kind],
				    pr_strerror(rc));
		}
		printf("  read %-26s %9.0f /s (one thread)\n", names[kind],
		    (double)n / (now() - t0));
	}
	pr_buf_free(&b);
}

static void
storage(struct st_store *st, uint64_t entry_bytes)
{
	struct st_stats s;
	double n, budget;
	unsigned i;

	if (st_stats(st, &s) != 0)
		fatalx("st_stats");
	n = (double)s.tree_size;
	budget = 1.25 * (double)entry_bytes + 150 * n;
	printf("  storage: data.mdb %.0f bytes = %.1f bytes/entry for %.1f "
	       "entry bytes/entry: %.3fx entry bytes; budget 1.25x + 150 = "
	       "%.1f bytes/entry (%s)\n",
	    (double)s.file_size, (double)s.file_size / n,
	    (double)entry_bytes / n, (double)s.file_size / (double)entry_bytes,
	    budget / n, (double)s.file_size <= budget ? "within" : "OVER");
	printf("  storage: pages in use %.1f bytes/entry; by database "
	       "(bytes/entry):",
	    (double)s.map_used / n);
	for (i = 0; i < ST_NDB; i++)
		printf(" %s %.1f", s.db[i].name,
		    (double)s.db[i].pages * s.page_size / n);
	printf("\n");
	printf("  index buffer %.1f MiB, %llu entries not fully merged\n",
	    (double)s.index_buffer / 1048576,
	    (unsigned long long)s.index_pending);
}

int
main(int argc, char **argv)
{
	uint64_t n = 1000000, n100 = 100000, n1 = 5000, nraw = 0;
	double r, raw, first = 0, last = 0, wr, ws;
	struct st_store *st;
	struct gen *g;
	char d[4096];
	int ch, noreads = 0;

	log_init("bench_store", 0);
	while ((ch = getopt(argc, argv, "b:n:m:o:r:qv")) != -1) {
		switch (ch) {
		case 'b':
			bufmax = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			noreads = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			n100 = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			n1 = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			nraw = strtoull(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || n < 1000 || n1 < 10 || n100 < 1000)
		goto usage;
	if (nraw == 0)
		nraw = n;
	g = calloc(1, sizeof(*g));
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("rates and CPU per entry leave out generating the entries "
	       "(the same generator feeds the store and raw LMDB)\n");
	printf("batch of 1 (%llu entries):\n", (unsigned long long)n1);
	snprintf(d, sizeof(d), "%s/raw1", argv[optind]);
	raw = raw_rate(d, n1, 1, &wr);
	snprintf(d, sizeof(d), "%s/store1", argv[optind]);
	st = open_store(d);
	g->s = 88172645463325252ULL;
	r = store_rate(st, g, n1, 1, NULL, NULL, &ws);
	printf("  append %9.0f entries/s; raw mdb_put %9.0f /s; %.0f%%; "
	       "written to disk per entry %.0f bytes (raw %.0f), incl. "
	       "file-system journal\n",
	    r, raw, 100 * r / raw, ws, wr);
	st_close(st);
	rm_store(d);

	printf("batch of 100 (%llu entries):\n", (unsigned long long)n100);
	snprintf(d, sizeof(d), "%s/raw100", argv[optind]);
	raw = raw_rate(d, n100, 100, &wr);
	snprintf(d, sizeof(d), "%s/store100", argv[optind]);
	st = open_store(d);
	memset(g, 0, sizeof(*g));
	g->s = 88172645463325252ULL;
	r = store_rate(st, g, n100, 100, NULL, NULL, &ws);
	printf("  append %9.0f entries/s; raw mdb_put %9.0f /s; %.0f%%; "
	       "written to disk per entry %.0f bytes (raw %.0f), incl. "
	       "file-system journal\n",
	    r, raw, 100 * r / raw, ws, wr);
	st_close(st);
	rm_store(d);

	printf("batch of 1000 (%llu entries; raw over %llu):\n",
	    (unsigned long long)n, (unsigned long long)nraw);
	snprintf(d, sizeof(d), "%s/raw1000", argv[optind]);
	raw = raw_rate(d, nraw, 1000, &wr);
	snprintf(d, sizeof(d), "%s/store1000", argv[optind]);
	st = open_store(d);
	memset(g, 0, sizeof(*g));
	g->s = 88172645463325252ULL;
	r = store_rate(st, g, n, 1000, &first, &last, &ws);
	printf("  append %9.0f entries/s; raw mdb_put %9.0f /s; %.0f%%; "
	       "written to disk per entry %.0f bytes (raw %.0f), incl. "
	       "file-system journal\n",
	    r, raw, 100 * r / raw, ws, wr);
	if (n > 100000)
		printf("  first 100k %9.0f entries/s; last 100k %9.0f "
		       "entries/s; last/first %.2f\n",
		    first, last, last / first);
	if (n > 100000)
		printf("  CPU per entry (this process): first 100k %.1f us; "
		       "last 100k %.1f us; first/last %.2f (less affected "
		       "by other load than the wall rates)\n",
		    cpu_first * 1e6, cpu_last * 1e6, cpu_first / cpu_last);
	storage(st, g->bytes);
	if (!noreads)
		reads(st, n, 2.0);
	st_close(st);
	rm_store(d);
	free(g);
	return 0;

usage:
	fprintf(stderr,
	    "usage: bench_store [-b index-buffer-bytes] [-n entries] [-m "
	    "entries-batch-100] "
	    "[-o entries-batch-1] [-r raw-entries] DIR\n");
	return 2;
}
