/* SPDX-License-Identifier: MIT */
/* Symlink-free opening of a share's directory (safedir.c), shared with virtiofs-launch. */
#pragma once

#include <stdint.h>

/*
 * Opens the absolute `path` one component at a time, never following a symlink; *ret_fd is
 * an O_PATH fd of the directory. Errors: -ELOOP (a component is a symlink), -ENOTDIR (a
 * component is not a directory), -EINVAL ('.' or '..' component, relative path), or the
 * errno of openat(). On a failure at a component, *ret_component (if not NULL) is that
 * component, malloc()ed; the caller frees it in every case.
 */
int safedir_open(const char *path, int *ret_fd, char **ret_component);
/* 1 if a share directory owned by `owner` may be exported to a VM of `vm_uid`. */
int safedir_owner_ok(uint32_t owner, uint32_t vm_uid);
/* The user name of `uid` from /etc/passwd, else the number; malloc()ed (NULL on OOM). */
char *safedir_user_name(uint32_t uid);
