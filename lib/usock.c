/*
 * usock.c: bind/listen helpers for sipwarden's local Unix sockets (telemetry, control).
 * Responsible for the socket file's life at start (stale removal, mode, group); not for
 * serving connections, and not for removing the file at stop (the owner unlinks it).
 */
#include "usock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
usock_addr(const char *path, struct sockaddr_un *sun)
{
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	return 0;
}

int
usock_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	if ((rc = usock_addr(path, &sun)) < 0)
		return rc;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Remove `path` if it is a socket file that nobody listens on. */
static int
usock_remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket; not removing it", path);
		return -EEXIST;
	}
	fd = usock_connect(path);
	if (fd >= 0) {
		close(fd);
		snprintf(err, errlen, "%s: another server is listening on it", path);
		return -EADDRINUSE;
	}
	if (fd != -ECONNREFUSED && fd != -ENOENT) {
		snprintf(err, errlen, "%s: cannot probe existing socket: %s", path, strerror(-fd));
		return fd;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot remove stale socket: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int
usock_listen(const char *path, mode_t mode, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	gid_t gid = (gid_t)-1;
	int fd, rc;

	if (path == NULL || (rc = usock_addr(path, &sun)) < 0) {
		snprintf(err, errlen, "%s: socket path empty or too long", path ? path : "(null)");
		return -ENAMETOOLONG;
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "%s: unknown group '%s'", path, group);
			return -ENOENT;
		}
		gid = gr->gr_gid;
	}
	if ((rc = usock_remove_stale(path, err, errlen)) < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return rc;
	}
	/* fchmod() on a socket fd does not change the file, so the mode and group are set
	 * on the path after bind() and before listen(): nobody can connect in between. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (chmod(path, mode & 07777) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) || listen(fd, 64) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: chmod/chown/listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return rc;
	}
	return fd;
}
