#include <stdio.h>
#include <string.h>

#include "proto/err.h"

struct pr_errdesc {
	int code;
	const char *name;
	const char *msg;
};

static const struct pr_errdesc errtab[] = {
#define PR_ERR_ROW(name, value, msg) {value, #name, msg},
    PR_ERRORS(PR_ERR_ROW)
#undef PR_ERR_ROW
};

static const struct pr_errdesc *
lookup(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return &errtab[i];
	return NULL;
}

const char *
pr_strerror(int err)
{
	const struct pr_errdesc *d;

	if (err == 0)
		return "success";
	if ((d = lookup(err)) != NULL)
		return d->msg;
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

const char *
pr_errname(int err)
{
	const struct pr_errdesc *d;

	if (err == 0)
		return "ok";
	if ((d = lookup(err)) == NULL)
		return "unknown";
	/* "PR_ENOMEM" -> "ENOMEM" */
	return d->name + 3;
}
