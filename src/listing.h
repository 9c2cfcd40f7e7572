/* Directory listings (`directory_listing = true`): an HTML page or a JSON
 * array of a directory's entries. Not on the hot path: this reads the
 * directory and allocates its answer, once per listing. */
#ifndef RH_LISTING_H
#define RH_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A growable output buffer: P is malloc'd (NULL while empty). */
struct rh_buf {
	char *p;
	size_t len, cap;
};
void rh_buf_free(struct rh_buf *b);

enum rh_listing_format { RH_LISTING_HTML, RH_LISTING_JSON };

#define RH_LISTING_HTML_TYPE "text/html; charset=utf-8"
#define RH_LISTING_JSON_TYPE "application/json"

/* Appends the listing of directory DIRFD to OUT and returns the number of
 * bytes appended, or -errno. DIRFD is not read through: the entries come
 * from a new descriptor of the same directory (openat "."), so DIRFD may
 * be O_PATH and its offset does not move.
 *
 * Entries: every directory and regular file (symbolic links followed;
 * dangling links, devices, sockets and FIFOs are left out, as are "." and
 * ".."), and names beginning with '.' only when not HIDE_DOTFILES; sorted
 * by name, bytewise. Dates are the modification time in UTC.
 *
 * HTML: a fixed page titled "Index of URL_PATH" (URL_PATH: the
 * directory's decoded request path, ending in '/') with a table of rows
 *   <tr><td><a href="HREF">NAME</a></td><td>SIZE</td><td>YYYY-MM-DD HH:MM:SS</td></tr>
 * led by a "../" row unless URL_PATH is "/". HREF is the name with every
 * byte outside A-Z a-z 0-9 - . _ ~ percent-encoded; NAME is HTML-escaped
 * (& < > " '), with bytes that are not UTF-8, and control bytes, shown
 * as U+FFFD. Directories end in '/' in both and have "-" as their size.
 *
 * JSON: one line,
 *   [{"name":"a.txt","type":"file","size":12,"mtime":"2024-01-02T03:04:05Z"},
 *    {"name":"dir","type":"directory","size":null,"mtime":"..."}]
 * with '"', '\' and control bytes escaped (\n, \t, \u001f ...), and
 * each byte that is not part of valid UTF-8 written as \ufffd. */
ssize_t rh_listing_write(int dirfd, const char *url_path, size_t url_len,
			 enum rh_listing_format format, bool hide_dotfiles, struct rh_buf *out);

#define RH_LISTING_ETAG_MAX 64
/* The listing's ETag from the directory's fstat: "\"d-INO-SIZE-MTIMENS-h\""
 * (hex; "-j" for JSON), so the two forms never share a tag. Returns its
 * length. Last-Modified is the directory's st_mtime. */
size_t rh_listing_etag(char out[RH_LISTING_ETAG_MAX], const struct stat *st,
		       enum rh_listing_format format);

#endif
