#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/errmsg.h"

static _Thread_local char errmsg_text[256];
static _Thread_local int errmsg_code;

int
pr_errmsg_set(int err, const char *fmt, ...)
{
	char text[sizeof(errmsg_text)];
	va_list ap;

	/* Via a copy: callers may wrap the current message, passing
	 * pr_errmsg() as an argument. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memcpy(errmsg_text, text, sizeof(text));
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
