/*
 * procured's configuration: one table of options (name, type, range,
 * default), read from a file of "name = value" lines and overridden by
 * command-line flags.  See procured.conf(5) and systemd/procured.conf.
 */
#ifndef PROCURED_CONFIG_H
#define PROCURED_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define CONF_MAX_LISTEN 8
#define CONF_MAX_ADMIN 16

struct config {
	char *listen[CONF_MAX_LISTEN];
	size_t nlisten;
	char *data_dir;
	char *origin;
	char *log_key; /* path; default <data-dir>/log.key */
	char *admin_keys[CONF_MAX_ADMIN];
	size_t nadmin;
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca;
	uint64_t batch_max;
	uint64_t batch_delay_ms;
	uint64_t queue_max;
	uint64_t verify_threads;
	uint64_t max_body;
	uint64_t max_batch_events;
	uint64_t max_headers;
	uint64_t timeout_s;
	uint64_t request_deadline_s;
	uint64_t max_connections;
	uint64_t rate_per_addr;
	uint64_t rate_per_key;
	uint64_t map_size_max_mb;
	uint64_t checkpoint_max_age_s;
	uint64_t verbose;
	/* Red-flag thresholds (docs/FLAGS.md). */
	char *flag_reference_prices;
	char *flag_direct_currency;
	uint64_t flag_min_bidders;
	uint64_t flag_min_tender_days;
	uint64_t flag_close_bid_percent;
	uint64_t flag_discount_percent;
	uint64_t flag_min_disqualified;
	uint64_t flag_price_percent;
	uint64_t flag_price_min_observations;
	uint64_t flag_contract_percent;
	uint64_t flag_amend_percent;
	uint64_t flag_amendments;
	uint64_t flag_late_days;
	uint64_t flag_buyer_share_percent;
	uint64_t flag_item_share_percent;
	uint64_t flag_share_min_contracts;
	uint64_t flag_direct_threshold;
	uint64_t flag_direct_margin_percent;
};

/* Fill c with every option's default. */
void config_defaults(struct config *c);

/*
 * Read FILE into c.  On error returns PR_ECONFIG and writes
 * "FILE:LINE: problem" to err.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);
/* The same from an open stream; path names it in messages. */
int config_parse(
    struct config *c, FILE *f, const char *path, char *err, size_t errlen);

/* Set one option by name from text (flags use this too). */
int config_set(struct config *c, const char *name, const char *value, char *err,
    size_t errlen);

/* Cross-option checks after loading and flags; PR_ECONFIG with a message. */
int config_check(const struct config *c, char *err, size_t errlen);

/* Print every option at its current value, in the file's syntax. */
void config_print(const struct config *c, FILE *out);

void config_free(struct config *c);

#endif
