# automake fragment included by Makefile.am
ringhttpdconfdir = $(sysconfdir)/ringhttpd
dist_ringhttpdconf_DATA = data/ringhttpd.conf
wwwdir = $(pkgdatadir)/www
dist_www_DATA = data/www/index.html

dist_man_MANS = data/ringhttpd.8 data/ringhttpd.conf.5

# journald reads catalogs under /usr/lib (and /usr/local/lib) /systemd/catalog;
# systemd's packages update the catalog database when a file lands there.
catalogdir = $(prefix)/lib/systemd/catalog
dist_catalog_DATA = data/ringhttpd.catalog

# The service names the installed binary, so it is made at build time from
# its template with this build's sbindir (GNU coding standards: installation
# directories are substituted by make, not by configure).
dist_systemdsystemunit_DATA = data/ringhttpd.socket
nodist_systemdsystemunit_DATA = data/ringhttpd.service
EXTRA_DIST += data/ringhttpd.service.in
CLEANFILES += data/ringhttpd.service

data/ringhttpd.service: data/ringhttpd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) data && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/data/ringhttpd.service.in > $@.tmp && \
	mv $@.tmp $@
