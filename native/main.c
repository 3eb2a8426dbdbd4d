/*
 * bbcopy COMMAND [options]   (run by src/backup/bbcopy.ts; README "The copy engine")
 *   copy    --source S --target T --index I [--parent-root P --parent-index PI]
 *   adopt   --target T --index I [--hashes H] [--parent-root P --parent-index PI]
 *   restore --source S --target T [--expect I]
 *   sink    --out F
 * Exit: 0 done, 24 done but some entries vanished while read (as rsync), 3 restore found entries
 * that do not match the index, 1 failed (message on stderr), 2 usage.
 */
#include "bbcopy.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define VERSION "1"

static void usage(void) {
  fputs("usage: bbcopy copy|adopt|restore|sink [--source S] [--target T] [--index I] [--parent-root P --parent-index PI] [--hashes H] [--expect I] [--out F]\n", stderr);
  exit(2);
}

static void summary(const tree_stats_t *s) {
  printf("S {\"entries\":%llu,\"files\":%llu,\"bytes\":%llu,\"hashed\":%llu,\"hashedBytes\":%llu,\"linked\":%llu,\"devices\":%llu,\"vanished\":%llu,\"problems\":%llu",
         (unsigned long long)s->entries, (unsigned long long)s->files, (unsigned long long)s->bytes, (unsigned long long)s->hashed, (unsigned long long)s->hashed_bytes,
         (unsigned long long)s->linked, (unsigned long long)s->devices, (unsigned long long)s->vanished, (unsigned long long)s->problems);
  for (int i = 0; i < PH_COUNT; i++) printf(",\"%sMs\":%.1f", phase_name(i), phase_ns[i] / 1e6);
  printf("}\n");
  report_flush();
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--version")) return puts("bbcopy " VERSION), 0;
  if (argc < 2) usage();
  const char *cmd = argv[1];
  tree_opts_t o = {0};
  const char *out = NULL;
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i];
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(k, "--source")) o.source = v;
    else if (!strcmp(k, "--target")) o.target = v;
    else if (!strcmp(k, "--index")) o.index_out = v;
    else if (!strcmp(k, "--parent-root")) o.parent_root = v;
    else if (!strcmp(k, "--parent-index")) o.parent_index = v;
    else if (!strcmp(k, "--hashes")) o.hashes = v;
    else if (!strcmp(k, "--expect")) o.expect = v;
    else if (!strcmp(k, "--out")) out = v;
    else usage();
  }
  umask(0); /* modes are set exactly, never through the umask */
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  /* one descriptor per open directory level, three trees deep */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (!strcmp(cmd, "sink")) {
    if (!out) usage();
    return run_sink(out);
  }
  if (!strcmp(cmd, "copy")) o.mode = TREE_COPY;
  else if (!strcmp(cmd, "adopt")) o.mode = TREE_ADOPT, o.source = o.target;
  else if (!strcmp(cmd, "restore")) o.mode = TREE_RESTORE;
  else usage();
  if (!o.source || !o.target || (o.mode != TREE_RESTORE && !o.index_out) || (!o.parent_root != !o.parent_index)) usage();
  tree_stats_t st;
  run_tree(&o, &st);
  summary(&st);
  return st.problems ? 3 : st.vanished ? 24 : 0;
}
