// The manifest (DESIGN §3): written last, it is what makes a folder a backup. Its types are the
// contract between backup, verify, restore, remotes and the TUI.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError } from '../errors.js';
import { checkFileFormat } from './format-version.js';
import { MANIFEST } from './layout.js';

export const MANIFEST_FORMAT = 1;

/** One stored file: path relative to the backup folder (POSIX separators). */
export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export type CompressionMethod = 'zstd' | 'gzip' | 'none';

export interface ContainerItem {
  kind: 'container';
  name: string;
  id: string;
  image: string;
  /** state at backup time: a running container is started again after restore */
  state: string;
  files: FileEntry[];
}

export interface NetworkItem {
  kind: 'network';
  name: string;
  id: string;
  driver: string;
  files: FileEntry[];
}

export interface VolumeItem {
  kind: 'volume';
  name: string;
  driver: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** containers that used it at backup time */
  usedBy: string[];
  format: 'tree' | 'archive';
  /** tree: id of the backup whose snapshot unchanged files are hard-linked to */
  parent?: string;
  /** logical bytes of the volume's regular files */
  bytes: number;
  fileCount: number;
  /**
   * tree: the index file (volumes/<name>.index.jsonl, one IndexEntry per line, sorted by path)
   * archive: the archive file (volumes/<name>.tar.zst)
   */
  files: FileEntry[];
  /** archive only: compression of the archive */
  compression?: CompressionMethod;
  /** device nodes in the volume that were left out (README "Device nodes"); absent = none */
  skippedDevices?: number;
  /** the first few of them, relative to the volume root */
  skippedDevicePaths?: string[];
}

/** One line of a tree index: every entry of the volume with its metadata. */
export interface IndexEntry {
  /** path inside the volume, POSIX, no leading slash; "" is the volume root */
  p: string;
  /** f file, d dir, l symlink, o other (fifo, socket; never a device node) */
  t: 'f' | 'd' | 'l' | 'o';
  mode: number;
  uid: number;
  gid: number;
  /** mtime in nanoseconds since the epoch, as a decimal string (sub-second precision kept) */
  mtime: string;
  size?: number;
  sha256?: string;
  /** symlink target */
  link?: string;
}

/** A Docker image saved with the engine's export (docker save), compressed; stored once per id across backups. */
export interface ImageItem {
  kind: 'image';
  /** the image id, sha256:<hex> */
  name: string;
  /** repo:tag names it had at backup time (given back after a load) */
  tags: string[];
  /** containers of this backup that use it */
  usedBy: string[];
  /** the engine's size of the image (uncompressed) */
  bytes: number;
  compression: CompressionMethod;
  /** id of the earlier backup whose file this one is a hard link to */
  linkedFrom?: string;
  /** images/<hex>.tar.zst */
  files: FileEntry[];
}

/** A Compose project's files (compose files, .env) as they were on the host, under projects/<name>/. */
export interface ProjectItem {
  kind: 'project';
  name: string;
  /** com.docker.compose.project.working_dir at backup time */
  workingDir?: string;
  /** stored file (relative path, as in files) -> where it was on the host */
  sources: { path: string; original: string }[];
  files: FileEntry[];
}

export interface MetadataItem {
  kind: 'metadata';
  name: 'metadata';
  files: FileEntry[];
}

/** A database dump taken inside a container (src/dump/): dumps/<container>.<engine>.zst */
export interface DumpItem {
  kind: 'dump';
  /** the container it was taken from */
  name: string;
  engine: 'postgres' | 'mysql' | 'mariadb' | 'mongodb' | 'redis' | 'sqlite';
  /** what wrote it: pg_dumpall, mariadb-dump, redis-cli BGSAVE, sqlite3 .backup, ... */
  tool: string;
  /** redis, sqlite: the file inside the container the server reads (put back before it starts) */
  path?: string;
  /** where the server keeps its data inside the container; a volume there is refilled by the dump on restore */
  dataDir: string;
  /** bbackup.dump.only: the data volume was not copied */
  only: boolean;
  /** uncompressed bytes of the dump */
  bytes: number;
  /** the zstd-compressed dump */
  files: FileEntry[];
}

export type ManifestItem = ContainerItem | NetworkItem | VolumeItem | ImageItem | ProjectItem | DumpItem | MetadataItem;

export interface ItemError {
  kind: ManifestItem['kind'];
  name: string;
  code: string;
  message: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  host: string;
  created: string;
  finished: string;
  tool: { name: 'bbackup'; version: string };
  /** complete: every planned item stored; partial: some failed or were skipped (listed in errors) */
  status: 'complete' | 'partial';
  scope: { containers: boolean; volumes: boolean; networks: boolean; backupSet?: string };
  /** retention group: how the backup was chosen (store/retention-group.ts); older manifests lack it, rotation derives one */
  group?: string;
  compression: { method: CompressionMethod; level: number };
  /** newest earlier backup used as the incremental parent, if any */
  parent?: string;
  encrypted: boolean;
  items: ManifestItem[];
  errors: ItemError[];
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new BbackupError('NOT_FOUND', `${dir} is not a backup: it has no ${MANIFEST}`, { dir }, { cause: err });
    throw err;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
    if (typeof m !== 'object' || m === null || !Array.isArray(m.items)) throw new Error('it lists no items');
  } catch (err) {
    throw new BbackupError('INTEGRITY', `${path} is damaged: ${(err as Error).message}`, { dir }, { cause: err });
  }
  checkFileFormat(m as unknown as Record<string, unknown>, MANIFEST_FORMAT, path);
  return { ...m, format: MANIFEST_FORMAT };
}
