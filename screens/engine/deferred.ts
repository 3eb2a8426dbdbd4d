// The TUI's engine while the Docker handshake (info, version; seconds over ssh) is still under way:
// the first frame is drawn at once, and every call waits for the real engine, then goes to it. A key
// pressed during the handshake therefore does what it says a moment later instead of failing.
// What needs no engine (the store folder, the remotes of the config) answers at once.
import type { TuiEngine } from './types.js';

export function deferredEngine(
  ready: Promise<TuiEngine>,
  early: { storeRoot: () => string; remoteNames: () => string[] },
): TuiEngine {
  let current: TuiEngine | undefined;
  ready.then(
    (e) => (current = e),
    () => undefined, // the TUI's entry reports the failure and ends
  );
  const later = <T>(call: (e: TuiEngine) => Promise<T>): Promise<T> => ready.then(call);
  async function* stream<T>(call: (e: TuiEngine) => AsyncIterable<T>): AsyncIterable<T> {
    yield* call(await ready);
  }
  return {
    get hostName() {
      return current?.hostName ?? '';
    },
    get serverVersion() {
      return current?.serverVersion ?? '';
    },
    get hostDir() {
      // before the handshake no path is this host's: the store watcher ignores every change
      return current?.hostDir ?? '\0';
    },
    // from the live config, as the real engine answers them
    get storeRoot() {
      return early.storeRoot();
    },
    remoteNames: early.remoteNames,
    watchDocker(onChange, onError) {
      let stop: (() => void) | undefined;
      let stopped = false;
      ready.then(
        (e) => {
          if (!stopped) stop = e.watchDocker(onChange, onError);
        },
        () => undefined,
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
    readInventory: (opts) => later((e) => e.readInventory(opts)),
    startBackup: (req, emit) => later((e) => e.startBackup(req, emit)),
    listBackups: () => later((e) => e.listBackups()),
    lastDrills: () => later((e) => e.lastDrills()),
    readManifest: (id) => later((e) => e.readManifest(id)),
    volumeIndex: (m, volume) => stream((e) => e.volumeIndex(m, volume)),
    volumeEntries: (m, volume) => stream((e) => e.volumeEntries(m, volume)),
    diffVolume: (m, volume) => later((e) => e.diffVolume(m, volume)),
    readVolumeFile: (m, volume, path, max) => later((e) => e.readVolumeFile(m, volume, path, max)),
    restorePaths: (req) => later((e) => e.restorePaths(req)),
    startVerify: (id, emit) => later((e) => e.startVerify(id, emit)),
    freshness: (containers) => later((e) => e.freshness(containers)),
    previewRestore: (req) => later((e) => e.previewRestore(req)),
    startRestore: (req, emit) => later((e) => e.startRestore(req, emit)),
    listRemoteBackups: (remote, signal) => later((e) => e.listRemoteBackups(remote, signal)),
    remoteStats: (remote, signal) => later((e) => e.remoteStats(remote, signal)),
    startPull: (remote, id, emit) => later((e) => e.startPull(remote, id, emit)),
    // Quitting during the handshake must not wait for it (an ssh host may never answer).
    close: async () => {
      if (current) await current.close();
      else
        ready.then(
          (e) => e.close(),
          () => undefined,
        );
    },
  };
}
