/*
 * storecheck: open a data directory read-only and run the store's deep
 * check (st_verify), as an offline audit of a copy would.
 *
 *	storecheck DIR
 *
 * Prints "ok SIZE" and exits 0 if the store opens and verifies; prints
 * the store's sentence and exits 1 if st_verify finds a mismatch (naming
 * the entry), 2 if the store refuses to open, 3 on other errors.
 */
#include <stdio.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/err.h"
#include "store/store.h"

int
main(int argc, char **argv)
{
	struct pr_buf msg = PR_BUF_INIT;
	struct st_config cfg;
	struct st_store *st;
	uint64_t size, bad = 0;
	int rc, ex;

	if (argc != 2) {
		fprintf(stderr, "usage: storecheck DIR\n");
		return 3;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = argv[1];
	cfg.readonly = 1;
	cfg.errmsg = &msg;
	if ((rc = st_open(&cfg, &st)) != 0) {
		printf("refused to open: %s: %s\n", pr_strerror(rc),
		    msg.len ? (char *)msg.data : "");
		pr_buf_free(&msg);
		return rc == PR_ENOMEM ? 3 : 2;
	}
	if ((rc = st_verify(st, &bad, &msg)) == 0 &&
	    (rc = st_tree(st, &size, NULL)) == 0) {
		printf("ok %llu\n", (unsigned long long)size);
		ex = 0;
	} else if (rc == PR_ECORRUPT) {
		if (bad != UINT64_MAX)
			printf(
			    "corrupt at entry %llu: ", (unsigned long long)bad);
		else
			printf("corrupt: ");
		printf("%s\n", msg.len ? (char *)msg.data : "");
		ex = 1;
	} else {
		printf("error: %s %s\n", pr_strerror(rc),
		    msg.len ? (char *)msg.data : "");
		ex = 3;
	}
	st_close(st);
	pr_buf_free(&msg);
	return ex;
}
