# Fitting vmsilo-core into a system: manual pages (scdoc), bash completion, systemd units,
# the polkit rule, and their tests (tests/pkg/: the SDK with an out-of-tree plugin, units,
# polkit, completion, man pages, the Debian packages). Included by the top Makefile.
#
# Directories (override like the Makefile's own: make install unitdir=/lib/systemd/system):
.SECONDEXPANSION:
mandir ?= $(datadir)/man
bashcompletiondir ?= $(datadir)/bash-completion/completions
unitdir ?= $(prefix)/lib/systemd/system
userunitdir ?= $(prefix)/lib/systemd/user
polkitrulesdir ?= $(datadir)/polkit-1/rules.d
# where systemd-socket-proxyd is (the relay of vmsilo-run@.service)
systemdutildir ?= $(or $(shell $(PKG_CONFIG) --variable=systemdutildir systemd 2>/dev/null),/usr/lib/systemd)

MAN_PAGES := vmsilo-core.1 vmsilo.conf.5 vmsilo-plugin.7
MAN_OUT := $(MAN_PAGES:%=$(BUILD)/man/%)
UNITS := vmsilo@.service vmsilo-run@.socket vmsilo-run@.service
UNIT_OUT := $(UNITS:%=$(BUILD)/systemd/%)
USER_UNIT_OUT := $(BUILD)/systemd/user/vmsilo@.service

# Everything compiled with an installation path in it is rebuilt when that path changes, so
# `make` then `make install PREFIX=/usr` does not install a binary and a vmsilo-plugin.pc that
# still point into /usr/local. (The stamp is rewritten only when the paths differ.)
INSTALL_DIRS_STAMP := $(BUILD)/.install-dirs
INSTALL_DIRS = $(prefix) $(bindir) $(libdir) $(includedir) $(plugindir) $(confdir) $(guestdir) \
	$(VERSION)
$(INSTALL_DIRS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(INSTALL_DIRS)' | cmp -s - $@ 2>/dev/null || echo '$(INSTALL_DIRS)' >$@
$(BUILD)/vmsilo-plugin.pc $(CORE_OBJS) $(BUILD)/core/cli/main.o: $(INSTALL_DIRS_STAMP)

# Manual pages: vmsilo.conf(5) and vmsilo-plugin(7) are generated from the Markdown pages
# (docs/man/gen.sh), so they list every key of every plugin in plugins/.
$(BUILD)/man/%: docs/man/gen.sh docs/man/md2scd.awk $$(wildcard docs/man/%.scd docs/man/%.scd.in) \
		docs/vmsilo.conf.md docs/plugin-guide.md $$(wildcard plugins/*/*.md)
	@mkdir -p $(dir $@)
	sh docs/man/gen.sh . $* >$@.scd
	scdoc <$@.scd >$@.tmp && mv $@.tmp $@

man: $(MAN_OUT)

install-man: $(MAN_OUT)
	for p in $(MAN_PAGES); do \
		install -Dm644 $(BUILD)/man/$$p $(DESTDIR)$(mandir)/man$${p##*.}/$$p || exit 1; \
	done

install-completion:
	install -Dm644 completion/vmsilo-core.bash $(DESTDIR)$(bashcompletiondir)/vmsilo-core

$(BUILD)/systemd/%: systemd/%.in $(INSTALL_DIRS_STAMP)
	@mkdir -p $(dir $@)
	sed -e 's|@bindir@|$(bindir)|g' -e 's|@systemdutildir@|$(systemdutildir)|g' $< >$@

install-systemd: $(UNIT_OUT) $(USER_UNIT_OUT)
	install -d $(DESTDIR)$(unitdir) $(DESTDIR)$(userunitdir)
	install -m644 $(UNIT_OUT) $(DESTDIR)$(unitdir)/
	install -m644 $(USER_UNIT_OUT) $(DESTDIR)$(userunitdir)/

install-polkit:
	install -Dm644 polkit/50-vmsilo.rules $(DESTDIR)$(polkitrulesdir)/50-vmsilo.rules

EXTRA_INSTALL += install-man install-completion install-systemd install-polkit

# Tests. check-pkg: the shell tests of tests/pkg (one staged `make install PREFIX=/usr`,
# copied by each test); check-deb: dpkg-buildpackage, lintian, and the packages installed
# into a scratch root (tests/pkg/deb-packages.sh; about a minute).
PKG_STAGE := $(BUILD)/pkg/stage

pkg-stage:
	rm -rf $(PKG_STAGE) $(BUILD)/pkg/build
	$(MAKE) --no-print-directory BUILD=$(BUILD)/pkg/build PREFIX=/usr prefix=/usr \
		DESTDIR=$(abspath $(PKG_STAGE)) install >/dev/null

check-pkg: all $(BUILD)/fake-crosvm pkg-stage
	BUILD=$(BUILD) VMSILO_STAGED=$(abspath $(PKG_STAGE)) tests/run-shell.sh tests/pkg/test-*.sh

check-deb: all $(BUILD)/fake-crosvm
	BUILD=$(BUILD) tests/run-shell.sh tests/pkg/deb-packages.sh

EXTRA_CHECK += check-pkg check-deb

.PHONY: FORCE man install-man install-completion install-systemd install-polkit pkg-stage \
	check-pkg check-deb
FORCE:
