/* SPDX-License-Identifier: MIT */
/*
 * The plugin key table (struct vmsilo_key): lookup, value parsing and storing. Pure libc, no
 * logging, so that tests/mock-host compiles the same parser the core runs.
 */
#pragma once

#include <stddef.h>

#include "vmsilo/plugin.h"

/* The smallest key entry this core reads (ABI 1.1). */
#define KEYTAB_MIN_SIZE sizeof(struct vmsilo_key)

/* Looks `name` up in `keys` (entries of `key_size` bytes), preferring the entry whose
 * VMSILO_KEY_INSTANCE flag matches `instance`; copies it into *ret. 1 found, 0 not (or a
 * table this core cannot read). */
int keytab_find(const struct vmsilo_key *keys, size_t key_size, const char *name, int instance,
                struct vmsilo_key *ret);

/* 1 if some key of the table has VMSILO_KEY_INSTANCE. */
int keytab_has_instance_keys(const struct vmsilo_key *keys, size_t key_size);

/*
 * Parses `value` for key `k` and stores it at `base`. 0, -ENOMEM, or -EINVAL with the value
 * (or list item) that is wrong in `bad` and the reason in `why` ("expected ...").
 */
int keytab_store(const struct vmsilo_key *k, void *base, const char *value, char *bad, size_t badsz,
                 char *expected, size_t expsz);

/* Stores the defaults of the keys whose VMSILO_KEY_INSTANCE flag equals `instance`.
 * 0, -ENOMEM or -EINVAL (a default the key itself refuses: a plugin bug). */
int keytab_defaults(const struct vmsilo_key *keys, size_t key_size, void *base, int instance);

/* "yes or no", "an absolute path", "a, b or c", ...: the text after "expected". */
void keytab_expected(const struct vmsilo_key *k, char *buf, size_t size);
