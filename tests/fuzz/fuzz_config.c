/*
 * Fuzz the configuration file parser: config_parse() over the input as a
 * file, then the cross-option checks and printing the result.  Whatever
 * the file holds, the parser must answer with 0 or PR_ECONFIG and a
 * message naming a line, and what it accepted must print and free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "proto/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[512], *out = NULL;
	size_t outlen = 0;
	FILE *f, *o;
	int rc;

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	config_defaults(&c);
	err[0] = '\0';
	rc = config_parse(&c, f, "fuzz.conf", err, sizeof(err));
	fclose(f);
	if (rc != 0 && (rc != PR_ECONFIG || strncmp(err, "fuzz.conf:", 10)))
		abort(); /* errors name the file and line */
	if (rc == 0) {
		(void)config_check(&c, err, sizeof(err));
		if ((o = open_memstream(&out, &outlen)) != NULL) {
			config_print(&c, o);
			fclose(o);
		}
		free(out);
	}
	config_free(&c);
	return 0;
}
