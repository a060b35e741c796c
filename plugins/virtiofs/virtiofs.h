/* SPDX-License-Identifier: MIT */
/* Internal declarations of the virtiofs plugin (one .so; nothing here is exported). */
#pragma once

#include <stddef.h>

#include <vmsilo/plugin.h>

#define SHARE_NAME_MAX 32
#define TAG_MAX 36 /* bytes of the virtio-fs config space tag */
#define GUEST_PATH_MAX 255
#define HOME_SHARE "home"
#define DEFAULT_HOME_MOUNT_POINT "/home/user"
/* virtiofs-launch (launch/virtiofs-launch.c), installed next to virtiofs.so */
#define LAUNCHER_NAME "virtiofs-launch"

enum flavour { FLAVOUR_AUTO, FLAVOUR_C, FLAVOUR_RUST };
enum backend { BACKEND_VIRTIOFSD, BACKEND_CROSVM };
enum cache { CACHE_AUTO, CACHE_ALWAYS, CACHE_NEVER, CACHE_METADATA };
enum sandbox { SANDBOX_NAMESPACE, SANDBOX_CHROOT, SANDBOX_NONE };
enum home { HOME_OFF, HOME_DEFAULT, HOME_PATH };
enum { MOUNT_VMSILO = 1, MOUNT_SYSTEMD = 2 };

struct strv {
        char **items;
        size_t n, allocated;
};

struct share {
        char *name;
        char *path;        /* host directory as configured (or derived, for the home) */
        char *tag;         /* NULL: the name */
        char *mount_point; /* NULL: /mnt/NAME; "none": not mounted by the guest init */
        int read_only, cache, xattr, posix_acl;
        struct strv translate_uid, translate_gid;
        /* as the core stored the keys (virtiofs_keys); virtiofs_convert() derives the above */
        int cache_index;
        char **translate_uid_given, **translate_gid_given;
        int is_home;
        char *socket; /* RUNTIME_DIR/virtiofs-NAME.sock */
        char *root;   /* RUNTIME_DIR/virtiofs-NAME.root: where virtiofs-launch binds the share */
};

/* What `VIRTIOFSD --help` said. */
struct probe {
        int done, ok;
        char *binary; /* resolved path */
        int flavour;  /* FLAVOUR_C or FLAVOUR_RUST; FLAVOUR_AUTO when unknown */
        int has_tag, has_readonly, has_translate, has_announce, has_modcaps, has_rlimit;
        char *launcher; /* virtiofs-launch */
};

struct virtiofs {
        const struct vmsilo_host *host;
        struct share *shares;
        size_t n_shares;
        char *virtiofsd; /* configured; NULL: search */
        int flavour, backend, sandbox, mount_params;
        int home;
        char *home_path;        /* HOME_PATH */
        int mount_params_index; /* the keys as stored; virtiofs_convert() derives the above */
        char *home_given;
        char *home_mount_point;
        int home_added;
        struct probe probe;
};

/* strv.c-like helpers (config.c) */
int strv_push(struct strv *v, const char *s);
int strv_pushf(struct strv *v, const char *fmt, ...) VMSILO_PRINTF(2, 3);
void strv_free(struct strv *v);

/* config.c */
extern const struct vmsilo_key virtiofs_keys[];
int virtiofs_instance(void *state, const char *name, void **ret);
int virtiofs_configured(void *state);
int virtiofs_convert(struct virtiofs *o);
int tag_valid(const char *tag);
int share_name_valid(const char *name);
int guest_path_valid(const char *path);
int idmap_valid(const char *map);
const char *share_tag(const struct share *s);
char *share_mount_point(const struct share *s); /* malloc()ed; NULL when "none" or OOM */
void share_free(struct share *s);

/* probe.c */
int virtiofsd_probe(struct virtiofs *o);
char *find_in_path(const char *name);
char *launcher_path(void); /* malloc()ed */
/* Tests only: where virtiofs-launch is (borrowed; NULL: next to the plugin's .so). */
void virtiofs_set_launcher(const char *path);

/* check.c */
int home_directory(struct virtiofs *o, char **ret);
int add_home_share(struct virtiofs *o);
int virtiofs_preflight(void *state);
int backend_check(struct virtiofs *o); /* the checks the argv depends on, also for `print` */
/* 1 if the VMM asks the vhost-user fs backend for the tag (crosvm), not the device (QEMU) */
int tag_from_backend(const struct vmsilo_host *h);

/* argv.c */
int virtiofsd_argv(struct virtiofs *o, const struct share *s, struct strv *argv);
