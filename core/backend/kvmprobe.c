/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "backend/kvmprobe.h"
#include "util/macro.h"
#include "util/process.h"

/* Child: 0 = halted as expected, 1..9 = which step failed. */
static int run_hlt_guest(const char *dev) {
        struct kvm_userspace_memory_region region = { .memory_size = 0x1000,
                                                      .guest_phys_addr = 0x1000 };
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
        struct kvm_run *run;
        int kvm, vm, vcpu, size;
        uint8_t *mem;

        kvm = open(dev, O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return 1;
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0)
                return 2;
        mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                return 3;
        mem[0] = 0xf4; /* hlt */
        region.userspace_addr = (uintptr_t) mem;
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return 4;
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (vcpu < 0 || size <= 0)
                return 5;
        run = mmap(NULL, (size_t) size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
                return 6;
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                return 7;
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
                return 8;
        return run->exit_reason == KVM_EXIT_HLT ? 0 : 9;
}

/* 1 if /proc/cpuinfo lists vmx or svm: hardware virtualisation, not a paravirtual KVM. */
static int cpu_has_virt(void) {
        FILE *f = fopen("/proc/cpuinfo", "re");
        char line[4096];
        int found = 0;

        if (!f)
                return 1; /* cannot tell: trust the test guest */
        while (!found && fgets(line, sizeof(line), f))
                if (strncmp(line, "flags", 5) == 0)
                        found = strstr(line, " vmx") || strstr(line, " svm");
        fclose(f);
        return found;
}

int kvm_usable(const char *dev, unsigned timeout_ms, char *reason, size_t reason_size) {
        int status = 0;
        pid_t pid;

        if (access(dev, R_OK | W_OK) < 0 && errno == EACCES) {
                /* a desktop user's own VM: KVM is the kvm group's */
                snprintf(reason, reason_size,
                         "'%s' is not usable: %s; to use KVM, an administrator adds you to its "
                         "group ('usermod -a -G kvm USER', then log in again)",
                         dev, strerror(errno));
                return 0;
        }
        if (access(dev, R_OK | W_OK) < 0) {
                snprintf(reason, reason_size, "'%s' is not usable: %s", dev, strerror(errno));
                return 0;
        }
        pid = fork();
        if (pid < 0) {
                snprintf(reason, reason_size, "fork failed: %s", strerror(errno));
                return 0;
        }
        if (pid == 0)
                _exit(run_hlt_guest(dev));
        for (uint64_t deadline = now_ms() + timeout_ms;;) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                if (now_ms() >= deadline) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        snprintf(reason, reason_size,
                                 "'%s' opens, but a test guest did not run within %u ms", dev,
                                 timeout_ms);
                        return 0;
                }
                sleep_ms(5);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                snprintf(reason, reason_size, "'%s' failed a test guest (step %d)", dev,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return 0;
        }
        if (!cpu_has_virt()) {
                /* seen with PVM hosts: a real-mode test passes, a Linux guest hangs */
                snprintf(
                        reason, reason_size,
                        "'%s' runs a test guest, but the CPU has no vmx or svm flag (a paravirtual KVM), where full guests hang",
                        dev);
                return 0;
        }
        snprintf(reason, reason_size, "a test guest ran on '%s'", dev);
        return 1;
}
