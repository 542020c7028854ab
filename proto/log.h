/*
 * Logging in the shape of OpenBSD's log.h.
 *
 * Messages go to stderr, one line each.  When stderr is connected to the
 * systemd journal (JOURNAL_STREAM matches stderr), every line starts with
 * a syslog priority prefix such as "<4>" so that journald records levels;
 * otherwise lines are prefixed with the program name.
 *
 * log_warn() appends strerror(errno); log_warnx() does not.  fatal() and
 * fatalx() log at LOG_CRIT and exit(1).  log_debug() prints only when the
 * verbosity set by log_init() is at least 1.
 */
#ifndef PR_LOG_H
#define PR_LOG_H

#include <stdarg.h>

#define PR_PRINTF(f, a) __attribute__((format(printf, f, a)))

void log_init(const char *progname, int verbose);
void log_setverbose(int verbose);
int log_getverbose(void);

void log_warn(const char *fmt, ...) PR_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PR_PRINTF(1, 2);
void log_info(const char *fmt, ...) PR_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PR_PRINTF(1, 2);
void fatal(const char *fmt, ...) PR_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PR_PRINTF(1, 2) __attribute__((noreturn));

/* Core: priority is a syslog level (LOG_ERR ...). */
void vlog(int pri, const char *fmt, va_list ap) PR_PRINTF(2, 0);

#endif
