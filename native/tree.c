/*
 * The tree walk: depth first, names in index order, one pass per byte.
 *
 * COPY     source -> empty target with everything rsync -aHAXS --numeric-ids keeps (owners,
 *          modes, ns times, xattrs, ACLs, hard links, holes, symlinks, fifos, sockets; never
 *          device nodes). Each regular file is read once; the bytes read are hashed and written
 *          in the same pass. A file the parent's index proves unchanged (same size, mtime, mode,
 *          owner, and the parent's copy still so, with the same xattrs) becomes a hard link to
 *          the parent's copy and inherits its hash: it is not read at all.
 * ADOPT    a tree already in place (extracted from the daemon's stream, whose bytes were hashed
 *          as they passed): index it, taking each file's hash from the stream's list; a file
 *          equal to the parent's (metadata and hash) is replaced by a link to it.
 * RESTORE  snapshot -> empty volume, the same copy, every entry checked against the snapshot's
 *          index on the way (type, size, link target, sha256 of the bytes copied): one read.
 */
#include "bbcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  const tree_opts_t *o;
  tree_stats_t *st;
  int target_fd;
  FILE *index;
  ireader_t parent, hashes, expect;
  bool use_parent, use_hashes, use_expect;
  buf_t rel;  /* the current entry, relative to the volume root */
  buf_t line; /* the index line being built */
  buf_t sp, dp, pp;
  copier_t c; /* this thread's: ADOPT's hashing, folders' metadata, copies when there are no copy threads */
  ring_t *ring; /* COPY, RESTORE: files copied on copy threads, entries emitted in order */
} walk_t;

static const char *abs_path(buf_t *b, const char *root, const char *rel) {
  buf_set(b, root, strlen(root));
  if (*rel) {
    buf_addc(b, '/');
    buf_adds(b, rel);
  }
  return b->s;
}
#define SRC(w) abs_path(&(w)->sp, (w)->o->source, (w)->rel.s)
#define DST(w) abs_path(&(w)->dp, (w)->o->target, (w)->rel.s)

static void ns_text(char out[32], const struct timespec *ts) {
  snprintf(out, 32, "%lld", (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec);
}

/* A name the index cannot hold (JSON strings are Unicode): refused with the name shown byte by byte. */
static void refuse_name(const char *what, const char *s) {
  buf_t shown = {0};
  for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
    if (*u >= 0x20 && *u < 0x7f) buf_addc(&shown, (char)*u);
    else buf_addf(&shown, "\\x%02x", *u);
  }
  die("%s is not valid UTF-8: %s (the backup index stores names as Unicode; rename it)", what, shown.s);
}

/* The index line of an entry into b (time counted as index). */
static void index_line(buf_t *b, const buf_t *rel, char t, const struct stat *s, uint64_t size, const char *sha, const char *link) {
  uint64_t t0 = now_ns();
  b->len = 0;
  buf_adds(b, "{\"p\":");
  if (json_string(b, rel->s, rel->len) != 0) refuse_name("the path", rel->s);
  char mt[32];
  ns_text(mt, &s->st_mtim);
  buf_addf(b, ",\"t\":\"%c\",\"mode\":%u,\"uid\":%u,\"gid\":%u,\"mtime\":\"%s\"", t, (unsigned)(s->st_mode & 07777), (unsigned)s->st_uid, (unsigned)s->st_gid, mt);
  if (t == 'f') {
    buf_addf(b, ",\"size\":%llu", (unsigned long long)size);
    if (sha) buf_addf(b, ",\"sha256\":\"%s\"", sha);
  }
  if (link) {
    buf_adds(b, ",\"link\":");
    if (json_string(b, link, strlen(link)) != 0) refuse_name("the target of symlink", rel->s);
  }
  buf_adds(b, "}\n");
  phase_ns[PH_INDEX] += now_ns() - t0;
}

static void write_line(walk_t *w, const buf_t *b) {
  if (b->len && fwrite(b->s, 1, b->len, w->index) != b->len) die_errno("cannot write", w->o->index_out);
}

/* An entry finished by the walk itself: its line now, or after the files claimed before it. */
static void emit(walk_t *w, char t, const struct stat *s, uint64_t size, const char *sha, const char *link) {
  w->st->entries++;
  if (!w->index) return;
  if (!w->ring) {
    index_line(&w->line, &w->rel, t, s, size, sha, link);
    write_line(w, &w->line);
    return;
  }
  rec_t *r = ring_claim(w->ring);
  index_line(&r->line, &w->rel, t, s, size, sha, link);
  ring_commit(w->ring, r);
}

/* ---- RESTORE: the snapshot's index, merge-joined with the walk ---- */

/* A problem found by the walk: reported after the files claimed before it, so X lines keep walk order. */
static void problem(walk_t *w, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(walk_t *w, const char *rel, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!w->ring) return report_problem(rel, "%s", msg);
  rec_t *r = ring_claim(w->ring);
  r->t = 'x';
  buf_set(&r->rel, rel, strlen(rel));
  buf_set(&r->line, msg, strlen(msg));
  ring_commit(w->ring, r);
}

static const char *type_name(char t) { return t == 'f' ? "file" : t == 'd' ? "directory" : t == 'l' ? "symlink" : "special file"; }

/* The index line of the current entry (advanced past), or false with a problem reported. */
static bool expected(walk_t *w, char t, entry_t *out) {
  ireader_t *r = &w->expect;
  while (r->have && path_cmp(r->cur.p.s, w->rel.s) < 0) {
    w->st->problems++;
    problem(w, r->cur.p.s, "missing from the snapshot");
    ireader_next(r);
  }
  if (!r->have || strcmp(r->cur.p.s, w->rel.s) != 0) {
    w->st->problems++;
    problem(w, w->rel.s, "not listed in the index");
    return false;
  }
  bool ok = r->cur.t == t;
  if (!ok) {
    w->st->problems++;
    problem(w, w->rel.s, "expected a %s", type_name(r->cur.t));
  } else {
    out->t = r->cur.t;
    out->size = r->cur.size;
    out->has_size = r->cur.has_size;
    memcpy(out->sha256, r->cur.sha256, 65);
    buf_set(&out->link, r->cur.link.s ? r->cur.link.s : "", r->cur.link.len);
    out->has_link = r->cur.has_link;
  }
  ireader_next(r);
  return ok;
}

/* ---- metadata ---- */

/* Symlinks, fifos and sockets: no descriptor to hold, so by name. */
static void set_meta_at(walk_t *w, int dirfd, const char *name, const struct stat *s) {
  uint64_t t0 = now_ns();
  if (fchownat(dirfd, name, s->st_uid, s->st_gid, AT_SYMLINK_NOFOLLOW) != 0) die_errno("cannot set the owner of", DST(w));
  xattr_copy(-1, SRC(w), -1, DST(w));
  if (!S_ISLNK(s->st_mode) && fchmodat(dirfd, name, s->st_mode & 07777, 0) != 0) die_errno("cannot set the mode of", DST(w));
  struct timespec ts[2] = {s->st_atim, s->st_mtim};
  if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0) die_errno("cannot set the times of", DST(w));
  phase_ns[PH_META] += now_ns() - t0;
}

/* ---- file data ---- */

static int open_source(walk_t *w, int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) die_errno("cannot open", SRC(w));
  return fd;
}

/* The regular file to read, re-checked on the open descriptor; -1 (reported as vanished) when it
 * is gone or was swapped for something else since the walk saw it. */
static int open_regular(walk_t *w, int dirfd, const char *name, struct stat *s) {
  int in = open_source(w, dirfd, name);
  if (in >= 0 && fstat(in, s) != 0) die_errno("cannot read", SRC(w));
  if (in >= 0 && S_ISREG(s->st_mode)) return in;
  if (in >= 0) close(in);
  w->st->vanished++;
  report_path('V', w->rel.s);
  return -1;
}

/* A new file in the target; an entry already there (never in a fresh target) is replaced. */
static int create_target(walk_t *w, int dirfd, const char *name) {
  for (int attempt = 0;; attempt++) {
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt > 0 || unlinkat(dirfd, name, 0) != 0) die_errno("cannot create", DST(w));
  }
}

/* ---- the parent snapshot ---- */

/* The parent's index and its copy prove this source file unchanged (sha: also the same content). */
static bool parent_proves(walk_t *w, int pdir, const char *name, const struct stat *s, const char *sha) {
  if (!w->use_parent || pdir < 0 || !ireader_seek(&w->parent, w->rel.s)) return false;
  const entry_t *e = &w->parent.cur;
  char mt[32];
  ns_text(mt, &s->st_mtim);
  if (e->t != 'f' || !e->sha256[0] || !e->has_size || !e->has_meta || e->size != s->st_size || e->mode != (s->st_mode & 07777) || e->uid != s->st_uid || e->gid != s->st_gid || strcmp(e->mtime, mt) != 0) return false;
  if (sha && strcmp(sha, e->sha256) != 0) return false;
  struct stat p;
  if (fstatat(pdir, name, &p, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(p.st_mode) || p.st_size != s->st_size || p.st_mtim.tv_sec != s->st_mtim.tv_sec || p.st_mtim.tv_nsec != s->st_mtim.tv_nsec ||
      (p.st_mode & 07777) != (s->st_mode & 07777) || p.st_uid != s->st_uid || p.st_gid != s->st_gid)
    return false;
  uint64_t t0 = now_ns();
  bool same = xattr_equal(SRC(w), abs_path(&w->pp, w->o->parent_root, w->rel.s));
  phase_ns[PH_META] += now_ns() - t0;
  return same;
}

/* Links name in dirfd to from (relative to fromdir), replacing what is there when replace. */
static bool link_to(walk_t *w, int fromdir, const char *from, int dirfd, const char *name, bool replace) {
  uint64_t t0 = now_ns();
  bool ok;
  if (!replace) {
    ok = linkat(fromdir, from, dirfd, name, 0) == 0;
  } else {
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".bbcopy-%d.tmp", (int)getpid());
    (void)unlinkat(dirfd, tmp, 0);
    ok = linkat(fromdir, from, dirfd, tmp, 0) == 0;
    if (ok && renameat(dirfd, tmp, dirfd, name) != 0) die_errno("cannot replace", DST(w));
  }
  /* too many links, another filesystem: copy instead, as rsync does */
  if (!ok && errno != EMLINK && errno != EXDEV && errno != EPERM && errno != ENOENT) die_errno("cannot link", DST(w));
  phase_ns[PH_META] += now_ns() - t0;
  return ok;
}

/* ---- entries ---- */

/* ADOPT: the tree is already in place; hash what the stream's list does not prove, link what the parent does. */
static void regular_adopt(walk_t *w, int sdir, int ddir, int pdir, const char *name, struct stat *s) {
  char sha[65] = "";
  uint64_t size = (uint64_t)s->st_size;
  /* a name whose twin was already replaced by a link to the parent has one link left */
  link_rec_t *rec = linkmap_find(s->st_dev, s->st_ino);
  if (rec) {
    linkmap_sha(rec, sha);
    if (rec->relinked && !link_to(w, w->target_fd, linkmap_rel(rec), ddir, name, true)) rec->relinked = false;
  } else {
    bool known = w->use_hashes && ireader_seek(&w->hashes, w->rel.s) && w->hashes.cur.has_size && (uint64_t)w->hashes.cur.size == size && w->hashes.cur.sha256[0];
    if (known) {
      memcpy(sha, w->hashes.cur.sha256, 65); /* hashed as the stream passed */
      bytes_add(size);
    } else {
      int in = open_regular(w, sdir, name, s);
      if (in < 0) return;
      size = pass_data(&w->c, in, -1, s, sha);
      w->st->hashed++;
      w->st->hashed_bytes += size;
      close(in);
    }
    if (parent_proves(w, pdir, name, s, sha) && link_to(w, pdir, name, ddir, name, true)) {
      w->st->linked++;
      if (s->st_nlink > 1) rec = linkmap_add(s->st_dev, s->st_ino, w->rel.s, sha), rec->relinked = true;
    } else if (s->st_nlink > 1) {
      linkmap_add(s->st_dev, s->st_ino, w->rel.s, sha);
    }
  }
  w->st->files++;
  w->st->bytes += size;
  emit(w, 'f', s, size, sha, NULL);
}

/* A copy thread's part of a regular file (ring.c): its bytes, its metadata, both descriptors closed. */
static void copy_file(copier_t *c, rec_t *r) {
  c->rel = &r->rel;
  r->size = pass_data(c, r->in, r->out, &r->s, r->sha);
  set_meta_fd(c, r->in, r->out, &r->s);
  /* a backup is flushed by one syncfs at the end (src/store/durable.ts): start big files' write-back now */
  if (c->writeback && r->size > CHUNK && c->q) hashq_flush(c->q, r->out);
  if (close(r->out) != 0) die_errno("cannot write", copier_dst(c));
  close(r->in);
}

/* A regular file's record, done, in walk order (the walk's thread): hash links, checks, stats, index line. */
static void emit_record(void *arg, rec_t *r) {
  walk_t *w = arg;
  if (r->t == 'x') return report_problem(r->rel.s, "%s", r->line.s);
  if (r->t != 'f') return write_line(w, &r->line);
  if (r->link_name) linkmap_sha(linkmap_find(r->s.st_dev, r->s.st_ino), r->sha);
  if (r->link_first) linkmap_set_sha(linkmap_find(r->s.st_dev, r->s.st_ino), r->sha);
  if (r->work) w->st->hashed++, w->st->hashed_bytes += r->size;
  if (r->check) {
    if (r->want_has_size && (uint64_t)r->want_size != r->size) w->st->problems++, report_problem(r->rel.s, "%llu bytes, the index says %lld", (unsigned long long)r->size, r->want_size);
    else if (r->want_sha[0] && strcmp(r->want_sha, r->sha) != 0) w->st->problems++, report_problem(r->rel.s, "content differs from the index (sha256)");
  }
  w->st->files++;
  w->st->bytes += r->size;
  w->st->entries++;
  if (w->index) {
    index_line(&w->line, &r->rel, 'f', &r->s, r->size, r->sha, NULL);
    write_line(w, &w->line);
  }
}

/* COPY, RESTORE: linked here when the file is already stored (another name, or unchanged since the parent), else copied on a copy thread. */
static void regular(walk_t *w, int sdir, int ddir, int pdir, const char *name, struct stat *s) {
  if (w->o->mode == TREE_ADOPT) return regular_adopt(w, sdir, ddir, pdir, name, s);
  entry_t want = {0};
  bool check = w->o->mode == TREE_RESTORE && w->use_expect && expected(w, 'f', &want);
  rec_t *r = ring_claim(w->ring);
  r->t = 'f';
  buf_set(&r->rel, w->rel.s, w->rel.len);
  r->size = (uint64_t)s->st_size;
  if (check) {
    r->check = true;
    r->want_has_size = want.has_size;
    r->want_size = want.size;
    memcpy(r->want_sha, want.sha256, 65);
  }
  entry_free(&want);
  link_rec_t *rec = s->st_nlink > 1 ? linkmap_find(s->st_dev, s->st_ino) : NULL;
  if (rec && link_to(w, w->target_fd, linkmap_rel(rec), ddir, name, false)) {
    r->link_name = true; /* another name of a file already stored: its hash, once known */
  } else if (parent_proves(w, pdir, name, s, NULL) && link_to(w, pdir, name, ddir, name, false)) {
    memcpy(r->sha, w->parent.cur.sha256, 65); /* unchanged since the parent: inherited, not read */
    w->st->linked++;
    bytes_add(r->size);
    if (s->st_nlink > 1) linkmap_add(s->st_dev, s->st_ino, w->rel.s, r->sha);
  } else {
    int in = open_regular(w, sdir, name, s);
    if (in < 0) {
      r->t = 0; /* no line */
      ring_commit(w->ring, r);
      return;
    }
    r->in = in;
    r->out = create_target(w, ddir, name);
    r->work = true;
    if (s->st_nlink > 1) linkmap_add(s->st_dev, s->st_ino, w->rel.s, NULL), r->link_first = true;
  }
  r->s = *s;
  ring_commit(w->ring, r);
}

static void symlink_entry(walk_t *w, int sdir, int ddir, const char *name, const struct stat *s) {
  size_t cap = (size_t)s->st_size + 2;
  char *target = xmalloc(cap);
  ssize_t n = readlinkat(sdir, name, target, cap);
  if (n < 0 && errno == ENOENT) {
    free(target);
    w->st->vanished++;
    report_path('V', w->rel.s);
    return;
  }
  if (n < 0) die_errno("cannot read symlink", SRC(w));
  if ((size_t)n >= cap) die("symlink %s changed while it was read", SRC(w));
  target[n] = 0;
  if (w->o->mode == TREE_RESTORE && w->use_expect) {
    entry_t want = {0};
    if (expected(w, 'l', &want) && want.has_link && strcmp(want.link.s, target) != 0) w->st->problems++, problem(w, w->rel.s, "symlink target differs from the index");
    entry_free(&want);
  }
  if (w->o->mode != TREE_ADOPT) {
    uint64_t t0 = now_ns();
    if (symlinkat(target, ddir, name) != 0) {
      if (errno != EEXIST || unlinkat(ddir, name, 0) != 0 || symlinkat(target, ddir, name) != 0) die_errno("cannot create symlink", DST(w));
    }
    phase_ns[PH_WRITE] += now_ns() - t0;
    set_meta_at(w, ddir, name, s);
  }
  emit(w, 'l', s, 0, NULL, target);
  free(target);
}

static void special(walk_t *w, int ddir, const char *name, const struct stat *s) {
  if (w->o->mode == TREE_RESTORE && w->use_expect) {
    entry_t want = {0};
    expected(w, 'o', &want);
    entry_free(&want);
  }
  if (w->o->mode != TREE_ADOPT) {
    if (mknodat(ddir, name, (s->st_mode & S_IFMT) | 0600, 0) != 0) {
      if (errno != EEXIST || unlinkat(ddir, name, 0) != 0 || mknodat(ddir, name, (s->st_mode & S_IFMT) | 0600, 0) != 0) die_errno("cannot create", DST(w));
    }
    set_meta_at(w, ddir, name, s);
  }
  emit(w, 'o', s, 0, NULL, NULL);
}

static void device(walk_t *w, int ddir, const char *name) {
  w->st->devices++;
  report_path('D', w->rel.s);
  if (w->o->mode == TREE_ADOPT && unlinkat(ddir, name, 0) != 0) die_errno("cannot remove device node", DST(w));
  if (w->o->mode == TREE_RESTORE && w->use_expect) w->st->problems++, problem(w, w->rel.s, "a device node: snapshots never hold one");
}

static int by_name(const void *a, const void *b) { return name_cmp(*(char *const *)a, *(char *const *)b); }

/* The names in a directory, sorted in index order. */
static char **read_names(walk_t *w, int dirfd, size_t *count) {
  uint64_t t0 = now_ns();
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) die_errno("cannot read directory", SRC(w));
  size_t n = 0, cap = 64;
  char **names = xmalloc(cap * sizeof *names);
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    if (n == cap) {
      cap *= 2;
      char **more = realloc(names, cap * sizeof *names);
      if (!more) die("out of memory");
      names = more;
    }
    names[n++] = xstrdup(e->d_name);
  }
  if (errno) die_errno("cannot read directory", SRC(w));
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  phase_ns[PH_WALK] += now_ns() - t0;
  *count = n;
  return names;
}

static int open_dir(int dirfd, const char *name) { return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }

static void walk_dir(walk_t *w, int sdir, int ddir, int pdir);

static void directory(walk_t *w, int sdir, int ddir, int pdir, const char *name) {
  int sfd = open_dir(sdir, name);
  if (sfd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    w->st->vanished++;
    report_path('V', w->rel.s);
    return;
  }
  if (sfd < 0) die_errno("cannot open directory", SRC(w));
  struct stat s;
  if (fstat(sfd, &s) != 0) die_errno("cannot read", SRC(w));
  if (w->o->mode == TREE_RESTORE && w->use_expect) {
    entry_t want = {0};
    expected(w, 'd', &want);
    entry_free(&want);
  }
  emit(w, 'd', &s, 0, NULL, NULL);
  int dfd = sfd;
  if (w->o->mode != TREE_ADOPT) {
    uint64_t t0 = now_ns();
    if (mkdirat(ddir, name, 0700) != 0) {
      struct stat t;
      if (errno != EEXIST || fstatat(ddir, name, &t, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(t.st_mode)) die_errno("cannot create directory", DST(w));
    }
    dfd = open_dir(ddir, name);
    if (dfd < 0) die_errno("cannot open directory", DST(w));
    phase_ns[PH_WRITE] += now_ns() - t0;
  }
  int pfd = pdir >= 0 ? open_dir(pdir, name) : -1;
  walk_dir(w, sfd, dfd, pfd);
  if (pfd >= 0) close(pfd);
  if (w->o->mode != TREE_ADOPT) {
    set_meta_fd(&w->c, sfd, dfd, &s); /* after the contents: their creation changed its mtime */
    close(dfd);
  }
  close(sfd);
}

static void walk_dir(walk_t *w, int sdir, int ddir, int pdir) {
  size_t count;
  char **names = read_names(w, sdir, &count);
  size_t base = w->rel.len;
  for (size_t i = 0; i < count; i++) {
    const char *name = names[i];
    w->rel.len = base;
    if (base) buf_addc(&w->rel, '/');
    buf_adds(&w->rel, name);
    struct stat s;
    int r;
    TIMED(PH_WALK, r = fstatat(sdir, name, &s, AT_SYMLINK_NOFOLLOW));
    if (r != 0 && errno == ENOENT) {
      w->st->vanished++;
      report_path('V', w->rel.s);
    } else if (r != 0) {
      die_errno("cannot read", SRC(w));
    } else if (S_ISREG(s.st_mode)) {
      regular(w, sdir, ddir, pdir, name, &s);
    } else if (S_ISDIR(s.st_mode)) {
      directory(w, sdir, ddir, pdir, name);
    } else if (S_ISLNK(s.st_mode)) {
      symlink_entry(w, sdir, ddir, name, &s);
    } else if (S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode)) {
      device(w, ddir, name);
    } else {
      special(w, ddir, name, &s);
    }
    free(names[i]);
  }
  w->rel.len = base;
  if (w->rel.s) w->rel.s[base] = 0;
  free(names);
}

/* Records in flight: each queued file holds two descriptors. */
#define RING 64

/*
 * Copy threads for COPY and RESTORE: BBCOPY_THREADS (0 = copy on the walk's thread), else one
 * per core beyond the walk's own, at least one. Measured on 2 cores (bench/backup.ts): one copy
 * thread beside the walk beat both none and two (two writers and their hashing threads then
 * outnumber the cores).
 */
static int copy_threads(const tree_opts_t *o) {
  if (o->mode == TREE_ADOPT) return 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int fallback = cores > 2 ? (cores > 5 ? 4 : (int)cores - 1) : 1;
  const char *e = getenv("BBCOPY_THREADS");
  if (!e || !*e) return fallback;
  char *end;
  long n = strtol(e, &end, 10);
  return *end || n < 0 || n > 16 ? fallback : (int)n;
}

int run_tree(const tree_opts_t *o, tree_stats_t *st) {
  walk_t w = {.o = o, .st = st};
  memset(st, 0, sizeof *st);
  buf_set(&w.rel, "", 0);
  int threads = copy_threads(o);
  copier_init(&w.c, o->source, o->target, o->mode != TREE_ADOPT && threads == 0);
  w.c.rel = &w.rel;
  w.c.reports = true;
  w.c.writeback = o->mode == TREE_COPY;
  if (o->mode != TREE_ADOPT) w.ring = ring_new(threads, RING, o->source, o->target, &w.c, copy_file, emit_record, &w);
  int sroot = open(o->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sroot < 0) die_errno("cannot open", o->source);
  int droot = o->mode == TREE_ADOPT ? sroot : open(o->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (droot < 0) die_errno("cannot open", o->target);
  w.target_fd = droot;
  int proot = -1;
  if (o->parent_root && o->parent_index) {
    proot = open(o->parent_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proot >= 0) {
      ireader_open(&w.parent, o->parent_index);
      w.use_parent = true;
    } else {
      fprintf(stderr, "bbcopy: warning: parent snapshot %s: %s; copying everything\n", o->parent_root, strerror(errno));
    }
  }
  if (o->hashes) ireader_open(&w.hashes, o->hashes), w.use_hashes = true;
  if (o->expect) ireader_open(&w.expect, o->expect), w.use_expect = true;
  if (o->index_out) {
    int fd = open(o->index_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(w.index = fdopen(fd, "w"))) die_errno("cannot create", o->index_out);
    setvbuf(w.index, NULL, _IOFBF, 1 << 20);
  }
  struct stat s;
  if (fstat(sroot, &s) != 0) die_errno("cannot read", o->source);
  if (o->mode == TREE_RESTORE && w.use_expect) {
    entry_t want = {0};
    expected(&w, 'd', &want);
    entry_free(&want);
  }
  emit(&w, 'd', &s, 0, NULL, NULL);
  walk_dir(&w, sroot, droot, proot);
  if (w.ring) ring_finish(w.ring), w.ring = NULL;
  if (o->mode != TREE_ADOPT) set_meta_fd(&w.c, sroot, droot, &s);
  if (w.use_expect) {
    for (; w.expect.have; ireader_next(&w.expect)) st->problems++, report_problem(w.expect.cur.p.s, "missing from the snapshot");
    if (w.expect.broken) st->problems++, report_problem("", "the index could not be read to its end");
  }
  phase_ns[PH_HASH] += copier_finish(&w.c); /* summed over all threads, as the bench says */
  if (w.index && fclose(w.index) != 0) die_errno("cannot write", o->index_out);
  if (w.use_parent) ireader_close(&w.parent);
  if (w.use_hashes) ireader_close(&w.hashes);
  if (w.use_expect) ireader_close(&w.expect);
  return 0;
}
