/*
 * stdin -> a new file, with its sha256 and size printed last ({"size":N,"sha256":"..."}).
 * A compressor's output goes straight into this process, so the stored file is hashed in the
 * same pass that writes it, and no byte passes through JavaScript.
 */
#include "bbcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define FLUSH_EVERY (16 << 20)

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
  /* hashed on a second thread while this one writes and reads on (hashq.c) */
  hashq_t *q = hashq_new(4, CHUNK);
  hashq_start(q);
  uint64_t size = 0, flushed = 0;
  for (;;) {
    char *buf = hashq_buffer(q);
    ssize_t n;
    TIMED(PH_READ, n = read(0, buf, CHUNK));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("cannot read the input of", out);
    if (n == 0) break;
    hashq_data(q, (size_t)n);
    write_all(fd, buf, (size_t)n, out);
    size += (uint64_t)n;
    progress_bytes(size);
    /* every backup ends with a syncfs (src/store/durable.ts): start the write-back on the way */
    if (size - flushed >= FLUSH_EVERY) hashq_flush(q, fd), flushed = size;
  }
  char hex[65];
  hashq_hex(q, hex);
  phase_ns[PH_HASH] += hashq_finish(q);
  if (close(fd) != 0) die_errno("cannot write", out);
  printf("S {\"size\":%llu,\"sha256\":\"%s\"", (unsigned long long)size, hex);
  for (int i = 0; i < PH_COUNT; i++) printf(",\"%sMs\":%.1f", phase_name(i), phase_ns[i] / 1e6);
  printf("}\n");
  report_flush();
  return 0;
}
