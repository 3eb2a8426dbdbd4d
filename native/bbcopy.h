/*
 * bbcopy: bbackup's copy engine (README "The copy engine"). One pass per byte: every regular file
 * is read once, and the bytes read are hashed (sha256, OpenSSL) and written in the same pass.
 * Shared declarations of the few modules it is made of.
 */
#ifndef BBCOPY_H
#define BBCOPY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

/* ---- buf.c: growable byte strings, errors ---- */
typedef struct {
  char *s;
  size_t len, cap;
} buf_t;

void buf_reserve(buf_t *b, size_t extra);
void buf_set(buf_t *b, const char *s, size_t n);
void buf_add(buf_t *b, const char *s, size_t n);
void buf_addc(buf_t *b, char c);
void buf_adds(buf_t *b, const char *s);
void buf_addf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(buf_t *b);

/* Fatal error: "bbcopy: <message>" on stderr, exit 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Fatal error from errno: "bbcopy: <what> <path>: <strerror>". */
void die_errno(const char *what, const char *path) __attribute__((noreturn));
void *xmalloc(size_t n);
char *xstrdup(const char *s);

/* ---- json.c: the index line format (IndexEntry in src/store/manifest.ts) ---- */
typedef struct {
  buf_t p;         /* path inside the volume, "" = root */
  char t;          /* 'f' 'd' 'l' 'o', or 0 when the line has no "t" (hash lists) */
  long long mode, uid, gid;
  bool has_meta;   /* mode, uid and gid were all present */
  char mtime[32];  /* decimal nanoseconds; "" when absent */
  long long size;
  bool has_size;
  char sha256[65]; /* lower-case hex; "" when absent */
  buf_t link;
  bool has_link;
} entry_t;

/* Appends s (n bytes) as a JSON string; returns -1 (and appends nothing) when s is not UTF-8. */
int json_string(buf_t *out, const char *s, size_t n);
/* Parses one line; 0 on success, -1 when it is not an index entry. */
int json_parse_entry(const char *line, size_t n, entry_t *e);
void entry_free(entry_t *e);

/* ---- order.c: the order of index lines (comparePaths in src/backup/tree-index.ts) ---- */
int name_cmp(const char *a, const char *b);
int path_cmp(const char *a, const char *b);

/* ---- ireader.c: an index file (or hash list) read line by line, in order ---- */
typedef struct {
  FILE *f;
  char *line;
  size_t cap;
  entry_t cur;
  bool have;   /* cur holds an entry */
  bool broken; /* a line could not be parsed: the rest of the file is ignored */
  long long lineno;
  const char *path;
  buf_t prev; /* path of the entry before cur, to check the order */
} ireader_t;

void ireader_open(ireader_t *r, const char *path);
/* Reads the next entry into cur; false at the end (or when the file is broken). */
bool ireader_next(ireader_t *r);
/* Skips entries ordered before path; true when cur is exactly path. */
bool ireader_seek(ireader_t *r, const char *path);
void ireader_close(ireader_t *r);

/* ---- hash.c ---- */
typedef struct hasher hasher_t;
hasher_t *hasher_new(void);
void hasher_start(hasher_t *h);
void hasher_update(hasher_t *h, const void *p, size_t n);
/* Writes 64 hex digits and a NUL into out. */
void hasher_hex(hasher_t *h, char out[65]);
void hasher_zeros(hasher_t *h, uint64_t n);

/* ---- hashq.c: sha256 on a second thread, over buffers it lends (see there) ---- */
typedef struct hashq hashq_t;
hashq_t *hashq_new(size_t nbuf, size_t size);
size_t hashq_size(const hashq_t *q);
/* The next buffer to fill (waits until its last contents are hashed). */
char *hashq_buffer(hashq_t *q);
void hashq_start(hashq_t *q);
/* Queues the first n bytes of the buffer hashq_buffer returned; the caller may read it until its next hashq_buffer. */
void hashq_data(hashq_t *q, size_t n);
void hashq_zeros(hashq_t *q, uint64_t n);
/* Waits for everything queued; the file's sha256 in hex. */
void hashq_hex(hashq_t *q, char out[65]);
/* Starts the write-back of fd's dirty pages on the thread (a duplicate of fd; the caller still closes its own). */
void hashq_flush(hashq_t *q, int fd);
/* Stops the thread; returns its hashing time in ns. */
uint64_t hashq_finish(hashq_t *q);

/* ---- clock.c: phase timings reported in the summary line ---- */
enum phase { PH_WALK, PH_READ, PH_HASH, PH_WRITE, PH_META, PH_INDEX, PH_COUNT };
/* per thread: each copy thread keeps its own clocks, summed into the main thread's at the end */
extern __thread uint64_t phase_ns[PH_COUNT];
uint64_t now_ns(void);
#define TIMED(ph, stmt)                    \
  do {                                     \
    uint64_t t0_ = now_ns();               \
    stmt;                                  \
    phase_ns[ph] += now_ns() - t0_;        \
  } while (0)
const char *phase_name(int ph);

/* ---- progress.c: the stdout protocol read by src/backup/bbcopy.ts ---- */
void progress_bytes(uint64_t total);
void report_path(char kind, const char *rel); /* D device skipped, V vanished, X problem */
void report_problem(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_flush(void);

/* ---- data.c: one file's bytes and metadata, on whichever thread copies it ---- */
#define CHUNK (1 << 20)
typedef struct {
  const char *source, *target; /* the trees' roots (for messages) */
  const buf_t *rel;            /* the entry being copied, relative to them */
  buf_t sp, dp;
  hasher_t *h;
  char *buf;      /* CHUNK bytes */
  hashq_t *q;     /* files bigger than a chunk are hashed on this second thread; NULL: here */
  bool writeback; /* COPY: start each big file's write-back once written (hashq_flush) */
  bool reports;   /* the walk's own thread: prints progress */
} copier_t;
void copier_init(copier_t *c, const char *source, const char *target, bool hash_thread);
/* Stops its hashing thread; returns that thread's hashing time in ns. */
uint64_t copier_finish(copier_t *c);
const char *copier_src(copier_t *c);
const char *copier_dst(copier_t *c);
void set_meta_fd(copier_t *c, int sfd, int dfd, const struct stat *s);
/* in -> out (out -1: only hashed); the bytes hashed, sha256 hex into sha */
uint64_t pass_data(copier_t *c, int in, int out, const struct stat *s, char sha[65]);
/* regular-file bytes done so far, over all threads */
void bytes_add(uint64_t n);
uint64_t bytes_total(void);

/* ---- ring.c: files copied by several threads, entries emitted in walk order ---- */
typedef struct {
  int state; /* ring.c's */
  char t;    /* 'f'; 'x' a restore problem (message in line); 0: line holds the finished index line (possibly empty) */
  buf_t rel, line;
  struct stat s;
  int in, out;   /* work: the source opened, the target created; the copy closes both */
  bool work;     /* copy in to out (on a copy thread) */
  bool check;    /* RESTORE: compare with want_* */
  bool link_first, link_name; /* first name of a linked inode (its hash goes to the linkmap) / a later name (takes it from there) */
  bool want_has_size;
  long long want_size;
  char want_sha[65];
  uint64_t size; /* known, or set by the copy */
  char sha[65];
} rec_t;
typedef struct ring ring_t;
typedef void (*ring_work_fn)(copier_t *c, rec_t *r);
typedef void (*ring_emit_fn)(void *arg, rec_t *r);
ring_t *ring_new(int nworkers, size_t cap, const char *source, const char *target, copier_t *own, ring_work_fn work, ring_emit_fn emit, void *arg);
/* The next record, in walk order (waits while the ring is full, emitting what is done). */
rec_t *ring_claim(ring_t *g);
void ring_commit(ring_t *g, rec_t *r);
/* Waits for every record, emits it, stops the threads and adds their clocks to this thread's. */
void ring_finish(ring_t *g);

/* ---- tree.c ---- */
enum tree_mode {
  TREE_COPY,    /* source -> empty target, index written, unchanged files linked to the parent */
  TREE_ADOPT,   /* a tree already in place (extracted from a stream): index it, link unchanged files */
  TREE_RESTORE, /* snapshot -> empty volume, every entry checked against the snapshot's index */
};

typedef struct {
  enum tree_mode mode;
  const char *source, *target;
  const char *index_out;    /* COPY, ADOPT */
  const char *parent_root;  /* COPY, ADOPT: the parent snapshot ... */
  const char *parent_index; /* ... and its index */
  const char *hashes;       /* ADOPT: sha256 of files already known (from the stream) */
  const char *expect;       /* RESTORE: the snapshot's index; NULL = copy without checking */
} tree_opts_t;

typedef struct {
  uint64_t entries, files, bytes, hashed, hashed_bytes, linked, devices, vanished, problems;
} tree_stats_t;

int run_tree(const tree_opts_t *o, tree_stats_t *st);

/* ---- sink.c: stdin -> file, hashed on the way ---- */
int run_sink(const char *out);

/* ---- linkmap.c: inodes seen more than once (hard links inside the tree) ---- */
typedef struct {
  uint64_t dev, ino;
  uint64_t rel;              /* offset of the first path (in the target) in the map's string arena */
  unsigned char sha256[32];
  bool used, relinked;       /* relinked (ADOPT): the first path now points at the parent's inode */
} link_rec_t;
link_rec_t *linkmap_find(dev_t dev, ino_t ino);
/* sha256_hex NULL: not known yet (set later with linkmap_set_sha) */
link_rec_t *linkmap_add(dev_t dev, ino_t ino, const char *rel, const char *sha256_hex);
void linkmap_set_sha(link_rec_t *r, const char *sha256_hex);
const char *linkmap_rel(const link_rec_t *r);
void linkmap_sha(const link_rec_t *r, char out[65]);

/* ---- xattr.c ---- */
/* Copies every extended attribute (xattrs, ACLs as system.posix_acl_*) of src to dst. fd -1 = use the path (no follow). */
void xattr_copy(int sfd, const char *spath, int dfd, const char *dpath);
/* true when both have the same extended attributes (names and values). */
bool xattr_equal(const char *a, const char *b);

#endif
