// How a volume's bytes are read (DESIGN §4). One small interface, several ways: host (bbcopy on
// the Mountpoint), worker (bbcopy/tar inside a helper container), stream (the daemon's archive
// API, for remote engines; src/backup/volume-readers/stream.ts). The backup job picks one per
// volume from the plan's `mode` and never knows which it got.
import type { Readable } from 'node:stream';
import type { DockerConnection } from '../../docker/client.js';
import type { TreeSummary } from '../bbcopy.js';
import type { SkippedDevices } from '../devices.js';
import type { PlannedVolume, VolumeMode } from '../types.js';

/** Something running that pause can freeze (SIGSTOP a local rsync, `docker pause` a helper). */
export interface Suspendable {
  suspend(): Promise<void> | void;
  resume(): Promise<void> | void;
}

export interface ReadContext {
  /** aborted on cancel or skip: stop, kill children, remove helpers, then reject */
  signal: AbortSignal;
  /** bytes copied so far (of total when known); call as often as you like, it is throttled later */
  progress(bytes: number, total?: number): void;
  /** register a running process for pause; returns the function that unregisters it */
  suspendable(s: Suspendable): () => void;
  /** debug/warn lines for the log (child tool stderr, helper ids) */
  log(level: 'debug' | 'info' | 'warn', msg: string): void;
}

export interface SnapshotRequest {
  volume: PlannedVolume;
  /** absolute folder to create and fill (inside the backup's .partial folder) */
  target: string;
  /** absolute path of the index to write (volumes/<name>.index.jsonl) */
  index: string;
  /** the parent snapshot and its index: unchanged files become hard links to it and inherit its hashes */
  parent?: { root: string; index: string };
}

export interface SnapshotResult {
  /** what the copy engine counted: files, bytes, files hashed / linked, and where its time went */
  summary: TreeSummary;
  /** device nodes the reader left out (README "Device nodes"); undefined = none */
  skippedDevices?: SkippedDevices;
}

export interface ArchiveStream {
  /** uncompressed tar of the volume's contents, members named ./path, numeric owners, xattrs */
  stream: Readable;
  /** settles when the producer exited; rejects with the tool's error (after the stream ended) */
  done: Promise<void>;
  /**
   * Bytes the producer has read so far, when the reader can tell without touching the stream
   * (host: the tar process's I/O counter). The caller may then hand the stream's pipe straight to
   * the compressor, so the uncompressed data never passes through JavaScript.
   */
  readBytes?(): number | undefined;
  /**
   * How many device nodes the producer wrote into the stream, by its own listing (host: tar's
   * index), once `done` settled. A reader that offers it lets the caller store the stream
   * unfiltered (the fast path) and read it again through TarDeviceFilter when the count is not 0;
   * without it every stream goes through the filter.
   */
  deviceEntries?(): number;
}

export interface VolumeReader {
  readonly mode: VolumeMode;
  /**
   * Copy the volume as a plain tree into `target`, keeping owners, modes, times, links, xattrs,
   * ACLs, and write its index (every file's sha256 taken from the bytes as they were copied).
   */
  snapshot(req: SnapshotRequest, ctx: ReadContext): Promise<SnapshotResult>;
  /** Stream the volume as an uncompressed tar; the caller leaves device nodes out, compresses and stores it. */
  archive(volume: PlannedVolume, ctx: ReadContext): Promise<ArchiveStream>;
}

export interface ReaderDeps {
  docker: DockerConnection;
  /** config backup.volumes.worker_image */
  workerImage: string;
  /** the store root, bind-mounted into helpers */
  store: string;
}
