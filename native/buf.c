/* Growable strings and fatal errors. */
#include "bbcopy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("out of memory");
  return p;
}

void buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) die("out of memory");
  b->s = s;
  b->cap = cap;
}

void buf_set(buf_t *b, const char *s, size_t n) {
  b->len = 0;
  buf_add(b, s, n);
}

void buf_add(buf_t *b, const char *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

void buf_addc(buf_t *b, char c) {
  buf_reserve(b, 1);
  b->s[b->len++] = c;
  b->s[b->len] = 0;
}

void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_addf(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[128];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) die("formatting failed");
  if ((size_t)n < sizeof tmp) {
    buf_add(b, tmp, (size_t)n);
    return;
  }
  buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void buf_free(buf_t *b) {
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

void die(const char *fmt, ...) {
  report_flush();
  va_list ap;
  va_start(ap, fmt);
  fputs("bbcopy: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

void die_errno(const char *what, const char *path) {
  int e = errno;
  die("%s %s: %s", what, path && *path ? path : "(volume root)", strerror(e));
}
