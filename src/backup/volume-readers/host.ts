// host mode: bbackup runs as root on the Docker host and reads the volume's Mountpoint directly.
// The fastest way: no container, bbcopy/tar straight from the daemon's volume folder.
import { mkdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { copyArgs, runBbcopy, type TreeSummary } from '../bbcopy.js';
import { tarCreateArgs, toolError } from '../rsync.js';
import { noSkippedDevices, noteDevice } from '../devices.js';
import { groupSuspender, killGroupOnAbort } from '../process-group.js';
import type { ArchiveStream, ReadContext, SnapshotRequest, SnapshotResult, VolumeReader } from './types.js';

/** rchar of a process: every byte it has read (file data, for tar). */
function readCounter(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const hostReader: VolumeReader = {
  mode: 'host',

  async snapshot(req: SnapshotRequest, ctx: ReadContext): Promise<SnapshotResult> {
    const { volume, target } = req;
    await mkdir(target, { recursive: true });
    const skippedDevices = noSkippedDevices();
    const { summary, exitCode } = await runBbcopy<TreeSummary>(
      copyArgs({ source: volume.mountpoint, target, index: req.index, parent: req.parent }),
      { signal: ctx.signal, suspendable: ctx.suspendable, what: `volume ${volume.name}` },
      {
        progress: (bytes) => ctx.progress(bytes, volume.estimatedBytes),
        device: (path) => noteDevice(skippedDevices, path),
      },
    );
    if (exitCode === 24)
      ctx.log('warn', `volume ${volume.name}: ${summary.vanished} entries vanished while they were copied`);
    return { summary, skippedDevices };
  },

  async archive(volume, ctx): Promise<ArchiveStream> {
    // Plain spawn (not execa): the stdout pipe may go to the compressor untouched by us, and
    // execa would wait for a stream we never read. With -vv and the archive on stdout, GNU tar
    // lists what it stores on stderr, one line per member: device lines are counted (see
    // ArchiveStream.deviceEntries), "tar: " lines are its diagnostics.
    const proc = spawn('tar', ['-vv', ...tarCreateArgs(volume.mountpoint)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const listing = tarListing();
    proc.stderr.setEncoding('utf8').on('data', listing.write);
    const stderrDone = once(proc.stderr, 'end').catch(() => undefined);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', reject);
    });
    const unregister = ctx.suspendable(groupSuspender(proc));
    const unhook = killGroupOnAbort(proc, ctx.signal);
    const done = (async () => {
      try {
        const r = await exited;
        await stderrDone;
        const stderr = listing.end();
        ctx.signal.throwIfAborted();
        // GNU tar exits 1 when a file changed while it was read: stored, but warn.
        if (r.code === 1)
          ctx.log('warn', `volume ${volume.name}: ${stderr.trim() || 'files changed while tar read them'}`);
        else if (r.code !== 0)
          throw toolError('tar', `volume ${volume.name}`, {
            exitCode: r.code ?? undefined,
            signal: r.signal ?? undefined,
            stderr,
          });
      } finally {
        unhook();
        unregister();
      }
    })();
    done.catch(() => undefined);
    return { stream: proc.stdout, done, readBytes: () => readCounter(proc.pid), deviceEntries: () => listing.devices };
  },
};

/** Splits tar -vv's stderr: listing lines (device ones counted) and diagnostics (kept, last 64 KiB). */
function tarListing(): { write: (text: string) => void; end: () => string; readonly devices: number } {
  let rest = '';
  let diagnostics = '';
  let devices = 0;
  const line = (l: string) => {
    if (l.startsWith('tar: ')) diagnostics = (diagnostics + l + '\n').slice(-65536);
    else if (/^[bc][-r][-w]/.test(l)) devices++;
  };
  return {
    write(text) {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) line(l);
    },
    end() {
      if (rest) line(rest);
      rest = '';
      return diagnostics;
    },
    get devices() {
      return devices;
    },
  };
}
