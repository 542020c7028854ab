#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "proto/err.h"

enum conf_type { CT_STR, CT_STRLIST, CT_U64 };

struct conf_opt {
	const char *name;
	enum conf_type type;
	size_t off; /* offset in struct config */
	size_t cntoff; /* CT_STRLIST: offset of the count */
	size_t max; /* CT_STRLIST: capacity */
	uint64_t min, maxval;
	const char *def; /* default as text; NULL for none */
	const char *help;
};

#define STR(f, d, h)                                                           \
	{                                                                      \
#f, CT_STR, offsetof(struct config, f), 0, 0, 0, 0, d, h       \
	}
#define U64(n, f, lo, hi, d, h)                                                \
	{                                                                      \
		n, CT_U64, offsetof(struct config, f), 0, 0, lo, hi, d, h      \
	}

/* One row an option; config_print() writes them in this order. */
static const struct conf_opt opts[] = {
    {"listen", CT_STRLIST, offsetof(struct config, listen),
        offsetof(struct config, nlisten), CONF_MAX_LISTEN, 0, 0,
        "127.0.0.1:8480", "address to serve HTTP on (repeatable)"},
    {"data-dir", CT_STR, offsetof(struct config, data_dir), 0, 0, 0, 0,
        "/var/lib/procured", "directory holding the log and its key"},
    {"origin", CT_STR, offsetof(struct config, origin), 0, 0, 0, 0, NULL,
        "the log's name in checkpoints, e.g. procurement.example.kz/log"},
    {"log-key", CT_STR, offsetof(struct config, log_key), 0, 0, 0, 0, NULL,
        "the log's Ed25519 private key (default: DATA-DIR/log.key)"},
    {"admin-key", CT_STRLIST, offsetof(struct config, admin_keys),
        offsetof(struct config, nadmin), CONF_MAX_ADMIN, 0, 0, NULL,
        "verifier key allowed to sign key.grant/key.revoke (repeatable)"},
    {"tls-cert", CT_STR, offsetof(struct config, tls_cert), 0, 0, 0, 0, NULL,
        "PEM certificate chain: serve HTTPS instead of HTTP"},
    {"tls-key", CT_STR, offsetof(struct config, tls_key), 0, 0, 0, 0, NULL,
        "PEM private key for tls-cert"},
    {"tls-client-ca", CT_STR, offsetof(struct config, tls_client_ca), 0, 0, 0,
        0, NULL, "require client certificates signed by these CAs"},
    U64("batch-max", batch_max, 1, 100000, "1000",
        "most events committed in one transaction"),
    U64("batch-delay-ms", batch_delay_ms, 0, 1000, "2",
        "longest wait for more events before a commit"),
    U64("queue-max", queue_max, 1, 1000000, "20000",
        "events waiting for verification or commit before 503"),
    U64("verify-threads", verify_threads, 1, 256, "2",
        "threads checking signatures"),
    U64("max-body", max_body, 1024, 1048576, "131072",
        "largest request body in bytes"),
    U64("max-batch-events", max_batch_events, 1, 100000, "512",
        "most envelopes in one POST /v1/events/batch"),
    U64("max-headers", max_headers, 1024, 1048576, "16384",
        "largest request header block in bytes"),
    U64("timeout", timeout_s, 1, 3600, "10",
        "seconds a connection may stay idle or slow"),
    U64("request-deadline", request_deadline_s, 1, 3600, "30",
        "seconds a whole request may take"),
    U64("max-connections", max_connections, 1, 1000000, "4096",
        "open connections before new ones wait"),
    U64("rate-per-addr", rate_per_addr, 0, 1000000000, "0",
        "submissions a second from one address (0: unlimited)"),
    U64("rate-per-key", rate_per_key, 0, 1000000000, "0",
        "submissions a second signed by one key (0: unlimited)"),
    U64("map-size-max", map_size_max_mb, 16, 1ULL << 30, "65536",
        "largest database size in MiB"),
    U64("checkpoint-max-age", checkpoint_max_age_s, 1, 86400, "10",
        "health fails when work waits and the checkpoint is older (s)"),
    U64("verbose", verbose, 0, 3, "0", "log detail: 0 info, 1 debug"),
    /* Red flags (docs/FLAGS.md). */
    {"flag-reference-prices", CT_STR,
        offsetof(struct config, flag_reference_prices), 0, 0, 0, 0, NULL,
        "CSV of reference unit prices: item,unit,price,currency"},
    U64("flag-min-bidders", flag_min_bidders, 1, 1000, "2",
        "single_bid: fewer sealed bids than this in an open tender"),
    U64("flag-min-tender-days", flag_min_tender_days, 0, 3650, "15",
        "short_tender_period: fewer days than this to bid"),
    U64("flag-close-bid-percent", flag_close_bid_percent, 0, 100, "1",
        "close_runner_up: runner-up less than this % above the winner"),
    U64("flag-discount-percent", flag_discount_percent, 0, 100000, "25",
        "heavy_discount: runner-up more than this % above the winner"),
    U64("flag-min-disqualified", flag_min_disqualified, 1, 1000, "1",
        "others_disqualified: at least this many others, all disqualified"),
    U64("flag-price-percent", flag_price_percent, 0, 100000, "50",
        "price_above_median: unit price more than this % above the median"),
    U64("flag-price-min-observations", flag_price_min_observations, 1, 1000000,
        "5", "price_above_median: prices needed for a median"),
    U64("flag-contract-percent", flag_contract_percent, 0, 100000, "0",
        "contract_above_award: contract more than this % above its award"),
    U64("flag-amend-percent", flag_amend_percent, 0, 100000, "10",
        "amendment_increase: value raised more than this % by amendments"),
    U64("flag-amendments", flag_amendments, 0, 1000, "3",
        "many_amendments: this many amendments or more (0: off)"),
    U64("flag-late-days", flag_late_days, 0, 3650, "0",
        "late_delivery: delivered more than this many days after due"),
    U64("flag-buyer-share-percent", flag_buyer_share_percent, 0, 100, "50",
        "buyer_supplier_share: a supplier's share of a buyer's spending"),
    U64("flag-item-share-percent", flag_item_share_percent, 0, 100, "50",
        "item_supplier_share: a supplier's share of an item's spending"),
    U64("flag-share-min-contracts", flag_share_min_contracts, 1, 1000000, "5",
        "shares: contracts a buyer or item needs before shares count"),
    U64("flag-direct-threshold", flag_direct_threshold, 0, 1ULL << 40,
        "15728000",
        "direct_below_threshold: competitive threshold, whole currency units"),
    {"flag-direct-currency", CT_STR,
        offsetof(struct config, flag_direct_currency), 0, 0, 0, 0, "KZT",
        "currency of flag-direct-threshold"},
    U64("flag-direct-margin-percent", flag_direct_margin_percent, 0, 100, "10",
        "direct_below_threshold: awards this % or less below the threshold"),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct conf_opt *
find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return PR_ECONFIG;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return PR_EFORMAT;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return PR_EFORMAT;
	*out = v;
	return 0;
}

int
config_set(struct config *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_opt *o;
	char **sp, *dup;
	size_t *cnt;
	uint64_t v;

	if ((o = find_opt(name)) == NULL)
		return seterr(err, errlen, "unknown option '%s'", name);
	switch (o->type) {
	case CT_STR:
		if (value[0] == '\0')
			return seterr(err, errlen, "%s: empty value", name);
		if ((dup = strdup(value)) == NULL)
			return PR_ENOMEM;
		sp = (char **)((char *)c + o->off);
		free(*sp);
		*sp = dup;
		return 0;
	case CT_STRLIST:
		if (value[0] == '\0')
			return seterr(err, errlen, "%s: empty value", name);
		cnt = (size_t *)((char *)c + o->cntoff);
		if (*cnt >= o->max)
			return seterr(err, errlen, "%s: at most %zu allowed",
			    name, o->max);
		if ((dup = strdup(value)) == NULL)
			return PR_ENOMEM;
		sp = (char **)((char *)c + o->off);
		sp[(*cnt)++] = dup;
		return 0;
	case CT_U64:
		if (parse_u64(value, &v) != 0)
			return seterr(err, errlen,
			    "%s: '%s' is not a non-negative integer", name,
			    value);
		if (v < o->min || v > o->maxval)
			return seterr(err, errlen,
			    "%s: %llu is out of range %llu..%llu", name,
			    (unsigned long long)v, (unsigned long long)o->min,
			    (unsigned long long)o->maxval);
		*(uint64_t *)((char *)c + o->off) = v;
		return 0;
	}
	return PR_EINVAL;
}

void
config_defaults(struct config *c)
{
	size_t i;
	char err[64];

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NOPTS; i++)
		if (opts[i].def != NULL && opts[i].type != CT_STRLIST)
			(void)config_set(
			    c, opts[i].name, opts[i].def, err, sizeof(err));
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	rc = config_parse(c, f, path, err, errlen);
	fclose(f);
	return rc;
}

int
config_parse(
    struct config *c, FILE *f, const char *path, char *err, size_t errlen)
{
	char line[4096], msg[512], *p, *eq, *name, *value;
	unsigned lineno = 0;
	int rc = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = seterr(
			    err, errlen, "%s:%u: line too long", path, lineno);
			break;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			rc = seterr(err, errlen,
			    "%s:%u: expected 'name = value'", path, lineno);
			break;
		}
		*eq = '\0';
		name = trim(p);
		value = trim(eq + 1);
		if (config_set(c, name, value, msg, sizeof(msg)) != 0) {
			rc =
			    seterr(err, errlen, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = seterr(err, errlen, "%s: read error", path);
	return rc;
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	if (c->origin == NULL)
		return seterr(err, errlen,
		    "origin is not set (e.g. origin = "
		    "procurement.example.kz/log)");
	if (strchr(c->origin, '+') != NULL || strchr(c->origin, ' ') != NULL ||
	    strchr(c->origin, '\n') != NULL)
		return seterr(err, errlen,
		    "origin '%s': must not contain '+', spaces or newlines",
		    c->origin);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return seterr(
		    err, errlen, "tls-cert and tls-key must be set together");
	if (c->tls_client_ca != NULL && c->tls_cert == NULL)
		return seterr(err, errlen, "tls-client-ca needs tls-cert");
	return 0;
}

void
config_print(const struct config *c, FILE *out)
{
	size_t i, j, n;
	const struct conf_opt *o;
	char *const *sp;

	for (i = 0; i < NOPTS; i++) {
		o = &opts[i];
		fprintf(out, "# %s\n", o->help);
		switch (o->type) {
		case CT_STR:
			sp = (char *const *)((const char *)c + o->off);
			if (*sp != NULL)
				fprintf(out, "%s = %s\n", o->name, *sp);
			else
				fprintf(out, "#%s =\n", o->name);
			break;
		case CT_STRLIST:
			sp = (char *const *)((const char *)c + o->off);
			n = *(const size_t *)((const char *)c + o->cntoff);
			for (j = 0; j < n; j++)
				fprintf(out, "%s = %s\n", o->name, sp[j]);
			if (n == 0)
				fprintf(out, "#%s =\n", o->name);
			break;
		case CT_U64:
			fprintf(out, "%s = %llu\n", o->name,
			    (unsigned long long)*(
			        const uint64_t *)((const char *)c + o->off));
			break;
		}
	}
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	for (i = 0; i < c->nadmin; i++)
		free(c->admin_keys[i]);
	free(c->data_dir);
	free(c->origin);
	free(c->log_key);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->flag_reference_prices);
	free(c->flag_direct_currency);
	memset(c, 0, sizeof(*c));
}
