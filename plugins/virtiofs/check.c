/* SPDX-License-Identifier: MIT */
/* The shared home and every preflight check of the virtiofs plugin. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "safedir.h"
#include "virtiofs.h"

#define LOG_ERR(o, ...) (o)->host->log((o)->host, VMSILO_LOG_ERROR, __VA_ARGS__)

/* vmsilo's sharedHome: /var/lib/vmsilo/NAME/home for root (under --root), else
 * $XDG_DATA_HOME/vmsilo/NAME/home or ~/.local/share/vmsilo/NAME/home. */
int home_directory(struct virtiofs *o, char **ret) {
        const struct vmsilo_host *h = o->host;
        const char *name = h->vm_name(h), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        char *base = NULL, *p = NULL;
        int r = 0;

        if (o->home == HOME_PATH) {
                *ret = strdup(o->home_path);
                return *ret ? 0 : -ENOMEM;
        }
        if (h->vm_uid(h) == 0)
                base = h->root_path(h, "/var/lib/vmsilo");
        else if (xdg && xdg[0] == '/')
                r = asprintf(&base, "%s/vmsilo", xdg);
        else if (home && home[0] == '/')
                r = asprintf(&base, "%s/.local/share/vmsilo", home);
        else {
                LOG_ERR(o,
                        "cannot place the shared home of VM '%s': neither $XDG_DATA_HOME nor $HOME is set; set 'shared-home = PATH' in [virtiofs]",
                        name);
                return -ENOENT;
        }
        if (r < 0)
                return -ENOMEM; /* base is undefined after a failed asprintf() */
        if (!base)
                return -ENOMEM;
        r = asprintf(&p, "%s/%s/home", base, name);
        free(base);
        if (r < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* The shared home is one more share, named and tagged "home". */
int add_home_share(struct virtiofs *o) {
        struct share *n, s = { .is_home = 1 };
        int r;

        if (o->home == HOME_OFF || o->home_added)
                return 0;
        for (size_t i = 0; i < o->n_shares; i++)
                if (strcmp(o->shares[i].name, HOME_SHARE) == 0) {
                        LOG_ERR(o,
                                "share name 'home' is taken by the shared home: rename [virtiofs home] or set 'shared-home = no'");
                        return -EEXIST;
                }
        r = home_directory(o, &s.path);
        if (r < 0)
                return r;
        s.name = strdup(HOME_SHARE);
        s.mount_point =
                strdup(o->home_mount_point ? o->home_mount_point : DEFAULT_HOME_MOUNT_POINT);
        n = s.name && s.mount_point ? realloc(o->shares, (o->n_shares + 1) * sizeof(*n)) : NULL;
        if (!n) {
                share_free(&s);
                return -ENOMEM;
        }
        o->shares = n;
        o->shares[o->n_shares++] = s;
        o->home_added = 1;
        return 0;
}

/* A missing shared home is created by prepare: its nearest existing ancestor must let us. */
static int check_creatable(struct virtiofs *o, const char *path) {
        char parent[PATH_MAX], *slash;
        struct stat st = {};
        int found = 0;

        snprintf(parent, sizeof(parent), "%s", path);
        while (!found && (slash = strrchr(parent, '/'))) {
                *(slash == parent ? slash + 1 : slash) = '\0';
                found = stat(parent, &st) == 0;
                if (slash == parent)
                        break;
        }
        if (!found || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK) < 0) {
                LOG_ERR(o, "cannot create the shared home '%s': '%s' is not a writable directory",
                        path, parent);
                return 1;
        }
        return 0;
}

/* 1 if `component` is the last one of `path` (trailing slashes aside). */
static int is_last_component(const char *path, const char *component) {
        size_t n = strlen(path), c = strlen(component);

        while (n > 1 && path[n - 1] == '/')
                n--;
        return n > c && path[n - c - 1] == '/' && strncmp(path + n - c, component, c) == 0;
}

static int check_owner(struct virtiofs *o, const struct share *s, int fd) {
        const struct vmsilo_host *h = o->host;
        char *owner, *user;
        struct stat st;

        if (fstat(fd, &st) < 0) {
                LOG_ERR(o, "cannot access source directory '%s' of share '%s': %s", s->path,
                        s->name, strerror(errno));
                return 1;
        }
        if (safedir_owner_ok(st.st_uid, h->vm_uid(h)))
                return 0;
        owner = safedir_user_name(st.st_uid);
        user = safedir_user_name(h->vm_uid(h));
        LOG_ERR(o,
                "share '%s': directory '%s' is owned by '%s' (uid %u), not by the VM's user '%s' (uid %u) or root: refusing to share it",
                s->name, s->path, owner ? owner : "?", (unsigned) st.st_uid, user ? user : "?",
                (unsigned) h->vm_uid(h));
        free(owner);
        free(user);
        return 1;
}

/* The directory is opened as virtiofs-launch will open it: component by component, never
 * following a symlink; it must belong to the VM's user or root. */
static int check_directory(struct virtiofs *o, const struct share *s) {
        char *component = NULL;
        int fd = -1, r, failures = 1;

        r = safedir_open(s->path, &fd, &component);
        if (r >= 0) {
                failures = check_owner(o, s, fd);
                close(fd);
        } else if ((r == -ENOENT || r == -ENOTDIR) && s->is_home)
                failures = check_creatable(o, s->path);
        else if (r == -ENOENT)
                LOG_ERR(o, "source directory '%s' of share '%s' does not exist", s->path, s->name);
        else if (r == -ELOOP)
                LOG_ERR(o,
                        "share '%s': component '%s' of '%s' is a symlink, which is not followed: set 'path =' to the directory it points to",
                        s->name, component, s->path);
        else if (r == -EINVAL && component)
                LOG_ERR(o,
                        "share '%s': path '%s' has a '.' or '..' component: set 'path =' to the resolved directory",
                        s->name, s->path);
        else if (r == -ENOTDIR && component && is_last_component(s->path, component))
                LOG_ERR(o, "source '%s' of share '%s' is not a directory", s->path, s->name);
        else
                LOG_ERR(o, "cannot access source directory '%s' of share '%s'%s%s%s: %s", s->path,
                        s->name, component ? " at '" : "", component ? component : "",
                        component ? "'" : "", strerror(-r));
        free(component);
        return failures;
}

static int check_share(struct virtiofs *o, const struct share *s) {
        const struct vmsilo_host *h = o->host;
        struct sockaddr_un sa;

        if (!s->path) {
                LOG_ERR(o, "[virtiofs %s] has no 'path =': set the host directory to share",
                        s->name);
                return 1;
        }
        if (o->backend == BACKEND_VIRTIOFSD &&
            strlen(h->runtime_dir(h)) + strlen("/virtiofs-.sock") + strlen(s->name) >=
                    sizeof(sa.sun_path)) {
                LOG_ERR(o,
                        "socket of share '%s' would not fit a unix socket path under '%s': use a shorter share name or runtime dir",
                        s->name, h->runtime_dir(h));
                return 1;
        }
        return check_directory(o, s);
}

/* 1 if directory `a` is `b` or below it. */
static int path_within(const char *a, const char *b) {
        size_t n = strlen(b);

        return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || strcmp(b, "/") == 0);
}

static int check_pair(struct virtiofs *o, const struct share *a, const struct share *b) {
        char ra[PATH_MAX], rb[PATH_MAX], *ma, *mb;
        int failures = 0;

        if (strcmp(share_tag(a), share_tag(b)) == 0) {
                LOG_ERR(o,
                        "shares '%s' and '%s' have the same tag '%s': set 'tag =' in one of them",
                        a->name, b->name, share_tag(a));
                failures++;
        }
        ma = share_mount_point(a);
        mb = share_mount_point(b);
        if (ma && mb && strcmp(ma, mb) == 0) {
                LOG_ERR(o, "shares '%s' and '%s' are both mounted at '%s' in the guest", a->name,
                        b->name, ma);
                failures++;
        }
        free(ma);
        free(mb);
        if (a->read_only || b->read_only || !a->path || !b->path || !realpath(a->path, ra) ||
            !realpath(b->path, rb))
                return failures;
        if (strcmp(ra, rb) == 0) {
                LOG_ERR(o,
                        "shares '%s' and '%s' both export '%s' read-write, which the guest cannot keep coherent: make one read-only or share the directory once",
                        a->name, b->name, ra);
                failures++;
        } else if (path_within(ra, rb) || path_within(rb, ra))
                o->host->log(
                        o->host, VMSILO_LOG_WARNING,
                        "shares '%s' ('%s') and '%s' ('%s') overlap and are both read-write: the guest may see stale data where they overlap",
                        a->name, ra, b->name, rb);
        return failures;
}

static int check_crosvm_backend(struct virtiofs *o) {
        const struct vmsilo_host *h = o->host;
        const char *missing = NULL;
        int failures = 0;

        if (h->vmm_can(h, "shared dir", &missing) == 0) {
                LOG_ERR(o,
                        "'backend = crosvm' in [virtiofs] needs the VMM's own shared directories, but %s: use backend = virtiofsd",
                        missing);
                failures++;
        }
        for (size_t i = 0; i < o->n_shares; i++) {
                const struct share *s = &o->shares[i];

                if (s->read_only) {
                        LOG_ERR(o,
                                "share '%s' is read-only, which crosvm's --shared-dir cannot enforce: use backend = virtiofsd",
                                s->name);
                        failures++;
                }
                if (s->translate_uid.n || s->translate_gid.n) {
                        LOG_ERR(o,
                                "share '%s': translate-uid/translate-gid need backend = virtiofsd with the Rust virtiofsd",
                                s->name);
                        failures++;
                }
                if (s->cache == CACHE_METADATA) {
                        LOG_ERR(o,
                                "share '%s': crosvm has no 'cache = metadata': use auto, always or never",
                                s->name);
                        failures++;
                }
                if (s->path && strchr(s->path, ':')) {
                        LOG_ERR(o,
                                "host path '%s' of share '%s' contains ':', which crosvm's --shared-dir (backend = crosvm) cannot carry: rename the directory or use backend = virtiofsd",
                                s->path, s->name);
                        failures++;
                }
        }
        return failures;
}

static int check_c_share(struct virtiofs *o, const struct share *s) {
        int failures = 0;

        if (s->cache == CACHE_METADATA) {
                LOG_ERR(o,
                        "share '%s': the C virtiofsd has no 'cache = metadata': use auto, always or never, or install the Rust virtiofsd",
                        s->name);
                failures++;
        }
        if (s->translate_uid.n || s->translate_gid.n) {
                LOG_ERR(o,
                        "share '%s': the C virtiofsd '%s' cannot translate uids/gids: install the Rust virtiofsd or remove translate-uid/translate-gid",
                        s->name, o->probe.binary);
                failures++;
        }
        return failures;
}

static int check_rust_share(struct virtiofs *o, const struct share *s) {
        int failures = 0;

        if ((s->translate_uid.n || s->translate_gid.n) && !o->probe.has_translate) {
                LOG_ERR(o,
                        "share '%s': virtiofsd '%s' has no --translate-uid: install a newer Rust virtiofsd or remove translate-uid/translate-gid",
                        s->name, o->probe.binary);
                failures++;
        }
        if ((s->translate_uid.n || s->translate_gid.n) && s->posix_acl) {
                LOG_ERR(o,
                        "share '%s': translate-uid/translate-gid cannot be used with posix-acl = yes (virtiofsd refuses the combination)",
                        s->name);
                failures++;
        }
        return failures;
}

int tag_from_backend(const struct vmsilo_host *h) {
        return h->vmm_can(h, "vhost-user fs backend tag", NULL) > 0;
}

static int check_virtiofsd_backend(struct virtiofs *o) {
        const struct vmsilo_host *h = o->host;
        const struct probe *p = &o->probe;
        int failures = 0;

        if (virtiofsd_probe(o) < 0)
                return 1;
        if (p->flavour == FLAVOUR_C && tag_from_backend(h)) {
                LOG_ERR(o,
                        "the C virtiofsd '%s' cannot tell crosvm the tags of the shares (crosvm reads them from the backend): install the Rust virtiofsd, or set 'backend = crosvm' in [virtiofs] to use crosvm's own --shared-dir",
                        p->binary);
                failures++;
        }
        if (p->flavour == FLAVOUR_RUST && !p->has_tag && tag_from_backend(h)) {
                LOG_ERR(o,
                        "virtiofsd '%s' has no --tag, so crosvm cannot learn the tags of the shares: install a newer Rust virtiofsd, or set 'backend = crosvm' in [virtiofs]",
                        p->binary);
                failures++;
        }
        if (p->flavour == FLAVOUR_C && o->sandbox == SANDBOX_NONE) {
                LOG_ERR(o, "the C virtiofsd '%s' has no 'sandbox = none': use namespace or chroot",
                        p->binary);
                failures++;
        }
        for (size_t i = 0; i < o->n_shares; i++)
                failures += p->flavour == FLAVOUR_C ? check_c_share(o, &o->shares[i])
                                                    : check_rust_share(o, &o->shares[i]);
        if (access(p->launcher, X_OK) < 0) {
                LOG_ERR(o,
                        "cannot run '%s', which starts every virtiofsd: %s (reinstall the virtiofs plugin)",
                        p->launcher, strerror(errno));
                failures++;
        }
        return failures;
}

/* Returns the number of failures, each logged. */
int backend_check(struct virtiofs *o) {
        if (o->n_shares == 0)
                return 0;
        if (o->backend == BACKEND_CROSVM)
                return check_crosvm_backend(o);
        return check_virtiofsd_backend(o);
}

int virtiofs_preflight(void *state) {
        struct virtiofs *o = state;
        int failures = 0;

        if (add_home_share(o) < 0)
                failures++;
        for (size_t i = 0; i < o->n_shares; i++) {
                failures += check_share(o, &o->shares[i]);
                for (size_t j = i + 1; j < o->n_shares; j++)
                        failures += check_pair(o, &o->shares[i], &o->shares[j]);
        }
        failures += backend_check(o);
        return failures > 0 ? -EINVAL : 0;
}
