// The vocabulary of database dumps: which engines, how a container asks for one (labels), and
// what a backup plan records about it. Plain data; credentials never appear in any of these.

export const DUMP_ENGINES = ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'sqlite'] as const;
export type DumpEngine = (typeof DUMP_ENGINES)[number];

/** bbackup.dump=postgres|mysql|mariadb|mongodb|redis|sqlite:<path>|none */
export const LABEL_DUMP = 'bbackup.dump';
/** bbackup.dump.only=true: the dump is the backup; the database's data volume is not copied */
export const LABEL_DUMP_ONLY = 'bbackup.dump.only';

/** What a container gets, decided from its labels, image and environment. */
export interface DumpTarget {
  engine: DumpEngine;
  /** sqlite: the database file inside the container */
  path?: string;
  detectedBy: 'label' | 'image' | 'environment';
  /** bbackup.dump.only=true */
  only: boolean;
}

/** One container's dump in a backup plan (shown by --dry-run and the TUI). With `error` set (a bad
 * label) the engine fields are placeholders and only the error counts. */
export interface PlannedDump extends DumpTarget {
  container: string;
  /** the container's state when planned: only a running server can be dumped */
  state: string;
  /** where the server keeps its data inside the container (sqlite: the file's folder) */
  dataDir: string;
  /** named volumes left out because of bbackup.dump.only (the dump replaces them) */
  skipsVolumes: string[];
  /** why no dump will be taken (container not running); the volume files are copied at rest */
  skip?: string;
  /** a bad bbackup.dump label: the dump item fails with this (the volumes are copied as usual) */
  error?: string;
}

/** How a restored container gets its dump back (attached to its restore plan item). */
export interface PlannedLoad {
  engine: DumpEngine;
  /** the dump inside the backup folder: dumps/<container>.<engine>.zst */
  file: string;
  /** uncompressed bytes, as the manifest says (checked while loading) */
  bytes: number;
  /** redis, sqlite: the file inside the container */
  path?: string;
  /** before-start: the file is put in place (redis, sqlite); after-start: loaded into the running server */
  when: 'before-start' | 'after-start';
  /** volumes (target names) created empty for this dump: removed again when it does not load */
  freshVolumes: string[];
}

export const LOAD_WHEN: Record<DumpEngine, PlannedLoad['when']> = {
  postgres: 'after-start',
  mysql: 'after-start',
  mariadb: 'after-start',
  mongodb: 'after-start',
  redis: 'before-start',
  sqlite: 'before-start',
};
