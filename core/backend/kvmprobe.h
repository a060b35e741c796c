/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Whether KVM really runs a guest here: creates a VM with one vCPU that executes `hlt` and
 * waits up to timeout_ms for KVM_EXIT_HLT, in a child process (a KVM that opens but hangs
 * is common in nested setups). Returns 1 if it works, 0 if not; `reason` gets why.
 */
int kvm_usable(const char *dev, unsigned timeout_ms, char *reason, size_t reason_size);
