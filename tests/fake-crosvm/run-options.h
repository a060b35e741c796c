/* run-options.h: the crosvm command-line grammar that fake-crosvm enforces, as data.
 *
 * Included once, by fake-crosvm.c (which defines the types). Everything here mirrors
 * shared/reference/crosvm-cli.md, checked against google/crosvm at f1e797a6 (the [H] of that
 * note): the key=value structs of §2/§4 first, then the `run` option table of an x86_64 Linux
 * build with the default Cargo features (128 options, in crosvm's sorted order), plus the
 * patched vmsilo fork's additions (§8), marked PATCHED.
 *
 * Key lists follow the serde attributes: `name` is the name serde reports ("missing field",
 * "duplicate field"), `aliases` are the other accepted spellings; serde's "expected one of"
 * list shows both. A field's flavour mask says which crosvm has it. */

/* ---- value types inside key=value strings ---- */

static const struct kv_type t_bool = { .kind = KV_BOOL, .help = "BOOL" };
static const struct kv_type t_u8 = { .kind = KV_UINT, .bits = 8, .help = "N" };
static const struct kv_type t_u16 = { .kind = KV_UINT, .bits = 16, .help = "N" };
static const struct kv_type t_u32 = { .kind = KV_UINT, .bits = 32, .help = "N" };
static const struct kv_type t_u64 = { .kind = KV_UINT, .bits = 64, .help = "N" };
static const struct kv_type t_usize = { .kind = KV_UINT, .bits = 64, .help = "N" };
static const struct kv_type t_i32 = { .kind = KV_INT, .bits = 32, .help = "N" };
static const struct kv_type t_string = { .kind = KV_STRING, .help = "STRING" };
static const struct kv_type t_path = { .kind = KV_STRING, .help = "PATH" };
/* not checked further by the fake: CPU sets, display modes, PCM device configs */
static const struct kv_type t_raw = { .kind = KV_RAW, .help = "[...]" };
static const struct kv_type t_pci_address = { .kind = KV_STRING,
                                              .check = check_pci_address,
                                              .help = "[DOMAIN:]BUS:DEV.FN" };
static const struct kv_type t_disk_id = { .kind = KV_STRING, .check = check_disk_id, .help = "ID" };
static const struct kv_type t_u16_list = { .kind = KV_LIST, .elem = &t_u16, .help = "[N,...]" };
static const struct kv_type t_u32_list = { .kind = KV_LIST, .elem = &t_u32, .help = "[N,...]" };
static const struct kv_type t_raw_list = { .kind = KV_LIST, .elem = &t_raw, .help = "[...]" };

static const char *const v_executor[] = { "uring", "epoll", NULL };
static const struct kv_type t_executor = { .kind = KV_ENUM, .variants = v_executor };

/* ---- -b/--block and the deprecated -d/--disk, --rwdisk, -r/--root, --rwroot (§4.6) ---- */
static const struct kv_field disk_fields[] = {
        { "path", NULL, &t_path, KVF_REQUIRED, FL_ALL },
        { "ro", NULL, &t_bool, 0, FL_ALL },
        { "root", NULL, &t_bool, 0, FL_ALL },
        { "sparse", NULL, &t_bool, 0, FL_ALL },
        { "direct", "o_direct", &t_bool, 0, FL_ALL },
        { "lock", NULL, &t_bool, 0, FL_ALL },
        { "block-size", "block_size", &t_u32, 0, FL_ALL },
        { "id", NULL, &t_disk_id, 0, FL_ALL },
        { "multiple-workers", NULL, &t_bool, 0, FL_ALL },
        { "async-executor", "async_executor", &t_executor, 0, FL_ALL },
        { "packed-queue", NULL, &t_bool, 0, FL_ALL },
        { "bootindex", NULL, &t_usize, 0, FL_ALL },
        { "pci-address", NULL, &t_pci_address, 0, FL_ALL },
        { "dontcache", NULL, &t_bool, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema disk_kv = { "DiskOption", disk_fields, false };

/* ---- --pmem ---- */
static const struct kv_field pmem_fields[] = {
        { "path", NULL, &t_path, KVF_REQUIRED, FL_ALL },
        { "ro", NULL, &t_bool, 0, FL_ALL },
        { "root", NULL, &t_bool, 0, FL_ALL },
        { "vma-size", NULL, &t_u64, 0, FL_ALL },
        { "swap-interval-ms", NULL, &t_u64, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema pmem_kv = { "PmemOption", pmem_fields, false };

/* ---- -m/--mem (§4.2) ---- */
static const struct kv_field mem_fields[] = {
        { "size", NULL, &t_u64, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema mem_kv = { "MemOptions", mem_fields, false };

/* ---- -c/--cpus (§4.3), x86_64 keys ---- */
static const struct kv_field cpus_fields[] = {
        { "num-cores", NULL, &t_usize, 0, FL_ALL },
        { "clusters", NULL, &t_raw_list, 0, FL_ALL },
        { "core-types", NULL, &t_raw, 0, FL_ALL },
        { "boot-cpu", NULL, &t_usize, 0, FL_ALL },
        { "freq-domains", NULL, &t_raw_list, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema cpus_kv = { "CpuOptions", cpus_fields, false };

/* ---- --serial (§4.13); `stream-non-blocking` only in the patched fork ---- */
static const char *const v_serial_type[] = { "file", "stdout",      "sink", "syslog",
                                             "unix", "unix-stream", NULL };
static const struct kv_type t_serial_type = { .kind = KV_ENUM, .variants = v_serial_type };
static const char *const v_serial_hardware[] = { "serial", "virtio-console|legacy-virtio-console",
                                                 "debugcon", NULL };
static const struct kv_type t_serial_hardware = { .kind = KV_ENUM, .variants = v_serial_hardware };
static const struct kv_field serial_fields[] = {
        { "type", NULL, &t_serial_type, 0, FL_ALL },
        { "hardware", NULL, &t_serial_hardware, 0, FL_ALL },
        { "name", NULL, &t_string, 0, FL_ALL },
        { "path", NULL, &t_path, 0, FL_ALL },
        { "input", NULL, &t_path, 0, FL_ALL },
        { "input-unix-stream", NULL, &t_bool, 0, FL_ALL },
        { "stream-non-blocking", NULL, &t_bool, 0, FL_PATCHED },
        { "num", NULL, &t_u8, 0, FL_ALL },
        { "console", NULL, &t_bool, 0, FL_ALL },
        { "earlycon", NULL, &t_bool, 0, FL_ALL },
        { "stdin", NULL, &t_bool, 0, FL_ALL },
        { "out-timestamp", "out_timestamp", &t_bool, 0, FL_ALL },
        { "debugcon-port", "debugcon_port", &t_u16, 0, FL_ALL },
        { "pci-address", NULL, &t_pci_address, 0, FL_ALL },
        { "max-queue-sizes", NULL, &t_u16_list, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema serial_kv = { "SerialParameters", serial_fields, false };

/* ---- --net (§4.7): flattened, untagged mode enum, so no omitted first key ----
 * The mode keys (tap-name, tap-fd, host-ip, netmask, mac) are not fields of NetParameters: they
 * are collected and matched against the three NetParametersMode variants (see val_net). */
static const struct kv_schema vhost_net_kv;
static const struct kv_type t_vhost_net = { .kind = KV_STRUCT,
                                            .schema = &vhost_net_kv,
                                            .help = "[device=PATH]" };
static const struct kv_field vhost_net_fields[] = {
        { "device", NULL, &t_path, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema vhost_net_kv = { "VhostNetParameters", vhost_net_fields, false };
static const struct kv_field net_fields[] = {
        { "vq-pairs", NULL, &t_u16, 0, FL_ALL },
        { "vhost-net", NULL, &t_vhost_net, 0, FL_ALL },
        { "packed-queue", NULL, &t_bool, 0, FL_ALL },
        { "pci-address", NULL, &t_pci_address, 0, FL_ALL },
        { "mrg-rxbuf", NULL, &t_bool, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema net_kv = { "NetParameters", net_fields, true };

/* ---- --vhost-user (§4.8) ---- */
static const char *const v_device_type[] = { "net",
                                             "block",
                                             "console",
                                             "rng",
                                             "balloon",
                                             "scsi",
                                             "9p",
                                             "gpu",
                                             "input",
                                             "vsock",
                                             "iommu",
                                             "sound",
                                             "fs",
                                             "pmem",
                                             "mac80211-hwsim",
                                             "video-encoder",
                                             "video-decoder",
                                             "scmi",
                                             "wl",
                                             "tpm",
                                             "pvclock",
                                             "media",
                                             NULL };
static const struct kv_type t_device_type = { .kind = KV_ENUM, .variants = v_device_type };
static const struct kv_field vhost_user_fields[] = {
        { "type", NULL, &t_device_type, KVF_REQUIRED, FL_ALL },
        { "socket", NULL, &t_path, KVF_REQUIRED, FL_ALL },
        { "max-queue-size", NULL, &t_u16, 0, FL_ALL },
        { "pci-address", NULL, &t_pci_address, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema vhost_user_kv = { "VhostUserFrontendOption", vhost_user_fields,
                                                false };

/* ---- --vfio (§4.9) ---- */
static const char *const v_iommu[] = { "off", "viommu", "coiommu", "pkvm-iommu", NULL };
static const struct kv_type t_iommu = { .kind = KV_ENUM, .variants = v_iommu };
static const struct kv_field vfio_fields[] = {
        { "path", NULL, &t_path, KVF_REQUIRED, FL_ALL },
        { "iommu", NULL, &t_iommu, 0, FL_ALL },
        { "guest-address", NULL, &t_pci_address, 0, FL_ALL },
        { "dt-symbol", NULL, &t_string, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema vfio_kv = { "VfioOption", vfio_fields, false };

/* ---- --gpu (§4.10) ---- */
static const char *const v_gpu_mode[] = { "2d|2D", "virglrenderer|3D|3d", "gfxstream", NULL };
static const struct kv_type t_gpu_mode = { .kind = KV_ENUM, .variants = v_gpu_mode };
static const char *const v_audio_device_mode[] = { "per-surface", "one-global", NULL };
static const struct kv_type t_audio_device_mode = { .kind = KV_ENUM,
                                                    .variants = v_audio_device_mode };
static const char *const v_wsi[] = { "vulkan|vk", NULL };
static const struct kv_type t_wsi = { .kind = KV_ENUM, .variants = v_wsi };
static const struct kv_field display_fields[] = {
        { "mode", NULL, &t_raw, 0, FL_ALL },
        { "hidden", NULL, &t_bool, 0, FL_ALL },
        { "refresh-rate", NULL, &t_u32, 0, FL_ALL },
        { "dpi", NULL, &t_u32_list, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema display_kv = { "DisplayParameters", display_fields, false };
static const struct kv_type t_display = { .kind = KV_STRUCT, .schema = &display_kv };
static const struct kv_type t_display_list = { .kind = KV_LIST,
                                               .elem = &t_display,
                                               .help = "[[mode=windowed[W,H],...],...]" };
static const struct kv_field gpu_fields[] = {
        { "backend", NULL, &t_gpu_mode, 0, FL_ALL },
        { "max-num-displays", NULL, &t_u32, 0, FL_ALL },
        { "audio-device-mode", NULL, &t_audio_device_mode, 0, FL_ALL },
        { "displays", NULL, &t_display_list, 0, FL_ALL },
        { "width", NULL, &t_u32, 0, FL_ALL },
        { "height", NULL, &t_u32, 0, FL_ALL },
        { "egl", NULL, &t_bool, 0, FL_ALL },
        { "gles", NULL, &t_bool, 0, FL_ALL },
        { "glx", NULL, &t_bool, 0, FL_ALL },
        { "surfaceless", NULL, &t_bool, 0, FL_ALL },
        { "vulkan", NULL, &t_bool, 0, FL_ALL },
        { "wsi", NULL, &t_wsi, 0, FL_ALL },
        { "udmabuf", NULL, &t_bool, 0, FL_ALL },
        { "cache-path", NULL, &t_string, 0, FL_ALL },
        { "cache-size", NULL, &t_string, 0, FL_ALL },
        { "pci-address", NULL, &t_pci_address, 0, FL_ALL },
        { "pci-bar-size", NULL, &t_u64, 0, FL_ALL },
        /* colon-separated names; unknown names are ignored by crosvm */
        { "context-types", NULL, &t_string, 0, FL_ALL },
        { "external-blob", NULL, &t_bool, 0, FL_ALL },
        { "system-blob", NULL, &t_bool, 0, FL_ALL },
        { "fixed-blob-mapping", NULL, &t_bool, 0, FL_ALL },
        { "implicit-render-server", NULL, &t_bool, 0, FL_ALL },
        { "renderer-features", NULL, &t_string, 0, FL_ALL },
        { "snapshot-scratch-path", NULL, &t_path, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema gpu_kv = { "GpuParameters", gpu_fields, false };

/* ---- --gpu-render-server (§4.11) ---- */
static const struct kv_field render_server_fields[] = {
        { "path", NULL, &t_path, KVF_REQUIRED, FL_ALL },
        { "cache-path", NULL, &t_string, 0, FL_ALL },
        { "cache-size", NULL, &t_string, 0, FL_ALL },
        { "foz-db-list-path", NULL, &t_string, 0, FL_ALL },
        { "precompiled-cache-path", NULL, &t_string, 0, FL_ALL },
        { "ld-preload-path", NULL, &t_string, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema render_server_kv = { "GpuRenderServerParameters",
                                                   render_server_fields, false };

/* ---- --virtio-snd (§4.12): snake_case keys; the patched fork adds backend=pulse ---- */
static const struct kv_type t_snd_backend_upstream = { .kind = KV_STRING,
                                                       .check = check_snd_backend_upstream,
                                                       .help = "null|file" };
static const struct kv_type t_snd_backend_patched = { .kind = KV_STRING,
                                                      .check = check_snd_backend_patched,
                                                      .help = "null|file|pulse" };
static const struct kv_field snd_fields[] = {
        { "capture", NULL, &t_bool, 0, FL_ALL },
        { "num_output_devices", NULL, &t_u32, 0, FL_ALL },
        { "num_input_devices", NULL, &t_u32, 0, FL_ALL },
        { "backend", NULL, &t_snd_backend_upstream, 0, FL_UPSTREAM },
        { "backend", NULL, &t_snd_backend_patched, 0, FL_PATCHED },
        { "num_output_streams", NULL, &t_u32, 0, FL_ALL },
        { "num_input_streams", NULL, &t_u32, 0, FL_ALL },
        { "playback_path", NULL, &t_path, 0, FL_ALL },
        { "playback_size", NULL, &t_usize, 0, FL_ALL },
        { "output_device_config", NULL, &t_raw_list, 0, FL_ALL },
        { "input_device_config", NULL, &t_raw_list, 0, FL_ALL },
        { "card_index", NULL, &t_usize, 0, FL_ALL },
        { "unmap_guest_memory_on_fork", NULL, &t_bool, 0, FL_ALL },
        { "pulse_socket_path", NULL, &t_path, 0, FL_PATCHED },
        { "pulse_cookie_path", NULL, &t_path, 0, FL_PATCHED },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema snd_kv = { "Parameters", snd_fields, false };

/* ---- --vsock (§4.15) ---- */
static const struct kv_field vsock_fields[] = {
        { "cid", NULL, &t_u64, KVF_REQUIRED, FL_ALL },
        { "device", NULL, &t_path, 0, FL_ALL },
        { "max-queue-sizes", NULL, &t_u16_list, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema vsock_kv = { "VsockConfig", vsock_fields, false };

/* ---- --wayland-security-context (patched fork only, §8) ----
 * Value `wayland_socket=PATH,app_id=STR`; the fake's reading of the fork: snake_case keys,
 * wayland_socket required, app_id optional, single use. */
static const struct kv_field wl_security_fields[] = {
        { "wayland_socket", NULL, &t_path, KVF_REQUIRED, FL_PATCHED },
        { "app_id", NULL, &t_string, 0, FL_PATCHED },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema wl_security_kv = { "WaylandSecurityContext", wl_security_fields,
                                                 false };

/* ---- virtio-fs options after `type=fs` in --shared-dir (§4.22), snake_case ---- */
static const char *const v_cache_policy[] = { "never", "auto", "always", NULL };
static const struct kv_type t_cache_policy = { .kind = KV_ENUM, .variants = v_cache_policy };
static const struct kv_field fs_fields[] = {
        { "timeout", NULL, &t_u64, 0, FL_ALL },
        { "negative_timeout", NULL, &t_u64, 0, FL_ALL },
        { "cache_policy", "cache", &t_cache_policy, 0, FL_ALL },
        { "writeback", NULL, &t_bool, 0, FL_ALL },
        { "rewrite_security_xattrs", "rewrite-security-xattrs", &t_bool, 0, FL_ALL },
        { "ascii_casefold", NULL, &t_bool, 0, FL_ALL },
        { "use_dax", "dax", &t_bool, 0, FL_ALL },
        { "posix_acl", NULL, &t_bool, 0, FL_ALL },
        { "max_dynamic_perm", NULL, &t_usize, 0, FL_ALL },
        { "max_dynamic_xattr", NULL, &t_usize, 0, FL_ALL },
        { "security_ctx", NULL, &t_bool, 0, FL_ALL },
        { "unmap_guest_memory_on_fork", NULL, &t_bool, 0, FL_ALL },
        { NULL, NULL, NULL, 0, 0 },
};
static const struct kv_schema fs_kv = { "Config", fs_fields, false };

/* ---- the `run` options ----
 * OPT(name, short, kind, value grammar, key=value schema, help): in both flavours.
 * PATCHED(...): only in the patched vmsilo fork.
 * Kinds (argh): SWITCH takes no value and may repeat; ONCE is an Option<T>, a second use is
 * "duplicate values provided"; REPEAT is a Vec<T>. Value grammars: val_string (PathBuf/String,
 * never fails), val_u64 & co (Rust integer FromStr: decimal only), val_bool (`true|false`),
 * val_kv (serde_keyvalue with the schema), and the special parsers val_serial, val_net,
 * val_gpu, val_shared_dir, val_wayland_sock. val_unchecked: accepted as is, the fake does not
 * check the grammar of these rarely used values. */
#define OPT(name, short_name, kind, parse, schema, help) \
        { name, short_name, OPT_##kind, FL_ALL, parse, schema, help }
#define PATCHED(name, short_name, kind, parse, schema, help) \
        { name, short_name, OPT_##kind, FL_PATCHED, parse, schema, help }

static const struct run_option run_options[] = {
        OPT("acpi-table", 0, REPEAT, val_string, NULL, "path to user provided ACPI table"),
        OPT("android-fstab", 0, ONCE, val_string, NULL, "path to Android fstab"),
        OPT("async-executor", 0, ONCE, val_unchecked, NULL,
            "configure async executor backend; \"uring\" or \"epoll\" on Linux, \"handle\" or "
            "\"overlapped\" on Windows. If this option is omitted on Linux, \"epoll\" is used by "
            "default."),
        OPT("balloon-bias-mib", 0, ONCE, val_i64, NULL,
            "amount to bias balance of memory between host and guest as the balloon inflates, in "
            "mib."),
        OPT("balloon-control", 0, ONCE, val_string, NULL, "path for balloon controller socket."),
        OPT("balloon-page-reporting", 0, SWITCH, NULL, NULL, "enable page reporting in balloon."),
        OPT("balloon-ws-num-bins", 0, ONCE, val_u8, NULL,
            "set number of WS bins to use (default = 4)."),
        OPT("balloon-ws-reporting", 0, SWITCH, NULL, NULL,
            "enable working set reporting in balloon."),
        OPT("battery", 0, ONCE, val_unchecked, NULL,
            "comma separated key=value pairs for setting up battery device Possible key values:"),
        OPT("bios", 0, ONCE, val_string, NULL, "path to BIOS/firmware ROM"),
        OPT("block", 'b', REPEAT, val_kv, &disk_kv,
            "parameters for setting up a block device. Valid keys:"),
        OPT("boost-uclamp", 0, SWITCH, NULL, NULL,
            "set a minimum utilization for vCPU threads which will hint to the host scheduler to "
            "ramp up higher frequencies or place vCPU threads on larger cores."),
        OPT("break-linux-pci-config-io", 0, SWITCH, NULL, NULL,
            "break linux PCI configuration space io probing, to force the use of mmio access to "
            "PCIe ECAM."),
        OPT("bus-lock-ratelimit", 0, ONCE, val_u64, NULL,
            "ratelimit enforced on detected bus locks in guest. The default value of the "
            "bus_lock_ratelimit is 0 per second, which means no limitation on the guest's bus "
            "locks."),
        OPT("cid", 0, ONCE, val_u64, NULL,
            "(DEPRECATED): Use --vsock. context ID for virtual sockets."),
        OPT("coiommu", 0, ONCE, val_unchecked, NULL,
            "comma separated key=value pairs for setting up coiommu devices. Possible key values:"),
        OPT("core-scheduling", 0, ONCE, val_bool, NULL,
            "protect VM threads from hyperthreading-based attacks by scheduling them on "
            "different cores. Enabled by default, and required for per_vm_core_scheduling."),
        OPT("cpu-affinity", 0, ONCE, val_unchecked, NULL,
            "comma-separated list of CPUs or CPU ranges to run VCPUs on (e.g. 0,1-3,5) or "
            "colon-separated list of assignments of guest to host CPU assignments (e.g. "
            "0=0:1=1:2=2) (default: no mask)"),
        OPT("cpu-capacity", 0, ONCE, val_unchecked, NULL,
            "set the relative capacity of the given CPU (default: no capacity)"),
        OPT("cpu-cluster", 0, REPEAT, val_unchecked, NULL,
            "(DEPRECATED): Use \"--cpu clusters=[...]\". group the given CPUs into a cluster "
            "(default: no clusters)"),
        OPT("cpus", 'c', ONCE, val_kv, &cpus_kv, "cpu parameters. Possible key values:"),
        OPT("delay-rt", 0, SWITCH, NULL, NULL,
            "don't set VCPUs real-time until make-rt command is run"),
        OPT("device-tree-overlay", 0, REPEAT, val_unchecked, NULL,
            "path to device tree overlay binary which will be applied to the base guest device "
            "tree Parameters:"),
        OPT("disable-sandbox", 0, SWITCH, NULL, NULL,
            "run all devices in one, non-sandboxed process"),
        OPT("disable-virtio-intx", 0, SWITCH, NULL, NULL, "disable INTx in virtio devices"),
        OPT("disk", 'd', REPEAT, val_kv, &disk_kv,
            "(DEPRECATED): Use --block. path to a disk image followed by optional "
            "comma-separated options. Valid keys:"),
        OPT("display-window-keyboard", 0, SWITCH, NULL, NULL,
            "capture keyboard input from the display window"),
        OPT("display-window-mouse", 0, SWITCH, NULL, NULL,
            "capture keyboard input from the display window"),
        OPT("dump-device-tree-blob", 0, ONCE, val_string, NULL,
            "dump generated device tree as a DTB file"),
        OPT("dynamic-power-coefficient", 0, ONCE, val_unchecked, NULL,
            "pass power modeling param from to guest OS; scalar coefficient used in conjuction "
            "with voltage and frequency for calculating power; in units of uW/MHz/^2"),
        OPT("enable-fw-cfg", 0, SWITCH, NULL, NULL,
            "enable the fw_cfg device. If enabled, fw_cfg will automatically produce firmware "
            "configuration files containing such information as bootorder and the memory "
            "location of rsdp. If --fw-cfg is specified (see below), there is no need for this "
            "argument."),
        OPT("enable-hwp", 0, SWITCH, NULL, NULL, "expose HWP feature to the guest"),
        OPT("evdev", 0, REPEAT, val_string, NULL,
            "path to an event device node. The device will be grabbed (unusable from the host) "
            "and made available to the guest with the same configuration it shows on the host"),
        OPT("fdt-position", 0, ONCE, val_unchecked, NULL, "where the FDT is placed in memory."),
        OPT("file-backed-mapping", 0, REPEAT, val_unchecked, NULL,
            "map the given file into guest memory at the specified address. Parameters (addr, "
            "size, path are required):"),
        OPT("force-calibrated-tsc-leaf", 0, SWITCH, NULL, NULL,
            "force use of a calibrated TSC cpuid leaf (0x15) even if the hypervisor doesn't "
            "require one."),
        OPT("force-disable-readonly-mem", 0, SWITCH, NULL, NULL,
            "force off use of readonly memslots"),
        OPT("fw-cfg", 0, REPEAT, val_unchecked, NULL,
            "comma separated key=value pairs to specify data to pass to fw_cfg. Possible key "
            "values: name=NAME,(path=PATH|string=STRING)"),
        OPT("gpu", 0, REPEAT, val_gpu, &gpu_kv,
            "(EXPERIMENTAL) Comma separated key=value pairs for setting up a virtio-gpu device "
            "Possible key values:"),
        OPT("gpu-cgroup-path", 0, ONCE, val_string, NULL,
            "move all vGPU threads to this Cgroup (default: nothing moves)"),
        OPT("gpu-display", 0, REPEAT, val_unchecked, NULL,
            "(DEPRECATED): Use --gpu. (EXPERIMENTAL) Comma separated key=value pairs for setting "
            "up a display on the virtio-gpu device. See comments for `gpu` for possible key "
            "values of GpuDisplayParameters."),
        OPT("gpu-render-server", 0, ONCE, val_kv, &render_server_kv,
            "(EXPERIMENTAL) Comma separated key=value pairs for setting up a render server for "
            "the virtio-gpu device Possible key values:"),
        OPT("gpu-server-cgroup-path", 0, ONCE, val_string, NULL,
            "move all vGPU server threads to this Cgroup (default: nothing moves)"),
        OPT("host-cpu-topology", 0, SWITCH, NULL, NULL,
            "use mirror cpu topology of Host for Guest VM, also copy some cpu feature to Guest VM"),
        OPT("host-ip", 0, ONCE, val_unchecked, NULL,
            "(DEPRECATED): Use --net. IP address to assign to host tap interface"),
        OPT("hugepages", 0, SWITCH, NULL, NULL,
            "advise the kernel to use Huge Pages for guest memory mappings"),
        OPT("hypervisor", 0, ONCE, val_unchecked, NULL, "hypervisor backend"),
        OPT("init-mem", 0, ONCE, val_u64, NULL,
            "amount of guest memory outside the balloon at boot in MiB. (default: --mem)"),
        OPT("initrd", 'i', ONCE, val_string, NULL, "initial ramdisk to load"),
        OPT("input", 0, REPEAT, val_unchecked, NULL,
            "virtio-input device TYPE is an input device type, and OPTIONS are key=value pairs "
            "specific to the device type:"),
        OPT("irqchip", 0, ONCE, val_unchecked, NULL,
            "kernel|split|userspace: type of interrupt controller emulation. \"split\" is only "
            "available for x86 KVM."),
        OPT("itmt", 0, SWITCH, NULL, NULL,
            "allow to enable ITMT scheduling feature in VM. The success of enabling depends on "
            "HWP and ACPI CPPC support on hardware"),
        OPT("keyboard", 0, REPEAT, val_string, NULL,
            "path to a socket from where to read keyboard input events and write status updates "
            "to"),
        OPT("kvm-device", 0, ONCE, val_string, NULL,
            "(DEPRECATED): Use --hypervisor. path to the KVM device. (default /dev/kvm)"),
        OPT("lock-guest-memory", 0, SWITCH, NULL, NULL, "disable host swap on guest VM pages"),
        OPT("mac", 0, ONCE, val_unchecked, NULL, "(DEPRECATED): Use --net. MAC address for VM"),
        OPT("mem", 'm', ONCE, val_kv, &mem_kv, "memory parameters. Possible key values:"),
        OPT("mmio-address-range", 0, ONCE, val_unchecked, NULL, "MMIO address ranges"),
        OPT("mouse", 0, REPEAT, val_string, NULL,
            "path to a socket from where to read mouse input events and write status updates to"),
        OPT("multi-touch", 0, REPEAT, val_unchecked, NULL,
            "path to a socket from where to read multi touch input events (such as those from a "
            "touchscreen) and write status updates to, optionally followed by width and height "
            "(defaults to 800x1280) and a name for the input device"),
        OPT("name", 0, ONCE, val_string, NULL,
            "optional name for the VM. This is used as the name of the crosvm process which is "
            "helpful to distinguish multiple crosvm processes. A name longer than 15 bytes is "
            "truncated on Linux-like OSes. This is no-op on Windows and MacOS at the moment."),
        OPT("nested", 0, ONCE, val_unchecked, NULL,
            "[mode=]off|auto|on: nested virtualization support."),
        OPT("net", 0, REPEAT, val_net, &net_kv,
            "comma separated key=value pairs for setting up a network device. Possible key "
            "values:"),
        OPT("net-vq-pairs", 0, ONCE, val_u16, NULL,
            "(DEPRECATED): Use --net. virtio net virtual queue pairs. (default: 1)"),
        OPT("netmask", 0, ONCE, val_unchecked, NULL,
            "(DEPRECATED): Use --net. netmask for VM subnet"),
        OPT("no-balloon", 0, SWITCH, NULL, NULL, "don't use virtio-balloon device in the guest"),
        OPT("no-i8042", 0, SWITCH, NULL, NULL, "don't use legacy KBD devices emulation"),
        OPT("no-rng", 0, SWITCH, NULL, NULL, "don't create RNG device in the guest"),
        OPT("no-rtc", 0, SWITCH, NULL, NULL, "don't use legacy RTC devices emulation"),
        OPT("no-smt", 0, SWITCH, NULL, NULL, "don't use SMT in the guest"),
        OPT("no-usb", 0, SWITCH, NULL, NULL, "don't use usb devices in the guest"),
        OPT("oem-strings", 0, REPEAT, val_string, NULL,
            "(DEPRECATED): Use --smbios. SMBIOS OEM string values to add to the DMI tables"),
        OPT("params", 'p', REPEAT, val_string, NULL,
            "extra kernel command line arguments. Can be given more than once"),
        OPT("pci", 0, ONCE, val_unchecked, NULL, "PCI parameters."),
        OPT("pci-start", 0, ONCE, val_u64, NULL, "the pci mmio start address below 4G"),
        OPT("per-vm-core-scheduling", 0, SWITCH, NULL, NULL,
            "enable per-VM core scheduling intead of the default one (per-vCPU core scheduing) "
            "by making all vCPU threads share same cookie for core scheduling. This option is "
            "no-op on devices that have neither MDS nor L1TF vulnerability"),
        OPT("pflash", 0, ONCE, val_unchecked, NULL,
            "comma-seperated key-value pair for setting up the pflash device, which provides "
            "space to store UEFI variables. block_size defaults to 4K. [--pflash "
            "<path=PATH,[block_size=SIZE]>]"),
        OPT("pivot-root", 0, ONCE, val_string, NULL,
            "path to empty directory to use for sandbox pivot root"),
        OPT("pmem", 0, REPEAT, val_kv, &pmem_kv,
            "parameters for setting up a virtio-pmem device. Valid keys:"),
        OPT("pmem-device", 0, REPEAT, val_kv, &disk_kv,
            "(DEPRECATED): Use --pmem. path to a disk image"),
        OPT("pmem-ext2", 0, REPEAT, val_unchecked, NULL,
            "(EXPERIMENTAL): construct an ext2 file system on a pmem device from the given "
            "directory. The argument is the form of \"PATH[,key=value[,key=value[,...]]]\". "
            "Valid keys:"),
        OPT("protected-vm", 0, SWITCH, NULL, NULL, "prevent host access to guest memory"),
        OPT("protected-vm-with-firmware", 0, ONCE, val_string, NULL,
            "(EXPERIMENTAL/FOR DEBUGGING) Use custom VM firmware to run in protected mode"),
        OPT("protected-vm-without-firmware", 0, SWITCH, NULL, NULL,
            "(EXPERIMENTAL) prevent host access to guest memory, but don't use protected VM "
            "firmware"),
        OPT("pstore", 0, ONCE, val_unchecked, NULL,
            "path to pstore buffer backend file followed by size"),
        OPT("restore", 0, ONCE, val_string, NULL,
            "path of the snapshot that is used to restore the VM on startup."),
        OPT("root", 'r', ONCE, val_kv, &disk_kv,
            "(DEPRECATED): Use --block. path to a disk image followed by optional "
            "comma-separated options. Valid keys:"),
        OPT("rotary", 0, REPEAT, val_string, NULL,
            "path to a socket from where to read rotary input events and write status updates to"),
        OPT("rt-cpus", 0, ONCE, val_unchecked, NULL,
            "comma-separated list of CPUs or CPU ranges to run VCPUs on. (e.g. 0,1-3,5) "
            "(default: none)"),
        OPT("rw-pmem-device", 0, REPEAT, val_kv, &disk_kv,
            "(DEPRECATED): Use --pmem. path to a writable disk image"),
        OPT("rwdisk", 0, REPEAT, val_kv, &disk_kv,
            "(DEPRECATED): Use --block. path to a read-write disk image followed by optional "
            "comma-separated options. Valid keys:"),
        OPT("rwroot", 0, ONCE, val_kv, &disk_kv,
            "(DEPRECATED): Use --block. path to a read-write root disk image followed by "
            "optional comma-separated options. Valid keys:"),
        OPT("s2idle", 0, SWITCH, NULL, NULL,
            "set Low Power S0 Idle Capable Flag for guest Fixed ACPI Description Table, "
            "additionally use enhanced crosvm suspend and resume routines to perform full guest "
            "suspension/resumption"),
        OPT("scsi-block", 0, REPEAT, val_unchecked, NULL,
            "(EXPERIMENTAL) parameters for setting up a SCSI disk. Valid keys:"),
        OPT("seccomp-log-failures", 0, SWITCH, NULL, NULL,
            "instead of seccomp filter failures being fatal, they will be logged instead"),
        OPT("seccomp-policy-dir", 0, ONCE, val_string, NULL, "path to seccomp .policy files"),
        OPT("serial", 0, REPEAT, val_serial, &serial_kv,
            "comma separated key=value pairs for setting up serial devices. Can be given more "
            "than once. Possible key values:"),
        OPT("shared-dir", 0, REPEAT, val_shared_dir, NULL,
            "colon-separated options for configuring a directory to be shared with the VM. The "
            "first field is the directory to be shared and the second field is the tag that the "
            "VM can use to identify the device. The remaining fields are key=value pairs that "
            "may appear in any order. Valid keys are:"),
        OPT("single-touch", 0, REPEAT, val_unchecked, NULL,
            "path to a socket from where to read single touch input events (such as those from a "
            "touchscreen) and write status updates to, optionally followed by width and height "
            "(defaults to 800x1280) and a name for the input device"),
        OPT("smbios", 0, ONCE, val_unchecked, NULL,
            "SMBIOS table configuration (DMI) The fields are key=value pairs. Valid keys are:"),
        OPT("socket", 's', ONCE, val_string, NULL,
            "path to put the control socket. If PATH is a directory, a name will be generated"),
        OPT("sound", 0, ONCE, val_string, NULL,
            "path to the VioS server socket for setting up virtio-snd devices"),
        OPT("split-irqchip", 0, SWITCH, NULL, NULL,
            "(DEPRECATED): Use --irq-chip. (EXPERIMENTAL) enable split-irqchip support"),
        OPT("stub-pci-device", 0, REPEAT, val_unchecked, NULL,
            "comma-separated key=value pairs for setting up a stub PCI device that just "
            "enumerates. The first option in the list must specify a PCI address to claim. "
            "Optional further parameters"),
        OPT("suspended", 0, SWITCH, NULL, NULL, "start a VM with vCPUs and devices suspended"),
        OPT("suspended-vcpus", 0, SWITCH, NULL, NULL, "start a VM with vCPUs suspended"),
        OPT("swap", 0, ONCE, val_string, NULL,
            "enable vmm-swap via an unnamed temporary file on the filesystem which contains the "
            "specified directory."),
        OPT("switches", 0, REPEAT, val_string, NULL,
            "path to a socket from where to read switch input events and write status updates to"),
        OPT("syslog-tag", 0, ONCE, val_string, NULL,
            "(DEPRECATED): Use --syslog-tag before \"run\". when logging to syslog, use the "
            "provided tag"),
        OPT("tap-fd", 0, REPEAT, val_i32, NULL,
            "(DEPRECATED): Use --net. file descriptor for configured tap device. A different "
            "virtual network card will be added each time this argument is given"),
        OPT("tap-name", 0, REPEAT, val_string, NULL,
            "(DEPRECATED): Use --net. name of a configured persistent TAP interface to use for "
            "networking. A different virtual network card will be added each time this argument "
            "is given"),
        OPT("trackpad", 0, REPEAT, val_unchecked, NULL,
            "path to a socket from where to read trackpad input events and write status updates "
            "to, optionally followed by screen width and height (defaults to 800x1280) and a "
            "name for the input device"),
        OPT("unmap-guest-memory-on-fork", 0, SWITCH, NULL, NULL,
            "set MADV_DONTFORK on guest memory"),
        OPT("unprotected-vm-with-firmware", 0, ONCE, val_string, NULL,
            "(EXPERIMENTAL/FOR DEBUGGING) Use VM firmware, but allow host access to guest memory"),
        OPT("vcpu-cgroup-path", 0, ONCE, val_string, NULL,
            "move all vCPU threads to this CGroup (default: nothing moves)"),
        OPT("vfio", 0, REPEAT, val_kv, &vfio_kv,
            "path to sysfs of VFIO device. Possible key values:"),
        OPT("vfio-isolate-hotplug", 0, SWITCH, NULL, NULL,
            "isolate all hotplugged passthrough vfio device behind virtio-iommu"),
        OPT("vfio-platform", 0, REPEAT, val_kv, &vfio_kv,
            "(DEPRECATED): Use --vfio. path to sysfs of platform pass through"),
        OPT("vhost-net", 0, SWITCH, NULL, NULL,
            "(DEPRECATED): Use --net. use vhost for networking"),
        OPT("vhost-net-device", 0, ONCE, val_string, NULL,
            "path to the vhost-net device. (default /dev/vhost-net)"),
        OPT("vhost-user", 0, REPEAT, val_kv, &vhost_user_kv,
            "comma separated key=value pairs for connecting to a vhost-user backend. Possible "
            "key values:"),
        OPT("vhost-user-connect-timeout-ms", 0, ONCE, val_u64, NULL,
            "number of milliseconds to retry if the socket path is missing or has no listener. "
            "Defaults to no retries."),
        OPT("vhost-vsock-device", 0, ONCE, val_string, NULL,
            "(DEPRECATED): Use --vsock. path to the vhost-vsock device. (default "
            "/dev/vhost-vsock)"),
        OPT("vhost-vsock-fd", 0, ONCE, val_i32, NULL,
            "(DEPRECATED): Use --vsock. open FD to the vhost-vsock device, mutually exclusive "
            "with vhost-vsock-device"),
        OPT("virtio-snd", 0, REPEAT, val_kv, &snd_kv,
            "comma separated key=value pairs for setting up virtio snd devices. Possible key "
            "values:"),
        OPT("vsock", 0, ONCE, val_kv, &vsock_kv,
            "add a vsock device. Since a guest can only have one CID, this option can only be "
            "specified once."),
        PATCHED("wayland-security-context", 0, ONCE, val_kv, &wl_security_kv,
                "(vmsilo fork) connect Wayland clients of the guest through a security-context-v1 "
                "socket: wayland_socket=PATH,app_id=STR"),
        OPT("wayland-sock", 0, REPEAT, val_wayland_sock, NULL,
            "path to the Wayland socket to use. The unnamed one is used for displaying virtual "
            "screens. Named ones are only for IPC"),
        OPT("x-display", 0, ONCE, val_string, NULL, "X11 display name to use"),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
};

#undef OPT
#undef PATCHED
