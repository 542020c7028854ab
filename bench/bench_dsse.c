/*
 * DSSE verification rate on one core: parse a JSON envelope with a
 * typical 2 KiB payload, build the PAE and verify its Ed25519 signature,
 * then free everything, as the log does for each submission.  Also times
 * pr_dsse_parse() alone (parse and free) and pr_key_verify() alone over
 * the same PAE for reference.
 *
 *   bench_dsse [SECONDS]     (default 3, of CPU time)
 *
 * Prints "dsse_verify_per_s N", "dsse_parse_per_s N" and
 * "key_verify_per_s N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/errmsg.h"
#include "proto/key.h"

/*
 * CPU time of this process, as `openssl speed` divides by CPU time (user
 * time; we count system time too) unless given -elapsed: the figures stay
 * comparable when other work shares the machine.
 */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 2 KiB event-like JSON payload. */
static void
make_payload(struct pr_buf *b)
{
	int i;

	pr_buf_append_str(b,
	    "{\"ocid\":\"ocds-213czf-000-00001\","
	    "\"kind\":\"award\",\"date\":\"2026-03-01T09:00:00Z\","
	    "\"items\":[");
	for (i = 0; b->len < 1800; i++)
		pr_buf_printf(b,
		    "%s{\"id\":\"%d\",\"classification\":{\"scheme\":\"ATC\","
		    "\"id\":\"J01CA04\"},\"quantity\":\"1000\",\"unit\":"
		    "\"pack\","
		    "\"unitPrice\":{\"amount\":\"1234.50\",\"currency\":"
		    "\"KZT\"}}",
		    i ? "," : "", i);
	pr_buf_append_str(b, "]}");
	while (b->len < 2048)
		pr_buf_append_byte(b, ' ');
}

int
main(int argc, char **argv)
{
	struct pr_buf payload = PR_BUF_INIT, json = PR_BUF_INIT;
	struct pr_buf pae = PR_BUF_INIT;
	struct pr_dsse *e, *p;
	struct pr_dsse_error err;
	struct pr_key *k, *pub;
	double secs = argc > 1 ? atof(argv[1]) : 3.0, t0, t;
	unsigned long n;
	int rc;

	make_payload(&payload);
	if ((rc = pr_key_generate(&k)) != 0 || (rc = pr_key_public(k, &pub)) ||
	    (rc = pr_dsse_new(
	         PR_DSSE_PAYLOAD_TYPE, payload.data, payload.len, &e)) != 0 ||
	    (rc = pr_dsse_sign(e, k)) != 0 ||
	    (rc = pr_dsse_serialize(e, &json)) != 0 ||
	    (rc = pr_dsse_pae(e->payload_type, e->payload_type_len, e->payload,
	         e->payload_len, &pae)) != 0) {
		fprintf(stderr, "bench_dsse: %s\n", pr_errmsg(rc));
		return 1;
	}
	printf("payload_bytes %zu\nenvelope_json_bytes %zu\n", payload.len,
	    json.len);

	t0 = now();
	for (n = 0; (t = now()) - t0 < secs; n++) {
		if (pr_dsse_parse((char *)json.data, json.len, &p, &err) != 0 ||
		    pr_dsse_verify(p, 0, pub) != 0) {
			fprintf(stderr, "bench_dsse: verification failed\n");
			return 1;
		}
		pr_dsse_free(p);
	}
	printf("dsse_verify_per_s %.0f\n", (double)n / (t - t0));

	/* The clock (a system call) read every 256 parses, not each. */
	t0 = now();
	for (n = 0; n % 256 != 0 || (t = now()) - t0 < secs; n++) {
		if (pr_dsse_parse((char *)json.data, json.len, &p, &err) != 0) {
			fprintf(stderr, "bench_dsse: parse failed\n");
			return 1;
		}
		pr_dsse_free(p);
	}
	printf("dsse_parse_per_s %.0f\n", (double)n / (t - t0));

	t0 = now();
	for (n = 0; (t = now()) - t0 < secs; n++)
		if (pr_key_verify(pub, pae.data, pae.len, e->sigs[0].sig,
		        e->sigs[0].siglen) != 0)
			return 1;
	printf("key_verify_per_s %.0f\n", (double)n / (t - t0));

	pr_dsse_free(e);
	pr_key_free(pub);
	pr_key_free(k);
	pr_buf_free(&payload);
	pr_buf_free(&json);
	pr_buf_free(&pae);
	return 0;
}
