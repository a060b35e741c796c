/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util/log.h"
#include "util/process.h"
#include "util/state.h"
#include "util/strv.h"

int mkdir_parents(const char *path, mode_t parent_mode, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, parent_mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

/* Who may have made a runtime dir or journal that we act on: ourselves or root. */
static int trusted_owner(uid_t uid) {
        return uid == geteuid() || uid == 0;
}

int state_dir_open(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!trusted_owner(st.st_uid) || (st.st_mode & 022) != 0)
                return -EPERM;
        return TAKE_FD(fd);
}

static int lock_open(const char *dir, uid_t uid, gid_t gid) {
        _cleanup_close_ int dfd = -1;
        int r;

        r = mkdir_parents(dir, 0755, 0750);
        if (r < 0)
                return r;
        dfd = state_dir_open(dir);
        if (dfd < 0)
                return dfd;
        if (geteuid() == 0 && (uid != 0 || gid != 0))
                (void) !fchown(dfd, uid, gid);
        r = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        return r < 0 ? negative_errno() : r;
}

int state_lock(const char *dir, uid_t uid, gid_t gid) {
        _cleanup_free_ char *path = strdup_printf("%s/lock", dir);
        _cleanup_close_ int fd = -1;

        if (!path)
                return -ENOMEM;

        fd = lock_open(dir, uid, gid);
        if (fd == -ENOENT) /* the previous run removed the dir just now: make it again */
                fd = lock_open(dir, uid, gid);
        if (fd < 0)
                return fd;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        {
                struct stat a, b;

                /* the run that held it may have removed the file while we waited: a lock on
                 * an unlinked file guards nothing, take the new one */
                if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
                    a.st_dev != b.st_dev) {
                        fd = safe_close(fd);
                        return state_lock(dir, uid, gid);
                }
        }
        return TAKE_FD(fd);
}

int state_keep_dir_open(const char *dir, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = mkdir_parents(dir, 0700, 0700);
        if (r < 0)
                return r;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* an existing dir (an admin's /var/lib/vmsilo/NAME with the VM's disks, say) keeps
         * its mode; it only has to be ours and not writable by others */
        if ((st.st_uid != geteuid() && st.st_uid != uid) || (st.st_mode & 022) != 0)
                return -EPERM;
        if (geteuid() == 0 && st.st_uid != uid && fchown(fd, uid, gid) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int state_is_running(const char *dir) {
        _cleanup_free_ char *path = strdup_printf("%s/lock", dir);
        _cleanup_close_ int fd = -1;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : negative_errno();
        return 0;
}

/* Escapes %, tab, newline and control bytes as %XX. */
static void put_escaped(FILE *f, const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c == '%' || *c < 0x20 || *c == 0x7f)
                        fprintf(f, "%%%02X", *c);
                else
                        fputc(*c, f);
        }
}

static char *unescape(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned v;

                if (s[i] == '%' && i + 2 < n + 1 && sscanf(s + i + 1, "%2X", &v) == 1) {
                        *o++ = (char) v;
                        i += 2;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

/* Whether a record names a change that can outlive the machine, and so must reach the disk
 * before the change is made: not a process (none survives a reboot), nor a file directly in
 * the runtime dir (the next start or cleanup empties it whatever the journal says; it does
 * not descend into subdirectories, so their files stay durable). A crash of the supervisor
 * alone loses nothing written: the page cache outlives it. */
static int journal_record_durable(const char *dir, const char *kind, const char *a) {
        size_t n = strlen(dir);

        if (streq(kind, "kill"))
                return 0;
        if (streq(kind, "unlink") && a && strncmp(a, dir, n) == 0 && a[n] == '/' && a[n + 1] &&
            !strchr(a + n + 1, '/') && !streq(a + n + 1, "..") && !streq(a + n + 1, "."))
                return 0;
        return 1;
}

int journal_append(const char *dir, const char *kind, const char *a, const char *b, const char *c) {
        _cleanup_free_ char *path = strdup_printf("%s/journal", dir);
        const char *fields[] = { a, b, c };
        FILE *f;
        int fd;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "a");
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        fputs(kind, f);
        for (size_t i = 0; i < ELEMENTSOF(fields) && fields[i]; i++) {
                fputc('\t', f);
                put_escaped(f, fields[i]);
        }
        fputc('\n', f);
        if (fflush(f) != 0 || (journal_record_durable(dir, kind, a) && fsync(fd) < 0)) {
                fclose(f);
                return negative_errno();
        }
        fclose(f);
        return 0;
}

static int parse_record(char *line, struct journal_record *rec) {
        char *fields[4] = {};
        size_t k = 0;

        for (char *s = line; k < 4; k++) {
                char *tab = strchr(s, '\t');
                size_t n = tab ? (size_t) (tab - s) : strlen(s);

                fields[k] = unescape(s, n);
                if (!fields[k])
                        break;
                if (!tab) {
                        k++;
                        break;
                }
                s = tab + 1;
        }
        *rec = (struct journal_record){ fields[0], fields[1], fields[2], fields[3] };
        return rec->kind ? 0 : -ENOMEM;
}

/* The journal of `dir`, opened only when both are ours (or root's) and not writable by
 * others: a journal names paths to remove and processes to kill. */
static int journal_open(const char *dir, FILE **ret) {
        _cleanup_close_ int dfd = state_dir_open(dir), fd = -1;
        struct stat st;

        *ret = NULL;
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        fd = openat(dfd, "journal", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : errno == ELOOP ? -EPERM : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || !trusted_owner(st.st_uid) || (st.st_mode & 022) != 0)
                return -EPERM;
        *ret = fdopen(fd, "r");
        if (!*ret)
                return -ENOMEM;
        TAKE_FD(fd);
        return 0;
}

int journal_read(const char *dir, struct journal_record **ret, size_t *ret_n) {
        struct journal_record *recs = NULL;
        size_t n = 0, cap = 0, len = 0;
        char *line = NULL;
        FILE *f;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = journal_open(dir, &f);
        if (r < 0 || !f)
                return r;
        while (getline(&line, &len, f) > 0) {
                line[strcspn(line, "\n")] = 0;
                if (!line[0])
                        continue;
                if (n == cap) {
                        struct journal_record *m;

                        cap = cap ? cap * 2 : 16;
                        m = realloc(recs, cap * sizeof(*m));
                        if (!m)
                                break;
                        recs = m;
                }
                if (parse_record(line, &recs[n]) < 0)
                        break;
                n++;
        }
        free(line);
        fclose(f);
        *ret = recs;
        *ret_n = n;
        return 0;
}

void journal_records_free(struct journal_record *r, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(r[i].kind);
                free(r[i].a);
                free(r[i].b);
                free(r[i].c);
        }
        free(r);
}

int state_remove(const char *dir, int keep_lock) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    !streq(de->d_name, "lock") && unlinkat(dirfd(d), de->d_name, 0) < 0 &&
                    errno == EISDIR)
                        log_warning("'%s/%s' is a directory, leaving it", dir, de->d_name);
        /* the lock goes last: whoever waits for it to vanish finds nothing else of ours */
        if (!keep_lock)
                (void) unlinkat(dirfd(d), "lock", 0);
        closedir(d);
        if (!keep_lock && rmdir(dir) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int write_pid_file(const char *dir, const char *name, pid_t pid) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *tmp = strdup_printf("%s/.%s.tmp", dir, name);
        FILE *f;

        if (!path || !tmp)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return negative_errno();
        fprintf(f, "%d %llu\n", (int) pid, process_start_time(pid));
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                return negative_errno();
        return 0;
}

pid_t read_pid_file(const char *dir, const char *name, unsigned long long *ret_start) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        unsigned long long start = 0;
        int pid = 0;
        FILE *f;

        if (!path)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        if (fscanf(f, "%d %llu", &pid, &start) < 1)
                pid = 0;
        fclose(f);
        if (pid <= 0)
                return -EINVAL;
        if (ret_start)
                *ret_start = start;
        return pid;
}

int journal_keep(const char *dir, const struct journal_record *recs, size_t n) {
        _cleanup_free_ char *path = strdup_printf("%s/journal", dir);
        _cleanup_free_ char *tmp = strdup_printf("%s/.journal.tmp", dir);
        FILE *f;

        if (!path || !tmp)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return negative_errno();
        for (size_t i = 0; i < n; i++) {
                const char *fields[] = { recs[i].a, recs[i].b, recs[i].c };

                fputs(recs[i].kind, f);
                for (size_t k = 0; k < ELEMENTSOF(fields) && fields[k]; k++) {
                        fputc('\t', f);
                        put_escaped(f, fields[k]);
                }
                fputc('\n', f);
        }
        if (fflush(f) != 0 || fsync(fileno(f)) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
                (void) unlink(tmp);
                return negative_errno();
        }
        return 0;
}
