/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the vfio plugin against the mock host, over sysfs/dev fixture trees made in a
 * temp dir (the layout of the real sysfs: devices under sys/devices/pci0000:00, links from
 * sys/bus/pci/devices, iommu_group and driver links, group member links). A small "kernel"
 * (pci_write_hook) plays the kernel's part when the plugin writes driver_override, unbind,
 * bind or drivers_probe, so prepare and undo are checked by the state they leave and by the
 * exact writes they make.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock-host.h"
#include "pci.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;
#define P vmsilo_plugin_v1

static struct mock_host m;
static const char *const crosvm_caps[] = { "vfio guest address", "vfio iommu", NULL };
static void *state;
static char root[64];
#define REL_MAX (PATH_MAX - 64)

/* ---- fixture trees ----------------------------------------------------------------- */

static void fx_file(const char *content, const char *fmt, ...) {
        char path[PATH_MAX], rel[REL_MAX];
        va_list ap;
        FILE *f;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", root, rel);
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(content, f);
        fclose(f);
}

static void fx_mkdirs(const char *rel) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s%s", root, rel);
        for (char *p = path + strlen(root) + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        (void) mkdir(path, 0755);
                        *p = '/';
                }
        (void) mkdir(path, 0755);
}

static void fx_link(const char *target, const char *fmt, ...) {
        char path[PATH_MAX], rel[REL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", root, rel);
        (void) unlink(path);
        CU_ASSERT_EQUAL(symlink(target, path), 0);
}

static int fx_exists(const char *fmt, ...) {
        char path[PATH_MAX], rel[REL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", root, rel);
        return access(path, F_OK) == 0;
}

static void fx_unlink(const char *fmt, ...) {
        char path[PATH_MAX], rel[REL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", root, rel);
        (void) unlink(path);
}

static void fx_driver(const char *name) {
        char rel[REL_MAX];

        snprintf(rel, sizeof(rel), "/sys/bus/pci/drivers/%s", name);
        if (fx_exists("%s", rel))
                return;
        fx_mkdirs(rel);
        fx_file("", "%s/bind", rel);
        fx_file("", "%s/unbind", rel);
}

/* The driver `bdf` is bound to, "" for none. */
static const char *fx_driver_of(const char *bdf) {
        static char name[256];
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", root, bdf);
        name[0] = 0;
        return pci_read_link_name(path, name, sizeof(name)) == 0 ? name : "";
}

static const char *fx_read(const char *fmt, ...) {
        static char buf[256];
        char path[PATH_MAX], rel[REL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", root, rel);
        if (pci_read_attr(path, buf, sizeof(buf)) < 0)
                return "(missing)";
        return buf;
}

static void fx_bind(const char *bdf, const char *driver) {
        char target[PATH_MAX];

        fx_unlink("/sys/devices/pci0000:00/%s/driver", bdf);
        if (!driver || !driver[0])
                return;
        fx_driver(driver);
        snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
        fx_link(target, "/sys/devices/pci0000:00/%s/driver", bdf);
}

/* A device on the root bus: class, driver_override, optional group and driver. The driver
 * it had at "boot" is kept in a test-only file, for drivers_probe. */
static void fx_device(const char *bdf, const char *class, const char *group, const char *driver) {
        char rel[REL_MAX], target[PATH_MAX];

        snprintf(rel, sizeof(rel), "/sys/devices/pci0000:00/%s", bdf);
        fx_mkdirs(rel);
        fx_file(class, "%s/class", rel);
        fx_file("(null)\n", "%s/driver_override", rel);
        fx_file(driver ? driver : "", "%s/.native", rel);
        snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
        fx_link(target, "/sys/bus/pci/devices/%s", bdf);
        if (group) {
                snprintf(rel, sizeof(rel), "/sys/kernel/iommu_groups/%s/devices", group);
                fx_mkdirs(rel);
                snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
                fx_link(target, "%s/%s", rel, bdf);
                snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%s", group);
                fx_link(target, "/sys/devices/pci0000:00/%s/iommu_group", bdf);
        }
        fx_bind(bdf, driver);
        if (group && driver && strcmp(driver, "vfio-pci") == 0)
                fx_file("", "/dev/vfio/%s", group);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static void fx_new(void) {
        char path[PATH_MAX];

        snprintf(root, sizeof(root), "/tmp/vmsilo-vfio-test.XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
        fx_mkdirs("/sys/bus/pci/devices");
        fx_mkdirs("/sys/kernel/iommu_groups");
        fx_mkdirs("/sys/devices/pci0000:00");
        fx_mkdirs("/dev/vfio");
        fx_file("", "/sys/bus/pci/drivers_probe");
        fx_file("", "/dev/vfio/vfio");
        snprintf(path, sizeof(path), "%s/dev/vfio/vfio", root);
        CU_ASSERT_EQUAL(chmod(path, 0666), 0); /* as the kernel makes it */
        fx_driver("vfio-pci");
}

static void fx_free(void) {
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the kernel's part -------------------------------------------------------------- */

static char writes[4096]; /* "REL=VALUE\n" per write, VALUE "\n" shown as "" */
static int refuse_probe;  /* drivers_probe binds nothing */

static void group_node(const char *bdf, int create) {
        char path[PATH_MAX], group[256];

        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/iommu_group", root, bdf);
        if (pci_read_link_name(path, group, sizeof(group)) < 0)
                return;
        if (create)
                fx_file("", "/dev/vfio/%s", group);
        else
                fx_unlink("/dev/vfio/%s", group);
}

static void kernel_bind(const char *bdf, const char *driver) {
        if (!fx_exists("/sys/bus/pci/drivers/%s", driver) || fx_driver_of(bdf)[0])
                return;
        fx_bind(bdf, driver);
        if (strcmp(driver, "vfio-pci") == 0)
                group_node(bdf, 1);
}

static int ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void kernel(const char *path, const char *value) {
        const char *rel = path + strlen(root);
        char bdf[64], driver[256], override[256];
        size_t len = strlen(writes);

        snprintf(writes + len, sizeof(writes) - len, "%s=%s\n", rel,
                 strcmp(value, "\n") == 0 ? "" : value);
        snprintf(bdf, sizeof(bdf), "%s", value);
        if (sscanf(rel, "/sys/bus/pci/devices/%63[^/]/driver_override", bdf) == 1) {
                if (strcmp(value, "\n") == 0)
                        fx_file("(null)\n", "%s", rel);
        } else if (sscanf(rel, "/sys/bus/pci/drivers/%255[^/]", driver) == 1 &&
                   ends_with(rel, "/unbind")) {
                if (strcmp(fx_driver_of(bdf), driver) == 0) {
                        fx_bind(bdf, NULL);
                        if (strcmp(driver, "vfio-pci") == 0)
                                group_node(bdf, 0);
                }
        } else if (sscanf(rel, "/sys/bus/pci/drivers/%255[^/]", driver) == 1 &&
                   ends_with(rel, "/bind")) {
                kernel_bind(bdf, driver);
        } else if (strcmp(rel, "/sys/bus/pci/drivers_probe") == 0 && !refuse_probe) {
                snprintf(override, sizeof(override), "%s",
                         fx_read("/sys/bus/pci/devices/%s/driver_override", bdf));
                if (strcmp(override, "(null)") != 0 && override[0])
                        kernel_bind(bdf, override);
                else if (fx_read("/sys/devices/pci0000:00/%s/.native", bdf)[0])
                        kernel_bind(bdf, fx_read("/sys/devices/pci0000:00/%s/.native", bdf));
        }
}

/* ---- plugin driving ------------------------------------------------------------------ */

static void setup(void) {
        fx_new();
        mock_host_init(&m);
        m.root = root;
        m.uid = geteuid();
        m.gid = getegid();
        writes[0] = 0;
        refuse_probe = 0;
        pci_write_hook = kernel;
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &P, &state), 0);
}

static void teardown(void) {
        P.teardown(state);
        mock_host_done(&m);
        fx_free();
}

static int conf(const char *instance, const char *key, const char *value) {
        return mock_host_configure(&m, &P, state, instance, key, value);
}

static int n_errors(void) {
        int n = 0;

        for (int i = 0; i < m.n_logs; i++)
                n += m.log_levels[i] <= VMSILO_LOG_ERROR;
        return n;
}

static void dump_logs(void) {
        for (int i = 0; i < m.n_logs; i++)
                fprintf(stderr, "  log %d: %s\n", m.log_levels[i], m.logs[i]);
}

#define ASSERT_LOGGED(text)                                       \
        do {                                                      \
                int found_ = mock_host_logged(&m, text);          \
                if (!found_) {                                    \
                        fprintf(stderr, "\nmissing: %s\n", text); \
                        dump_logs();                              \
                }                                                 \
                CU_ASSERT(found_);                                \
        } while (0)

/* ---- parsing --------------------------------------------------------------------------- */

static void test_vfio_bdf_spellings(void) {
        static const char *const good[][2] = {
                { "1:0.0", "0000:01:00.0" },
                { "01:00.0", "0000:01:00.0" },
                { "0000:01:00.0", "0000:01:00.0" },
                { "0000:0A:1F.7", "0000:0a:1f.7" },
                { "0:1f.3", "0000:00:1f.3" },
                { "10000:e1:00.0", "10000:e1:00.0" },
                { "/sys/bus/pci/devices/0000:01:00.0", "0000:01:00.0" },
                { "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.1/", "0000:01:00.1" },
        };
        static const char *const bad[] = {
                "",
                "01:00",
                "01:20.0",
                "01:00.8",
                "0000:01:00.0x",
                "g1:00.0",
                "100:00.0",
                "0000:01:00.0 ",
                ":01:00.0",
                "0000::00.0",
                "123456789:00:00.0",
                "/etc/0000:01:00.0",
                "/sys/bus/pci/devices/01:00.0",
                "/sys/../0000:01:00.0",
                "sys/bus/pci/devices/0000:01:00.0",
                "/sys/bus/pci/devices/",
        };
        char out[PCI_BDF_MAX];

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                CU_ASSERT_EQUAL(pci_parse_bdf(good[i][0], out), 0);
                CU_ASSERT_STRING_EQUAL(out, good[i][1]);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = pci_parse_bdf(bad[i], out);

                if (r != -EINVAL)
                        fprintf(stderr, "\naccepted bad BDF '%s'\n", bad[i]);
                CU_ASSERT_EQUAL(r, -EINVAL);
        }
}

static void test_vfio_guest_address_spellings(void) {
        char out[PCI_GUEST_MAX];

        CU_ASSERT_EQUAL(pci_parse_guest_address("00:05.0", out), 0);
        CU_ASSERT_STRING_EQUAL(out, "00:05.0");
        CU_ASSERT_EQUAL(pci_parse_guest_address("0:5.0", out), 0);
        CU_ASSERT_STRING_EQUAL(out, "00:05.0");
        CU_ASSERT_EQUAL(pci_parse_guest_address("0000:01:1F.7", out), 0);
        CU_ASSERT_STRING_EQUAL(out, "01:1f.7");
        CU_ASSERT_EQUAL(pci_parse_guest_address("0001:00:05.0", out), -EINVAL);
        CU_ASSERT_EQUAL(pci_parse_guest_address("00:20.0", out), -EINVAL);
        CU_ASSERT_EQUAL(pci_parse_guest_address("5.0", out), -EINVAL);
        CU_ASSERT_EQUAL(pci_parse_guest_address("00:05", out), -EINVAL);
        CU_ASSERT_EQUAL(pci_parse_guest_address("/sys/bus/pci/devices/0000:00:05.0", out), -EINVAL);
}

/* ---- configuration ----------------------------------------------------------------------- */

static void test_vfio_config_bad_values(void) {
        setup();
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00"), -EINVAL);
        ASSERT_LOGGED(
                "invalid value '01:00' for 'device' in [vfio gpu]: expected a PCI address such as 0000:01:00.0 or 01:00.0, or its sysfs path such as /sys/bus/pci/devices/0000:01:00.0");
        CU_ASSERT_EQUAL(conf("gpu", "iommu", "on"), -EINVAL);
        ASSERT_LOGGED(
                "invalid value 'on' for 'iommu' in [vfio gpu]: expected off, viommu, coiommu or pkvm-iommu");
        CU_ASSERT_EQUAL(conf("gpu", "guest-address", "00:32.0"), -EINVAL);
        ASSERT_LOGGED(
                "invalid value '00:32.0' for 'guest-address' in [vfio gpu]: expected BUS:DEV.FN in hex such as 00:05.0");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "0000:01:00.0 zz"), -EINVAL);
        ASSERT_LOGGED("invalid value 'zz' for 'reserve' in [vfio]: expected PCI addresses");
        CU_ASSERT_EQUAL(conf("gpu", "reserve", "01:00.0"), -EINVAL);
        ASSERT_LOGGED("'reserve' belongs in [vfio] (without a name), not in [vfio gpu]");
        CU_ASSERT_EQUAL(conf(NULL, "device", "01:00.0"), -EINVAL);
        ASSERT_LOGGED("'device' belongs in a named section [vfio NAME], not in [vfio]");
        CU_ASSERT_EQUAL(conf("gpu", "colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(conf(NULL, "colour", "red"), -ENOENT);
        teardown();

        /* an unknown key creates no half section */
        setup();
        CU_ASSERT_EQUAL(conf("gpu", "colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
}

static void test_vfio_contribute_crosvm(void) {
        setup();
        m.root = "/somewhere/else"; /* crosvm gets the real sysfs path, never the root */
        CU_ASSERT_EQUAL(conf("gpu", "device", "1:0.0"), 0);
        CU_ASSERT_EQUAL(conf("gpu", "guest-address", "0:5.0"), 0);
        CU_ASSERT_EQUAL(conf("gpu", "iommu", "viommu"), 0);
        CU_ASSERT_EQUAL(conf("audio", "device", "/sys/bus/pci/devices/0000:01:00.1"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "0000:03:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "iommu", "off"), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 3);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_VFIO);
        CU_ASSERT_STRING_EQUAL(m.devices[0].path, "/sys/bus/pci/devices/0000:01:00.0");
        CU_ASSERT_PTR_NULL(m.devices[0].options); /* no VMM syntax */
        CU_ASSERT_STRING_EQUAL(m.devices[0].pci_address, "00:05.0");
        CU_ASSERT_EQUAL(m.devices[0].iommu, VMSILO_IOMMU_VIOMMU);
        CU_ASSERT_STRING_EQUAL(m.devices[1].path, "/sys/bus/pci/devices/0000:01:00.1");
        CU_ASSERT_PTR_NULL(m.devices[1].pci_address);
        CU_ASSERT_EQUAL(m.devices[1].iommu, VMSILO_IOMMU_DEFAULT);
        CU_ASSERT_STRING_EQUAL(m.devices[2].path, "/sys/bus/pci/devices/0000:03:00.0");
        CU_ASSERT_EQUAL(m.devices[2].iommu, VMSILO_IOMMU_OFF);
        CU_ASSERT_EQUAL(m.n_kernel_params, 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        m.root = root;
        teardown();
}

static void test_vfio_contribute_qemu_warns_about_crosvm_keys(void) {
        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = NULL;
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("gpu", "guest-address", "00:05.0"), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_STRING_EQUAL(m.devices[0].path, "/sys/bus/pci/devices/0000:01:00.0");
        ASSERT_LOGGED(
                "'guest-address' and 'iommu' cannot be given to this VMM (the mock VMM cannot "
                "do 'vfio guest address'), ignoring");
        CU_ASSERT_PTR_NULL(m.devices[0].pci_address);
        CU_ASSERT_EQUAL(m.log_levels[0], VMSILO_LOG_WARNING);
        teardown();
}

static void test_vfio_no_devices_does_nothing(void) {
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        fx_unlink("/dev/vfio/vfio"); /* not even the IOMMU is looked at */
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL(m.n_devices + m.n_logs + m.n_undos + m.n_steps, 0);
        CU_ASSERT_STRING_EQUAL(writes, "");
        teardown();
}

static void test_vfio_config_sections_incomplete_or_duplicate(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "1", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "guest-address", "00:05.0"), 0);
        CU_ASSERT_EQUAL(conf("a", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("b", "device", "/sys/bus/pci/devices/0000:01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("b", "guest-address", "0:5.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED("[vfio gpu] has no 'device ='");
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' is passed twice to this VM: in [vfio a] and [vfio b]");
        ASSERT_LOGGED("guest address '00:05.0' is used twice: in [vfio gpu] and [vfio b]");
        CU_ASSERT_EQUAL(n_errors(), 3);
        /* print runs no preflight: prepare and contribute refuse the same sections */
        CU_ASSERT_EQUAL(P.prepare(state), -EINVAL);
        CU_ASSERT_EQUAL(P.contribute(state), -EINVAL);
        CU_ASSERT_EQUAL(n_errors(), 3); /* logged once */
        CU_ASSERT_EQUAL(m.n_devices, 0);
        teardown();
}

static void test_vfio_reserve_list_accumulates_and_resets(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "1", "e1000e");
        fx_device("0000:02:00.0", "0x020000", "2", "e1000e");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "0000:01:00.0, 2:0.0"), 0);
        CU_ASSERT_EQUAL(conf(NULL, "reserve", ""), 0);
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "02:00.0"), 0);
        CU_ASSERT_EQUAL(conf("a", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("b", "device", "02:00.0"), 0);
        /* 01:00.0 is no longer reserved: an error; 02:00.0 still is: rebound at prepare */
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' ([vfio a], IOMMU group 1) is bound to 'e1000e', not vfio-pci: add it to 'reserve' in [vfio] so that it is rebound at start, or bind it to vfio-pci");
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

/* ---- preflight over group shapes --------------------------------------------------------- */

static void test_vfio_check_clean_group(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        if (m.n_logs)
                dump_logs();
        CU_ASSERT_STRING_EQUAL(writes, ""); /* preflight never writes */
        teardown();
}

static void test_vfio_check_peer_bound_to_host_driver(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        fx_device("0000:01:00.1", "0x040300", "7", "snd_hda_intel");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' ([vfio gpu], IOMMU group 7) shares its group with '0000:01:00.1', which is bound to 'snd_hda_intel': pass '0000:01:00.1' to this VM too, unbind it, or bind it to vfio-pci");
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_peer_passed_to_same_vm(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        fx_device("0000:01:00.1", "0x040300", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("gpu-audio", "device", "01:00.1"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
}

static void test_vfio_check_bridge_unbound_and_vfio_peers_are_fine(void) {
        setup();
        fx_device("0000:00:01.0", "0x060400", "7", "pcieport");
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        fx_device("0000:01:00.1", "0x040300", "7", NULL);
        fx_device("0000:01:00.2", "0x0c0330", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        if (m.n_logs)
                dump_logs();
        teardown();
}

static void test_vfio_check_non_bridge_class_0600_peer_is_not_a_bridge(void) {
        setup();
        fx_device("0000:00:00.0", "0x060000", "7", "hostbridge");
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED("shares its group with '0000:00:00.0', which is bound to 'hostbridge'");
        teardown();
}

static void test_vfio_check_missing_group(void) {
        setup();
        fx_device("0000:00:02.0", "0x030000", "1", "vfio-pci");
        fx_device("0000:01:00.0", "0x030000", NULL, "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' of [vfio gpu] is in no IOMMU group: the IOMMU does not cover it, so it cannot be passed through");
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_iommu_disabled(void) {
        char msg[PATH_MAX + 256];

        setup();
        fx_device("0000:01:00.0", "0x030000", NULL, NULL);
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("other", "device", "02:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        snprintf(
                msg, sizeof(msg),
                "the IOMMU is not enabled: '%s/sys/kernel/iommu_groups' is empty; enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on",
                root);
        ASSERT_LOGGED(msg);
        /* one error for the IOMMU, not one per device; a missing device is still named */
        ASSERT_LOGGED("PCI device '0000:02:00.0' of [vfio other] does not exist: no '");
        CU_ASSERT_EQUAL(n_errors(), 2);
        teardown();
}

static void test_vfio_check_missing_device(void) {
        char msg[PATH_MAX + 256];

        setup();
        fx_device("0000:01:00.0", "0x030000", "1", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "0000:05:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        snprintf(
                msg, sizeof(msg),
                "PCI device '0000:05:00.0' of [vfio gpu] does not exist: no '%s/sys/bus/pci/devices/0000:05:00.0'",
                root);
        ASSERT_LOGGED(msg);
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_not_bound_and_not_reserved(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        fx_device("0000:02:00.0", "0x020000", "4", NULL);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("spare", "device", "02:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' ([vfio nic], IOMMU group 3) is bound to 'e1000e', not vfio-pci");
        ASSERT_LOGGED(
                "PCI device '0000:02:00.0' ([vfio spare], IOMMU group 4) is bound to no driver, not vfio-pci: add it to 'reserve' in [vfio] so that it is bound at start, or bind it to vfio-pci");
        CU_ASSERT_EQUAL(n_errors(), 2);
        teardown();
}

static void test_vfio_check_reserved_device_passes_before_binding(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "0000:01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        /* no /dev/vfio/3 yet: it appears when prepare binds the device */
        CU_ASSERT_FALSE(fx_exists("/dev/vfio/3"));
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        if (m.n_logs)
                dump_logs();
        teardown();
}

static void test_vfio_check_driver_not_loaded(void) {
        char msg[PATH_MAX + 256];

        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        fx_unlink("/sys/bus/pci/drivers/vfio-pci/bind");
        fx_unlink("/sys/bus/pci/drivers/vfio-pci/unbind");
        snprintf(msg, sizeof(msg), "%s/sys/bus/pci/drivers/vfio-pci", root);
        CU_ASSERT_EQUAL(rmdir(msg), 0);
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        snprintf(
                msg, sizeof(msg),
                "the vfio-pci driver is not loaded: no '%s/sys/bus/pci/drivers/vfio-pci'; load it (modprobe vfio-pci, or list it in /etc/modules-load.d)",
                root);
        ASSERT_LOGGED(msg);
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_dev_node_access_for_the_vm_user(void) {
        char node[PATH_MAX], msg[PATH_MAX + 256];

        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        snprintf(node, sizeof(node), "%s/dev/vfio/7", root);
        /* the VMM runs as another user than the file's owner */
        m.uid = geteuid() == 4242 ? 4243 : 4242;
        m.gid = 4242;
        CU_ASSERT_EQUAL(chmod(node, 0600), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        snprintf(
                msg, sizeof(msg),
                "'%s' of IOMMU group 7 (PCI device '0000:01:00.0', [vfio gpu]) is not readable and writable by uid %u: Permission denied",
                node, m.uid);
        ASSERT_LOGGED(msg);
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();

        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        snprintf(node, sizeof(node), "%s/dev/vfio/7", root);
        m.uid = geteuid() == 4242 ? 4243 : 4242;
        CU_ASSERT_EQUAL(chmod(node, 0666), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        /* a bound device whose group has no node at all */
        fx_unlink("/dev/vfio/7");
        P.teardown(state);
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &P, &state), 0);
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "of IOMMU group 7 (PCI device '0000:01:00.0', [vfio gpu]) does not exist although the device is bound to vfio-pci");
        teardown();
}

static void test_vfio_check_container_access(void) {
        char msg[PATH_MAX + 256];

        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        fx_unlink("/dev/vfio/vfio");
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        snprintf(
                msg, sizeof(msg),
                "'%s/dev/vfio/vfio' is not readable and writable by uid %u: No such file or directory",
                root, m.uid);
        ASSERT_LOGGED(msg);
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_sysfs_path_spelling(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        CU_ASSERT_EQUAL(conf("a", "device", "/sys/devices/pci0000:00/0000:01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("b", "device", "/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0"),
                        0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0' of [vfio b] does not exist");
        CU_ASSERT_EQUAL(n_errors(), 1);
        teardown();
}

static void test_vfio_check_all_problems_in_one_report(void) {
        setup();
        fx_device("0000:00:01.0", "0x060400", "1", "pcieport");
        fx_device("0000:01:00.0", "0x030000", "1", "vfio-pci");
        fx_device("0000:01:00.1", "0x040300", "1", "snd_hda_intel");
        fx_device("0000:01:00.2", "0x0c0330", "1", "xhci_hcd");
        fx_device("0000:02:00.0", "0x020000", "2", "e1000e");
        fx_device("0000:03:00.0", "0x020000", NULL, NULL);
        CU_ASSERT_EQUAL(conf("gpu", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "02:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic2", "device", "03:00.0"), 0);
        CU_ASSERT_EQUAL(conf("ghost", "device", "04:00.0"), 0);
        CU_ASSERT_EQUAL(conf("half", "iommu", "off"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED("[vfio half] has no 'device ='");
        ASSERT_LOGGED("shares its group with '0000:01:00.1', which is bound to 'snd_hda_intel'");
        ASSERT_LOGGED("shares its group with '0000:01:00.2', which is bound to 'xhci_hcd'");
        ASSERT_LOGGED("PCI device '0000:02:00.0' ([vfio nic], IOMMU group 2) is bound to 'e1000e'");
        ASSERT_LOGGED("PCI device '0000:03:00.0' of [vfio nic2] is in no IOMMU group");
        ASSERT_LOGGED("PCI device '0000:04:00.0' of [vfio ghost] does not exist");
        CU_ASSERT_EQUAL(n_errors(), 6);
        teardown();
}

static void test_vfio_check_rebind_needs_write_access(void) {
        char path[PATH_MAX];

        if (geteuid() == 0) /* root writes anything: nothing to check */
                return;
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers_probe", root);
        CU_ASSERT_EQUAL(chmod(path, 0444), 0);
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        ASSERT_LOGGED(
                "cannot bind reserved PCI device '0000:01:00.0' ([vfio nic]) to vfio-pci at start: '");
        ASSERT_LOGGED(
                "/sys/bus/pci/drivers_probe' is not writable: Permission denied; start the VM as root");
        teardown();
}

/* ---- prepare and undo ---------------------------------------------------------------------- */

static void test_vfio_prepare_binds_reserved_device_and_undo_gives_it_back(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        fx_device("0000:02:00.0", "0x030000", "4", "vfio-pci"); /* not touched */
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "0000:01:00.0 0000:02:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("gpu", "device", "02:00.0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        if (m.n_logs)
                dump_logs();
        CU_ASSERT_STRING_EQUAL(writes,
                               "/sys/bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                               "/sys/bus/pci/drivers/e1000e/unbind=0000:01:00.0\n"
                               "/sys/bus/pci/drivers_probe=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "vfio-pci");
        CU_ASSERT(fx_exists("/dev/vfio/3"));
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "rebind 0000:01:00.0 e1000e");
        CU_ASSERT_EQUAL_FATAL(m.n_steps, 1);
        CU_ASSERT_STRING_EQUAL(
                m.steps[0],
                "bind PCI device '0000:01:00.0' (IOMMU group 3) to vfio-pci, taking it from 'e1000e' (given back at stop)");
        P.teardown(state);

        /* the undo runs in a later process (stop, cleanup): a fresh instance, no prepare */
        writes[0] = 0;
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &P, &state), 0);
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0 e1000e"), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n"
                                       "/sys/bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n"
                                       "/sys/bus/pci/drivers/e1000e/bind=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        CU_ASSERT_STRING_EQUAL(fx_read("/sys/bus/pci/devices/0000:01:00.0/driver_override"),
                               "(null)");
        CU_ASSERT_FALSE(fx_exists("/dev/vfio/3"));
        ASSERT_LOGGED("gave PCI device '0000:01:00.0' back to 'e1000e'");

        /* idempotent: a second undo changes nothing but the (already clear) override */
        writes[0] = 0;
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0 e1000e"), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        teardown();
}

static void test_vfio_prepare_unbound_device_is_left_unbound_after_undo(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", NULL);
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_STRING_EQUAL(writes,
                               "/sys/bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                               "/sys/bus/pci/drivers_probe=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "vfio-pci");
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "rebind 0000:01:00.0 -");
        CU_ASSERT_STRING_EQUAL(
                m.steps[0],
                "bind PCI device '0000:01:00.0' (IOMMU group 3) to vfio-pci (unbound again at stop)");
        writes[0] = 0;
        CU_ASSERT_EQUAL(P.undo(state, m.undos[0]), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n"
                                       "/sys/bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "");
        teardown();
}

static void test_vfio_prepare_leaves_unreserved_and_bound_devices_alone(void) {
        setup();
        fx_device("0000:01:00.0", "0x030000", "7", "vfio-pci");
        fx_device("0000:02:00.0", "0x030000", "8", "vfio-pci");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "02:00.0"), 0);
        CU_ASSERT_EQUAL(conf("a", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("b", "device", "02:00.0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_STRING_EQUAL(writes, "");
        CU_ASSERT_EQUAL(m.n_undos + m.n_steps, 0);
        teardown();
}

static void test_vfio_prepare_dry_run_changes_nothing(void) {
        setup();
        m.dry_run = 1;
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0 05:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("gone", "device", "05:00.0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_STRING_EQUAL(writes, "");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        CU_ASSERT_EQUAL_FATAL(m.n_steps, 2);
        CU_ASSERT_STRING_EQUAL(
                m.steps[0],
                "bind PCI device '0000:01:00.0' (IOMMU group 3) to vfio-pci, taking it from 'e1000e' (given back at stop)");
        CU_ASSERT_STRING_EQUAL(
                m.steps[1],
                "bind PCI device '0000:05:00.0' to vfio-pci (the device does not exist now)");
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "rebind 0000:01:00.0 e1000e");
        teardown();
}

static void test_vfio_prepare_reports_a_failed_bind(void) {
        setup();
        refuse_probe = 1;
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT(P.prepare(state) < 0);
        ASSERT_LOGGED(
                "failed to bind PCI device '0000:01:00.0' to vfio-pci: it is bound to no driver (see the kernel log)");
        /* the undo was registered before the first write, so the core gives it back */
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        refuse_probe = 0;
        writes[0] = 0;
        CU_ASSERT_EQUAL(P.undo(state, m.undos[0]), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n"
                                       "/sys/bus/pci/drivers/e1000e/bind=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        teardown();
}

static void test_vfio_undo_restores_a_previous_override(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "e1000e");
        fx_file("e1000e\n", "/sys/bus/pci/devices/0000:01:00.0/driver_override");
        CU_ASSERT_EQUAL(conf(NULL, "reserve", "01:00.0"), 0);
        CU_ASSERT_EQUAL(conf("nic", "device", "01:00.0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "rebind 0000:01:00.0 e1000e e1000e");
        writes[0] = 0;
        CU_ASSERT_EQUAL(P.undo(state, m.undos[0]), 0);
        CU_ASSERT_STRING_EQUAL(fx_read("/sys/bus/pci/devices/0000:01:00.0/driver_override"),
                               "e1000e");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        teardown();
}

static void test_vfio_undo_after_a_crash_between_unbind_and_probe(void) {
        setup();
        /* the journal has the action; the launcher died after the unbind */
        fx_device("0000:01:00.0", "0x020000", "3", NULL);
        fx_driver("e1000e");
        fx_file("vfio-pci\n", "/sys/bus/pci/devices/0000:01:00.0/driver_override");
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0 e1000e"), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n"
                                       "/sys/bus/pci/drivers/e1000e/bind=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        teardown();
}

static void test_vfio_undo_falls_back_to_drivers_probe(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "vfio-pci");
        fx_file("e1000e", "/sys/devices/pci0000:00/0000:01:00.0/.native");
        fx_driver("e1000e");
        fx_unlink("/sys/bus/pci/drivers/e1000e/bind"); /* cannot bind directly */
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0 e1000e"), 0);
        CU_ASSERT_STRING_EQUAL(writes, "/sys/bus/pci/devices/0000:01:00.0/driver_override=\n"
                                       "/sys/bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n"
                                       "/sys/bus/pci/drivers_probe=0000:01:00.0\n");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "e1000e");
        ASSERT_LOGGED(
                "cannot bind PCI device '0000:01:00.0' to 'e1000e' directly (No such file or directory), asking the kernel to probe it");
        CU_ASSERT_EQUAL(n_errors(), 0);
        teardown();
}

static void test_vfio_undo_leaves_a_device_someone_else_took(void) {
        setup();
        fx_device("0000:01:00.0", "0x020000", "3", "igb");
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0 e1000e"), 0);
        ASSERT_LOGGED(
                "PCI device '0000:01:00.0' is bound to 'igb' now, not vfio-pci: leaving it there");
        CU_ASSERT_STRING_EQUAL(fx_driver_of("0000:01:00.0"), "igb");
        /* and a device that is gone */
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:09:00.0 e1000e"), 0);
        ASSERT_LOGGED("PCI device '0000:09:00.0' is gone, nothing to give back");
        teardown();
}

static void test_vfio_undo_rejects_unknown_actions(void) {
        setup();
        CU_ASSERT_EQUAL(P.undo(state, "explode 0000:01:00.0"), -EINVAL);
        CU_ASSERT_EQUAL(P.undo(state, "rebind 1:0.0 e1000e"), -EINVAL);
        CU_ASSERT_EQUAL(P.undo(state, "rebind 0000:01:00.0"), -EINVAL);
        ASSERT_LOGGED("unknown undo action 'rebind 0000:01:00.0'");
        CU_ASSERT_STRING_EQUAL(writes, "");
        teardown();
}

int main(void) {
        static const struct {
                const char *name;
                void (*fn)(void);
        } tests[] = {
#define T(x) { #x, x }
                T(test_vfio_bdf_spellings),
                T(test_vfio_guest_address_spellings),
                T(test_vfio_config_bad_values),
                T(test_vfio_contribute_crosvm),
                T(test_vfio_contribute_qemu_warns_about_crosvm_keys),
                T(test_vfio_no_devices_does_nothing),
                T(test_vfio_config_sections_incomplete_or_duplicate),
                T(test_vfio_reserve_list_accumulates_and_resets),
                T(test_vfio_check_clean_group),
                T(test_vfio_check_peer_bound_to_host_driver),
                T(test_vfio_check_peer_passed_to_same_vm),
                T(test_vfio_check_bridge_unbound_and_vfio_peers_are_fine),
                T(test_vfio_check_non_bridge_class_0600_peer_is_not_a_bridge),
                T(test_vfio_check_missing_group),
                T(test_vfio_check_iommu_disabled),
                T(test_vfio_check_missing_device),
                T(test_vfio_check_not_bound_and_not_reserved),
                T(test_vfio_check_reserved_device_passes_before_binding),
                T(test_vfio_check_driver_not_loaded),
                T(test_vfio_check_dev_node_access_for_the_vm_user),
                T(test_vfio_check_container_access),
                T(test_vfio_check_sysfs_path_spelling),
                T(test_vfio_check_all_problems_in_one_report),
                T(test_vfio_check_rebind_needs_write_access),
                T(test_vfio_prepare_binds_reserved_device_and_undo_gives_it_back),
                T(test_vfio_prepare_unbound_device_is_left_unbound_after_undo),
                T(test_vfio_prepare_leaves_unreserved_and_bound_devices_alone),
                T(test_vfio_prepare_dry_run_changes_nothing),
                T(test_vfio_prepare_reports_a_failed_bind),
                T(test_vfio_undo_restores_a_previous_override),
                T(test_vfio_undo_after_a_crash_between_unbind_and_probe),
                T(test_vfio_undo_falls_back_to_drivers_probe),
                T(test_vfio_undo_leaves_a_device_someone_else_took),
                T(test_vfio_undo_rejects_unknown_actions),
#undef T
        };
        CU_pSuite s;
        unsigned failures;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("vfio", NULL, NULL);
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
                CU_add_test(s, tests[i].name, tests[i].fn);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        return failures ? 1 : 0;
}
