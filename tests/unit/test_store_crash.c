/*
 * Unit test: store/ crash safety.  A child process appends batches in a
 * loop and reports each batch st_append_batch() returned (first index,
 * count, last leaf hash) through a pipe; the parent kills it with SIGKILL
 * at a random moment, reopens the store, and checks that every reported
 * batch is there with the same leaf hashes and that the tree verifies
 * against the stored checkpoint.  The seed is printed; set ST_CRASH_SEED
 * to repeat a run.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "store_test.h"

#define ROUNDS 40
#define MAXBATCH 32

struct report {
	uint64_t first;
	uint64_t count;
	uint64_t key; /* envelope number of the first entry */
	pr_hash last;
};

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
child(const char *dir, uint64_t seed, unsigned round, int fd)
{
	static uint8_t e[MAXBATCH][1500];
	struct st_append a[MAXBATCH];
	struct st_appended r[MAXBATCH];
	struct st_config cfg;
	struct st_store *st;
	struct report rep;
	uint64_t s = seed ^ ((uint64_t)round << 32) ^ 0x9e3779b97f4a7c15ULL;
	uint64_t k = 0;
	size_t n, i, j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.map_size_initial = 1 << 20; /* so that the map grows, too */
	cfg.index_buffer_max = 16384; /* and indexes merge often */
	if (st_open(&cfg, &st) != 0)
		_exit(10);
	for (;;) {
		n = 1 + rng(&s) % MAXBATCH;
		rep.key = ((uint64_t)round << 32) | k;
		memset(a, 0, sizeof(a));
		for (i = 0; i < n; i++, k++) {
			a[i].entry = e[i];
			a[i].entry_len = 16 + rng(&s) % (sizeof(e[i]) - 16);
			for (j = 0; j < a[i].entry_len; j++)
				e[i][j] = (uint8_t)rng(&s);
			pr_store_be64(e[i], ((uint64_t)round << 32) | k);
			tst_envelope(
			    ((uint64_t)round << 32) | k, a[i].envelope_hash);
			a[i].ocid = "ocds-crash";
		}
		if (st_append_batch(st, a, n, tst_sign, NULL, r, NULL, NULL) !=
		    0)
			_exit(11);
		rep.first = r[0].index;
		rep.count = n;
		memcpy(rep.last, r[n - 1].leaf_hash, PR_HASH_LEN);
		if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(12);
	}
}

static int
read_report(int fd, struct report *rep)
{
	ssize_t r;

	do
		r = read(fd, rep, sizeof(*rep));
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	assert_int_equal(r, sizeof(*rep));
	return 1;
}

static void
check(const char *dir, const struct report *reps, size_t nrep, int deep)
{
	struct pr_buf note = PR_BUF_INIT;
	pr_hash root, leaf, croot, proof[PR_MERKLE_MAX_PROOF];
	struct st_store *st;
	uint64_t size, csize, bad, idx, j, out[64], cur, total;
	size_t i, len, n;

	assert_int_equal(tst_open(dir, 0, &st), 0);
	assert_int_equal(st_tree(st, &size, root), 0);
	for (i = 0; i < nrep; i++) {
		assert_true(reps[i].first + reps[i].count <= size);
		for (j = 0; j < reps[i].count; j++) {
			tst_envelope(reps[i].key + j, leaf);
			assert_int_equal(st_find_envelope(st, leaf, &idx), 0);
			assert_int_equal(idx, reps[i].first + j);
		}
		assert_int_equal(
		    st_leaf_hash(st, reps[i].first + reps[i].count - 1, leaf),
		    0);
		assert_memory_equal(leaf, reps[i].last, PR_HASH_LEN);
	}
	if (size > 0) {
		/* Every commit signs: the latest checkpoint is the tree. */
		assert_int_equal(st_checkpoint(st, &note), 0);
		assert_int_equal(tst_note_parse(&note, &csize, croot), 0);
		assert_int_equal(csize, size);
		assert_memory_equal(croot, root, PR_HASH_LEN);
	}
	if (nrep > 0) {
		i = nrep - 1;
		assert_int_equal(
		    st_inclusion_proof(st, reps[i].first + reps[i].count - 1,
		        size, proof, &len),
		    0);
		assert_int_equal(pr_merkle_verify_inclusion(
		                     reps[i].first + reps[i].count - 1, size,
		                     reps[i].last, proof, len, root),
		    0);
	}
	/* Every entry is in the ocid index, once, in order. */
	for (cur = ST_SCAN_START, total = 0;; cur = out[n - 1]) {
		assert_int_equal(
		    st_scan(st, ST_IDX_OCID, "ocds-crash", cur, 64, out, &n),
		    0);
		if (n == 0)
			break;
		for (j = 0; j < n; j++)
			assert_int_equal(out[j], total + j);
		total += n;
	}
	assert_int_equal(total, size);
	if (deep)
		assert_int_equal(st_verify(st, &bad, NULL), 0);
	st_close(st);
	pr_buf_free(&note);
}

static void
test_crash(void **state)
{
	struct report *reps = NULL, rep;
	struct timespec ts;
	size_t nrep = 0, cap = 0;
	uint64_t seed, s, want, got;
	const char *env;
	unsigned round;
	int fds[2], status;
	pid_t pid;
	char *dir;

	(void)state;
	if ((env = getenv("ST_CRASH_SEED")) != NULL)
		seed = strtoull(env, NULL, 0);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	print_message("crash test seed %llu (ST_CRASH_SEED=%llu repeats it)\n",
	    (unsigned long long)seed, (unsigned long long)seed);
	s = seed | 1;
	dir = tst_mkdtemp();
	for (round = 0; round < ROUNDS; round++) {
		assert_int_equal(pipe(fds), 0);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			child(dir, seed, round, fds[1]);
		}
		assert_true(pid > 0);
		close(fds[1]);
		/* Let it commit a few batches (0 to 5), then kill it at a
		 * random point up to 4 ms later: mid-commit, mid-fsync,
		 * mid-rename of signed-tree, or between batches. */
		want = rng(&s) % 6;
		for (got = 0; got < want; got++) {
			assert_int_equal(read_report(fds[0], &rep), 1);
			if (nrep == cap) {
				cap = cap ? 2 * cap : 256;
				reps = realloc(reps, cap * sizeof(*reps));
				assert_non_null(reps);
			}
			reps[nrep++] = rep;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(rng(&s) % 4000) * 1000;
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		/* Batches reported before the kill count too. */
		while (read_report(fds[0], &rep)) {
			if (nrep == cap) {
				cap = cap ? 2 * cap : 256;
				reps = realloc(reps, cap * sizeof(*reps));
				assert_non_null(reps);
			}
			reps[nrep++] = rep;
		}
		close(fds[0]);
		check(dir, reps, nrep, round % 10 == 9);
	}
	print_message("crash test: %u kills, %zu batches reported committed\n",
	    ROUNDS, nrep);
	assert_true(nrep > ROUNDS);
	free(reps);
	tst_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
