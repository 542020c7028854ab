/*
 * Generator for bench/verify.sh: a data directory holding a log of n
 * signed entries, written through store/ as the daemon writes it.
 *
 *	build/bench/verify DIR N [FROM]
 *
 * Without FROM, DIR must not exist and gets entries 0..N-1; with FROM,
 * DIR holds entries 0..FROM-1 written by this program and gets
 * FROM..N-1 (the same entries a single run would have written).  Entry 0
 * grants a buyer key (signed by the admin key); then come processes of
 * four events signed by the buyer, each after the one before: a plan, a
 * tender, and two tender amendments (so three entries in four have a
 * parent whose chain rules verify checks), logged 1 ms apart; the log
 * key signs a checkpoint after every batch.  Prints the log's verifier
 * key and the admin's, one a line.
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

#define PROCESS 4 /* events a process */

/* The event of entry i > 0: kind and content follow from i alone. */
static int
event_json(uint64_t i, const char *parent, struct pr_buf *json)
{
	unsigned long long p = (i - 1) / PROCESS, k = (i - 1) % PROCESS;
	char head[256];

	snprintf(head, sizeof(head),
	    "{\"schema\":1,\"ocid\":\"ocds-pr0kz1-B-%08llu\",\"date\":"
	    "\"2026-01-01T00:00:00Z\",\"buyer\":{\"id\":\"%s\",\"name\":"
	    "\"Больница %llu\"},",
	    p, BUYER, p);
	if (k == 0)
		return pr_buf_printf(json,
		    "%s\"kind\":\"plan\",\"title\":\"Medicines for 2026\","
		    "\"value\":{\"amount\":\"%llu.00\",\"currency\":\"KZT\"},"
		    "\"fundingSource\":\"OSMS\"}",
		    head, 1000 + p);
	if (k == 1)
		return pr_buf_printf(json,
		    "%s\"kind\":\"tender\",\"parent\":\"%s\",\"id\":"
		    "\"T-%llu\",\"title\":\"Amoxicillin 2026\",\"items\":[{"
		    "\"id\":\"1\",\"description\":\"Amoxicillin 500 mg\","
		    "\"classification\":{\"scheme\":\"ATC\",\"id\":"
		    "\"J01CA04\"},\"quantity\":%llu,\"unit\":{\"code\":"
		    "\"H87\",\"name\":\"capsule\"},\"unitPrice\":{"
		    "\"amount\":\"28.50\",\"currency\":\"KZT\"}}],"
		    "\"value\":{\"amount\":\"%llu.00\",\"currency\":\"KZT\"},"
		    "\"procurementMethod\":\"open\",\"awardCriteria\":"
		    "\"priceOnly\",\"tenderPeriod\":{\"startDate\":"
		    "\"2026-01-01T00:00:00Z\",\"endDate\":"
		    "\"2026-03-01T00:00:00Z\"},\"fundingSource\":\"OSMS\"}",
		    head, parent, p, 1000 + p, 1000 + p);
	return pr_buf_printf(json,
	    "%s\"kind\":\"tender.amend\",\"parent\":\"%s\",\"rationale\":"
	    "\"Amendment %llu: the bid deadline moves by a week.\","
	    "\"tenderPeriod\":{\"startDate\":\"2026-01-01T00:00:00Z\","
	    "\"endDate\":\"2026-03-%02lluT00:00:00Z\"}}",
	    head, parent, k - 1, 7 * k);
}

/* Entry i, after the entry whose leaf hash is prev (i > 0); its leaf
 * hash replaces prev. */
static int
make_entry(uint64_t i, struct pr_key *admin, struct pr_key *buyer, pr_hash prev,
    struct pr_buf *out)
{
	struct pr_buf pub = PR_BUF_INIT, json = PR_BUF_INIT;
	char parent[2 * PR_HASH_LEN + 1];
	struct pr_dsse *e;
	int rc;

	pr_hex_encode(prev, PR_HASH_LEN, parent);
	if (i == 0)
		rc = pr_b64_encode(
		         &pub, pr_key_raw_public(buyer), PR_KEY_PUB_LEN) != 0 ||
		    pr_buf_printf(&json,
		        "{\"schema\":1,\"kind\":\"key.grant\",\"date\":"
		        "\"2026-01-01T00:00:00Z\",\"party\":{\"id\":\"%s\"},"
		        "\"roles\":[\"buyer\"],\"publicKey\":\"%s\"}",
		        BUYER, (char *)pub.data) != 0;
	else
		rc = event_json(i, parent, &json) != 0;
	pr_buf_free(&pub);
	if (rc != 0) {
		pr_buf_free(&json);
		return PR_ENOMEM;
	}
	pr_buf_reset(out);
	if ((rc = pr_dsse_new(PR_DSSE_PAYLOAD_TYPE, json.data, json.len, &e)) ==
	    0) {
		if ((rc = pr_dsse_sign(e, i == 0 ? admin : buyer)) == 0)
			rc = pr_entry_encode(e, T0 + i, out);
		pr_dsse_free(e);
	}
	pr_buf_free(&json);
	if (rc == 0)
		pr_merkle_leaf_hash(out->data, out->len, prev);
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
	unsigned long long n, from = 0, i, k = 0, m;
	pr_hash prev, root;
	uint64_t size = 0;
	int rc;

	if ((argc != 3 && argc != 4) ||
	    (n = strtoull(argv[2], NULL, 10)) == 0 ||
	    (argc == 4 &&
	        ((from = strtoull(argv[3], NULL, 10)) == 0 || from >= n))) {
		fprintf(stderr, "usage: verify DIR N [FROM]\n");
		return 2;
	}
	if (from == 0 && mkdir(argv[1], 0700) != 0) {
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
	if (from != 0 && (st_tree(st, &size, root) != 0 || size != from)) {
		fprintf(stderr, "verify: %s holds %llu entries, not %llu\n",
		    argv[1], (unsigned long long)size, from);
		st_close(st);
		return 1;
	}
	a = calloc(BATCH, sizeof(*a));
	r = calloc(BATCH, sizeof(*r));
	e = calloc(BATCH, sizeof(*e));
	if (a == NULL || r == NULL || e == NULL)
		return 1;
	/* The parent of entry from: the process's entries before it. */
	memset(prev, 0, sizeof(prev));
	if (from > 1)
		for (i = from - 1 - (from - 2) % PROCESS; i < from; i++)
			if ((rc = make_entry(i, admin, buyer, prev, &e[0])) !=
			    0)
				goto fail;
	for (i = from; i < n; i += m) {
		m = n - i < BATCH ? n - i : BATCH;
		memset(a, 0, m * sizeof(*a));
		for (k = 0; k < m; k++) {
			if ((rc = make_entry(
			         i + k, admin, buyer, prev, &e[k])) != 0 ||
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
