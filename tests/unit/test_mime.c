#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "mime.h"

#define LOOKUP(m, name) rh_mime_lookup((m), (name), strlen(name))

int main(void)
{
	char path[] = "/tmp/rh-mime-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct rh_type_override ov[] = { { "md", "text/markdown" }, { "TXT", "text/plain; charset=utf-8" } };
	struct rh_mime *m;

	fputs("# comment\ntext/css css\napplication/x-odt odt ODT2\n"
	      "image/x-custom\ttest   tst\n", f);
	fclose(f);

	m = rh_mime_new(path, ov, 2);
	CHECK(m != NULL);
	/* the built-in table answers before the system file */
	CHECK_STR(LOOKUP(m, "/a/index.html"), "text/html");
	CHECK_STR(LOOKUP(m, "x.CSS"), "text/css");
	CHECK_STR(LOOKUP(m, "app.js"), "text/javascript");
	CHECK_STR(LOOKUP(m, "m.mjs"), "text/javascript");
	CHECK_STR(LOOKUP(m, "a.wasm"), "application/wasm");
	CHECK_STR(LOOKUP(m, "a.swf"), "application/x-shockwave-flash");
	CHECK_STR(LOOKUP(m, "a.woff2"), "font/woff2");
	/* then the system file */
	CHECK_STR(LOOKUP(m, "doc.odt"), "application/x-odt");
	CHECK_STR(LOOKUP(m, "doc.odt2"), "application/x-odt");
	CHECK_STR(LOOKUP(m, "p.tst"), "image/x-custom");
	/* and the configuration overrides both */
	CHECK_STR(LOOKUP(m, "README.md"), "text/markdown");
	CHECK_STR(LOOKUP(m, "a.txt"), "text/plain; charset=utf-8");
	/* unknown, no extension, a dot in a directory name */
	CHECK_STR(LOOKUP(m, "a.unknownext"), RH_MIME_DEFAULT);
	CHECK_STR(LOOKUP(m, "Makefile"), RH_MIME_DEFAULT);
	CHECK_STR(LOOKUP(m, "/a.html/file"), RH_MIME_DEFAULT);
	CHECK_STR(LOOKUP(m, "trailing."), RH_MIME_DEFAULT);
	CHECK_STR(LOOKUP(m, "x.tar.gz.html"), "text/html");
	rh_mime_free(m);

	/* without a system file the built-in table still answers */
	m = rh_mime_new("/nonexistent/mime.types", NULL, 0);
	CHECK_STR(LOOKUP(m, "a.png"), "image/png");
	CHECK_STR(LOOKUP(m, "doc.odt"), RH_MIME_DEFAULT);
	rh_mime_free(m);
	unlink(path);
	return check_done("mime");
}
