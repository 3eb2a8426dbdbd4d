/*
 * One regular file's bytes and metadata, on whichever thread copies it (the walk's own, or a
 * copy thread of ring.c). Each byte is read once: hashed (here, or on the copier's hashing
 * thread for files bigger than one chunk) and written from the same buffer.
 */
#include "bbcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096

static uint64_t bytes_done; /* regular-file bytes done, over all threads */

void bytes_add(uint64_t n) { __atomic_add_fetch(&bytes_done, n, __ATOMIC_RELAXED); }
uint64_t bytes_total(void) { return __atomic_load_n(&bytes_done, __ATOMIC_RELAXED); }

void copier_init(copier_t *c, const char *source, const char *target, bool hash_thread) {
  memset(c, 0, sizeof *c);
  c->source = source;
  c->target = target;
  c->h = hasher_new();
  c->buf = xmalloc(CHUNK);
  if (hash_thread) c->q = hashq_new(4, CHUNK);
}

uint64_t copier_finish(copier_t *c) { return c->q ? hashq_finish(c->q) : 0; }

static const char *path_in(buf_t *b, const char *root, const buf_t *rel) {
  buf_set(b, root, strlen(root));
  if (rel && rel->len) {
    buf_addc(b, '/');
    buf_add(b, rel->s, rel->len);
  }
  return b->s;
}
const char *copier_src(copier_t *c) { return path_in(&c->sp, c->source, c->rel); }
const char *copier_dst(copier_t *c) { return path_in(&c->dp, c->target, c->rel); }

void set_meta_fd(copier_t *c, int sfd, int dfd, const struct stat *s) {
  uint64_t t0 = now_ns();
  if (fchown(dfd, s->st_uid, s->st_gid) != 0) die_errno("cannot set the owner of", copier_dst(c));
  xattr_copy(sfd, copier_src(c), dfd, copier_dst(c));
  if (fchmod(dfd, s->st_mode & 07777) != 0) die_errno("cannot set the mode of", copier_dst(c));
  struct timespec ts[2] = {s->st_atim, s->st_mtim};
  if (futimens(dfd, ts) != 0) die_errno("cannot set the times of", copier_dst(c));
  phase_ns[PH_META] += now_ns() - t0;
}

static bool all_zero(const char *p, size_t n) { return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0); }

static void pwrite_all(copier_t *c, int fd, const char *p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t k = pwrite(fd, p, n, off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die_errno("cannot write", copier_dst(c));
    p += k;
    n -= (size_t)k;
    off += k;
  }
}

/* Writes the non-zero blocks of buf at off; zero blocks become holes (rsync -S). Returns the end of the last write. */
static uint64_t write_sparse(copier_t *c, int fd, const char *buf, size_t n, uint64_t off, uint64_t written_end) {
  uint64_t t0 = now_ns();
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    while (i < n && !all_zero(buf + i, n - i < BLOCK ? n - i : BLOCK)) i += n - i < BLOCK ? n - i : BLOCK;
    if (i > start) {
      pwrite_all(c, fd, buf + start, i - start, (off_t)(off + start));
      written_end = off + i;
    }
    while (i < n && all_zero(buf + i, n - i < BLOCK ? n - i : BLOCK)) i += n - i < BLOCK ? n - i : BLOCK;
  }
  phase_ns[PH_WRITE] += now_ns() - t0;
  return written_end;
}

/*
 * Reads in (hashing every byte, holes as zeros without reading them) and, when out >= 0, writes
 * the same bytes to out. Stops at the size the file had when opened. Returns the bytes hashed.
 * A file bigger than one chunk that is copied goes through the copier's hashing thread (hashq.c):
 * its chunks are hashed there while this thread writes them and reads the next.
 */
uint64_t pass_data(copier_t *c, int in, int out, const struct stat *s, char sha[65]) {
  uint64_t end = (uint64_t)s->st_size, off = 0, written_end = 0;
  bool holes = (uint64_t)s->st_blocks * 512 < end; /* only a sparse file is worth SEEK_DATA */
  hashq_t *q = out >= 0 && c->q && end > CHUNK ? c->q : NULL;
  if (q) hashq_start(q);
  else hasher_start(c->h);
  while (off < end) {
    uint64_t data_end = end;
    if (holes) {
      off_t d = lseek(in, (off_t)off, SEEK_DATA);
      if (d < 0 && errno == ENXIO) d = (off_t)end; /* the rest is a hole */
      else if (d < 0) d = (off_t)off, holes = false;
      if ((uint64_t)d > end) d = (off_t)end;
      if ((uint64_t)d > off) {
        if (q) hashq_zeros(q, (uint64_t)d - off);
        else TIMED(PH_HASH, hasher_zeros(c->h, (uint64_t)d - off));
        bytes_add((uint64_t)d - off);
        off = (uint64_t)d;
        continue;
      }
      off_t e = lseek(in, (off_t)off, SEEK_HOLE);
      if (e > 0 && (uint64_t)e < end) data_end = (uint64_t)e;
    }
    while (off < data_end) {
      size_t want = data_end - off < CHUNK ? (size_t)(data_end - off) : CHUNK;
      char *buf = q ? hashq_buffer(q) : c->buf;
      ssize_t n;
      TIMED(PH_READ, n = pread(in, buf, want, (off_t)off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die_errno("cannot read", copier_src(c));
      if (n == 0) { /* shrank while we read: keep what was there */
        end = off;
        break;
      }
      if (q) hashq_data(q, (size_t)n);
      else TIMED(PH_HASH, hasher_update(c->h, buf, (size_t)n));
      if (out >= 0) written_end = write_sparse(c, out, buf, (size_t)n, off, written_end);
      off += (uint64_t)n;
      bytes_add((uint64_t)n);
      if (c->reports) progress_bytes(bytes_total());
    }
  }
  if (out >= 0 && written_end < off && ftruncate(out, (off_t)off) != 0) die_errno("cannot write", copier_dst(c));
  if (q) hashq_hex(q, sha);
  else hasher_hex(c->h, sha);
  return off;
}
