/*
 * mkload: pre-signed fixtures for the daemon benchmarks (bench/ingest.sh).
 *
 * usage: mkload [-n EVENTS] [-o FIRST] [-k KEYS] [-b BYTES] [-s SEED]
 *               [-j THREADS] DIR
 *
 * Writes into DIR (which must exist):
 *   admin.vkey     the admin's signed-note verifier key, for
 *                  procured --admin-key
 *   grants.jsonl   KEYS key.grant envelopes signed by the admin, one JSON
 *                  DSSE envelope a line, each giving one buyer key the
 *                  buyer role for its own BIN
 *   events.jsonl   EVENTS plan envelopes, each signed by one of the buyer
 *                  keys, with its own ocid: every one is admissible once
 *                  the grants are logged, in any order
 *
 * Events are numbered from FIRST (default 0); the number is in the ocid,
 * so files made with the same SEED and disjoint ranges can be loaded into
 * one log.  Keys are derived from SEED, so the same arguments give the same
 * keys. Payloads are realistic plans of medicines (ATC and INN codes, UN/CEFACT
 * units, KZT amounts) grown item by item to about BYTES bytes of JSON
 * (default 2048).  Signing runs on THREADS threads (default: 2); events
 * are written in chunks as they are done, so their order varies.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/key.h"

#define CHUNK 1024
#define MAX_KEYS 1000

struct medicine {
	const char *atc, *inn, *desc, *unit;
	unsigned price; /* reference unit price in tiyn (1/100 KZT) */
};

static const struct medicine meds[] = {
    {"J01CA04", "amoxicillin", "Amoxicillin 500 mg hard capsules", "capsule",
        2790},
    {"J01DD04", "ceftriaxone",
        "Ceftriaxone 1 g powder for solution for injection, vial", "vial",
        31500},
    {"J01MA02", "ciprofloxacin", "Ciprofloxacin 500 mg film-coated tablets",
        "tablet", 4120},
    {"J01FA10", "azithromycin", "Azithromycin 500 mg film-coated tablets",
        "tablet", 16800},
    {"A10AE04", "insulin glargine",
        "Insulin glargine 100 IU/ml solution for injection, 3 ml cartridge",
        "cartridge", 318000},
    {"A10AB05", "insulin aspart",
        "Insulin aspart 100 IU/ml solution for injection, 3 ml pre-filled "
        "pen",
        "pen", 287500},
    {"A10BA02", "metformin", "Metformin 850 mg film-coated tablets", "tablet",
        1850},
    {"B01AB05", "enoxaparin sodium",
        "Enoxaparin sodium 4000 anti-Xa IU/0.4 ml solution for injection, "
        "pre-filled syringe",
        "syringe", 104000},
    {"B01AA03", "warfarin", "Warfarin 5 mg tablets", "tablet", 950},
    {"C09AA05", "ramipril", "Ramipril 5 mg tablets", "tablet", 1270},
    {"C07AB07", "bisoprolol", "Bisoprolol 5 mg film-coated tablets", "tablet",
        880},
    {"C10AA05", "atorvastatin", "Atorvastatin 20 mg film-coated tablets",
        "tablet", 2140},
    {"C03CA01", "furosemide",
        "Furosemide 10 mg/ml solution for injection, 2 ml ampoule", "ampoule",
        3900},
    {"N02BE01", "paracetamol",
        "Paracetamol 10 mg/ml solution for infusion, 100 ml vial", "vial",
        41000},
    {"M01AE01", "ibuprofen", "Ibuprofen 400 mg film-coated tablets", "tablet",
        1120},
    {"R03AC02", "salbutamol",
        "Salbutamol 100 micrograms/dose pressurised inhalation, 200 doses",
        "inhaler", 98000},
    {"H02AB02", "dexamethasone",
        "Dexamethasone 4 mg/ml solution for injection, 1 ml ampoule", "ampoule",
        6200},
    {"J05AF07", "tenofovir disoproxil",
        "Tenofovir disoproxil 245 mg film-coated tablets", "tablet", 21500},
    {"J04AB02", "rifampicin", "Rifampicin 150 mg hard capsules", "capsule",
        1630},
    {"L01BA01", "methotrexate",
        "Methotrexate 25 mg/ml solution for injection, 2 ml vial", "vial",
        154000},
    {"L04AX03", "methotrexate", "Methotrexate 2.5 mg tablets", "tablet", 2400},
    {"N05AH04", "quetiapine", "Quetiapine 100 mg film-coated tablets", "tablet",
        5300},
    {"N03AX14", "levetiracetam", "Levetiracetam 500 mg film-coated tablets",
        "tablet", 9800},
    {"B05BB01", "electrolytes",
        "Sodium chloride 0.9% solution for infusion, 500 ml bottle", "bottle",
        29000},
};
#define NMEDS (sizeof(meds) / sizeof(meds[0]))

static const char *const regions[] = {"Almaty", "Astana", "Shymkent",
    "Karaganda", "Aktobe", "Pavlodar", "Kostanay", "Atyrau", "Turkistan",
    "East Kazakhstan", "North Kazakhstan", "Zhambyl", "Kyzylorda", "Mangystau"};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

static const char *const fundings[] = {"OSMS", "GVFMC", "local"};

struct buyer {
	struct pr_key *key;
	char bin[32];
	const char *region;
};

struct ctx {
	struct buyer buyers[MAX_KEYS];
	size_t nkeys;
	uint64_t first, nevents;
	size_t bytes;
	char date[32];
	unsigned seed;
	_Atomic uint64_t next;
	pthread_mutex_t out_mtx;
	FILE *out;
	int failed;
	uint64_t payload_bytes, envelope_bytes;
};

/* Kazakh BIN check digit of 11 digits, or -1 when none exists. */
static int
bin_check(const char *d11)
{
	static const int w1[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	static const int w2[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
	int s = 0, i;

	for (i = 0; i < 11; i++)
		s += (d11[i] - '0') * w1[i];
	if ((s %= 11) != 10)
		return s;
	for (s = 0, i = 0; i < 11; i++)
		s += (d11[i] - '0') * w2[i];
	return (s %= 11) == 10 ? -1 : s;
}

/* A valid BIN for legal entity number n (4 = legal entity resident). */
static void
make_bin(unsigned n, char out[32])
{
	char d11[16];
	int c;

	for (;; n++) {
		snprintf(d11, sizeof(d11), "%02u%02u4%06u", n % 25, 1 + n % 12,
		    n % 1000000);
		if ((c = bin_check(d11)) >= 0)
			break;
	}
	snprintf(out, 32, "KZ-BIN-%s%d", d11, c);
}

static int
derive_key(unsigned seed, const char *what, unsigned i, struct pr_key **out)
{
	char label[96];
	uint8_t seedbuf[32];
	unsigned len = 0;
	int rc, n;

	n = snprintf(
	    label, sizeof(label), "procured-bench/%u/%s/%u", seed, what, i);
	if (EVP_Digest(label, (size_t)n, seedbuf, &len, EVP_sha256(), NULL) !=
	    1)
		return PR_ECRYPTO;
	rc = pr_key_from_seed(seedbuf, out);
	OPENSSL_cleanse(seedbuf, sizeof(seedbuf));
	return rc;
}

static int
sign_line(
    const char *payload, size_t len, const struct pr_key *k, struct pr_buf *out)
{
	struct pr_dsse *e = NULL;
	int rc;

	if ((rc = pr_dsse_new(
	         PR_DSSE_PAYLOAD_TYPE, (const uint8_t *)payload, len, &e)) != 0)
		return rc;
	if ((rc = pr_dsse_sign(e, k)) == 0 &&
	    (rc = pr_dsse_serialize(e, out)) == 0)
		rc = pr_buf_append_byte(out, '\n');
	pr_dsse_free(e);
	return rc;
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* The plan event number i, about c->bytes of JSON. */
static int
plan_json(struct ctx *c, uint64_t i, const struct buyer *b, struct pr_buf *p)
{
	uint64_t h = mix(i ^ ((uint64_t)c->seed << 40)), total = 0, qty;
	size_t n, m, start = p->len, vpos;
	const struct medicine *md;
	char value[64];
	int rc = 0;

	rc |= pr_buf_printf(p,
	    "{\"schema\":1,\"ocid\":\"ocds-pr0kz1-2026-BEN-%u-%08llu\","
	    "\"kind\":\"plan\",\"date\":\"%s\","
	    "\"buyer\":{\"id\":\"%s\",\"name\":\"Health Department of %s "
	    "Region (benchmark buyer)\"},"
	    "\"title\":\"Purchase of medicines for %s region hospitals, "
	    "lot %llu\","
	    "\"rationale\":\"Consolidated demand of regional hospitals for the "
	    "guaranteed volume of free medical care and compulsory social "
	    "health insurance.\",\"items\":[",
	    c->seed, (unsigned long long)i, c->date, b->bin, b->region,
	    b->region, (unsigned long long)(i % 100000));
	/* The value goes last; keep room for it in the size budget. */
	vpos = 80;
	for (n = 0; rc == 0 &&
	     (n == 0 || p->len - start + vpos + 240 <= c->bytes) && n < NMEDS;
	     n++) {
		m = (size_t)((h >> 3) + n * 7) % NMEDS;
		md = &meds[m];
		qty = 1000 + mix(h + n) % 2000000;
		total += qty * md->price;
		rc |= pr_buf_printf(p,
		    "%s{\"id\":\"%zu\",\"description\":\"%s\","
		    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"%s\"},"
		    "\"additionalClassifications\":[{\"scheme\":\"INN\","
		    "\"id\":\"%s\"}],\"quantity\":%llu,"
		    "\"unit\":{\"code\":\"H87\",\"name\":\"%s\"}}",
		    n ? "," : "", n + 1, md->desc, md->atc, md->inn,
		    (unsigned long long)qty, md->unit);
	}
	snprintf(value, sizeof(value), "%llu.%02llu",
	    (unsigned long long)(total / 100),
	    (unsigned long long)(total % 100));
	rc |= pr_buf_printf(p,
	    "],\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"},"
	    "\"fundingSource\":\"%s\"}",
	    value, fundings[h % 3]);
	return rc ? PR_ENOMEM : 0;
}

static void *
worker(void *arg)
{
	struct ctx *c = arg;
	struct pr_buf out = PR_BUF_INIT, p = PR_BUF_INIT;
	uint64_t first, i, end, pb = 0, eb = 0, ev;
	const struct buyer *b;
	int rc = 0;

	for (;;) {
		first = atomic_fetch_add(&c->next, CHUNK);
		if (first >= c->nevents)
			break;
		end = first + CHUNK < c->nevents ? first + CHUNK : c->nevents;
		pr_buf_reset(&out);
		for (i = first; i < end; i++) {
			ev = c->first + i;
			b = &c->buyers[ev % c->nkeys];
			pr_buf_reset(&p);
			if ((rc = plan_json(c, ev, b, &p)) != 0 ||
			    (rc = sign_line(
			         (char *)p.data, p.len, b->key, &out)) != 0)
				goto fail;
			pb += p.len;
		}
		eb += out.len;
		pthread_mutex_lock(&c->out_mtx);
		if (fwrite(out.data, 1, out.len, c->out) != out.len)
			c->failed = 1;
		pthread_mutex_unlock(&c->out_mtx);
	}
	pthread_mutex_lock(&c->out_mtx);
	c->payload_bytes += pb;
	c->envelope_bytes += eb;
	pthread_mutex_unlock(&c->out_mtx);
	pr_buf_free(&out);
	pr_buf_free(&p);
	return NULL;
fail:
	fprintf(stderr, "mkload: event %llu: %s\n", (unsigned long long)i,
	    pr_strerror(rc));
	pthread_mutex_lock(&c->out_mtx);
	c->failed = 1;
	pthread_mutex_unlock(&c->out_mtx);
	pr_buf_free(&out);
	pr_buf_free(&p);
	return NULL;
}

static int
write_grants(struct ctx *c, const struct pr_key *admin, const char *path)
{
	struct pr_buf out = PR_BUF_INIT, p = PR_BUF_INIT, pub = PR_BUF_INIT;
	FILE *f;
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nkeys && rc == 0; i++) {
		pr_buf_reset(&p);
		pr_buf_reset(&pub);
		if ((rc = pr_b64_encode(&pub,
		         pr_key_raw_public(c->buyers[i].key),
		         PR_KEY_PUB_LEN)) != 0)
			break;
		if ((rc = pr_buf_printf(&p,
		         "{\"schema\":1,\"kind\":\"key.grant\","
		         "\"date\":\"%s\",\"party\":{\"id\":\"%s\","
		         "\"name\":\"Health Department of %s Region "
		         "(benchmark buyer)\"},\"roles\":[\"buyer\"],"
		         "\"publicKey\":\"%s\"}",
		         c->date, c->buyers[i].bin, c->buyers[i].region,
		         (char *)pub.data)) != 0)
			break;
		rc = sign_line((char *)p.data, p.len, admin, &out);
	}
	if (rc == 0) {
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(out.data, 1, out.len, f) != out.len ||
		    fclose(f) != 0) {
			perror(path);
			rc = PR_EIO;
		}
	}
	pr_buf_free(&out);
	pr_buf_free(&p);
	pr_buf_free(&pub);
	return rc;
}

static int
write_text(const char *path, const char *text)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fputc('\n', f) == EOF || fclose(f) != 0) {
		perror(path);
		return PR_EIO;
	}
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: mkload [-n EVENTS] [-o FIRST] [-k KEYS] "
	    "[-b BYTES] [-s SEED] [-j THREADS] DIR\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static struct ctx c;
	struct pr_key *admin = NULL;
	struct pr_buf vkey = PR_BUF_INIT, path = PR_BUF_INIT;
	pthread_t th[64];
	unsigned long nth = 2, v;
	const char *dir;
	struct tm tm;
	time_t t;
	double t0;
	size_t i;
	int opt, rc = 1;

	c.nevents = 100000;
	c.nkeys = 8;
	c.bytes = 2048;
	while ((opt = getopt(argc, argv, "n:o:k:b:s:j:")) != -1) {
		errno = 0;
		v = strtoul(optarg, NULL, 10);
		if (errno != 0)
			return usage();
		switch (opt) {
		case 'n':
			c.nevents = v;
			break;
		case 'o':
			c.first = v;
			break;
		case 'k':
			if (v < 1 || v > MAX_KEYS)
				return usage();
			c.nkeys = v;
			break;
		case 'b':
			c.bytes = v;
			break;
		case 's':
			c.seed = (unsigned)v;
			break;
		case 'j':
			if (v < 1 || v > 64)
				return usage();
			nth = v;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	dir = argv[optind];
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(c.date, sizeof(c.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_init(&c.out_mtx, NULL);

	if (derive_key(c.seed, "admin", 0, &admin) != 0 ||
	    pr_key_vkey_format(admin, "admin", &vkey) != 0)
		goto out;
	for (i = 0; i < c.nkeys; i++) {
		if (derive_key(
		        c.seed, "buyer", (unsigned)i, &c.buyers[i].key) != 0)
			goto out;
		make_bin(
		    100 + (unsigned)i * 37 + c.seed * 1000, c.buyers[i].bin);
		c.buyers[i].region = regions[i % NREGIONS];
	}
	pr_buf_printf(&path, "%s/admin.vkey", dir);
	if (write_text((char *)path.data, (char *)vkey.data) != 0)
		goto out;
	pr_buf_reset(&path);
	pr_buf_printf(&path, "%s/grants.jsonl", dir);
	if (write_grants(&c, admin, (char *)path.data) != 0)
		goto out;
	pr_buf_reset(&path);
	pr_buf_printf(&path, "%s/events.jsonl", dir);
	if ((c.out = fopen((char *)path.data, "w")) == NULL) {
		perror((char *)path.data);
		goto out;
	}
	t0 = now();
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &c) != 0)
			break;
	nth = i;
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	if (fclose(c.out) != 0)
		c.failed = 1;
	if (c.failed || nth == 0)
		goto out;
	printf("mkload_events %llu\n", (unsigned long long)c.nevents);
	printf("mkload_keys %zu\n", c.nkeys);
	printf("mkload_payload_bytes_avg %.0f\n",
	    c.nevents ? (double)c.payload_bytes / (double)c.nevents : 0.0);
	printf("mkload_envelope_bytes_avg %.0f\n",
	    c.nevents ? (double)c.envelope_bytes / (double)c.nevents : 0.0);
	printf("mkload_events_per_s %.0f\n", (double)c.nevents / (now() - t0));
	printf("mkload_admin_vkey %s\n", (char *)vkey.data);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "mkload: failed\n");
	for (i = 0; i < c.nkeys; i++)
		pr_key_free(c.buyers[i].key);
	pr_key_free(admin);
	pr_buf_free(&vkey);
	pr_buf_free(&path);
	pthread_mutex_destroy(&c.out_mtx);
	return rc;
}
