/*
 * An index file (or a hash list) read one line at a time, so memory stays flat however big the
 * tree. Lines are expected in path order; the caller merge-joins them with its own walk. A line
 * that cannot be read, or one out of order, ends the file for us: what follows is not trusted
 * (files are then hashed, never given a hash that was not proven).
 */
#include "bbcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ireader_open(ireader_t *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->f = fopen(path, "re");
  if (!r->f) die_errno("cannot read index", path);
  setvbuf(r->f, NULL, _IOFBF, 1 << 20);
  ireader_next(r);
}

bool ireader_next(ireader_t *r) {
  if (r->have) buf_set(&r->prev, r->cur.p.s, r->cur.p.len);
  bool had = r->have;
  r->have = false;
  if (!r->f || r->broken) return false;
  for (;;) {
    errno = 0;
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) {
      if (errno) die_errno("cannot read index", r->path);
      return false;
    }
    r->lineno++;
    while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) n--;
    if (n == 0) continue;
    if (json_parse_entry(r->line, (size_t)n, &r->cur) != 0 || (had && path_cmp(r->prev.s, r->cur.p.s) >= 0)) {
      r->broken = true;
      fprintf(stderr, "bbcopy: warning: %s line %lld is not a valid index line in order; ignoring the rest of it\n", r->path, r->lineno);
      return false;
    }
    r->have = true;
    return true;
  }
}

bool ireader_seek(ireader_t *r, const char *path) {
  while (r->have && path_cmp(r->cur.p.s, path) < 0) ireader_next(r);
  return r->have && strcmp(r->cur.p.s, path) == 0;
}

void ireader_close(ireader_t *r) {
  if (r->f) fclose(r->f);
  free(r->line);
  entry_free(&r->cur);
  buf_free(&r->prev);
  memset(r, 0, sizeof *r);
}
