/*
 * usock.h: listening Unix stream sockets for the local operator interfaces.
 *
 * Shared by the telemetry and control servers: bind a path, refuse to steal it from a
 * live server, remove a stale file left by a dead one, and set the file mode and group
 * so that only the intended users can connect. Not responsible for accepting or
 * serving connections (telemetry.c, control.c do that on the daemon's event base).
 */
#ifndef SW_USOCK_H
#define SW_USOCK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Create a non-blocking, close-on-exec Unix stream socket listening on `path` with file
 * mode `mode` (e.g. 0660) and, when `group` is not NULL, owned by that group.
 * An existing file at `path` is removed only when it is a socket nobody listens on;
 * a live server there gives -EADDRINUSE, any other file -EEXIST.
 * Returns the listening fd (caller owns it) or a negative errno with a message naming
 * the path (and the group when it is unknown: -ENOENT) in `err`.
 */
int usock_listen(const char *path, mode_t mode, const char *group, char *err, size_t errlen);

/*
 * Connect to the Unix stream socket at `path` (blocking, close-on-exec).
 * Returns the fd (caller owns it) or a negative errno.
 */
int usock_connect(const char *path);

#endif
