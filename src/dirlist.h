/*
 * dirlist.h - an HTML listing of a directory (directory_listing).
 */
#ifndef TINYHTTPD_DIRLIST_H
#define TINYHTTPD_DIRLIST_H

#include <stdint.h>

#define DIRLIST_MAX_ENTRIES 100000    /* entries listed; the rest are counted */
#define DIRLIST_MAX_NAMES (16u << 20) /* bytes of names collected */

/*
 * List the directory dirfd, which is path (normalised, with a leading and a
 * trailing '/') below root_fd, as an HTML page written to an anonymous
 * memory file.  Returns that file's descriptor (the caller closes it) with
 * its length in *size, or -errno.  dirfd is not closed.  Hidden names
 * (a leading '.'), entries that are neither regular files nor directories,
 * and symlinks that do not resolve below root_fd are left out.
 */
int dirlist_build(int root_fd, int dirfd, const char *path, uint64_t *size);

#endif
