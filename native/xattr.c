/*
 * Extended attributes, as rsync -X -A keeps them when run as root: every user.*, trusted.* and
 * security.* attribute, and POSIX ACLs (the kernel shows them as system.posix_acl_access and
 * system.posix_acl_default). Other system.* names are the filesystem's own, never copied.
 */
#include "bbcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

static bool wanted(const char *name) {
  if (!strncmp(name, "system.", 7)) return !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default");
  return true;
}

/* The names list of fd (or path, not followed) into b; false when the filesystem has none. */
static bool list_names(int fd, const char *path, buf_t *b) {
  for (;;) {
    ssize_t n = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
    if (n < 0 && (errno == ENOTSUP || errno == ENOSYS)) return false;
    if (n < 0) die_errno("cannot list extended attributes of", path);
    if (n == 0) return b->len = 0, false;
    buf_reserve(b, (size_t)n);
    b->len = 0;
    ssize_t m = fd >= 0 ? flistxattr(fd, b->s, (size_t)n) : llistxattr(path, b->s, (size_t)n);
    if (m < 0 && errno == ERANGE) continue; /* grew meanwhile */
    if (m < 0) die_errno("cannot list extended attributes of", path);
    b->len = (size_t)m;
    return m > 0;
  }
}

/* The value of name into v; false when it vanished meanwhile. */
static bool get_value(int fd, const char *path, const char *name, buf_t *v) {
  for (;;) {
    ssize_t n = fd >= 0 ? fgetxattr(fd, name, NULL, 0) : lgetxattr(path, name, NULL, 0);
    if (n < 0 && errno == ENODATA) return false;
    if (n < 0) die_errno("cannot read an extended attribute of", path);
    buf_reserve(v, (size_t)n);
    ssize_t m = fd >= 0 ? fgetxattr(fd, name, v->s, (size_t)n) : lgetxattr(path, name, v->s, (size_t)n);
    if (m < 0 && errno == ERANGE) continue;
    if (m < 0 && errno == ENODATA) return false;
    if (m < 0) die_errno("cannot read an extended attribute of", path);
    v->len = (size_t)m;
    return true;
  }
}

void xattr_copy(int sfd, const char *spath, int dfd, const char *dpath) {
  static __thread buf_t names, value; /* copy threads call this at once */
  if (!list_names(sfd, spath, &names)) return;
  for (size_t i = 0; i < names.len; i += strlen(names.s + i) + 1) {
    const char *name = names.s + i;
    if (!wanted(name) || !get_value(sfd, spath, name, &value)) continue;
    int r = dfd >= 0 ? fsetxattr(dfd, name, value.s, value.len, 0) : lsetxattr(dpath, name, value.s, value.len, 0);
    if (r != 0) {
      int e = errno;
      die("cannot set extended attribute %s on %s: %s", name, dpath, strerror(e));
    }
  }
}

/* name=value pairs of the wanted attributes, sorted by name, for comparing two files; false when
 * there are too many to compare here (the caller then treats the files as different). */
static bool collect(const char *path, buf_t *out) {
  static __thread buf_t names, value; /* copy threads call this at once */
  out->len = 0;
  if (!list_names(-1, path, &names)) return true;
  /* sort the names: a few per file at most, insertion sort over an index */
  const char *v[256];
  size_t n = 0;
  for (size_t i = 0; i < names.len; i += strlen(names.s + i) + 1) {
    if (!wanted(names.s + i)) continue;
    if (n == 256) return false;
    v[n++] = names.s + i;
  }
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
      const char *t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  for (size_t i = 0; i < n; i++) {
    if (!get_value(-1, path, v[i], &value)) continue;
    buf_adds(out, v[i]);
    buf_addc(out, 0);
    buf_addf(out, "%zu:", value.len);
    buf_add(out, value.s, value.len);
  }
  return true;
}

bool xattr_equal(const char *a, const char *b) {
  static buf_t x, y;
  if (!collect(a, &x) || !collect(b, &y)) return false;
  return x.len == y.len && (x.len == 0 || memcmp(x.s, y.s, x.len) == 0);
}
