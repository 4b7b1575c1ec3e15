/*
 * mime.h - map file names to media types.
 *
 * A built-in table covers the common web types; a mime.types file (Debian's
 * media-types package installs /etc/mime.types) adds to and overrides it.
 * A loaded table is immutable, so lookups are safe from any thread.
 */
#ifndef TINYHTTPD_MIME_H
#define TINYHTTPD_MIME_H

#include <stddef.h>

struct mime;

#define MIME_DEFAULT_TYPE "application/octet-stream"

/*
 * Build a table from the built-in entries and, if path is not NULL, the
 * mime.types file at path ("type ext ext ..." lines, '#' comments).  A file
 * that cannot be read is not an error: *file_errno (if not NULL) is set to
 * its errno (0 if it was read) and the built-in table is used alone.
 * Returns NULL with errno = ENOMEM only when memory runs out.
 */
struct mime *mime_new(const char *path, int *file_errno);

void mime_free(struct mime *m);

/*
 * The media type for the file name or path name[0..len): by the extension
 * after the last '.' of the last segment, case-insensitively.  Returns
 * MIME_DEFAULT_TYPE when there is no extension or it is unknown.  The
 * string lives as long as m.
 */
const char *mime_lookup(const struct mime *m, const char *name, size_t len);

/* Number of extensions known (for tests). */
size_t mime_count(const struct mime *m);

#endif
