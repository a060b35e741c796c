/* SPDX-License-Identifier: MIT */
/*
 * vmsilo-core plugin ABI, major version 1.
 *
 * A plugin is a shared object that exports exactly one symbol, VMSILO_PLUGIN_SYMBOL, a
 * `const struct vmsilo_plugin`. The core dlopen()s it, checks abi_major and size, copies
 * min(size, sizeof) bytes of the descriptor and calls the hooks in this order, for one VM:
 *
 *   init -> configure (once per key=value of the plugin's sections, in file order; ABI 1.1:
 *                      the keys of the plugin's key table are parsed and stored by the core)
 *        -> configured (ABI 1.1: rules across keys)
 *        -> preflight (check, never change the host)
 *        -> prepare   (change the host; register an undo for every change)
 *        -> contribute (declare devices, kernel parameters, fds)
 *        -> ... the VMM runs ...
 *        -> undo (once per undo the plugin registered, newest first)
 *        -> teardown (exactly once for every plugin whose init ran)
 *
 * Every hook is optional (NULL = nothing to do). Hooks return 0 or a negative errno.
 *
 * Compatibility: members are only ever appended, to this descriptor and to the host table,
 * and each new member says "Since: ABI 1.x". A plugin checks host->size before using a
 * member newer than 1.0 (VMSILO_HOST_HAS()). Removing or changing a member bumps
 * VMSILO_PLUGIN_ABI_MAJOR, never silently.
 *
 * Ownership: every `const char *` handed to the host is borrowed for the duration of the
 * call (the host copies what it keeps); every string the host hands to a plugin is valid
 * until the hook returns unless said otherwise.
 */
#ifndef VMSILO_PLUGIN_H
#define VMSILO_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMSILO_PLUGIN_ABI_MAJOR 1
#define VMSILO_PLUGIN_ABI_MINOR 2

/* The one symbol a plugin exports. */
#define VMSILO_PLUGIN_SYMBOL "vmsilo_plugin_v1"

#if defined(__GNUC__)
#define VMSILO_EXPORT __attribute__((visibility("default")))
#define VMSILO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VMSILO_EXPORT
#define VMSILO_PRINTF(a, b)
#endif

/* Defines the descriptor: VMSILO_PLUGIN_DEFINE = { .name = "foo", ... }; */
#ifdef __cplusplus
#define VMSILO_PLUGIN_DEFINE                                                  \
        extern "C" VMSILO_EXPORT const struct vmsilo_plugin vmsilo_plugin_v1; \
        extern "C" VMSILO_EXPORT const struct vmsilo_plugin vmsilo_plugin_v1
#else
#define VMSILO_PLUGIN_DEFINE VMSILO_EXPORT const struct vmsilo_plugin vmsilo_plugin_v1
#endif

/* True when the host table is new enough to have `member`. */
#define VMSILO_HOST_HAS(host, member)                                                     \
        ((host)->size >= offsetof(struct vmsilo_host, member) + sizeof((host)->member) && \
         (host)->member != 0)

enum vmsilo_log_level {
        VMSILO_LOG_ERROR = 3,
        VMSILO_LOG_WARNING = 4,
        VMSILO_LOG_NOTICE = 5,
        VMSILO_LOG_INFO = 6,
        VMSILO_LOG_DEBUG = 7,
};

/* Which VMM the VM description is rendered for. */
enum vmsilo_vmm {
        VMSILO_VMM_CROSVM = 1,
        VMSILO_VMM_QEMU = 2,
};

/* Device types for vmsilo_host.add_device(). Since: ABI 1.0. */
enum vmsilo_device_type {
        VMSILO_DEVICE_DISK = 1,       /* path, id, flags RO/ROOT/NO_DIRECT, options */
        VMSILO_DEVICE_NET = 2,        /* fd (tap, from pass_fd) or name (tap name), mac */
        VMSILO_DEVICE_VHOST_USER = 3, /* kind ("fs", "sound", ...), socket, tag (fs) */
        VMSILO_DEVICE_VFIO = 4,       /* path (sysfs device dir), options */
        VMSILO_DEVICE_GPU = 5,        /* 1.1: features VMSILO_GPU_*, server, app_id, helper */
        VMSILO_DEVICE_SOUND = 6,      /* 1.1: features VMSILO_SOUND_*, server, cookie */
        /* the VMM's own virtio-fs server: path (host directory), tag, features VMSILO_FS_*.
         * Since: ABI 1.1 */
        VMSILO_DEVICE_SHARED_DIR = 7,
};

#define VMSILO_DEVICE_RO (1u << 0)        /* disk: read-only */
#define VMSILO_DEVICE_ROOT (1u << 1)      /* disk: the root disk (root= on the cmdline) */
#define VMSILO_DEVICE_NO_DIRECT (1u << 2) /* disk: do not bypass the host page cache */
#define VMSILO_DEVICE_NO_PACKED (1u << 3) /* disk: split virtqueues (no packed-queue) */
#define VMSILO_DEVICE_NO_SPARSE (1u << 4) /* disk: no discard (crosvm sparse=false) */

/* GPU features (vmsilo_device.features). Since: ABI 1.1. */
#define VMSILO_GPU_WAYLAND (1u << 0) /* Wayland forwarding (cross-domain context), `server` */
#define VMSILO_GPU_OPENGL (1u << 1)  /* OpenGL (virgl), on `render_node` where the VMM needs it */
#define VMSILO_GPU_VULKAN (1u << 2)  /* Vulkan (venus), through the render server `helper` */
/* Wayland: a per-VM security context with `app_id` is required (else: when the VMM has one) */
#define VMSILO_GPU_SECURITY_CONTEXT (1u << 3)
#define VMSILO_GPU_NO_SECURITY_CONTEXT (1u << 4) /* Wayland: never a security context */

/* Shared directory features (vmsilo_device.features). Since: ABI 1.1. */
#define VMSILO_FS_POSIX_ACL (1u << 0)
#define VMSILO_FS_CACHE_ALWAYS (1u << 1) /* neither cache flag: the VMM's automatic policy */
#define VMSILO_FS_CACHE_NEVER (1u << 2)

/* Sound features (vmsilo_device.features). Since: ABI 1.1. */
#define VMSILO_SOUND_PLAYBACK (1u << 0)
#define VMSILO_SOUND_CAPTURE (1u << 1)

/*
 * One device of the VM description. The backend renders it for crosvm or QEMU. Fields a
 * type does not use stay 0/NULL. Since: ABI 1.0.
 */
struct vmsilo_device {
        uint32_t size; /* sizeof(struct vmsilo_device) as the plugin compiled it */
        uint32_t type; /* enum vmsilo_device_type */
        uint32_t flags;
        int fd;             /* NET: VMM-side fd number returned by pass_fd(), or -1 */
        const char *path;   /* DISK: image; VFIO: sysfs device directory */
        const char *id;     /* DISK: serial/id (crosvm id=, <= 20 chars) */
        const char *name;   /* NET: tap name when fd is -1 */
        const char *mac;    /* NET: guest MAC, aa:bb:cc:dd:ee:ff */
        const char *kind;   /* VHOST_USER: crosvm device type ("fs", "sound", ...) */
        const char *socket; /* VHOST_USER: backend socket path */
        const char *tag;    /* VHOST_USER fs: mount tag (QEMU needs it; crosvm asks the backend) */
        /* ABI 1.0: extra crosvm key=value items, already quoted for crosvm. Deprecated: the
         * core still renders it for 1.0 plugins; a 1.1 plugin uses the typed fields below. */
        const char *options;
        const char *pci_address; /* NET, VFIO: guest PCI address BUS:DEV.FN, or NULL */

        /* Since: ABI 1.1. The host reads these only when `size` covers them. */
        uint32_t features;       /* GPU: VMSILO_GPU_*; SOUND: VMSILO_SOUND_*; SHARED_DIR: _FS_* */
        uint32_t iommu;          /* VFIO: enum vmsilo_iommu */
        const char *server;      /* GPU: Wayland compositor socket; SOUND: pulse socket */
        const char *app_id;      /* GPU: Wayland app id (with a security context) */
        const char *helper;      /* GPU: render server program (VULKAN) */
        const char *cookie;      /* SOUND: pulse cookie file */
        const char *render_node; /* GPU: /dev/dri/renderD* (OPENGL, for VMMs that need it) */
};

/* VFIO: the IOMMU a passed device sits behind in the guest. Since: ABI 1.1. */
enum vmsilo_iommu {
        VMSILO_IOMMU_DEFAULT = 0, /* the VMM's default */
        VMSILO_IOMMU_OFF = 1,
        VMSILO_IOMMU_VIOMMU = 2,
        VMSILO_IOMMU_COIOMMU = 3,
        VMSILO_IOMMU_PKVM = 4,
};

/*
 * Configuration keys (vmsilo_plugin.keys). Since: ABI 1.1.
 *
 * A plugin lists its keys; the core parses each value, reports a bad one as
 * "path:line: PLUGIN: invalid value 'V' for 'KEY' in [SECTION]: expected EXPECTED" (as for
 * its own [vm] keys) and stores it at `offset` in the plugin's state (or, for
 * VMSILO_KEY_INSTANCE keys, in the struct that vmsilo_plugin.instance returns). Keys not in
 * the table still go to configure() when the plugin has one.
 *
 * Field types: BOOL, ENUM: int; UINT, SIZE: unsigned long long; STRING, PATH, PROGRAM: char *
 * (NULL or malloc()ed: the core frees the value it replaces, the plugin frees the last one,
 * see vmsilo_keys_free()); VMSILO_KEY_LIST keys: char ** (NULL-terminated, malloc()ed).
 */
enum vmsilo_key_type {
        VMSILO_KEY_BOOL = 1,    /* yes/no, true/false, on/off, 1/0 (-1 for "auto", see below) */
        VMSILO_KEY_UINT = 2,    /* decimal, from min to max */
        VMSILO_KEY_STRING = 3,  /* any non-empty text accepted by `validate` */
        VMSILO_KEY_PATH = 4,    /* an absolute path */
        VMSILO_KEY_PROGRAM = 5, /* an absolute path, or a program name to look up in $PATH */
        VMSILO_KEY_ENUM = 6,    /* one of `values`; the field is its index */
        VMSILO_KEY_SIZE = 7,    /* bytes, with an optional K, M, G or T suffix; min to max */
};

#define VMSILO_KEY_LIST (1u << 0)     /* accumulates; an empty value resets the list */
#define VMSILO_KEY_INSTANCE (1u << 1) /* belongs in [NAME INSTANCE], never in [NAME] */
#define VMSILO_KEY_EMPTY (1u << 2)    /* scalar: an empty value resets to `def` (or 0/NULL) */
#define VMSILO_KEY_AUTO (1u << 3)     /* BOOL: "auto" is accepted and stored as -1 */
#define VMSILO_KEY_SPLIT (1u << 4)    /* LIST: one value holds items separated by blanks or ',' */
/* A key may be listed twice, once with VMSILO_KEY_INSTANCE and once without, for a key that
 * means something in both [NAME] and [NAME INSTANCE]. */

struct vmsilo_key {
        const char *name;          /* the key; NULL ends the table */
        uint32_t type;             /* enum vmsilo_key_type */
        uint32_t flags;            /* VMSILO_KEY_* */
        size_t offset;             /* of the field, in the state or the instance struct */
        const char *def;           /* default as a value, applied after init (or when an instance is
                                    * first seen); NULL: the field keeps what init put there */
        const char *const *values; /* ENUM: NULL-terminated words */
        unsigned long long min, max; /* UINT, SIZE: inclusive bounds (max 0: no bound) */
        /* optional: 1 if `value` (each list item) is valid; else 0, and it may write why to
         * `why` (the error then ends ": WHY" instead of ": expected EXPECTED") */
        int (*validate)(const char *value, char *why, size_t why_size);
        const char *expected; /* the error's "expected ..." text; NULL: derived from the type */
        const char *help;     /* one line for documentation */
};

/* The one boolean grammar of vmsilo configuration (the core's and the key table's): 1 for
 * yes/true/on/1, 0 for no/false/off/0 (any case), -1 otherwise. For a plugin key that is a
 * boolean or something else (e.g. "yes, no or a path"). Since: ABI 1.1. */
static inline int vmsilo_parse_bool(const char *v) {
        static const char *const words[] = { "1", "yes", "true", "on", "0", "no", "false", "off" };

        for (int i = 0; v && i < 8; i++) {
                const char *a = v, *b = words[i];

                while (*a && *b && (*a >= 'A' && *a <= 'Z' ? *a + ('a' - 'A') : *a) == *b)
                        a++, b++;
                if (!*a && !*b)
                        return i < 4;
        }
        return -1;
}

/* Frees the strings and lists that the core stored for `keys` in `base`: the instance keys
 * (instance = 1) or the others (instance = 0). For teardown. */
static inline void vmsilo_keys_free(const struct vmsilo_key *keys, void *base, int instance) {
        for (const struct vmsilo_key *k = keys; k && k->name; k++) {
                char **field = (char **) (void *) ((char *) base + k->offset);

                if (!!(k->flags & VMSILO_KEY_INSTANCE) != !!instance)
                        continue;
                if (k->flags & VMSILO_KEY_LIST) {
                        for (char **i = *(char ***) (void *) field; i && *i; i++)
                                free(*i);
                        free(*field);
                } else if (k->type == VMSILO_KEY_STRING || k->type == VMSILO_KEY_PATH ||
                           k->type == VMSILO_KEY_PROGRAM)
                        free(*field);
                else
                        continue;
                *field = NULL;
        }
}

/* Readiness condition of a helper process. Since: ABI 1.0. */
enum vmsilo_ready {
        VMSILO_READY_NONE = 0,   /* started is enough */
        VMSILO_READY_SOCKET = 1, /* `socket` appears as a unix socket (never connected to:
                                  * virtiofsd serves exactly one connection) */
        VMSILO_READY_FILE = 2,   /* `socket` path appears (any file type) */
};

/* A helper process (virtiofsd, render server, sound backend). Since: ABI 1.0. */
struct vmsilo_helper {
        uint32_t size;           /* sizeof(struct vmsilo_helper) as the plugin compiled it */
        uint32_t ready;          /* enum vmsilo_ready */
        const char *name;        /* short name for logs, unique within the plugin */
        const char *const *argv; /* NULL-terminated; argv[0] is looked up in $PATH */
        const char *socket;      /* for VMSILO_READY_SOCKET/FILE */
        uint32_t timeout_ms;     /* readiness timeout; 0 = 5000 */
};

struct vmsilo_host;

/*
 * The host table. One per plugin (the core knows who is calling), passed to init().
 * Since: ABI 1.0 for every member below unless marked otherwise.
 */
struct vmsilo_host {
        uint32_t size;      /* sizeof(struct vmsilo_host) in the core */
        uint32_t abi_minor; /* VMSILO_PLUGIN_ABI_MINOR of the core */
        void *core;         /* opaque, for the core only */

        /* Log a line; the core prefixes the plugin name (and path:line during configure). */
        void (*log)(const struct vmsilo_host *h, int level, const char *fmt, ...)
                VMSILO_PRINTF(3, 4);

        /* VM identity. Strings are owned by the core, valid until teardown returns. */
        const char *(*vm_name)(const struct vmsilo_host *h);
        /* unique, >= 3 (the vsock CID); known from preflight on (0 during init/configure) */
        uint32_t (*vm_id)(const struct vmsilo_host *h);
        const char *(*runtime_dir)(const struct vmsilo_host *h); /* created by the core */
        int (*vmm)(const struct vmsilo_host *h);                 /* enum vmsilo_vmm */

        /* VMM capabilities: 1 if the VMM binary has `flag` (e.g. "--wayland-security-context",
         * or "serial:stream-non-blocking" for a key of a flag), 0 if not, negative errno when
         * the binary cannot be probed. `flag` is borrowed. */
        int (*vmm_has)(const struct vmsilo_host *h, const char *flag);

        /* contribute only. `dev` and its strings are copied. */
        int (*add_device)(const struct vmsilo_host *h, const struct vmsilo_device *dev);
        /* contribute only. One kernel command-line item, copied. */
        int (*add_kernel_param)(const struct vmsilo_host *h, const char *param);
        /* contribute only. A raw argument for one VMM (enum vmsilo_vmm), appended after the
         * devices; use only where no device type fits. Copied. */
        int (*add_vmm_arg)(const struct vmsilo_host *h, int vmm, const char *arg);
        /* prepare or contribute. Hands `fd` to the VMM (consumed, even on failure); returns
         * the fd number the VMM will see, or a negative errno. */
        int (*pass_fd)(const struct vmsilo_host *h, int fd);

        /* prepare only. Starts a helper, waits until it is ready; registers its stop as an
         * undo. Returns 0 or a negative errno (its stderr tail has been logged). */
        int (*spawn_helper)(const struct vmsilo_host *h, const struct vmsilo_helper *helper);
        /* prepare only. Records that `action` must be undone: the core journals it in the
         * runtime dir and later calls the plugin's undo(state, action), also from `cleanup`
         * after a crash. Copied. */
        int (*push_undo)(const struct vmsilo_host *h, const char *action);
        /* prepare only. Registers removal of a file or empty directory the plugin created. */
        int (*push_unlink)(const struct vmsilo_host *h, const char *path);

        /* The effective uid/gid that owns the VM (the user who starts it). */
        uint32_t (*vm_uid)(const struct vmsilo_host *h);
        uint32_t (*vm_gid)(const struct vmsilo_host *h);

        /* A path under the configured root (the --root option / $VMSILO_ROOT), for plugins
         * that read /sys, /dev or /proc: returns a malloc()ed string the caller frees. */
        char *(*root_path)(const struct vmsilo_host *h, const char *path);

        /* 1 when the core only plans (`vmsilo-core print`): prepare must not change the host,
         * but still calls spawn_helper(), pass_fd() (with fd -1), push_undo() and describe()
         * so that the plan shows them. 0 in a real start. */
        int (*dry_run)(const struct vmsilo_host *h);
        /* prepare only. One privileged step in words ("create tap 'x' owned by uid 1000"):
         * listed by `print`, logged at info level in a real start. */
        void (*describe)(const struct vmsilo_host *h, const char *fmt, ...) VMSILO_PRINTF(2, 3);

        /* Since: ABI 1.1. */

        /* preflight on (the VMM is chosen after configure). Whether the VMM can render a
         * capability, named in words, not in VMM syntax: "gpu",
         * "gpu wayland", "gpu wayland security context", "gpu opengl", "gpu vulkan", "sound
         * pulse backend", "vhost-user sound", "vhost-user fs", "vhost-user fs backend tag"
         * (the VMM asks the backend for the tag), "shared dir", "net tap name"
         * (the VMM opens a tap by name; else pass its fd), "vfio guest address", "vfio iommu". The
         * backend maps it to its flags or devices. 1 yes, 0 no (then *ret_missing, if not NULL,
         * says what the VMM lacks, e.g. "crosvm has no
         * '--gpu'", valid until the hook returns), negative errno when the VMM binary cannot
         * be probed (the core reports that). An unknown name is 0. `capability` is borrowed. */
        int (*vmm_can)(const struct vmsilo_host *h, const char *capability,
                       const char **ret_missing);
        /* Logs like log(), and returns -abs(error); "%m" in `fmt` is strerror(error). */
        int (*log_errno)(const struct vmsilo_host *h, int level, int error, const char *fmt, ...)
                VMSILO_PRINTF(4, 5);
        /* configured() only: logs with the path:line where `key` was last set in [NAME
         * INSTANCE] (`instance` NULL: [NAME]; `key` NULL: where the section starts). Borrowed. */
        void (*log_at)(const struct vmsilo_host *h, int level, const char *instance,
                       const char *key, const char *fmt, ...) VMSILO_PRINTF(5, 6);
        /* preflight or contribute: 0 if the backend can render `dev` (as the plugin will
         * declare it), else logs why, naming the backend and the device, and returns
         * -EOPNOTSUPP; another negative errno when the VMM cannot be probed (the core reports
         * that). add_device() runs the same check. `dev` is borrowed. */
        int (*check_device)(const struct vmsilo_host *h, const struct vmsilo_device *dev);

        /* Since: ABI 1.2. */

        /* Any hook. The address of `symbol` in the plugin's companion `file` ("netlink.so"), a
         * shared object installed as NAME/FILE next to the plugin's NAME.so (the net plugin's
         * plugins/net.so has plugins/net/netlink.so). It is checked like the plugin (owner and mode
         * of the file and of every directory above it), loaded on first use with RTLD_NOW |
         * RTLD_LOCAL and kept until the plugin is unloaded. NULL after logging why (the file, and
         * the loader's words). For what only some configurations need: a library linked into the
         * plugin is mapped, relocated and initialized by every command that loads the plugin, used
         * or not; one linked into a companion only when it is asked for. `file` and `symbol` are
         * borrowed. */
        void *(*companion)(const struct vmsilo_host *h, const char *file, const char *symbol);
};

/* host->companion() where the core has it (ABI 1.2); with an older core, logs why and
 * returns NULL, as companion() does when it cannot load the file. */
static inline void *vmsilo_companion(const struct vmsilo_host *h, const char *file,
                                     const char *symbol) {
        if (VMSILO_HOST_HAS(h, companion))
                return h->companion(h, file, symbol);
        h->log(h, VMSILO_LOG_ERROR,
               "cannot load companion '%s': this vmsilo-core speaks plugin ABI 1.%u, companions "
               "need 1.2",
               file, (unsigned) h->abi_minor);
        return NULL;
}

/*
 * The descriptor. `state` is what init() returned through ret_state (may stay NULL).
 * Since: ABI 1.0 for every member.
 */
struct vmsilo_plugin {
        uint32_t abi_major; /* VMSILO_PLUGIN_ABI_MAJOR */
        uint32_t size;      /* sizeof(struct vmsilo_plugin) */
        const char *name;   /* = the file name without .so = the config section name */
        const char *version;

        int (*init)(const struct vmsilo_host *host, void **ret_state);
        /* One key of the plugin's section, in file order, global drop-ins first, then the
         * VM's own files. `instance` is the part after the name in `[net eth0]`, or NULL.
         * Return -ENOENT for an unknown key (the core reports it with path:line), -EINVAL for
         * a bad value after logging why (the core adds path:line). An empty value is the
         * "reset" of a list key. */
        int (*configure)(void *state, const char *instance, const char *key, const char *value);
        int (*preflight)(void *state);
        int (*prepare)(void *state);
        int (*contribute)(void *state);
        /* One action registered with push_undo(), newest first. May run in a later process
         * (`cleanup`) whose configure saw the same files, so it must not need prepare's state;
         * must be idempotent: the action may be already undone. */
        int (*undo)(void *state, const char *action);
        void (*teardown)(void *state);

        /* Since: ABI 1.1. */

        /* The plugin's keys (see struct vmsilo_key), parsed and stored by the core; NULL: all
         * keys go to configure(). `key_size` is sizeof(struct vmsilo_key) as compiled. */
        const struct vmsilo_key *keys;
        size_t key_size;
        /* For VMSILO_KEY_INSTANCE keys: the struct of instance `name` ("eth0" of [net eth0]),
         * created on first use; the same one for the same name. Return 0 and *ret_base, or
         * -EINVAL after logging why the name is bad, or -ENOMEM. Called for every key, so the
         * plugin may move its instances between calls. `name` is borrowed. */
        int (*instance)(void *state, const char *name, void **ret_base);
        /* After the last key of the VM's configuration, when every key was valid: cross-key
         * rules, each reported with log_at() (a configuration error, path:line). 0 or
         * -EINVAL. */
        int (*configured)(void *state);
};

#ifdef __cplusplus
}
#endif

#endif /* VMSILO_PLUGIN_H */
