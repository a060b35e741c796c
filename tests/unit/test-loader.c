/* SPDX-License-Identifier: MIT */
/*
 * core/plugin/loader.c over the fixture plugins of tests/fixtures/ (built into $BUILD/fixtures):
 * one error line per broken plugin, [plugin NAME] collection, and the hooks' lifecycle as the
 * pipeline drives it (init, configure, preflight, teardown exactly once).
 */
#include <dirent.h>
#include <limits.h>

#include "backend/backend.h"
#include "config/settings.h"
#include "plugin/loader.h"
#include "plugin/vm.h"
#include "testutil.h"

static char *fixdir;   /* absolute $BUILD/fixtures */
static char *hook_log; /* $VMSILO_TEST_HOOK_LOG, written by the fixtures */
static char *tmp;

static char *fixture(const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s.so", fixdir, name) < 0)
                abort();
        return p;
}

static int suite_init(void) {
        const char *build = getenv("BUILD");
        char *rel, path[PATH_MAX];

        if (!build || !*build)
                build = "build";
        if (asprintf(&rel, "%s/fixtures", build) < 0)
                return -1;
        if (!realpath(rel, path)) {
                fprintf(stderr, "fixture dir '%s' not found: run 'make test-programs' first\n",
                        rel);
                free(rel);
                return -1;
        }
        free(rel);
        fixdir = strdup(path);
        tmp = tmpdir_new();
        if (asprintf(&hook_log, "%s/hooks.log", tmp) < 0)
                return -1;
        setenv("VMSILO_TEST_HOOK_LOG", hook_log, 1);
        /* settings_init() reads these: the tests say everything explicitly */
        unsetenv("VMSILO_ROOT");
        unsetenv("VMSILO_CONF_PATH");
        unsetenv("VMSILO_PLUGIN_DIR");
        unsetenv("VMSILO_RUNTIME_DIR");
        unsetenv("VMSILO_CACHE_DIR");
        return 0;
}

static int suite_cleanup(void) {
        unsetenv("VMSILO_TEST_HOOK_LOG");
        free(hook_log);
        free(fixdir);
        tmpdir_remove(tmp);
        return 0;
}

/* What the fixtures' hooks wrote since the last call ("" if nothing); resets the log. */
static char *hooks_take(void) {
        char *text = read_file(hook_log);

        (void) unlink(hook_log);
        return text ? text : strdup("");
}

/* A set holding one plugin `name` at `path`, as plugin_set_collect() would build it. */
static void set_one(struct plugin_set *s, const char *name, const char *path) {
        struct plugin *p = calloc(1, sizeof(*p));

        *s = (struct plugin_set){};
        s->items = calloc(1, sizeof(*s->items));
        if (!p || !s->items)
                abort();
        p->name = strdup(name);
        p->path = strdup(path);
        p->enabled = 1;
        p->enabled_by = strdup("t.conf:1");
        s->items[0] = p;
        s->n = 1;
}

/* Loads `name` from `path` and returns plugin_load()'s result; `*ret_log` gets the log. */
static int load_one(const char *name, const char *path, char **ret_log) {
        struct plugin_set s;
        int r;

        set_one(&s, name, path);
        CAPTURE_LOG(*ret_log, r = plugin_load(s.items[0]));
        plugin_set_done(&s);
        return r;
}

/* Asserts that loading fixture `file` as plugin `name` fails with `error` and logs exactly
 * "vmsilo-core: " + `expected` (in which every %s is the fixture's path). */
static void assert_load_fails(const char *name, const char *file, int error, const char *fmt) {
        _cleanup_free_ char *path = fixture(file), *log = NULL, *expected = NULL;

        ASSERT_INT_EQ(load_one(name, path, &log), error);
        REQUIRE(asprintf(&expected, fmt, path, path, path) > 0);
        ASSERT_STREQ(log, expected);
        ASSERT_INT_EQ(count_substr(log, "\n"), 1);
}

static void test_loader_load_good(void) {
        _cleanup_free_ char *path = fixture("good"), *log = NULL;
        struct plugin_set s;
        struct plugin *p;

        set_one(&s, "good", path);
        p = s.items[0];
        CAPTURE_LOG(log, ASSERT_INT_EQ(plugin_load(p), 0));
        ASSERT_STREQ(log, "");
        CU_ASSERT_PTR_NOT_NULL(p->dl);
        ASSERT_INT_EQ(p->desc.abi_major, VMSILO_PLUGIN_ABI_MAJOR);
        ASSERT_INT_EQ(p->desc.size, sizeof(struct vmsilo_plugin));
        ASSERT_STREQ(p->desc.name, "good");
        ASSERT_STREQ(p->desc.version, "1.2.3");
        CU_ASSERT_PTR_NOT_NULL(p->desc.init);
        CU_ASSERT_PTR_NOT_NULL(p->desc.configure);
        CU_ASSERT_PTR_NOT_NULL(p->desc.preflight);
        CU_ASSERT_PTR_NOT_NULL(p->desc.prepare);
        CU_ASSERT_PTR_NOT_NULL(p->desc.contribute);
        CU_ASSERT_PTR_NOT_NULL(p->desc.undo);
        CU_ASSERT_PTR_NOT_NULL(p->desc.teardown);
        ASSERT_INT_EQ(p->initialized, 0);
        plugin_set_done(&s);
        /* loading runs no hook; unloading a plugin whose init never ran runs no teardown */
        {
                _cleanup_free_ char *hooks = hooks_take();

                ASSERT_STREQ(hooks, "");
        }
}

static void test_loader_not_a_shared_object(void) {
        static const char *const contents[] = { "this is not an ELF file\n", "" };

        for (size_t i = 0; i < ELEMENTSOF(contents); i++) {
                _cleanup_free_ char *path = NULL, *log = NULL, *prefix = NULL;

                write_file(tmp, "notelf.so", contents[i]);
                REQUIRE(asprintf(&path, "%s/notelf.so", tmp) > 0);
                REQUIRE(asprintf(&prefix,
                                 "vmsilo-core: plugin 'notelf': '%s' is not a shared object (",
                                 path) > 0);
                ASSERT_INT_EQ(load_one("notelf", path, &log), -ENOEXEC);
                if (strncmp(log, prefix, strlen(prefix)) != 0)
                        fprintf(stderr, "\nexpected '%s...', got '%s'\n", prefix, log);
                CU_ASSERT(strncmp(log, prefix, strlen(prefix)) == 0);
                CU_ASSERT(strlen(log) > 2 && streq(log + strlen(log) - 2, ")\n"));
                ASSERT_INT_EQ(count_substr(log, "\n"), 1);
                (void) unlink(path);
        }
}

static void test_loader_undefined_symbol(void) {
        assert_load_fails(
                "undefsym", "undefsym", -ENOEXEC,
                "vmsilo-core: plugin 'undefsym': cannot load '%s': %s: undefined symbol: "
                "vmsilo_test_undefined_function; run 'ldd -r %s' to see what is missing\n");
}

static void test_loader_no_descriptor(void) {
        assert_load_fails("nodesc", "nodesc", -ENOEXEC,
                          "vmsilo-core: plugin 'nodesc': '%s' does not export 'vmsilo_plugin_v1'; "
                          "is it a vmsilo plugin?\n");
}

static void test_loader_wrong_abi(void) {
        assert_load_fails("wrongabi", "wrongabi", -EPROTO,
                          "vmsilo-core: plugin 'wrongabi': '%s' was built for plugin ABI 2, this "
                          "vmsilo-core speaks ABI 1; rebuild it against this SDK\n");
}

static void test_loader_descriptor_too_small(void) {
        assert_load_fails("small", "small", -EPROTO,
                          "vmsilo-core: plugin 'small': descriptor in '%s' is 16 bytes, ABI 1.0 "
                          "needs at least 80; rebuild it against this SDK\n");
}

static void test_loader_name_mismatch(void) {
        assert_load_fails("mismatch", "mismatch", -EINVAL,
                          "vmsilo-core: plugin 'mismatch': '%s' calls itself 'other'; the "
                          "descriptor name, the file name and the section name must match\n");
}

static void test_loader_file_name_must_match(void) {
        /* the descriptor says "other" and so does the section, but the file is mismatch.so */
        assert_load_fails("other", "mismatch", -EINVAL,
                          "vmsilo-core: plugin 'other': file '%s' must be named 'other.so'\n");
        /* a copy of good.so under another name is refused even though the name matches */
        {
                _cleanup_free_ char *src = fixture("good"), *copy = NULL, *log = NULL,
                                    *expected = NULL, *data = read_file(src);
                FILE *f;

                REQUIRE(data);
                REQUIRE(asprintf(&copy, "%s/good-copy.so", tmp) > 0);
                f = fopen(copy, "we");
                REQUIRE(f);
                {
                        struct stat st;

                        REQUIRE(stat(src, &st) == 0);
                        REQUIRE(fwrite(data, 1, (size_t) st.st_size, f) == (size_t) st.st_size);
                }
                REQUIRE(fclose(f) == 0);
                ASSERT_INT_EQ(load_one("good", copy, &log), -EINVAL);
                REQUIRE(asprintf(&expected,
                                 "vmsilo-core: plugin 'good': file '%s' must be named 'good.so'\n",
                                 copy) > 0);
                ASSERT_STREQ(log, expected);
                (void) unlink(copy);
        }
}

static void test_loader_missing_file(void) {
        _cleanup_free_ char *path = fixture("absent"), *log = NULL, *expected = NULL;

        ASSERT_INT_EQ(load_one("absent", path, &log), -ENOENT);
        REQUIRE(asprintf(&expected,
                         "vmsilo-core: plugin 'absent': cannot open '%s' (enabled by t.conf:1): No "
                         "such file or directory\n",
                         path) > 0);
        ASSERT_STREQ(log, expected);
}

static void test_loader_directory_is_refused(void) {
        _cleanup_free_ char *path = NULL, *log = NULL, *expected = NULL;

        REQUIRE(asprintf(&path, "%s/dir.so", tmp) > 0);
        REQUIRE(mkdir(path, 0755) == 0);
        ASSERT_INT_EQ(load_one("dir", path, &log), -ENOEXEC);
        REQUIRE(asprintf(&expected, "vmsilo-core: plugin 'dir': '%s' is not a regular file\n",
                         path) > 0);
        ASSERT_STREQ(log, expected);
        REQUIRE(rmdir(path) == 0);
}

/* Plugins are code: a file or directory that someone else may write is refused before
 * dlopen() maps it (the fixture's constructor would otherwise run). */
static void test_loader_untrusted_path_is_refused(void) {
        _cleanup_free_ char *src = fixture("good"), *dir = NULL, *copy = NULL, *log = NULL,
                            *expected = NULL, *data = read_file(src);
        struct stat st;
        FILE *f;

        REQUIRE(data);
        REQUIRE(stat(src, &st) == 0);
        REQUIRE(asprintf(&dir, "%s/shared", tmp) > 0);
        REQUIRE(mkdir(dir, 0755) == 0);
        REQUIRE(asprintf(&copy, "%s/good.so", dir) > 0);
        f = fopen(copy, "we");
        REQUIRE(f);
        REQUIRE(fwrite(data, 1, (size_t) st.st_size, f) == (size_t) st.st_size);
        REQUIRE(fclose(f) == 0);

        REQUIRE(chmod(copy, 0664) == 0); /* writable by its group: ours, so harmless */
        ASSERT_INT_EQ(load_one("good", copy, &log), 0);
        free(log), log = NULL;
        if (geteuid() != 0) { /* only root can hand the file to another group */
                (void) unlink(copy);
                (void) rmdir(dir);
                return;
        }
        REQUIRE(chown(copy, (uid_t) -1, 65534) == 0); /* writable by another group */
        ASSERT_INT_EQ(load_one("good", copy, &log), -EPERM);
        REQUIRE(asprintf(&expected,
                         "vmsilo-core: plugin 'good': refusing '%s': '%s' is owned by uid %u with "
                         "mode 0664; plugins and their directories must be owned by root (or you) "
                         "and writable by no one else\n",
                         copy, copy, (unsigned) geteuid()) > 0);
        ASSERT_STREQ(log, expected);

        REQUIRE(chmod(copy, 0644) == 0);
        REQUIRE(chown(copy, (uid_t) -1, 0) == 0);
        REQUIRE(chmod(dir, 01777) == 0); /* sticky, but not root-owned unless we are root */
        free(log), log = NULL;
        free(expected), expected = NULL;
        ASSERT_INT_EQ(load_one("good", copy, &log), geteuid() == 0 ? 0 : -EPERM);
        REQUIRE(chmod(dir, 0777) == 0); /* world-writable, not sticky: never */
        free(log), log = NULL;
        ASSERT_INT_EQ(load_one("good", copy, &log), -EPERM);
        REQUIRE(asprintf(&expected, "'%s' is owned by uid %u with mode 0777", dir,
                         (unsigned) geteuid()) > 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(log, expected));

        REQUIRE(chmod(dir, 0755) == 0);
        free(log), log = NULL;
        ASSERT_INT_EQ(load_one("good", copy, &log), 0);
        (void) unlink(copy);
        (void) rmdir(dir);
}

/* Asserts that companion(file, symbol) of `p` fails and logs exactly `fmt` (%s: fixdir). */
static void assert_companion_fails(struct plugin *p, const char *file, const char *symbol,
                                   const char *fmt) {
        _cleanup_free_ char *log = NULL, *expected = NULL;

        CAPTURE_LOG(log, CU_ASSERT_PTR_NULL(plugin_companion(p, file, symbol)));
        REQUIRE(asprintf(&expected, fmt, fixdir) > 0);
        ASSERT_STREQ(log, expected);
}

/* host->companion(): NAME/FILE next to the plugin, mapped only when asked for, checked like
 * the plugin; every refusal is one line that names the file. */
static void test_loader_companion(void) {
        _cleanup_free_ char *path = fixture("good"), *log = NULL, *hooks = NULL, *expected = NULL;
        const int *value;
        struct plugin_set s;
        struct plugin *p;

        set_one(&s, "good", path);
        p = s.items[0];
        free(hooks_take());
        REQUIRE(plugin_load(p) == 0);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, ""); /* loading the plugin does not map its companion */
        free(hooks), hooks = NULL;

        CAPTURE_LOG(log, value = plugin_companion(p, "extra.so", "good_extra"));
        ASSERT_STREQ(log, "");
        REQUIRE(value);
        ASSERT_INT_EQ(*value, 42);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "good/extra.so loaded\n");
        free(log), log = NULL;
        /* asked again: the same mapping */
        CAPTURE_LOG(log, CU_ASSERT_PTR_EQUAL(plugin_companion(p, "extra.so", "good_extra"), value));
        ASSERT_STREQ(log, "");
        free(log), log = NULL;

        assert_companion_fails(p, "extra.so", "no_such_symbol",
                               "vmsilo-core: plugin 'good': companion '%s/good/extra.so' does not "
                               "export 'no_such_symbol'; is it this plugin's?\n");
        assert_companion_fails(p, "absent.so", "good_extra",
                               "vmsilo-core: plugin 'good': cannot open '%s/good/absent.so' "
                               "(enabled by t.conf:1): No such file or directory\n");

        {
                const char *bad[] = { "../good.so", "sub/extra.so", ".so", ".extra.so", "extra" };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        CAPTURE_LOG(log, CU_ASSERT_PTR_NULL(plugin_companion(p, bad[i], "x")));
                        REQUIRE(asprintf(&expected,
                                         "vmsilo-core: plugin 'good': companion '%s' must be a "
                                         "file name ending in '.so'\n",
                                         bad[i]) > 0);
                        ASSERT_STREQ(log, expected);
                        free(log), log = NULL;
                        free(expected), expected = NULL;
                }
        }
        plugin_set_done(&s);
        free(hooks), hooks = NULL;
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "");
}

/* A companion someone else may write is refused before dlopen() maps it. */
static void test_loader_untrusted_companion_is_refused(void) {
        _cleanup_free_ char *src = fixture("good"), *dir = NULL, *sub = NULL, *copy = NULL,
                            *extra = NULL, *log = NULL, *hooks = NULL, *expected = NULL,
                            *cmd = NULL;
        struct plugin_set s;

        if (geteuid() != 0)
                return; /* only root can hand the file to another group */
        REQUIRE(asprintf(&dir, "%s/comp", tmp) > 0);
        REQUIRE(asprintf(&sub, "%s/good", dir) > 0);
        REQUIRE(asprintf(&copy, "%s/good.so", dir) > 0);
        REQUIRE(asprintf(&extra, "%s/extra.so", sub) > 0);
        REQUIRE(asprintf(&cmd, "mkdir -p '%s' && cp '%s' '%s' && cp '%s/good/extra.so' '%s'", sub,
                         src, copy, fixdir, extra) > 0);
        REQUIRE(system(cmd) == 0);
        REQUIRE(chown(extra, (uid_t) -1, 65534) == 0);
        REQUIRE(chmod(extra, 0664) == 0); /* writable by another group */
        set_one(&s, "good", copy);
        REQUIRE(plugin_load(s.items[0]) == 0);
        free(hooks_take());
        CAPTURE_LOG(log,
                    CU_ASSERT_PTR_NULL(plugin_companion(s.items[0], "extra.so", "good_extra")));
        REQUIRE(asprintf(&expected, "refusing '%s': '%s' is owned by uid 0 with mode 0664", extra,
                         extra) > 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(log, expected));
        hooks = hooks_take();
        ASSERT_STREQ(hooks, ""); /* never mapped */
        plugin_set_done(&s);
        free(cmd), cmd = NULL;
        REQUIRE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        REQUIRE(system(cmd) == 0);
}

/* Every plugin the build produced loads: right ABI, right name, no missing symbol. */
static void test_loader_every_built_plugin_loads(void) {
        _cleanup_free_ char *plugins = NULL;
        struct dirent *de;
        DIR *d;

        REQUIRE(asprintf(&plugins, "%s/../plugins", fixdir) > 0);
        d = opendir(plugins);
        if (!d) {
                fprintf(stderr, " (no built plugins in '%s') ", plugins);
                return;
        }
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                _cleanup_free_ char *name = NULL, *path = NULL, *log = NULL;

                if (n <= 3 || !streq(de->d_name + n - 3, ".so"))
                        continue;
                name = strndup(de->d_name, n - 3);
                REQUIRE(asprintf(&path, "%s/%s", plugins, de->d_name) > 0);
                ASSERT_INT_EQ(load_one(name, path, &log), 0);
                ASSERT_STREQ(log, "");
        }
        closedir(d);
}

/* ---- [plugin NAME] sections ---- */

/* Parses `text` as t.conf and collects; returns the result, `*ret_log` gets the log. */
static int collect(struct plugin_set *s, const char *text, char **ret_log) {
        struct conf c = {};
        int r;

        *s = (struct plugin_set){};
        CAPTURE_LOG(*ret_log, r = conf_parse_string(&c, "t.conf", text); REQUIRE(r == 0);
                    r = plugin_set_collect(s, &c, fixdir));
        conf_done(&c);
        return r;
}

static void test_loader_collect_enabled(void) {
        _cleanup_free_ char *log = NULL, *good = fixture("good"), *pf = fixture("preflightfail");
        struct plugin_set s;

        ASSERT_INT_EQ(collect(&s,
                              "[vm]\n"
                              "memory = 1024\n"
                              "[plugin preflightfail]\n"
                              "enable = yes\n"
                              "[gpu]\n"
                              "enable = no\n"
                              "[plugin good]\n"
                              "enable = yes\n",
                              &log),
                      0);
        ASSERT_STREQ(log, "");
        REQUIRE(s.n == 2);
        /* in the order of their first [plugin NAME] section */
        ASSERT_STREQ(s.items[0]->name, "preflightfail");
        ASSERT_STREQ(s.items[0]->path, pf);
        ASSERT_STREQ(s.items[0]->enabled_by, "t.conf:4");
        ASSERT_STREQ(s.items[1]->name, "good");
        ASSERT_STREQ(s.items[1]->path, good);
        ASSERT_STREQ(s.items[1]->enabled_by, "t.conf:8");
        CU_ASSERT_PTR_NULL(s.items[1]->dl); /* collecting loads nothing */
        CU_ASSERT(plugin_set_find(&s, "good") == s.items[1]);
        CU_ASSERT_PTR_NULL(plugin_set_find(&s, "gpu"));
        plugin_set_done(&s);
        ASSERT_INT_EQ(s.n, 0);
}

static void test_loader_collect_last_enable_wins(void) {
        _cleanup_free_ char *log = NULL;
        struct plugin_set s;

        ASSERT_INT_EQ(
                collect(&s, "[plugin good]\nenable = yes\n[plugin good]\nenable = no\n", &log), 0);
        ASSERT_STREQ(log, "");
        ASSERT_INT_EQ(s.n, 0);
        CU_ASSERT_PTR_NULL(plugin_set_find(&s, "good"));
        plugin_set_done(&s);
        free(log);

        /* and a later "yes" enables it again, naming where */
        ASSERT_INT_EQ(collect(&s,
                              "[plugin good]\nenable = no\n"
                              "[plugin good]\nenable = on\n",
                              &log),
                      0);
        REQUIRE(s.n == 1);
        ASSERT_STREQ(s.items[0]->enabled_by, "t.conf:4");
        plugin_set_done(&s);
}

static void test_loader_collect_needs_enable(void) {
        _cleanup_free_ char *log = NULL;
        struct plugin_set s;

        /* a path alone does not enable a plugin */
        ASSERT_INT_EQ(collect(&s, "[plugin good]\npath = /opt/good.so\n", &log), 0);
        ASSERT_STREQ(log, "");
        ASSERT_INT_EQ(s.n, 0);
        plugin_set_done(&s);
}

static void test_loader_collect_paths(void) {
        _cleanup_free_ char *log = NULL, *rel = NULL;
        struct plugin_set s;

        ASSERT_INT_EQ(collect(&s,
                              "[plugin good]\n"
                              "enable = yes\n"
                              "path = sub/dir/good.so\n"
                              "[plugin other]\n"
                              "path = /opt/vmsilo/other.so\n"
                              "enable = yes\n"
                              "[plugin third]\n"
                              "path = first.so\n"
                              "path = third.so\n"
                              "enable = yes\n",
                              &log),
                      0);
        ASSERT_STREQ(log, "");
        REQUIRE(s.n == 3);
        REQUIRE(asprintf(&rel, "%s/sub/dir/good.so", fixdir) > 0);
        ASSERT_STREQ(s.items[0]->path, rel);
        ASSERT_STREQ(s.items[1]->path, "/opt/vmsilo/other.so");
        free(rel);
        REQUIRE(asprintf(&rel, "%s/third.so", fixdir) > 0);
        ASSERT_STREQ(s.items[2]->path, rel);
        plugin_set_done(&s);
}

static void test_loader_collect_errors(void) {
        _cleanup_free_ char *log = NULL;
        struct plugin_set s;

        ASSERT_INT_EQ(collect(&s,
                              "[plugin Bad!]\n"
                              "enable = yes\n"
                              "[plugin]\n"
                              "enable = yes\n"
                              "[plugin good]\n"
                              "enabled = yes\n"
                              "enable = maybe\n"
                              "path =\n"
                              "enable = yes\n",
                              &log),
                      5);
        ASSERT_STREQ(
                log,
                "vmsilo-core: t.conf:2: invalid section [plugin Bad!]: expected [plugin NAME], NAME of a-z, 0-9, - and _\n"
                "vmsilo-core: t.conf:4: invalid section [plugin]: expected [plugin NAME], NAME of a-z, 0-9, - and _\n"
                "vmsilo-core: t.conf:6: unknown key 'enabled' in [plugin good]: expected enable or path\n"
                "vmsilo-core: t.conf:7: invalid value 'maybe' for 'enable' in [plugin good]: expected yes or no\n"
                "vmsilo-core: t.conf:8: empty 'path' in [plugin good]\n");
        /* the good parts still count */
        REQUIRE(s.n == 1);
        ASSERT_STREQ(s.items[0]->name, "good");
        plugin_set_done(&s);
}

static void test_loader_collect_name_rules(void) {
        static const char *const bad[] = { "Good", "go od", "good.so", "../good",
                                           "a23456789012345678901234567890123" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL, *log = NULL, *expected = NULL;
                struct plugin_set s;

                REQUIRE(asprintf(&text, "[plugin %s]\nenable = yes\n", bad[i]) > 0);
                ASSERT_INT_EQ(collect(&s, text, &log), 1);
                REQUIRE(asprintf(
                                &expected,
                                "vmsilo-core: t.conf:2: invalid section [plugin %s]: expected [plugin NAME], NAME of a-z, 0-9, - and _\n",
                                bad[i]) > 0);
                ASSERT_STREQ(log, expected);
                ASSERT_INT_EQ(s.n, 0);
                plugin_set_done(&s);
        }
        {
                _cleanup_free_ char *log = NULL;
                struct plugin_set s;

                ASSERT_INT_EQ(collect(&s,
                                      "[plugin a-b_9]\nenable = yes\n"
                                      "[plugin a2345678901234567890123456789012]\nenable = yes\n",
                                      &log),
                              0);
                ASSERT_STREQ(log, "");
                ASSERT_INT_EQ(s.n, 2);
                plugin_set_done(&s);
        }
}

static void test_loader_set_load_counts_failures(void) {
        _cleanup_free_ char *log = NULL, *absent = fixture("absent"), *wrong = fixture("wrongabi"),
                            *expected = NULL;
        struct plugin_set s;
        int r;

        ASSERT_INT_EQ(collect(&s,
                              "[plugin good]\nenable = yes\n"
                              "[plugin absent]\nenable = yes\n"
                              "[plugin wrongabi]\nenable = yes\n",
                              &log),
                      0);
        free(log);
        CAPTURE_LOG(log, r = plugin_set_load(&s));
        ASSERT_INT_EQ(r, 2);
        REQUIRE(asprintf(
                        &expected,
                        "vmsilo-core: plugin 'absent': cannot open '%s' (enabled by t.conf:4): No such file or directory\n"
                        "vmsilo-core: plugin 'wrongabi': '%s' was built for plugin ABI 2, this vmsilo-core speaks ABI 1; rebuild it against this SDK\n",
                        absent, wrong) > 0);
        ASSERT_STREQ(log, expected);
        REQUIRE(s.n == 3);
        ASSERT_STREQ(s.items[0]->desc.name, "good");
        plugin_set_done(&s);
}

/* ---- lifecycle: teardown exactly once for every plugin whose init ran ---- */

static void test_loader_teardown_once_after_init(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL;
        struct vm vm = {};
        struct plugin_set s;
        struct plugin *p;

        ASSERT_INT_EQ(
                collect(&s, "[plugin good]\nenable = yes\n[plugin initfail]\nenable = yes\n", &log),
                0);
        free(log);
        CAPTURE_LOG(log, ASSERT_INT_EQ(plugin_set_load(&s), 0));
        ASSERT_STREQ(log, "");
        REQUIRE(s.n == 2);
        /* as the pipeline does it */
        p = s.items[0];
        host_table_init(p, &vm);
        ASSERT_INT_EQ(p->desc.init(&p->host, &p->state), 0);
        p->initialized = 1;
        CU_ASSERT_PTR_NOT_NULL(p->state);
        /* initfail is loaded, its init never succeeded: no teardown for it */
        plugin_set_done(&s);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "good init\ngood teardown\n");
        /* done is idempotent */
        plugin_set_done(&s);
        free(hooks);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "");
}

static char *vm_root;
static struct settings settings;
static char *vm_file;

/* A root with global drop-in `plugins` (the [plugin] sections) and VM "work" with `vm_text`. */
static void vm_setup(const char *plugins, const char *vm_text) {
        _cleanup_free_ char *kernel = NULL, *text = NULL, *run = NULL;

        vm_root = tmpdir_new();
        write_file(vm_root, "boot/vmlinuz", "kernel");
        REQUIRE(asprintf(&kernel, "%s/boot/vmlinuz", vm_root) > 0);
        write_file(vm_root, "usr/lib/vmsilo/conf.d/50-plugins.conf", plugins);
        REQUIRE(asprintf(&text, "[vm]\nkernel = %s\n%s", kernel, vm_text) > 0);
        write_file(vm_root, "etc/vmsilo/vms/work.conf", text);
        REQUIRE(asprintf(&vm_file, "%s/etc/vmsilo/vms/work.conf", vm_root) > 0);
        REQUIRE(asprintf(&run, "%s/run", vm_root) > 0);
        REQUIRE(settings_init(&settings, vm_root, fixdir, run) == 0);
        free(hooks_take());
}

static void vm_teardown(void) {
        settings_done(&settings);
        tmpdir_remove(vm_root);
        vm_root = NULL;
        free(vm_file);
        vm_file = NULL;
}

static void test_loader_vm_configure_and_teardown(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n", "[good]\ncolor = red\n[good]\ncolor = blue\n");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, 0);
        ASSERT_STREQ(log, "");
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "good init\ngood configure - color=red\ngood configure - color=blue\n");
        REQUIRE(vm.plugins.n == 1);
        ASSERT_INT_EQ(vm.plugins.items[0]->initialized, 1);
        vm_close(&vm);
        free(hooks);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "good teardown\n");
        vm_teardown();
}

static void test_loader_vm_unknown_and_bad_keys(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL, *expected = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n", "[good]\n"         /* line 3 */
                                                  "shade = dark\n"   /* line 4 */
                                                  "color = purple\n" /* line 5 */
                                                  "shape = square\n");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, -EINVAL);
        REQUIRE(asprintf(
                        &expected,
                        "vmsilo-core: %1$s:4: unknown key 'shade' in section [good]\n"
                        /* the plugin said why: said once */
                        "vmsilo-core: %1$s:5: good: unknown color 'purple': expected red, green or blue\n"
                        /* the plugin did not say why: the core does */
                        "vmsilo-core: %1$s:6: invalid value 'square' for 'shape' in [good]\n",
                        vm_file) > 0);
        ASSERT_STREQ(log, expected);
        vm_close(&vm);
        /* init ran, so teardown runs, once, even though the configuration was refused */
        hooks = hooks_take();
        ASSERT_STREQ(hooks,
                     "good init\ngood configure - shade=dark\ngood configure - color=purple\n"
                     "good configure - shape=square\ngood teardown\n");
        vm_teardown();
}

static void test_loader_vm_section_of_disabled_plugin(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL, *expected = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n[plugin good]\nenable = no\n",
                 "[good]\ncolor = red\n");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, -EINVAL);
        REQUIRE(asprintf(
                        &expected,
                        "vmsilo-core: %s:4: section [good] belongs to no enabled plugin; enable it with [plugin good] enable = yes, or remove the section\n",
                        vm_file) > 0);
        ASSERT_STREQ(log, expected);
        vm_close(&vm);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "");
        vm_teardown();
}

static void test_loader_vm_init_failure(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n[plugin initfail]\nenable = yes\n", "");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, -ENOEXEC);
        ASSERT_STREQ(log, "vmsilo-core: initfail: init failed: Input/output error\n");
        REQUIRE(vm.plugins.n == 2);
        ASSERT_INT_EQ(vm.plugins.items[0]->initialized, 1);
        ASSERT_INT_EQ(vm.plugins.items[1]->initialized, 0);
        vm_close(&vm);
        /* good's init ran: one teardown; initfail's init failed: none */
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "good init\ninitfail init\ngood teardown\n");
        vm_teardown();
}

static void test_loader_vm_load_failure_runs_no_hook(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL, *expected = NULL,
                            *path = fixture("wrongabi");
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n[plugin wrongabi]\nenable = yes\n", "");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, -ENOEXEC);
        REQUIRE(asprintf(
                        &expected,
                        "vmsilo-core: plugin 'wrongabi': '%s' was built for plugin ABI 2, this vmsilo-core speaks ABI 1; rebuild it against this SDK\n",
                        path) > 0);
        ASSERT_STREQ(log, expected);
        vm_close(&vm);
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "");
        vm_teardown();
}

/*
 * Known bug (see the report): [plugin NAME] sections are collected from the global conf.d
 * files only; in a VM's own file, route_entry() skips them without a word, so "enable = no"
 * there leaves the plugin running for that VM. Either it takes effect or it is an error.
 */
static void test_loader_vm_plugin_section_in_vm_file(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin good]\nenable = yes\n", "[plugin good]\nenable = no\n");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        hooks = hooks_take();
        if (r == 0)
                ASSERT_STREQ(hooks, ""); /* disabled for this VM: never initialised */
        else {
                _cleanup_free_ char *where = NULL;

                REQUIRE(asprintf(&where, "%s:4: ", vm_file) > 0);
                CU_ASSERT_PTR_NOT_NULL(strstr(log, where));
        }
        vm_close(&vm);
        free(hooks_take());
        vm_teardown();
}

static int fake_probe(struct vm *vm) {
        (void) vm;
        return 0;
}

static int fake_preflight(struct vm *vm) {
        (void) vm;
        return 0;
}

static const struct backend fake_backend = {
        .name = "fake",
        .vmm = VMSILO_VMM_CROSVM,
        .probe = fake_probe,
        .preflight = fake_preflight,
};

static void test_loader_vm_preflight_failure(void) {
        _cleanup_free_ char *log = NULL, *hooks = NULL;
        struct vm vm;
        int r;

        vm_setup("[plugin preflightfail]\nenable = yes\n[plugin good]\nenable = yes\n", "");
        CAPTURE_LOG(log, r = vm_open(&vm, &settings, "work"));
        ASSERT_INT_EQ(r, 0);
        ASSERT_STREQ(log, "");
        free(log);
        vm.backend = &fake_backend; /* no VMM binary needed */
        CAPTURE_LOG(log, r = vm_preflight(&vm));
        /* one failure, said once, in the plugin's words, prefixed with its name */
        ASSERT_INT_EQ(r, 1);
        ASSERT_STREQ(log, "vmsilo-core: preflightfail: '/dev/vhost-vsock' is missing: load the "
                          "vhost_vsock module\n");
        REQUIRE(vm.plugins.n == 2);
        ASSERT_INT_EQ(vm.plugins.items[0]->failed, 1);
        ASSERT_INT_EQ(vm.plugins.items[1]->failed, 0);
        vm_close(&vm);
        /* every preflight runs, even after one failed */
        hooks = hooks_take();
        ASSERT_STREQ(hooks, "preflightfail init\ngood init\npreflightfail preflight\ngood "
                            "preflight\ngood teardown\npreflightfail teardown\n");
        vm_teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_loader_load_good),
                TEST(test_loader_not_a_shared_object),
                TEST(test_loader_undefined_symbol),
                TEST(test_loader_no_descriptor),
                TEST(test_loader_wrong_abi),
                TEST(test_loader_descriptor_too_small),
                TEST(test_loader_name_mismatch),
                TEST(test_loader_file_name_must_match),
                TEST(test_loader_missing_file),
                TEST(test_loader_directory_is_refused),
                TEST(test_loader_untrusted_path_is_refused),
                TEST(test_loader_companion),
                TEST(test_loader_untrusted_companion_is_refused),
                TEST(test_loader_every_built_plugin_loads),
                TEST(test_loader_collect_enabled),
                TEST(test_loader_collect_last_enable_wins),
                TEST(test_loader_collect_needs_enable),
                TEST(test_loader_collect_paths),
                TEST(test_loader_collect_errors),
                TEST(test_loader_collect_name_rules),
                TEST(test_loader_set_load_counts_failures),
                TEST(test_loader_teardown_once_after_init),
                TEST(test_loader_vm_configure_and_teardown),
                TEST(test_loader_vm_unknown_and_bad_keys),
                TEST(test_loader_vm_section_of_disabled_plugin),
                TEST(test_loader_vm_init_failure),
                TEST(test_loader_vm_load_failure_runs_no_hook),
                TEST(test_loader_vm_preflight_failure),
                TEST(test_loader_vm_plugin_section_in_vm_file),
        };

        if (suite_init() < 0)
                return 2;
        {
                int r = RUN_SUITE("loader", tests);

                suite_cleanup();
                return r;
        }
}
