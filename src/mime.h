/* File extension -> media type. The built-in table of common web types
 * answers first (the same on every distribution), then the system's
 * mime.types, and the configuration's `types` group overrides both. */
#ifndef RH_MIME_H
#define RH_MIME_H

#include <stddef.h>

#include "config.h"

#define RH_MIME_DEFAULT "application/octet-stream"
#define RH_MIME_TYPES_FILE "/etc/mime.types"

struct rh_mime;

/* MIME_TYPES_FILE may be absent (then only the built-in table and the
 * overrides answer). Returns NULL when out of memory. */
struct rh_mime *rh_mime_new(const char *mime_types_file,
			    const struct rh_type_override *overrides, size_t n_overrides);
void rh_mime_free(struct rh_mime *m);
/* The media type for a file name (or path): by its last extension, case
 * insensitive; RH_MIME_DEFAULT when none is known. */
const char *rh_mime_lookup(const struct rh_mime *m, const char *name, size_t len);

#endif
