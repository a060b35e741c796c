# Benchmarks (bench/README.md). vmsilo-portbench is the guest half of the raw virtio-console
# port benchmark: static like vmsilo-init, with the same warnings, put into the test guest's
# initramfs by scripts/build-guest.sh. check-bench is `bench/run.sh --quick`: a smoke run that
# checks the bench still works end to end (no timing is asserted). Included by the Makefile.
$(BUILD)/vmsilo-portbench: bench/guest/vmsilo-portbench.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_BIN_CFLAGS) $(GUEST_CFLAGS) -static -o $@ $<

all: $(BUILD)/vmsilo-portbench

check-bench: all $(BUILD)/fake-crosvm
	BUILD=$(BUILD) bench/run.sh --quick

EXTRA_CHECK += check-bench

.PHONY: check-bench
