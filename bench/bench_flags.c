/*
 * bench_flags: a synthetic log for the red-flag benchmark (bench/flags.sh).
 *
 *	bench_flags DIR ORIGIN [ENTRIES [BUYERS [YEARS]]]
 *
 * Writes ENTRIES (default 1,000,000) entries straight into a new store in
 * DIR, with a new log key (DIR/log.key) and signed checkpoints, so that
 * procured --data-dir DIR --origin ORIGIN serves it.  The entries are
 * procurement processes of BUYERS buyers (default 50) over YEARS years
 * (default 4, ending 2025): a tender, four sealed bids and their reveals,
 * an award ranking them, a contract with two delivery milestones, two
 * deliveries, two payments, and now and then an amendment, with a few
 * percent of single bids, late deliveries, overpayments and inflated
 * prices so that flags are raised.  It also prints (want_* lines) the
 * totals GET /v1/totals must give for a buyer, a supplier, an item and
 * the months of 2025, counted as the events are written.
 *
 * The envelopes carry a dummy signature: the red-flag engine reads events
 * and does not check signatures, but procurectl verify would refuse this
 * log.  Index keys are left out (search by party finds nothing).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/event.h"
#include "proto/ident.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "proto/note.h"
#include "store/store.h"

#define BATCH 2000
#define BIDS 4
#define NSUPPLIERS 40

static const struct {
	const char *code;
	long price; /* tiyn */
} items[] = {
    {"J01CA04", 2790},
    {"J01DD04", 26500},
    {"A10AE04", 239000},
    {"A10BA02", 945},
    {"B01AB05", 115000},
    {"N02BE01", 380},
    {"A02BC01", 1250},
    {"B05XA03", 21500},
    {"J01FA10", 16500},
    {"B01AB01", 128000},
    {"C09AA02", 1800},
    {"C07AB07", 950},
    {"R03AC02", 98000},
    {"N05BA01", 1100},
    {"M01AE01", 650},
    {"H02AB02", 4200},
    {"L01BA01", 310000},
    {"J05AF05", 5400},
    {"S01ED01", 72000},
    {"V03AB15", 8900},
};
#define NITEMS (sizeof(items) / sizeof(items[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void
make_bin(unsigned yymm, unsigned serial, char out[32])
{
	char d11[12];
	int c;

	for (;; serial++) {
		snprintf(d11, sizeof(d11), "%04u40%05u", yymm % 10000,
		    serial % 100000);
		if ((c = pr_bin_check_digit(d11)) >= 0)
			break;
	}
	snprintf(out, 32, "KZ-BIN-%s%d", d11, c);
}

static void
iso(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
money(long v, char out[40])
{
	snprintf(out, 40, "%ld.%02ld", v / 100, v % 100);
}

struct writer {
	struct st_store *st;
	struct pr_key *key;
	const char *origin;
	struct st_append app[BATCH];
	struct st_appended res[BATCH];
	struct pr_buf buf[BATCH];
	char ocid[BATCH][64];
	char kind[BATCH][24];
	size_t n;
	uint64_t total, log_ms;
	struct pr_buf payload;
};

static int
sign(void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	struct writer *w = ctx;
	struct pr_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	cp.origin = (char *)w->origin;
	cp.size = size;
	memcpy(cp.root, root, PR_HASH_LEN);
	return pr_checkpoint_sign(&cp, w->origin, w->key, note);
}

static int
flush(struct writer *w)
{
	int rc;
	size_t i;

	if (w->n == 0)
		return 0;
	rc = st_append_batch(w->st, w->app, w->n, sign, w, w->res, NULL, NULL);
	for (i = 0; i < w->n; i++)
		pr_buf_reset(&w->buf[i]);
	w->n = 0;
	return rc;
}

/* Append the event in w->payload. */
static int
add(struct writer *w, const char *ocid, const char *kind)
{
	static const uint8_t sig[64];
	struct pr_dsse *e;
	struct st_append *a;
	char keyid[65];
	int rc;

	memset(keyid, 'a', 64);
	keyid[64] = '\0';
	if (w->total < 64) { /* the templates must stay valid events */
		struct pr_event *ev;
		struct pr_event_error err;
		if (pr_event_parse(
		        w->payload.data, w->payload.len, &ev, &err) != 0) {
			fprintf(stderr, "bench_flags: %s: %s at %s: %s\n", kind,
			    err.code, err.path, err.message);
			return PR_EINVAL;
		}
		pr_event_free(ev);
	}
	if ((rc = pr_dsse_new(PR_DSSE_PAYLOAD_TYPE, w->payload.data,
	         w->payload.len, &e)) != 0 ||
	    (rc = pr_dsse_add_sig(e, keyid, 64, sig, sizeof(sig))) != 0)
		return rc;
	a = &w->app[w->n];
	memset(a, 0, sizeof(*a));
	rc = pr_entry_encode(e, w->log_ms, &w->buf[w->n]);
	pr_dsse_free(e);
	pr_buf_reset(&w->payload);
	if (rc != 0)
		return rc;
	snprintf(w->ocid[w->n], sizeof(w->ocid[0]), "%s", ocid);
	snprintf(w->kind[w->n], sizeof(w->kind[0]), "%s", kind);
	a->entry = w->buf[w->n].data;
	a->entry_len = w->buf[w->n].len;
	pr_merkle_leaf_hash(a->entry, a->entry_len, a->envelope_hash);
	a->log_time_ms = w->log_ms++;
	a->ocid = w->ocid[w->n];
	a->kind = w->kind[w->n];
	w->n++;
	w->total++;
	return w->n == BATCH ? flush(w) : 0;
}

#define EV(w, ...)                                                             \
	do {                                                                   \
		if ((rc = pr_buf_printf(&(w)->payload, __VA_ARGS__)) != 0)     \
			return rc;                                             \
	} while (0)

static char buyers[1000][32], suppliers[NSUPPLIERS][32], payer[32];

/* What GET /v1/totals must answer, counted here as the log is written
 * (minor units): the first buyer in 2025, the first supplier, the second
 * item, and every month of 2025. */
struct want {
	int64_t contracted, paid;
	unsigned long contracts, payments;
};
static struct want want_buyer, want_supplier, want_item, want_months;
#define Y2025 1735689600000LL /* 2025-01-01T00:00:00Z */
#define Y2026 1767225600000LL

static int
in2025(int64_t ms)
{
	return ms >= Y2025 && ms < Y2026;
}

static void
count_contract(unsigned b, unsigned sup, unsigned it, int64_t when, long v)
{
	if (b == 0 && in2025(when)) {
		want_buyer.contracted += v;
		want_buyer.contracts++;
	}
	if (sup == 0) {
		want_supplier.contracted += v;
		want_supplier.contracts++;
	}
	if (it == 1) {
		want_item.contracted += v;
		want_item.contracts++;
	}
	if (in2025(when)) {
		want_months.contracted += v;
		want_months.contracts++;
	}
}

static void
count_payment(unsigned b, unsigned sup, int64_t signed_at, int64_t when, long v)
{
	if (b == 0 && in2025(when) && in2025(signed_at)) {
		want_buyer.paid += v;
		want_buyer.payments++;
	}
	if (sup == 0) {
		want_supplier.paid += v;
		want_supplier.payments++;
	}
	if (in2025(when)) {
		want_months.paid += v;
		want_months.payments++;
	}
}

/* One process; returns 0 or an error. */
static int
process(
    struct writer *w, unsigned num, unsigned nbuyers, int64_t t0, int64_t span)
{
	char ocid[64], d[32], e1[32], v[40], up[40];
	unsigned b = num % nbuyers, it = pick(NITEMS), bid[BIDS], i, k;
	unsigned nb = pick(100) < 3 ? 1 : BIDS;
	long qty = 1000 + (long)pick(50) * 1000, price[BIDS];
	int64_t t = t0 + (int64_t)(rnd() % (uint64_t)span), due;
	int rc, late = pick(100) < 2, over = pick(100) < 2;

	snprintf(ocid, sizeof(ocid), "ocds-bench1-%06u", num);
	for (i = 0; i < nb; i++) {
		bid[i] = (num * 7 + i * 13) % NSUPPLIERS;
		price[i] = items[it].price *
		    (9000 + (long)pick(1000) + 600 * (long)i) / 10000;
	}
	if (pick(100) < 2)
		price[0] = price[0] * 2; /* above the median */
	iso(t, d);
	iso(t + 20LL * 86400000, e1);
	EV(w,
	    "{\"ocid\":\"%s\",\"kind\":\"tender\",\"date\":\"%s\",\"buyer\":"
	    "{\"id\":\"%s\"},\"items\":[{\"id\":\"1\",\"description\":\"Item "
	    "%s\",\"classification\":{\"scheme\":\"ATC\",\"id\":\"%s\"},"
	    "\"quantity\":%ld,\"unit\":{\"code\":\"H87\"}}],\"value\":{"
	    "\"amount\":\"%ld.00\",\"currency\":\"KZT\"},\"procurementMethod\":"
	    "\"open\",\"awardCriteria\":\"priceOnly\",\"tenderPeriod\":{"
	    "\"startDate\":\"%s\",\"endDate\":\"%s\"}}",
	    ocid, d, buyers[b], items[it].code, items[it].code, qty,
	    qty * items[it].price / 100, d, e1);
	if ((rc = add(w, ocid, "tender")) != 0)
		return rc;
	for (i = 0; i < nb; i++) {
		EV(w,
		    "{\"ocid\":\"%s\",\"kind\":\"bid.commit\",\"date\":\"%s\","
		    "\"parent\":\"%064u\",\"supplier\":{\"id\":\"%s\"},"
		    "\"commitment\":\"%064u\"}",
		    ocid, d, num, suppliers[bid[i]], i);
		if ((rc = add(w, ocid, "bid.commit")) != 0)
			return rc;
	}
	for (i = 0; i < nb; i++) {
		money(price[i], up);
		money(price[i] * qty, v);
		EV(w,
		    "{\"ocid\":\"%s\",\"kind\":\"bid.reveal\",\"date\":\"%s\","
		    "\"parent\":\"%064u\",\"supplier\":{\"id\":\"%s\"},"
		    "\"nonce\":\"%064u\",\"items\":[{\"id\":\"1\","
		    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"%s\"},"
		    "\"quantity\":%ld,\"unitPrice\":{\"amount\":\"%s\","
		    "\"currency\":\"KZT\"}}],\"value\":{\"amount\":\"%s\","
		    "\"currency\":\"KZT\"}}",
		    ocid, e1, num, suppliers[bid[i]], i, items[it].code, qty,
		    up, v);
		if ((rc = add(w, ocid, "bid.reveal")) != 0)
			return rc;
	}
	money(price[0], up);
	money(price[0] * qty, v);
	iso(t + 30LL * 86400000, d);
	EV(w,
	    "{\"ocid\":\"%s\",\"kind\":\"award\",\"date\":\"%s\",\"parent\":"
	    "\"%064u\",\"buyer\":{\"id\":\"%s\"},\"id\":\"A%u\",\"suppliers\":"
	    "[{\"id\":\"%s\"}],\"items\":[{\"id\":\"1\",\"description\":"
	    "\"Item\","
	    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"%s\"},"
	    "\"quantity\":"
	    "%ld,\"unit\":{\"code\":\"H87\"},\"unitPrice\":{\"amount\":\"%s\","
	    "\"currency\":\"KZT\"}}],\"value\":{\"amount\":\"%s\",\"currency\":"
	    "\"KZT\"},\"bids\":[",
	    ocid, d, num, buyers[b], num, suppliers[bid[0]], items[it].code,
	    qty, up, v);
	for (i = 0; i < nb; i++) {
		money(price[i] * qty, v);
		EV(w,
		    "%s{\"supplier\":{\"id\":\"%s\"},\"status\":\"valid\","
		    "\"rank\":%u,\"value\":{\"amount\":\"%s\",\"currency\":"
		    "\"KZT\"}}",
		    i ? "," : "", suppliers[bid[i]], i + 1, v);
	}
	EV(w, "]}");
	if ((rc = add(w, ocid, "award")) != 0)
		return rc;
	money(price[0], up);
	money(price[0] * qty, v);
	iso(t + 40LL * 86400000, d);
	due = t + 80LL * 86400000;
	iso(due, e1);
	EV(w,
	    "{\"ocid\":\"%s\",\"kind\":\"contract\",\"date\":\"%s\",\"parent\":"
	    "\"%064u\",\"buyer\":{\"id\":\"%s\"},\"supplier\":{\"id\":\"%s\"},"
	    "\"id\":\"C%u\",\"awardID\":\"A%u\",\"items\":[{\"id\":\"1\","
	    "\"description\":\"Item\",\"classification\":{\"scheme\":\"ATC\","
	    "\"id\":\"%s\"},\"quantity\":%ld,\"unit\":{\"code\":\"H87\"},"
	    "\"unitPrice\":{\"amount\":\"%s\",\"currency\":\"KZT\"}}],"
	    "\"value\":"
	    "{\"amount\":\"%s\",\"currency\":\"KZT\"},\"period\":{"
	    "\"startDate\":"
	    "\"%s\",\"endDate\":\"%s\"},\"milestones\":[{\"id\":\"m1\","
	    "\"type\":\"delivery\",\"dueDate\":\"%s\"},{\"id\":\"m2\",\"type\":"
	    "\"delivery\",\"dueDate\":\"%s\"}],\"fundingSource\":\"OSMS\"}",
	    ocid, d, num, buyers[b], suppliers[bid[0]], num, num,
	    items[it].code, qty, up, v, d, e1, e1, e1);
	if ((rc = add(w, ocid, "contract")) != 0)
		return rc;
	count_contract(b, bid[0], it, t + 40LL * 86400000, price[0] * qty);
	if (pick(100) < 10) {
		EV(w,
		    "{\"ocid\":\"%s\",\"kind\":\"contract.amend\",\"date\":\"%"
		    "s\","
		    "\"parent\":\"%064u\",\"buyer\":{\"id\":\"%s\"},"
		    "\"supplier\":"
		    "{\"id\":\"%s\"},\"contractID\":\"C%u\",\"rationale\":"
		    "\"More "
		    "time\",\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"}"
		    "}",
		    ocid, d, num, buyers[b], suppliers[bid[0]], num, v);
		if ((rc = add(w, ocid, "contract.amend")) != 0)
			return rc;
	}
	for (k = 1; k <= 2; k++) {
		iso(due - 86400000LL + (late && k == 2 ? 40LL * 86400000 : 0),
		    d);
		EV(w,
		    "{\"ocid\":\"%s\",\"kind\":\"delivery\",\"date\":\"%s\","
		    "\"parent\":\"%064u\",\"buyer\":{\"id\":\"%s\"},"
		    "\"supplier\":"
		    "{\"id\":\"%s\"},\"contractID\":\"C%u\",\"milestoneID\":"
		    "\"m%u\",\"items\":[{\"id\":\"1\",\"quantity\":%ld}]}",
		    ocid, d, num, buyers[b], suppliers[bid[0]], num, k,
		    qty / 2);
		if ((rc = add(w, ocid, "delivery")) != 0)
			return rc;
	}
	for (k = 1; k <= 2; k++) {
		money(price[0] * qty / 2 + (over && k == 2 ? 100000 : 0), v);
		iso(due + 20LL * 86400000, d);
		count_payment(b, bid[0], t + 40LL * 86400000,
		    due + 20LL * 86400000,
		    price[0] * qty / 2 + (over && k == 2 ? 100000 : 0));
		EV(w,
		    "{\"ocid\":\"%s\",\"kind\":\"payment\",\"date\":\"%s\","
		    "\"parent\":\"%064u\",\"id\":\"P%u-%u\",\"payer\":{\"id\":"
		    "\"%s\"},\"payee\":{\"id\":\"%s\"},\"contractID\":\"C%u\","
		    "\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"},"
		    "\"fundingSource\":\"OSMS\"}",
		    ocid, d, num, num, k, payer, suppliers[bid[0]], num, v);
		if ((rc = add(w, ocid, "payment")) != 0)
			return rc;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct writer *w;
	struct st_config sc;
	struct pr_buf path = PR_BUF_INIT;
	uint64_t entries = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
	unsigned nbuyers = argc > 4 ? (unsigned)atoi(argv[4]) : 50;
	unsigned years = argc > 5 ? (unsigned)atoi(argv[5]) : 4, i, num = 0;
	int64_t t0 = (int64_t)(2026 - years - 1970) * 31556952000LL;
	int rc;

	if (argc < 3 || nbuyers == 0 || nbuyers > 1000 || years == 0) {
		fprintf(stderr,
		    "usage: bench_flags DIR ORIGIN [ENTRIES [BUYERS "
		    "[YEARS]]]\n");
		return 2;
	}
	if (mkdir(argv[1], 0700) == -1 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 1;
	w->origin = argv[2];
	w->log_ms = 1764000000000ULL;
	for (i = 0; i < nbuyers; i++)
		make_bin(1101 + i % 12, 100 + i, buyers[i]);
	for (i = 0; i < NSUPPLIERS; i++)
		make_bin(1501 + i % 12, 5000 + i, suppliers[i]);
	make_bin(1607, 21, payer);
	pr_buf_printf(&path, "%s/log.key", argv[1]);
	memset(&sc, 0, sizeof(sc));
	sc.dir = argv[1];
	if ((rc = pr_key_generate(&w->key)) != 0 ||
	    (rc = pr_key_save_private(w->key, (char *)path.data)) != 0 ||
	    (rc = st_open(&sc, &w->st)) != 0) {
		fprintf(
		    stderr, "bench_flags: %s: %s\n", argv[1], pr_strerror(rc));
		return 1;
	}
	while (rc == 0 && w->total < entries)
		rc = process(
		    w, num++, nbuyers, t0, (int64_t)years * 31556952000LL);
	if (rc == 0)
		rc = flush(w);
	if (rc != 0)
		fprintf(stderr, "bench_flags: %s\n", pr_errmsg(rc));
	else
		printf("entries %llu\nprocesses %u\nbuyers %u\nyears %u\n"
		       "buyer %s\nsupplier %s\nitem ATC:%s\n",
		    (unsigned long long)w->total, num, nbuyers, years,
		    buyers[0], suppliers[0], items[1].code);
	if (rc == 0) {
		const struct {
			const char *name;
			const struct want *w;
		} wants[] = {{"want_buyer_2025", &want_buyer},
		    {"want_supplier", &want_supplier},
		    {"want_item", &want_item},
		    {"want_months_2025", &want_months}};
		for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
			printf("%s %lld %lld %lu %lu\n", wants[i].name,
			    (long long)wants[i].w->contracted,
			    (long long)wants[i].w->paid, wants[i].w->contracts,
			    wants[i].w->payments);
	}
	st_close(w->st);
	pr_key_free(w->key);
	for (i = 0; i < BATCH; i++)
		pr_buf_free(&w->buf[i]);
	pr_buf_free(&w->payload);
	pr_buf_free(&path);
	free(w);
	return rc != 0;
}
