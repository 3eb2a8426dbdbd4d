/*
 * stdin -> a new file, with its sha256 and size printed last ({"size":N,"sha256":"..."}).
 * A compressor's output goes straight into this process, so the stored file is hashed in the
 * same pass that writes it, and no byte passes through JavaScript.
 *
 * Three threads, none waiting on another's slow part: this one reads and writes, hashq's hashes,
 * and a flusher starts the write-back of what has been written (sync_file_range(WRITE), so the
 * syncfs that makes the backup durable finds little left). The write-back can block on a busy
 * disk; on its own thread it holds up neither the hash nor the compressor behind us.
 */
#include "bbcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define FLUSH_EVERY (8 << 20)

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int fd;
  uint64_t written; /* bytes written so far (main thread) */
  int done;
} fl = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 0, 0};

static void *flusher(void *arg) {
  (void)arg;
  uint64_t started = 0;
  pthread_mutex_lock(&fl.mu);
  for (;;) {
    while (!fl.done && fl.written - started < FLUSH_EVERY) pthread_cond_wait(&fl.cv, &fl.mu);
    if (fl.done) break;
    uint64_t upto = fl.written;
    pthread_mutex_unlock(&fl.mu);
    /* a head start only: errors show up in the syncfs that follows (src/store/durable.ts) */
    (void)sync_file_range(fl.fd, (off_t)started, (off_t)(upto - started), SYNC_FILE_RANGE_WRITE);
    started = upto;
    pthread_mutex_lock(&fl.mu);
  }
  pthread_mutex_unlock(&fl.mu);
  return NULL;
}

static void write_all(int fd, const char *p, size_t n, const char *path) {
  while (n > 0) {
    ssize_t w;
    TIMED(PH_WRITE, w = write(fd, p, n));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) die_errno("cannot write", path);
    p += w;
    n -= (size_t)w;
  }
}

int run_sink(const char *out) {
  /* a bigger pipe: fewer, larger reads from the compressor */
  (void)fcntl(0, F_SETPIPE_SZ, CHUNK);
  int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) die_errno("cannot create", out);
  fl.fd = fd;
  pthread_t flush_thread;
  if (pthread_create(&flush_thread, NULL, flusher, NULL) != 0) die("cannot start the flushing thread");
  /* hashed on a second thread while this one writes and reads on (hashq.c) */
  hashq_t *q = hashq_new(8, CHUNK);
  hashq_start(q);
  uint64_t size = 0, wait_ns = 0;
  for (;;) {
    uint64_t t0 = now_ns();
    char *buf = hashq_buffer(q);
    wait_ns += now_ns() - t0;
    ssize_t n;
    TIMED(PH_READ, n = read(0, buf, CHUNK));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("cannot read the input of", out);
    if (n == 0) break;
    hashq_data(q, (size_t)n);
    write_all(fd, buf, (size_t)n, out);
    size += (uint64_t)n;
    progress_bytes(size);
    pthread_mutex_lock(&fl.mu);
    fl.written = size;
    pthread_cond_signal(&fl.cv);
    pthread_mutex_unlock(&fl.mu);
  }
  pthread_mutex_lock(&fl.mu);
  fl.done = 1;
  pthread_cond_signal(&fl.cv);
  pthread_mutex_unlock(&fl.mu);
  char hex[65];
  hashq_hex(q, hex);
  phase_ns[PH_HASH] += hashq_finish(q);
  pthread_join(flush_thread, NULL);
  if (close(fd) != 0) die_errno("cannot write", out);
  printf("S {\"size\":%llu,\"sha256\":\"%s\"", (unsigned long long)size, hex);
  for (int i = 0; i < PH_COUNT; i++) printf(",\"%sMs\":%.1f", phase_name(i), phase_ns[i] / 1e6);
  printf(",\"waitMs\":%.1f}\n", wait_ns / 1e6);
  report_flush();
  return 0;
}
