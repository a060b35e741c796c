# The vmsilo-guest package's files (docs/guest.md): the agent (the static vmsilo-init, run as
# vmsilo-agent), its systemd unit, the udev rule that starts it, the generator and an
# initramfs-tools script (no network in the initramfs). Not part
# of `make install` (that is the host): `make install-guest-agent DESTDIR=...` installs them
# into a guest's root (debian/rules: into the vmsilo-guest package). Included by the Makefile.
agentdir ?= $(prefix)/libexec/vmsilo
udevrulesdir ?= $(prefix)/lib/udev/rules.d
systemdgeneratordir ?= $(prefix)/lib/systemd/system-generators
guest_unitdir ?= $(unitdir)

# the static agent (guest/ and proto/) with the package's hardening flags
GUEST_AGENT_SRCS := $(sort $(wildcard guest/*.c proto/*.c))

$(BUILD)/agent/vmsilo-agent: $(GUEST_AGENT_SRCS) $(wildcard guest/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static \
		$(filter-out -pie,$(LDFLAGS)) -o $@ $(GUEST_AGENT_SRCS)

$(BUILD)/agent/vmsilo-agent.service: guest/systemd/vmsilo-agent.service $(INSTALL_DIRS_STAMP)
	@mkdir -p $(dir $@)
	sed -e 's|@agentdir@|$(agentdir)|g' $< >$@

guest-agent: $(BUILD)/agent/vmsilo-agent $(BUILD)/agent/vmsilo-agent.service

install-guest-agent: guest-agent
	install -Dm755 $(BUILD)/agent/vmsilo-agent $(DESTDIR)$(agentdir)/vmsilo-agent
	install -Dm644 $(BUILD)/agent/vmsilo-agent.service $(DESTDIR)$(guest_unitdir)/vmsilo-agent.service
	install -Dm644 guest/systemd/60-vmsilo-agent.rules $(DESTDIR)$(udevrulesdir)/60-vmsilo-agent.rules
	install -Dm755 guest/systemd/vmsilo-generator $(DESTDIR)$(systemdgeneratordir)/vmsilo-generator
	install -Dm755 guest/initramfs-tools/vmsilo-guest \
		$(DESTDIR)$(datadir)/initramfs-tools/scripts/local-bottom/vmsilo-guest
	install -Dm644 docs/guest.md $(DESTDIR)$(datadir)/doc/vmsilo-guest/README.md

.PHONY: guest-agent install-guest-agent
