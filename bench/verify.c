/*
 * Generator for bench/verify.sh: a data directory holding a log of n
 * signed entries, written through store/ as the daemon writes it.
 *
 *	build/bench/verify DIR N
 *
 * DIR must not exist.  Entry 0 grants a buyer key (signed by the admin
 * key), entries 1..N-1 are plans signed by the buyer, each with its own
 * process id, logged 1 ms apart; the log key signs a checkpoint after
 * every batch.  Prints the log's verifier key and the admin's, one a line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/key.h"
#include "proto/note.h"
#include "store/store.h"

#define ORIGIN "bench.procured.example/log"
#define BUYER "KZ-BIN-090640001233"
#define T0 1767225600000ull
#define BATCH 1000

static struct pr_key *
seed_key(uint8_t b)
{
	uint8_t seed[PR_KEY_SEED_LEN];
	struct pr_key *k;

	memset(seed, b, sizeof(seed));
	if (pr_key_from_seed(seed, &k) != 0) {
		fprintf(stderr, "verify: key: %s\n", pr_strerror(PR_EKEY));
		exit(1);
	}
	return k;
}

static int
sign_cp(void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	struct pr_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	cp.origin = ORIGIN;
	cp.size = size;
	memcpy(cp.root, root, PR_HASH_LEN);
	return pr_checkpoint_sign(&cp, ORIGIN, ctx, note);
}

static int
make_entry(
    uint64_t i, struct pr_key *admin, struct pr_key *buyer, struct pr_buf *out)
{
	struct pr_buf pub = PR_BUF_INIT, json = PR_BUF_INIT;
	struct pr_dsse *e;
	int rc;

	if (i == 0)
		rc = pr_b64_encode(
		         &pub, pr_key_raw_public(buyer), PR_KEY_PUB_LEN) != 0 ||
		    pr_buf_printf(&json,
		        "{\"schema\":1,\"kind\":\"key.grant\",\"date\":"
		        "\"2026-01-01T00:00:00Z\",\"party\":{\"id\":\"%s\"},"
		        "\"roles\":[\"buyer\"],\"publicKey\":\"%s\"}",
		        BUYER, (char *)pub.data) != 0;
	else
		rc = pr_buf_printf(&json,
		         "{\"schema\":1,\"ocid\":\"ocds-pr0kz1-B-%08llu\","
		         "\"kind\":\"plan\",\"date\":\"2026-01-01T00:00:00Z\","
		         "\"buyer\":{\"id\":\"%s\",\"name\":\"Больница %llu\"},"
		         "\"title\":\"Medicines for 2026\",\"value\":{"
		         "\"amount\":\"%llu.00\",\"currency\":\"KZT\"},"
		         "\"fundingSource\":\"OSMS\"}",
		         (unsigned long long)i, BUYER, (unsigned long long)i,
		         (unsigned long long)(1000 + i)) != 0;
	pr_buf_free(&pub);
	if (rc != 0) {
		pr_buf_free(&json);
		return PR_ENOMEM;
	}
	if ((rc = pr_dsse_new(PR_DSSE_PAYLOAD_TYPE, json.data, json.len, &e)) ==
	    0) {
		if ((rc = pr_dsse_sign(e, i == 0 ? admin : buyer)) == 0)
			rc = pr_entry_encode(e, T0 + i, out);
		pr_dsse_free(e);
	}
	pr_buf_free(&json);
	return rc;
}

int
main(int argc, char **argv)
{
	struct st_config cfg;
	struct st_store *st;
	struct st_append *a;
	struct st_appended *r;
	struct pr_buf *e, vk = PR_BUF_INIT;
	struct pr_key *log, *admin, *buyer;
	unsigned long long n, i, k, m;
	int rc;

	if (argc != 3 || (n = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: verify DIR N\n");
		return 2;
	}
	if (mkdir(argv[1], 0700) != 0) {
		fprintf(stderr, "verify: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	log = seed_key(1);
	admin = seed_key(2);
	buyer = seed_key(3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = argv[1];
	cfg.map_size_initial = 1ull << 30;
	if ((rc = st_open(&cfg, &st)) != 0) {
		fprintf(stderr, "verify: %s: %s\n", argv[1], pr_strerror(rc));
		return 1;
	}
	a = calloc(BATCH, sizeof(*a));
	r = calloc(BATCH, sizeof(*r));
	e = calloc(BATCH, sizeof(*e));
	if (a == NULL || r == NULL || e == NULL)
		return 1;
	for (i = 0; i < n; i += m) {
		m = n - i < BATCH ? n - i : BATCH;
		memset(a, 0, m * sizeof(*a));
		for (k = 0; k < m; k++) {
			pr_buf_reset(&e[k]);
			if ((rc = make_entry(i + k, admin, buyer, &e[k])) !=
			        0 ||
			    (rc = pr_entry_envelope_hash(
			         e[k].data, e[k].len, a[k].envelope_hash)) != 0)
				goto fail;
			a[k].entry = e[k].data;
			a[k].entry_len = e[k].len;
			a[k].log_time_ms = T0 + i + k;
		}
		if ((rc = st_append_batch(
		         st, a, m, sign_cp, log, r, NULL, NULL)) != 0)
			goto fail;
	}
	st_close(st);
	if (pr_key_vkey_format(log, ORIGIN, &vk) != 0 ||
	    pr_buf_append_byte(&vk, '\n') != 0 ||
	    pr_key_vkey_format(admin, "admin", &vk) != 0)
		return 1;
	printf("%s\n", (char *)vk.data);
	for (k = 0; k < BATCH; k++)
		pr_buf_free(&e[k]);
	pr_buf_free(&vk);
	free(a);
	free(r);
	free(e);
	pr_key_free(log);
	pr_key_free(admin);
	pr_key_free(buyer);
	return 0;
fail:
	fprintf(stderr, "verify: entry %llu: %s\n", i + k, pr_strerror(rc));
	st_close(st);
	return 1;
}
