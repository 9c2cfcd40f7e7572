# Distribution packages, built from the tarball that `make dist` makes.
#   make deb                 .deb files into pkg/ (DEB_REVISION=N appends a
#                            changelog entry N to build the same source as a
#                            newer Debian revision, for upgrade tests)
#   make rpm                 .rpm and .src.rpm files into pkg/
#                            (RPMBUILD_FLAGS=--nocheck skips make check, as
#                            DEB_BUILD_OPTIONS=nocheck does for make deb)
#   make check-packages      builds both, compares their file lists, runs
#                            lintian and rpmlint
# The package builds run apart from this make (no MAKEFLAGS passed down).

EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/ringhttpd.lintian-overrides \
	debian/ringhttpd.docs \
	debian/ringhttpd.postinst \
	debian/ringhttpd.postrm \
	debian/rules \
	debian/source/format \
	rpm/ringhttpd.rpmlintrc \
	rpm/ringhttpd.spec \
	tests/packaging/check-packages

PKGDIR = pkg
DEB_REVISION =
RPMBUILD_FLAGS =

deb: dist-gzip
	@set -e; tmp=`mktemp -d`; trap 'rm -rf "$$tmp"' EXIT HUP INT TERM; \
	tar -C "$$tmp" -xzf $(distdir).tar.gz; \
	cd "$$tmp/$(distdir)"; \
	version=`dpkg-parsechangelog -S Version`; \
	if test "$${version%-*}" != "$(VERSION)"; then \
	  echo "debian/changelog is at $$version, configure.ac at $(VERSION): add a changelog entry" >&2; \
	  exit 1; \
	fi; \
	if test -n "$(DEB_REVISION)"; then \
	  new="$(VERSION)-$(DEB_REVISION)"; \
	  if ! dpkg --compare-versions "$$new" gt "$$version"; then \
	    echo "DEB_REVISION=$(DEB_REVISION): $$new is not newer than $$version" >&2; \
	    exit 1; \
	  fi; \
	  { printf '%s (%s) %s; urgency=medium\n\n  * Rebuild as revision %s.\n\n -- %s  %s\n\n' \
	      "`dpkg-parsechangelog -S Source`" "$$new" "`dpkg-parsechangelog -S Distribution`" \
	      "$(DEB_REVISION)" "`dpkg-parsechangelog -S Maintainer`" "`date -R`"; \
	    cat debian/changelog; } > debian/changelog.new; \
	  mv debian/changelog.new debian/changelog; \
	fi; \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -Jauto; \
	cd "$$tmp"; \
	mkdir -p "$(abs_builddir)/$(PKGDIR)"; \
	cp *.deb *.buildinfo *.changes "$(abs_builddir)/$(PKGDIR)/"; \
	ls *.deb *.changes | sed 's|^|$(PKGDIR)/|'

# On a system whose rpm database does not manage it (rpm on Debian), rpmbuild
# cannot check the BuildRequires (--nodeps), and two settings of Fedora's
# build configuration are supplied: doc and license directories named
# without the version, and man pages compressed (Debian's brp-compress needs
# bash).
rpm: dist-gzip
	@set -e; top=`mktemp -d`; trap 'rm -rf "$$top"' EXIT HUP INT TERM; \
	spec=$(srcdir)/rpm/ringhttpd.spec; \
	version=`rpmspec -q --srpm --qf '%{version}' "$$spec"`; \
	if test "$$version" != "$(VERSION)"; then \
	  echo "rpm/ringhttpd.spec is at $$version, configure.ac at $(VERSION): update Version and %changelog" >&2; \
	  exit 1; \
	fi; \
	set --; \
	if ! rpm -q rpm >/dev/null 2>&1; then \
	  echo "note: rpm does not manage this system: building with --nodeps"; \
	  set -- --nodeps --define '_docdir_fmt %%{NAME}' \
	    --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}'; \
	fi; \
	mkdir "$$top/SOURCES"; \
	cp $(distdir).tar.gz "$$top/SOURCES/"; \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL rpmbuild -ba "$$@" $(RPMBUILD_FLAGS) --define "_topdir $$top" "$$spec"; \
	mkdir -p "$(abs_builddir)/$(PKGDIR)"; \
	cp "$$top"/RPMS/*/*.rpm "$$top"/SRPMS/*.rpm "$(abs_builddir)/$(PKGDIR)/"; \
	cd "$$top"; ls RPMS/*/*.rpm SRPMS/*.rpm | sed 's|^.*/|$(PKGDIR)/|'

check-packages: deb rpm
	$(SHELL) $(srcdir)/tests/packaging/check-packages $(PKGDIR) $(VERSION)

clean-local: clean-packaging
clean-packaging:
	rm -rf $(PKGDIR)

.PHONY: deb rpm check-packages clean-packaging
