#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/sdnotify.h"
#include "proto/err.h"

int
sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	int fd, rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path))
		return PR_EINVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@') /* abstract namespace */
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return PR_ESYS;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	        (struct sockaddr *)&sun, len) == -1)
		rc = PR_ESYS;
	close(fd);
	return rc;
}

static int
env_u64(const char *name, unsigned long long *out)
{
	const char *s = getenv(name);
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

uint64_t
sd_watchdog_usec(void)
{
	unsigned long long usec, pid;

	if (env_u64("WATCHDOG_USEC", &usec) != 0 || usec == 0)
		return 0;
	if (env_u64("WATCHDOG_PID", &pid) == 0 &&
	    pid != (unsigned long long)getpid())
		return 0;
	return usec;
}

int
sd_listen_fds(void)
{
	unsigned long long n, pid;

	if (env_u64("LISTEN_PID", &pid) != 0 ||
	    pid != (unsigned long long)getpid())
		return 0;
	if (env_u64("LISTEN_FDS", &n) != 0 || n > 64)
		return 0;
	return (int)n;
}
