/*
 * systemd notification protocol (sd_notify(3)) without libsystemd: a
 * datagram to $NOTIFY_SOCKET.  Every function is a no-op when the
 * variable is unset.
 */
#ifndef PROCURED_SDNOTIFY_H
#define PROCURED_SDNOTIFY_H

#include <stdint.h>

/* Send STATE (e.g. "READY=1"); 0, or a negative PR_E* code. */
int sd_notify_send(const char *state);
/* Watchdog interval in microseconds from $WATCHDOG_USEC (and
 * $WATCHDOG_PID, when set, must be ours), or 0 when not requested. */
uint64_t sd_watchdog_usec(void);
/* Sockets passed by socket activation: count from $LISTEN_FDS when
 * $LISTEN_PID is ours; the first is fd 3. */
int sd_listen_fds(void);

#endif
