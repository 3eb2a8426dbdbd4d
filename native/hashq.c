/*
 * sha256 on a second thread, in the order the caller queues its work. The copy thread reads a
 * chunk into a buffer lent by the queue, queues it, and writes the same buffer while this thread
 * hashes it: reading, hashing and writing overlap (on 2 cores the hash costs no wall time), and
 * every byte is still read once. A buffer is handed out again only once it has been hashed (the
 * caller's own write of it is synchronous, so it is done by then too).
 *
 * The thread also starts the write-back of finished files (hashq_flush): sync_file_range(WRITE)
 * queues their pages for the disk while the copy goes on, so the syncfs that makes the backup
 * durable (src/store/durable.ts) finds little left to write. It promises nothing by itself.
 */
#include "bbcopy.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NJOB 64

enum job_kind { J_START, J_DATA, J_ZEROS, J_FINAL, J_FLUSH, J_QUIT };

typedef struct {
  enum job_kind kind;
  const char *p;
  uint64_t n; /* bytes (DATA, ZEROS); the descriptor (FLUSH) */
} job_t;

struct hashq {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t posted_cv, done_cv;
  job_t jobs[NJOB];
  uint64_t posted, done; /* jobs queued and finished, ever */
  hasher_t *h;
  char hex[65];
  size_t nbuf, size, next;
  char **bufs;
  uint64_t *buf_seq; /* the job that last used each buffer; it is free once done > buf_seq */
  uint64_t hash_ns;  /* this thread's hashing time (read by the owner once the queue is drained) */
};

static void *worker(void *arg) {
  hashq_t *q = arg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (q->done == q->posted) pthread_cond_wait(&q->posted_cv, &q->mu);
    job_t j = q->jobs[q->done % NJOB];
    pthread_mutex_unlock(&q->mu);
    uint64_t t0 = now_ns();
    switch (j.kind) {
      case J_START: hasher_start(q->h); break;
      case J_DATA: hasher_update(q->h, j.p, (size_t)j.n); break;
      case J_ZEROS: hasher_zeros(q->h, j.n); break;
      case J_FINAL: hasher_hex(q->h, q->hex); break;
      case J_FLUSH:
        /* errors show up in the syncfs that follows the copy; this is only a head start */
        (void)sync_file_range((int)j.n, 0, 0, SYNC_FILE_RANGE_WRITE);
        close((int)j.n);
        break;
      case J_QUIT: break;
    }
    uint64_t dt = now_ns() - t0;
    pthread_mutex_lock(&q->mu);
    if (j.kind != J_FLUSH) q->hash_ns += dt;
    q->done++;
    pthread_cond_broadcast(&q->done_cv);
    if (j.kind == J_QUIT) break;
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

hashq_t *hashq_new(size_t nbuf, size_t size) {
  hashq_t *q = xmalloc(sizeof *q);
  memset(q, 0, sizeof *q);
  q->h = hasher_new();
  q->nbuf = nbuf;
  q->size = size;
  q->bufs = xmalloc(nbuf * sizeof *q->bufs);
  q->buf_seq = xmalloc(nbuf * sizeof *q->buf_seq);
  for (size_t i = 0; i < nbuf; i++) q->bufs[i] = xmalloc(size), q->buf_seq[i] = 0;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->posted_cv, NULL);
  pthread_cond_init(&q->done_cv, NULL);
  if (pthread_create(&q->thread, NULL, worker, q) != 0) die("cannot start the hashing thread");
  return q;
}

static void post(hashq_t *q, enum job_kind kind, const char *p, uint64_t n) {
  pthread_mutex_lock(&q->mu);
  while (q->posted - q->done >= NJOB) pthread_cond_wait(&q->done_cv, &q->mu);
  q->jobs[q->posted % NJOB] = (job_t){kind, p, n};
  q->posted++;
  pthread_cond_signal(&q->posted_cv);
  pthread_mutex_unlock(&q->mu);
}

static void drain(hashq_t *q) {
  pthread_mutex_lock(&q->mu);
  while (q->done < q->posted) pthread_cond_wait(&q->done_cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
}

size_t hashq_size(const hashq_t *q) { return q->size; }

char *hashq_buffer(hashq_t *q) {
  size_t i = q->next;
  pthread_mutex_lock(&q->mu);
  while (q->buf_seq[i] && q->done < q->buf_seq[i]) pthread_cond_wait(&q->done_cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
  return q->bufs[i];
}

void hashq_start(hashq_t *q) { post(q, J_START, NULL, 0); }

void hashq_data(hashq_t *q, size_t n) {
  size_t i = q->next;
  q->next = (i + 1) % q->nbuf;
  pthread_mutex_lock(&q->mu);
  q->buf_seq[i] = q->posted + 1; /* free once this job is done */
  pthread_mutex_unlock(&q->mu);
  post(q, J_DATA, q->bufs[i], n);
}

void hashq_zeros(hashq_t *q, uint64_t n) { post(q, J_ZEROS, NULL, n); }

void hashq_hex(hashq_t *q, char out[65]) {
  post(q, J_FINAL, NULL, 0);
  drain(q);
  memcpy(out, q->hex, 65);
}

void hashq_flush(hashq_t *q, int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d >= 0) post(q, J_FLUSH, NULL, (uint64_t)d);
}

uint64_t hashq_finish(hashq_t *q) {
  post(q, J_QUIT, NULL, 0);
  pthread_join(q->thread, NULL);
  return q->hash_ns;
}
