/* Directory listings (`directory_listing = true`): an HTML page or a JSON
 * array of a directory's entries, in three steps: collect the entries
 * (bounded), render them, and (listing_cache.h) share the result. Not on
 * the ring threads: collecting reads the directory and stats every entry. */
#ifndef RH_LISTING_H
#define RH_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* A growable output buffer: P is malloc'd (NULL while empty). */
struct rh_buf {
	char *p;
	size_t len, cap;
};
void rh_buf_free(struct rh_buf *b);

enum rh_listing_format { RH_LISTING_HTML, RH_LISTING_JSON };

#define RH_LISTING_HTML_TYPE "text/html; charset=utf-8"
#define RH_LISTING_JSON_TYPE "application/json"

struct rh_listing_entry {
	char *name; /* malloc'd, NUL-terminated */
	size_t len;
	bool dir;
	uint64_t size;
	time_t mtime;
};

/* The entries a listing shows. */
struct rh_listing_entries {
	struct rh_listing_entry *v; /* sorted by name, bytewise */
	size_t n;		    /* in V: at most the cap */
	size_t cap;		    /* private: V's allocation */
	size_t total;		    /* listable entries in the directory, N of them shown */
	time_t newest;		    /* the newest mtime of the directory and the N entries */
};

/* Collects the entries of directory DIR_FD (any descriptor of it, O_PATH
 * too; it is not read through, so its offset does not move). DIR_PATH is
 * the directory's path under ROOT_FD, '/'-led as serving has it (a '/' is
 * added if it does not end in one).
 *
 * An entry is listed as serving would resolve it: a symbolic link is
 * opened with openat2(ROOT_FD, "DIR_PATH/NAME", RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so a link that leaves the root names what it
 * names inside the root (usually nothing), and then left out unless it
 * is a directory or a regular file. Other entries are statted in DIR_FD
 * (no link to follow: it is what serving opens). Left out too: dangling
 * links, devices, sockets, FIFOs, "." and "..", names beginning with '.'
 * when HIDE_DOTFILES, and anything that fails to stat.
 *
 * Only the first MAX_ENTRIES entries by name are kept (0 keeps none), by
 * a max-heap of that size, so the memory held is bounded whatever the
 * directory's size; TOTAL counts all the listable ones (a file or a
 * directory past the cap by the type its directory entry gives, without
 * a stat: only those kept and the links are statted). Returns 0, or
 * -errno when the directory cannot be read (-ENOENT once it is removed;
 * OUT is then empty). */
int rh_listing_collect(int root_fd, const char *dir_path, size_t dir_len, int dir_fd,
		       bool hide_dotfiles, unsigned max_entries, struct rh_listing_entries *out);
void rh_listing_entries_free(struct rh_listing_entries *e);

/* Appends the listing of E to OUT: 0, or -ENOMEM (OUT as it was).
 * Dates are the modification time in UTC.
 *
 * HTML: a fixed page titled "Index of URL_PATH" (URL_PATH: the
 * directory's decoded request path, ending in '/') with a table of rows
 *   <tr><td><a href="HREF">NAME</a></td><td>SIZE</td><td>YYYY-MM-DD HH:MM:SS</td></tr>
 * led by a "../" row unless URL_PATH is "/". HREF is the name with every
 * byte outside A-Z a-z 0-9 - . _ ~ percent-encoded; NAME is HTML-escaped
 * (& < > " '), with bytes that are not UTF-8, and control bytes, shown
 * as U+FFFD. Directories end in '/' in both and have "-" as their size.
 * When entries were left out by the cap, the table is followed by
 *   <p>The first N of TOTAL entries are shown.</p>
 *
 * JSON: one line,
 *   [{"name":"a.txt","type":"file","size":12,"mtime":"2024-01-02T03:04:05Z"},
 *    {"name":"dir","type":"directory","size":null,"mtime":"..."}]
 * with '"', '\' and control bytes escaped (\n, \t, \u001f ...), and
 * each byte that is not part of valid UTF-8 written as \ufffd. It stays a
 * plain array of entries: past the cap it holds the first N by name and
 * no marker (a client that receives exactly listing_max_entries entries
 * may not have them all). */
int rh_listing_render(const struct rh_listing_entries *e, const char *url_path, size_t url_len,
		      enum rh_listing_format format, struct rh_buf *out);

#endif
