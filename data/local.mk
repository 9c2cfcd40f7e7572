# automake fragment included by Makefile.am
ringhttpdconfdir = $(sysconfdir)/ringhttpd
dist_ringhttpdconf_DATA = data/ringhttpd.conf
wwwdir = $(pkgdatadir)/www
dist_www_DATA = data/www/index.html

dist_man_MANS = data/ringhttpd.8 data/ringhttpd.conf.5 data/ringhttpd-cert.8

# journald reads catalogs under /usr/lib (and /usr/local/lib) /systemd/catalog;
# systemd's packages update the catalog database when a file lands there.
catalogdir = $(prefix)/lib/systemd/catalog
dist_catalog_DATA = data/ringhttpd.catalog

# The service, ringhttpd-cert and certbot's deploy hook name installed
# files, so they are made at build time from their templates with this
# build's directories (GNU coding standards: installation directories are
# substituted by make, not by configure).
dist_systemdsystemunit_DATA = data/ringhttpd.socket data/ringhttpd-https.socket
nodist_systemdsystemunit_DATA = data/ringhttpd.service
sbin_SCRIPTS = data/ringhttpd-cert
# certbot runs every program of this directory after a renewal.
certbothookdir = $(sysconfdir)/letsencrypt/renewal-hooks/deploy
certbothook_SCRIPTS = data/certbot/ringhttpd
DATA_TEMPLATES = data/ringhttpd.service data/ringhttpd-cert data/certbot/ringhttpd
EXTRA_DIST += $(DATA_TEMPLATES:=.in)
CLEANFILES += $(DATA_TEMPLATES)

$(DATA_TEMPLATES): Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/$@.in > $@.tmp && \
	mv $@.tmp $@
data/ringhttpd.service: data/ringhttpd.service.in
data/ringhttpd-cert: data/ringhttpd-cert.in
data/certbot/ringhttpd: data/certbot/ringhttpd.in
