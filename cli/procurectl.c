/*
 * procurectl: query and audit a procured log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: procurectl command [options]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	log_init("procurectl", 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "version") == 0) {
		printf("procurectl 0.1\n");
		return 0;
	}
	fprintf(stderr, "procurectl: unknown command '%s'\n", argv[1]);
	return 2;
}
