/*
 * Regular files copied by several threads at once, the index still written in walk order.
 *
 * The walk claims a record for every entry, in order, and commits it: an entry it finished
 * itself (a folder, a symlink, a hard link) is done at once; a regular file to copy goes to the
 * copy threads with its source opened and its target created (so later names of the same inode
 * can already be linked to it). Records are emitted (the index line written, the restore's
 * check made) by the walk's thread, strictly in claim order, once done. The walk and one copy
 * thread per further core keep the cores busy in the kernel's read and write paths, where a copy
 * spends its time (on 2 cores one copy thread measured better than two).
 * With no copy threads, a file is copied in commit, on the walk's thread.
 */
#include "bbcopy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { R_FREE, R_CLAIMED, R_QUEUED, R_RUNNING, R_DONE };

typedef struct {
  ring_t *g;
  pthread_t thread;
  copier_t c;
  uint64_t phase[PH_COUNT]; /* its clocks, copied out when it stops */
} worker_t;

struct ring {
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  rec_t *recs;
  size_t cap;
  uint64_t head, tail, next; /* emitted before head; claimed before tail; workers look from next */
  bool quit;
  int nworkers;
  worker_t *workers;
  copier_t *own; /* the walk's copier: copies in commit when there are no copy threads */
  ring_work_fn work;
  ring_emit_fn emit;
  void *arg;
};

static void *worker_main(void *arg) {
  worker_t *x = arg;
  ring_t *g = x->g;
  pthread_mutex_lock(&g->mu);
  for (;;) {
    if (g->next < g->head) g->next = g->head;
    rec_t *r = NULL;
    while (g->next < g->tail) {
      rec_t *q = &g->recs[g->next % g->cap];
      if (q->state == R_CLAIMED) break; /* not committed yet */
      g->next++;
      if (q->state == R_QUEUED) {
        r = q;
        break;
      }
    }
    if (r) {
      r->state = R_RUNNING;
      pthread_mutex_unlock(&g->mu);
      g->work(&x->c, r);
      pthread_mutex_lock(&g->mu);
      r->state = R_DONE;
      pthread_cond_broadcast(&g->done_cv);
      continue;
    }
    if (g->quit) break;
    pthread_cond_wait(&g->work_cv, &g->mu);
  }
  pthread_mutex_unlock(&g->mu);
  memcpy(x->phase, phase_ns, sizeof x->phase);
  return NULL;
}

ring_t *ring_new(int nworkers, size_t cap, const char *source, const char *target, copier_t *own, ring_work_fn work, ring_emit_fn emit, void *arg) {
  ring_t *g = xmalloc(sizeof *g);
  memset(g, 0, sizeof *g);
  g->cap = cap;
  g->recs = calloc(cap, sizeof *g->recs);
  if (!g->recs) die("out of memory");
  g->own = own;
  g->work = work;
  g->emit = emit;
  g->arg = arg;
  pthread_mutex_init(&g->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g->done_cv, &ca);
  pthread_cond_init(&g->work_cv, NULL);
  g->nworkers = nworkers;
  g->workers = xmalloc((size_t)(nworkers > 0 ? nworkers : 1) * sizeof *g->workers);
  for (int i = 0; i < nworkers; i++) {
    worker_t *x = &g->workers[i];
    memset(x, 0, sizeof *x);
    x->g = g;
    copier_init(&x->c, source, target, true);
    x->c.writeback = own->writeback;
    if (pthread_create(&x->thread, NULL, worker_main, x) != 0) die("cannot start a copy thread");
  }
  return g;
}

/* Emits the done records at the head, in order; called and returns with the lock held. */
static void pop_done(ring_t *g) {
  while (g->head < g->tail) {
    rec_t *r = &g->recs[g->head % g->cap];
    if (r->state != R_DONE) break;
    pthread_mutex_unlock(&g->mu);
    g->emit(g->arg, r);
    pthread_mutex_lock(&g->mu);
    r->state = R_FREE;
    g->head++;
  }
}

/* Waits a little for a copy thread to finish something (progress keeps going meanwhile). */
static void wait_done(ring_t *g) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += 200000000L;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  (void)pthread_cond_timedwait(&g->done_cv, &g->mu, &ts);
  progress_bytes(bytes_total());
}

rec_t *ring_claim(ring_t *g) {
  pthread_mutex_lock(&g->mu);
  for (;;) {
    pop_done(g);
    if (g->tail - g->head < g->cap) break;
    wait_done(g);
  }
  rec_t *r = &g->recs[g->tail % g->cap];
  r->state = R_CLAIMED;
  g->tail++;
  pthread_mutex_unlock(&g->mu);
  r->t = 0;
  r->line.len = 0;
  r->rel.len = 0;
  r->work = r->check = r->link_first = r->link_name = false;
  r->in = r->out = -1;
  r->size = 0;
  r->sha[0] = 0;
  r->want_sha[0] = 0;
  r->want_has_size = false;
  return r;
}

void ring_commit(ring_t *g, rec_t *r) {
  if (r->work && g->nworkers == 0) g->work(g->own, r);
  pthread_mutex_lock(&g->mu);
  r->state = r->work && g->nworkers > 0 ? R_QUEUED : R_DONE;
  if (r->state == R_QUEUED) pthread_cond_signal(&g->work_cv);
  pop_done(g);
  pthread_mutex_unlock(&g->mu);
  progress_bytes(bytes_total());
}

void ring_finish(ring_t *g) {
  pthread_mutex_lock(&g->mu);
  for (;;) {
    pop_done(g);
    if (g->head == g->tail) break;
    wait_done(g);
  }
  g->quit = true;
  pthread_cond_broadcast(&g->work_cv);
  pthread_mutex_unlock(&g->mu);
  for (int i = 0; i < g->nworkers; i++) {
    worker_t *x = &g->workers[i];
    pthread_join(x->thread, NULL);
    for (int k = 0; k < PH_COUNT; k++) phase_ns[k] += x->phase[k];
    phase_ns[PH_HASH] += copier_finish(&x->c);
  }
  for (size_t i = 0; i < g->cap; i++) buf_free(&g->recs[i].rel), buf_free(&g->recs[i].line);
  free(g->recs);
  free(g->workers);
  free(g);
}
