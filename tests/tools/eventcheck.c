/*
 * eventcheck: parse event payload files with the event model.
 *
 *	eventcheck FILE          prints "ok KIND" or "CODE PATH MESSAGE"
 *	eventcheck -c FILE       prints the bid commitment of a bid.reveal
 *	eventcheck -k FILE       prints the key id of a key.grant's key
 *	eventcheck -i FILE       prints the index keys and money totals
 *
 * Exits 0 if the file parses (and the query applies), 1 if it does not,
 * 2 on usage or I/O errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/event.h"

static int
read_file(const char *path, struct pr_buf *b)
{
	FILE *f;
	char chunk[4096];
	size_t n;
	int rc = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pr_buf_append(b, chunk, n) != 0) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

static int
print_key(void *ctx, enum pr_index_type type, const char *key, size_t len)
{
	static const char *const names[] = {
	    "?", "ocid", "kind", "party", "item"};

	(void)ctx;
	printf("%s %.*s\n", names[type], (int)len, key);
	return 0;
}

static void
print_hex(const uint8_t *h)
{
	char hex[2 * PR_EVENT_HASH_LEN + 1];

	pr_hex_encode(h, PR_EVENT_HASH_LEN, hex);
	printf("%s\n", hex);
}

int
main(int argc, char **argv)
{
	struct pr_buf b = PR_BUF_INIT;
	struct pr_event_error err;
	struct pr_event_totals t;
	struct pr_event *ev;
	uint8_t h[PR_EVENT_HASH_LEN];
	const char *mode = "", *path;
	char amount[PR_DECIMAL_STRLEN];
	int rc, status = 0;

	if (argc == 3 && argv[1][0] == '-')
		mode = argv[1];
	else if (argc != 2) {
		fprintf(stderr, "usage: eventcheck [-c | -k | -i] FILE\n");
		return 2;
	}
	path = argv[argc - 1];
	if (read_file(path, &b) != 0) {
		pr_buf_free(&b);
		return 2;
	}
	rc = pr_event_parse(b.data, b.len, &ev, &err);
	pr_buf_free(&b);
	if (rc != 0) {
		printf("%s %s %s\n", err.code, err.path[0] ? err.path : "-",
		    err.message);
		return 1;
	}
	if (strcmp(mode, "") == 0)
		printf("ok %s\n", pr_kind_name(ev->kind));
	else if (strcmp(mode, "-c") == 0 && ev->kind == PR_KIND_BID_REVEAL &&
	    pr_bid_commitment(ev->ocid, ev->supplier.id, &ev->value, ev->items,
	        ev->n_items, ev->nonce, h) == 0)
		print_hex(h);
	else if (strcmp(mode, "-k") == 0 && ev->kind == PR_KIND_KEY_GRANT)
		print_hex(ev->keyid);
	else if (strcmp(mode, "-i") == 0 &&
	    pr_event_index_keys(ev, print_key, NULL) == 0 &&
	    pr_event_totals(ev, &t) == 0) {
		if (t.has_value) {
			pr_decimal_format(
			    t.value, t.exponent, amount, sizeof(amount));
			printf("value %s %s\n", amount, t.currency);
		}
		if (t.items_priced) {
			pr_decimal_format(
			    t.items_total, t.exponent, amount, sizeof(amount));
			printf("items %s %s\n", amount, t.currency);
		}
	} else {
		fprintf(stderr, "eventcheck: %s does not apply to a %s\n", mode,
		    pr_kind_name(ev->kind));
		status = 1;
	}
	pr_event_free(ev);
	return status;
}
