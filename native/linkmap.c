/*
 * Inodes met more than once in one walk (hard links inside the volume): the first path of each,
 * so later names become links to it, as rsync -H does. Open addressing, paths in one arena. Only
 * files with more than one link are added, so a plain volume keeps this empty; a restore from a
 * snapshot (whose files are linked to older snapshots) holds one record per file.
 */
#include "bbcopy.h"

#include <stdlib.h>
#include <string.h>

static link_rec_t *slots;
static size_t cap, used;
static buf_t arena;

static size_t slot_of(uint64_t dev, uint64_t ino) {
  uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ dev * 0xC2B2AE3D27D4EB4Full;
  return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

link_rec_t *linkmap_find(dev_t dev, ino_t ino) {
  if (!cap) return NULL;
  for (size_t i = slot_of(dev, ino);; i = (i + 1) & (cap - 1)) {
    if (!slots[i].used) return NULL;
    if (slots[i].dev == (uint64_t)dev && slots[i].ino == (uint64_t)ino) return &slots[i];
  }
}

static void grow(void) {
  link_rec_t *old = slots;
  size_t old_cap = cap;
  cap = cap ? cap * 2 : 1024;
  slots = calloc(cap, sizeof *slots);
  if (!slots) die("out of memory");
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i].used) continue;
    size_t j = slot_of(old[i].dev, old[i].ino);
    while (slots[j].used) j = (j + 1) & (cap - 1);
    slots[j] = old[i];
  }
  free(old);
}

static int unhex(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

link_rec_t *linkmap_add(dev_t dev, ino_t ino, const char *rel, const char *sha256_hex) {
  if ((used + 1) * 4 > cap * 3) grow();
  size_t i = slot_of(dev, ino);
  while (slots[i].used) i = (i + 1) & (cap - 1);
  link_rec_t *r = &slots[i];
  r->used = true;
  r->relinked = false;
  r->dev = dev;
  r->ino = ino;
  r->rel = arena.len;
  buf_add(&arena, rel, strlen(rel) + 1);
  if (sha256_hex) linkmap_set_sha(r, sha256_hex);
  used++;
  return r;
}

void linkmap_set_sha(link_rec_t *r, const char *sha256_hex) {
  for (int k = 0; k < 32; k++) r->sha256[k] = (unsigned char)(unhex(sha256_hex[2 * k]) << 4 | unhex(sha256_hex[2 * k + 1]));
}

const char *linkmap_rel(const link_rec_t *r) { return arena.s + r->rel; }

void linkmap_sha(const link_rec_t *r, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  for (int k = 0; k < 32; k++) out[2 * k] = hex[r->sha256[k] >> 4], out[2 * k + 1] = hex[r->sha256[k] & 15];
  out[64] = 0;
}
