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
	uint64_t max_headers;
	uint64_t timeout_s;
	uint64_t request_deadline_s;
	uint64_t max_connections;
	uint64_t rate_per_addr;
	uint64_t rate_per_key;
	uint64_t map_size_max_mb;
	uint64_t checkpoint_max_age_s;
	uint64_t verbose;
};

/* Fill c with every option's default. */
void config_defaults(struct config *c);

/*
 * Read FILE into c.  On error returns PR_ECONFIG and writes
 * "FILE:LINE: problem" to err.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* Set one option by name from text (flags use this too). */
int config_set(struct config *c, const char *name, const char *value, char *err,
    size_t errlen);

/* Cross-option checks after loading and flags; PR_ECONFIG with a message. */
int config_check(const struct config *c, char *err, size_t errlen);

/* Print every option at its current value, in the file's syntax. */
void config_print(const struct config *c, FILE *out);

void config_free(struct config *c);

#endif
