#include <stdarg.h>
#include <stdio.h>

#include "proto/err.h"
#include "proto/errmsg.h"

static _Thread_local char errmsg_text[256];
static _Thread_local int errmsg_code;

int
pr_errmsg_set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg_text, sizeof(errmsg_text), fmt, ap);
	va_end(ap);
	errmsg_code = err;
	return err;
}

const char *
pr_errmsg(int err)
{
	if (err != 0 && err == errmsg_code && errmsg_text[0] != '\0')
		return errmsg_text;
	return pr_strerror(err);
}

void
pr_errmsg_clear(void)
{
	errmsg_text[0] = '\0';
	errmsg_code = 0;
}
