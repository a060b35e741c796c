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
CORE_CFLAGS := $(BASE_CFLAGS) -DVMSILO_VERSION='"$(VERSION)"' \
	-DVMSILO_PLUGIN_DIR='"$(plugindir)"' -DVMSILO_GUEST_DIR='"$(libdir)/vmsilo/guest"' \
	$(shell $(PKG_CONFIG) --cflags inih)
CORE_LIBS := $(shell $(PKG_CONFIG) --libs inih) -ldl
PLUGIN_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Isdk
PLUGIN_LDFLAGS := -shared -Wl,--no-undefined -Wl,-z,defs
ifeq ($(SANITIZE),1)
# the sanitizer runtime lives in the executable, so plugins have undefined symbols by design
PLUGIN_LDFLAGS := -shared
endif

CORE_SRCS := $(filter-out core/main.c,$(wildcard core/*.c)) guest/proto.c
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)

# In-tree plugins: plugins/NAME/*.c -> $(BUILD)/plugins/NAME.so. A plugin's libraries:
# plugins/NAME/pkgs lists pkg-config packages, plugins/NAME/libs raw linker flags.
plugin_deps = $(if $(wildcard plugins/$(1)/pkgs),$(shell $(PKG_CONFIG) --cflags --libs \
	$$(cat plugins/$(1)/pkgs))) $(shell cat plugins/$(1)/libs 2>/dev/null)
PLUGINS := $(notdir $(wildcard plugins/*))
PLUGIN_SOS := $(PLUGINS:%=$(BUILD)/plugins/%.so)

# Loader fixtures: tests/fixtures/NAME.c -> $(BUILD)/fixtures/NAME.so
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_SOS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(BUILD)/fixtures/%.so)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-*.c))
# Plugin unit tests: plugins/NAME/test-NAME.c, linked with the plugin's sources and the mock host
PLUGIN_TESTS := $(foreach p,$(PLUGINS),$(if $(wildcard plugins/$(p)/test-$(p).c),$(BUILD)/tests/test-plugin-$(p)))

# mk/*.mk add rules and append to EXTRA_INSTALL (install targets) and EXTRA_CHECK (test
# targets run by `make check`): man pages, units, completion, packaging.
-include $(sort $(wildcard mk/*.mk))

all: $(BUILD)/vmsilo-core $(PLUGIN_SOS) $(BUILD)/vmsilo-plugin.pc

$(BUILD)/vmsilo-core: $(BUILD)/core/main.o $(CORE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/guest/proto.o: guest/proto.c guest/proto.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(BUILD)/plugins/%.so: $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/*.h) sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_CFLAGS) $(LDFLAGS) $(PLUGIN_LDFLAGS) -o $@ \
		$(filter-out plugins/$*/test-%,$(filter %.c,$^)) $(call plugin_deps,$*)

$(BUILD)/fixtures/%.so: tests/fixtures/%.c sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_CFLAGS) $(LDFLAGS) -shared -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_CFLAGS) -Icore $(LDFLAGS) -o $@ $< $(BUILD)/libcore.a \
		$(CORE_LIBS) -lcunit

$(BUILD)/tests/test-plugin-%: $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/*.h) \
		tests/mock-host/mock-host.c tests/mock-host/mock-host.h sdk/vmsilo/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -Isdk -Itests/mock-host -Iplugins/$* $(LDFLAGS) -o $@ \
		$(filter %.c,$^) $(call plugin_deps,$*) -lcunit

$(BUILD)/fake-crosvm: tests/fake-crosvm/fake-crosvm.c tests/fake-crosvm/run-options.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/vmsilo-plugin.pc: sdk/vmsilo-plugin.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@prefix@|$(prefix)|g' -e 's|@includedir@|$(includedir)|g' \
	    -e 's|@plugindir@|$(plugindir)|g' -e 's|@confdir@|$(confdir)|g' \
	    -e 's|@version@|$(VERSION)|g' $< > $@

test-programs: all $(UNIT_TESTS) $(PLUGIN_TESTS) $(FIXTURE_SOS) $(BUILD)/fake-crosvm

# Unit tests (CUnit), the same under ASan/UBSan, then the tests that run the built binary.
check: test-programs
	$(MAKE) --no-print-directory check-format
	BUILD=$(BUILD) tests/run-unit.sh $(UNIT_TESTS) $(PLUGIN_TESTS)
	$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 CC=clang test-programs
	BUILD=build-asan tests/run-unit.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_TESTS) $(PLUGIN_TESTS))
	tests/fake-crosvm/test-fake-crosvm.sh
	BUILD=build-asan tests/run-shell.sh tests/cli/*.sh
	BUILD=$(BUILD) tests/run-shell.sh tests/cli/*.sh
	$(MAKE) --no-print-directory fuzz
	$(foreach t,$(EXTRA_CHECK),$(MAKE) --no-print-directory $(t) &&) true
	BUILD=$(BUILD) tests/run-e2e.sh
	BUILD=$(BUILD) tests/run-faults.sh
	BUILD=$(BUILD) tests/run-security.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

# The host-side parser of guest frames under libFuzzer, for FUZZ_SECONDS (CI: a short run).
FUZZ_SECONDS ?= 20
$(BUILD)/fuzz-frames: tests/fuzz/fuzz-frames.c core/framer.c guest/proto.c core/framer.h guest/proto.h
	@mkdir -p $(dir $@)
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^)

fuzz: $(BUILD)/fuzz-frames
	mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz-frames -max_total_time=$(FUZZ_SECONDS) -max_len=200000 $(BUILD)/fuzz-corpus

format:
	clang-format -i $(FORMAT_FILES)

check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

install: all $(EXTRA_INSTALL)
	install -Dm755 $(BUILD)/vmsilo-core $(DESTDIR)$(bindir)/vmsilo-core
	install -d $(DESTDIR)$(plugindir) $(DESTDIR)$(confdir)
	for so in $(PLUGIN_SOS); do install -m644 $$so $(DESTDIR)$(plugindir)/; done
	for f in $(wildcard conf.d/*.conf); do install -m644 $$f $(DESTDIR)$(confdir)/; done
	install -Dm644 sdk/vmsilo/plugin.h $(DESTDIR)$(includedir)/vmsilo/plugin.h
	install -Dm644 $(BUILD)/vmsilo-plugin.pc $(DESTDIR)$(pkgconfigdir)/vmsilo-plugin.pc

# The exec guest (Debian's cloud kernel + the vmsilo initramfs), where `exec` looks for it.
install-guest:
	scripts/build-guest.sh $(DESTDIR)$(libdir)/vmsilo/guest

clean:
	rm -rf build build-asan

demo:
	scripts/demo.sh

.PHONY: install-guest fuzz demo all check install clean format check-format test-programs

-include $(wildcard $(BUILD)/core/*.d $(BUILD)/guest/*.d)
