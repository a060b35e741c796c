# vmsilo-core. `make`, `make check`, `make install` (DESTDIR, PREFIX, libdir).
VERSION := 0.1.0
.DEFAULT_GOAL := all

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
bindir ?= $(prefix)/bin
libdir ?= $(prefix)/lib
includedir ?= $(prefix)/include
datadir ?= $(prefix)/share
plugindir ?= $(libdir)/vmsilo/plugins
confdir ?= $(prefix)/lib/vmsilo/conf.d
# where `exec` looks for its guest and `make install-guest` puts it (like confdir, not under
# libdir: so a packaged vmsilo-core and `make install-guest PREFIX=/usr` agree)
guestdir ?= $(prefix)/lib/vmsilo/guest
pkgconfigdir ?= $(libdir)/pkgconfig

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
ifeq ($(SANITIZE),1)
CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
BASE_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -MMD -MP
CORE_CFLAGS := $(BASE_CFLAGS) -Icore -I. -Isdk -DVMSILO_VERSION='"$(VERSION)"' \
	-DVMSILO_PLUGIN_DIR='"$(plugindir)"' -DVMSILO_GUEST_DIR='"$(guestdir)"' \
	$(shell $(PKG_CONFIG) --cflags inih json-c)
CORE_LIBS := $(shell $(PKG_CONFIG) --libs inih json-c) -ldl -pthread
PLUGIN_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Isdk
PLUGIN_LDFLAGS := -shared -Wl,--no-undefined -Wl,-z,defs
ifeq ($(SANITIZE),1)
# the sanitizer runtime lives in the executable, so plugins have undefined symbols by design
PLUGIN_LDFLAGS := -shared
endif

# proto/: the agent protocol (frames, framer, byte queue), built into the host and the guest
PROTO_SRCS := $(wildcard proto/*.c)
PROTO_OBJS := $(PROTO_SRCS:%.c=$(BUILD)/%.o)
# core/: cli/ (commands, exit codes), config/ (INI, key tables, settings), plugin/ (loader,
# host table, the phases), backend/ (crosvm, QEMU, QMP, snapshots), run/ (supervisor, agent,
# multiplexer, console, client socket, run state), util/. Includes name the folder: "util/log.h".
CORE_DIRS := cli config plugin backend run util
CORE_SRCS := $(filter-out core/cli/main.c,$(foreach d,$(CORE_DIRS),$(wildcard core/$(d)/*.c)))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(PROTO_OBJS)

# guest/: vmsilo-init (PID 1 and the agent), a static binary. Its objects are built twice:
# $(BUILD)/static/ for the binary (never sanitized: no ASan runtime in a static binary) and
# $(BUILD)/guest/ (with CFLAGS, sanitized under SANITIZE=1) for its unit tests.
GUEST_SRCS := $(wildcard guest/*.c)
GUEST_CFLAGS := $(BASE_CFLAGS)
GUEST_BIN_CFLAGS ?= -O2 -g
GUEST_BIN_OBJS := $(patsubst %.c,$(BUILD)/static/%.o,$(GUEST_SRCS) $(PROTO_SRCS))
GUEST_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out guest/vmsilo-init.c,$(GUEST_SRCS))) \
	$(PROTO_OBJS)

# In-tree plugins: plugins/NAME/*.c -> $(BUILD)/plugins/NAME.so. A plugin's libraries:
# plugins/NAME/pkgs lists pkg-config packages, plugins/NAME/libs raw linker flags.
plugin_deps = $(if $(wildcard plugins/$(1)/pkgs),$(shell $(PKG_CONFIG) --cflags --libs \
	$$(cat plugins/$(1)/pkgs))) $(shell cat plugins/$(1)/libs 2>/dev/null)
plugin_cflags = $(if $(wildcard plugins/$(1)/pkgs),$(shell $(PKG_CONFIG) --cflags \
	$$(cat plugins/$(1)/pkgs)))
PLUGINS := $(notdir $(wildcard plugins/*))
PLUGIN_SOS := $(PLUGINS:%=$(BUILD)/plugins/%.so)
# A plugin's companions (host->companion(), docs/plugin-guide.md): plugins/NAME/companion/PART.c
# -> $(BUILD)/plugins/NAME/PART.so, installed as NAME/PART.so next to NAME.so. A plugin that has companions
# links its libraries into them, not into NAME.so, so a command that does not need them does
# not load them.
companions_of = $(patsubst plugins/$(1)/companion/%.c,$(BUILD)/plugins/$(1)/%.so, \
	$(wildcard plugins/$(1)/companion/*.c))
PLUGIN_COMPANIONS := $(foreach p,$(PLUGINS),$(call companions_of,$(p)))
plugin_libs = $(if $(call companions_of,$(1)),$(call plugin_cflags,$(1)),$(call plugin_deps,$(1)))
# Programs a plugin runs, installed next to it: plugins/NAME/launch/PROG.c (+ the plugin's
# safedir.c) -> $(BUILD)/plugins/PROG
PLUGIN_PROGRAMS := $(BUILD)/plugins/virtiofs-launch

# Loader fixtures: tests/fixtures/NAME.c -> $(BUILD)/fixtures/NAME.so
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_SOS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(BUILD)/fixtures/%.so)
# and a companion of the fixture `good` (host->companion())
FIXTURE_SOS += $(BUILD)/fixtures/good/extra.so

# A plugin built against the frozen ABI 1.0 header (tests/fixtures/abi10): it must keep loading
ABI10_SO := $(BUILD)/fixtures/abi10/example.so

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-*.c))
# Guest unit tests: tests/guest/unit/test-NAME.c, linked with the guest's objects and proto/
GUEST_UNIT_TESTS := $(patsubst tests/guest/unit/%.c,$(BUILD)/tests/guest/%, \
	$(wildcard tests/guest/unit/test-*.c))
UNIT_TESTS += $(GUEST_UNIT_TESTS)
# Plugin unit tests: plugins/NAME/test-NAME.c, linked with the plugin's sources and the mock host
PLUGIN_TESTS := $(foreach p,$(PLUGINS),$(if $(wildcard plugins/$(p)/test-$(p).c),$(BUILD)/tests/test-plugin-$(p)))

# mk/*.mk add rules and append to EXTRA_INSTALL (install targets) and EXTRA_CHECK (test
# targets run by `make check`): man pages, units, completion, packaging.
-include $(sort $(wildcard mk/*.mk))

all: $(BUILD)/vmsilo-core $(PLUGIN_SOS) $(PLUGIN_COMPANIONS) $(PLUGIN_PROGRAMS) \
	$(BUILD)/vmsilo-plugin.pc \
	$(BUILD)/vmsilo-init

$(BUILD)/vmsilo-core: $(BUILD)/core/cli/main.o $(CORE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/proto/%.o: proto/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -c -o $@ $<

$(BUILD)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/static/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_BIN_CFLAGS) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/vmsilo-init: $(GUEST_BIN_OBJS)
	$(CC) -static -o $@ $^

$(BUILD)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libguest.a: $(GUEST_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(BUILD)/plugins/%.so: $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/*.h) sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_CFLAGS) $(LDFLAGS) $(PLUGIN_LDFLAGS) -o $@ \
		$(filter-out plugins/$*/test-%,$(filter %.c,$^)) $(call plugin_libs,$*)

define companion_rule
$(BUILD)/plugins/$(1)/$(2).so: plugins/$(1)/companion/$(2).c $$(wildcard plugins/$(1)/*.h) \
		sdk/vmsilo/plugin.h
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(PLUGIN_CFLAGS) -Iplugins/$(1) $$(LDFLAGS) $$(PLUGIN_LDFLAGS) -o $$@ $$< \
		$$(call plugin_deps,$(1))
endef
$(foreach p,$(PLUGINS),$(foreach c,$(notdir $(basename $(wildcard plugins/$(p)/companion/*.c))), \
	$(eval $(call companion_rule,$(p),$(c)))))

$(BUILD)/plugins/virtiofs-launch: plugins/virtiofs/launch/virtiofs-launch.c \
		plugins/virtiofs/safedir.c plugins/virtiofs/safedir.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/fixtures/good/extra.so: tests/fixtures/good/extra.c tests/fixtures/hooklog.h \
		sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_CFLAGS) $(LDFLAGS) -shared -o $@ $<

$(BUILD)/fixtures/%.so: tests/fixtures/%.c sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_CFLAGS) $(LDFLAGS) -shared -o $@ $<

$(ABI10_SO): tests/fixtures/abi10/example.c tests/fixtures/abi10/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Itests/fixtures/abi10 $(LDFLAGS) \
		-shared -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcore.a \
		$(CORE_LIBS) -lcunit

$(BUILD)/tests/guest/%: tests/guest/unit/%.c tests/guest/unit/guest-testutil.h $(BUILD)/libguest.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GUEST_CFLAGS) -Iguest $(LDFLAGS) -o $@ $< $(BUILD)/libguest.a -lcunit

# (-rdynamic: the mock host's companion() finds the companion's symbol in the test binary)
$(BUILD)/tests/test-plugin-%: $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/companion/*.c) \
		$$(wildcard plugins/%/*.h) tests/mock-host/mock-host.c tests/mock-host/mock-host.h \
		sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -Isdk -Itests/mock-host -Iplugins/$* $(LDFLAGS) -rdynamic \
		-o $@ $(filter %.c,$^) $(call plugin_deps,$*) -ldl -lcunit

$(BUILD)/fake-crosvm: tests/fake-crosvm/fake-crosvm.c tests/fake-crosvm/run-options.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/vmsilo-plugin.pc: sdk/vmsilo-plugin.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@prefix@|$(prefix)|g' -e 's|@includedir@|$(includedir)|g' \
	    -e 's|@plugindir@|$(plugindir)|g' -e 's|@confdir@|$(confdir)|g' \
	    -e 's|@version@|$(VERSION)|g' $< > $@

test-programs: all $(UNIT_TESTS) $(PLUGIN_TESTS) $(FIXTURE_SOS) $(ABI10_SO) $(BUILD)/fake-crosvm

# Unit tests (CUnit), the same under ASan/UBSan, then the tests that run the built binary.
check: test-programs
	$(MAKE) --no-print-directory check-format
	BUILD=$(BUILD) tests/run-unit.sh $(UNIT_TESTS) $(PLUGIN_TESTS)
	$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 CC=clang test-programs
	BUILD=build-asan tests/run-unit.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_TESTS) $(PLUGIN_TESTS))
	tests/fake-crosvm/test-fake-crosvm.sh
	BUILD=build-asan tests/run-shell.sh tests/cli/*.sh
	BUILD=$(BUILD) tests/run-shell.sh tests/cli/*.sh
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(foreach t,$(EXTRA_CHECK),$(MAKE) --no-print-directory $(t) &&) true
	BUILD=$(BUILD) tests/run-e2e.sh
	BUILD=$(BUILD) tests/run-faults.sh
	BUILD=$(BUILD) tests/run-systemd.sh
	BUILD=$(BUILD) tests/run-distro.sh
	BUILD=$(BUILD) tests/run-security.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

# libFuzzer targets, each run for FUZZ_SECONDS (`make check`: CHECK_FUZZ_SECONDS each):
# fuzz-frames, the host's parser of guest frames (proto/framer.c, proto/proto.c); fuzz-mux,
# the supervisor's agent multiplexer driven from the guest and three clients at once.
FUZZ_SECONDS ?= 20
CHECK_FUZZ_SECONDS ?= 5
FUZZ_TARGETS := fuzz-frames fuzz-mux
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz-frames: tests/fuzz/fuzz-frames.c proto/framer.c proto/proto.c proto/framer.h proto/proto.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/fuzz-mux: tests/fuzz/fuzz-mux.c core/run/agentmux.c core/util/log.c \
		core/util/socket-util.c $(PROTO_SRCS) $(wildcard proto/*.h) core/run/agentmux.h \
		core/util/log.h core/util/macro.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Icore -I. -o $@ $(filter %.c,$^)

fuzz-programs: $(FUZZ_TARGETS:%=$(BUILD)/%)

# `make fuzz FUZZ_TARGETS=fuzz-mux FUZZ_SECONDS=300` runs one target; its corpus is kept
fuzz: fuzz-programs
	set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz-corpus/$$t; \
		$(BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=200000 \
			$(BUILD)/fuzz-corpus/$$t; \
	done

format:
	clang-format -i $(FORMAT_FILES)

check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

install: all $(EXTRA_INSTALL)
	install -Dm755 $(BUILD)/vmsilo-core $(DESTDIR)$(bindir)/vmsilo-core
	install -d $(DESTDIR)$(plugindir) $(DESTDIR)$(confdir)
	for so in $(PLUGIN_SOS); do install -m644 $$so $(DESTDIR)$(plugindir)/; done
	for so in $(PLUGIN_COMPANIONS); do \
		install -Dm644 $$so $(DESTDIR)$(plugindir)/$${so#$(BUILD)/plugins/}; done
	for p in $(PLUGIN_PROGRAMS); do install -m755 $$p $(DESTDIR)$(plugindir)/; done
	for f in $(wildcard conf.d/*.conf); do install -m644 $$f $(DESTDIR)$(confdir)/; done
	install -Dm644 sdk/vmsilo/plugin.h $(DESTDIR)$(includedir)/vmsilo/plugin.h
	install -Dm644 $(BUILD)/vmsilo-plugin.pc $(DESTDIR)$(pkgconfigdir)/vmsilo-plugin.pc

# The exec guest (Debian's cloud kernel + the vmsilo initramfs), where `exec` looks for it.
install-guest:
	scripts/build-guest.sh $(DESTDIR)$(guestdir)

clean:
	rm -rf build build-asan

demo:
	scripts/demo.sh

.PHONY: install-guest fuzz fuzz-programs demo all check install clean format check-format test-programs

-include $(wildcard $(BUILD)/core/*/*.d $(BUILD)/proto/*.d $(BUILD)/guest/*.d \
	$(BUILD)/static/*/*.d)
