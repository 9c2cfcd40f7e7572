#include "mime.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXT_MAX 16

struct mime_entry {
	char ext[EXT_MAX];
	const char *type;
};

/* Open-addressing hash table; types are interned in `strings`. */
struct rh_mime {
	struct mime_entry *slots;
	size_t mask;
	char **strings;
	size_t n_strings;
};

static const struct {
	const char *ext;
	const char *type;
} builtin[] = {
	{ "html", "text/html" },	{ "htm", "text/html" },
	{ "css", "text/css" },		{ "js", "text/javascript" },
	{ "mjs", "text/javascript" },	{ "json", "application/json" },
	{ "txt", "text/plain" },	{ "xml", "application/xml" },
	{ "jpg", "image/jpeg" },	{ "jpeg", "image/jpeg" },
	{ "png", "image/png" },		{ "gif", "image/gif" },
	{ "svg", "image/svg+xml" },	{ "ico", "image/x-icon" },
	{ "webp", "image/webp" },	{ "avif", "image/avif" },
	{ "woff", "font/woff" },	{ "woff2", "font/woff2" },
	{ "wasm", "application/wasm" }, { "pdf", "application/pdf" },
	{ "mp4", "video/mp4" },		{ "webm", "video/webm" },
	{ "mp3", "audio/mpeg" },	{ "swf", "application/x-shockwave-flash" },
	{ "map", "application/json" },	{ "webmanifest", "application/manifest+json" },
};

static uint32_t hash_ext(const char *ext)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *ext; ext++)
		h = (h ^ (unsigned char)*ext) * 16777619u;
	return h;
}

/* Lower-cases NAME[0..LEN) into OUT; false when it cannot be an extension. */
static bool normalize_ext(const char *name, size_t len, char out[EXT_MAX])
{
	if (len == 0 || len >= EXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return true;
}

static struct mime_entry *find_slot(const struct rh_mime *m, const char *ext)
{
	for (size_t i = hash_ext(ext) & m->mask;; i = (i + 1) & m->mask)
		if (!m->slots[i].type || !strcmp(m->slots[i].ext, ext))
			return &m->slots[i];
}

static const char *intern(struct rh_mime *m, const char *type)
{
	char **grown;

	for (size_t i = 0; i < m->n_strings; i++)
		if (!strcmp(m->strings[i], type))
			return m->strings[i];
	grown = realloc(m->strings, (m->n_strings + 1) * sizeof *grown);
	if (!grown)
		return NULL;
	m->strings = grown;
	if (!(grown[m->n_strings] = strdup(type)))
		return NULL;
	return grown[m->n_strings++];
}

/* Sets EXT's type; REPLACE says whether an earlier answer gives way. The
 * table is sized so that it never fills (see rh_mime_new). */
static bool put(struct rh_mime *m, const char *ext, size_t len, const char *type, bool replace)
{
	char key[EXT_MAX];
	struct mime_entry *e;

	if (!normalize_ext(ext, len, key))
		return true; /* too long to ever match: ignore */
	e = find_slot(m, key);
	if (e->type && !replace)
		return true;
	memcpy(e->ext, key, sizeof key);
	e->type = intern(m, type);
	return e->type != NULL;
}

/* An upper bound of the extensions in mime.types: its words. */
static size_t count_words(FILE *f)
{
	size_t n = 0;
	bool in_word = false;
	int c;

	while ((c = getc(f)) != EOF) {
		bool space = isspace(c);
		n += in_word && space;
		in_word = !space;
	}
	rewind(f);
	return n + 1;
}

/* mime.types: "type ext ext ..." per line, '#' comments. */
static bool load_mime_types(struct rh_mime *m, FILE *f)
{
	char line[1024];

	while (fgets(line, sizeof line, f)) {
		char *save, *type, *ext;

		if (line[0] == '#')
			continue;
		type = strtok_r(line, " \t\r\n", &save);
		if (!type)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n", &save)))
			if (!put(m, ext, strlen(ext), type, false))
				return false;
	}
	return true;
}

struct rh_mime *rh_mime_new(const char *mime_types_file,
			    const struct rh_type_override *overrides, size_t n_overrides)
{
	size_t n_builtin = sizeof builtin / sizeof builtin[0];
	FILE *f = mime_types_file ? fopen(mime_types_file, "re") : NULL;
	size_t need = n_builtin + n_overrides + (f ? count_words(f) : 0);
	struct rh_mime *m = calloc(1, sizeof *m);
	size_t cap = 64;
	bool ok;

	while (cap < 2 * need)
		cap *= 2;
	if (m)
		m->slots = calloc(cap, sizeof *m->slots);
	ok = m && m->slots;
	if (ok) {
		m->mask = cap - 1;
		for (size_t i = 0; ok && i < n_builtin; i++)
			ok = put(m, builtin[i].ext, strlen(builtin[i].ext), builtin[i].type, true);
		if (ok && f)
			ok = load_mime_types(m, f);
		for (size_t i = 0; ok && i < n_overrides; i++)
			ok = put(m, overrides[i].ext, strlen(overrides[i].ext), overrides[i].type,
				 true);
	}
	if (f)
		fclose(f);
	if (!ok) {
		rh_mime_free(m);
		return NULL;
	}
	return m;
}

void rh_mime_free(struct rh_mime *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_strings; i++)
		free(m->strings[i]);
	free(m->strings);
	free(m->slots);
	free(m);
}

const char *rh_mime_lookup(const struct rh_mime *m, const char *name, size_t len)
{
	char key[EXT_MAX];
	size_t dot = len;
	const struct mime_entry *e;

	while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/')
		dot--;
	if (dot == 0 || name[dot - 1] != '.' || !normalize_ext(name + dot, len - dot, key))
		return RH_MIME_DEFAULT;
	e = find_slot(m, key);
	return e->type ? e->type : RH_MIME_DEFAULT;
}
