// host mode: bbackup runs as root on the Docker host and reads the volume's Mountpoint directly.
// The fastest way: no container, rsync/tar straight from the daemon's volume folder.
import { mkdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { progressParser, RSYNC_OK, rsyncSnapshotArgs, tarCreateArgs, toolError } from '../rsync.js';
import { noSkippedDevices, noteDevice } from '../devices.js';
import type { ArchiveStream, ReadContext, SnapshotRequest, Suspendable, VolumeReader } from './types.js';

const KILL_AFTER_MS = 3000;

/** SIGSTOP/SIGCONT the tool's whole process group (rsync runs as 2-3 processes). */
function groupSuspender(proc: { pid?: number }): Suspendable {
  const signal = (sig: NodeJS.Signals) => {
    if (proc.pid) {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  return { suspend: () => signal('SIGSTOP'), resume: () => signal('SIGCONT') };
}

function killGroupOnAbort(proc: { pid?: number }, signal: AbortSignal): () => void {
  const onAbort = () => {
    if (!proc.pid) return;
    for (const sig of ['SIGCONT', 'SIGTERM'] as const) {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* gone */
      }
    }
    setTimeout(() => {
      try {
        if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, KILL_AFTER_MS).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  return () => signal.removeEventListener('abort', onAbort);
}

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

  async snapshot(req: SnapshotRequest, ctx: ReadContext) {
    const { volume, target, linkDest } = req;
    await mkdir(target, { recursive: true });
    // detached: own process group, so pause/cancel reach every rsync process and a terminal's
    // Ctrl-C reaches only bbackup, which then stops rsync itself.
    const proc = execa('rsync', rsyncSnapshotArgs(volume.mountpoint, target, linkDest), { reject: false, detached: true, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, maxBuffer: { stderr: 1 << 20 } });
    const unregister = ctx.suspendable(groupSuspender(proc));
    const unhook = killGroupOnAbort(proc, ctx.signal);
    const skippedDevices = noSkippedDevices();
    const parse = progressParser((bytes, total) => ctx.progress(bytes, volume.estimatedBytes ?? total), (path) => noteDevice(skippedDevices, path));
    proc.stdout!.setEncoding('utf8').on('data', parse);
    try {
      const r = await proc;
      ctx.signal.throwIfAborted();
      if (r.exitCode === 24) ctx.log('warn', `volume ${volume.name}: some files vanished while rsync copied them`);
      if (r.exitCode === undefined || !RSYNC_OK.has(r.exitCode) || r.signal) throw toolError('rsync', `volume ${volume.name}`, { exitCode: r.exitCode, signal: r.signal, stderr: String(r.stderr ?? '') });
      return { skippedDevices };
    } finally {
      unhook();
      unregister();
    }
  },

  async archive(volume, ctx): Promise<ArchiveStream> {
    // Plain spawn (not execa): the stdout pipe may go to the compressor untouched by us, and
    // execa would wait for a stream we never read. With -vv and the archive on stdout, GNU tar
    // lists what it stores on stderr, one line per member: device lines are counted (see
    // ArchiveStream.deviceEntries), "tar: " lines are its diagnostics.
    const proc = spawn('tar', ['-vv', ...tarCreateArgs(volume.mountpoint)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
        if (r.code === 1) ctx.log('warn', `volume ${volume.name}: ${stderr.trim() || 'files changed while tar read them'}`);
        else if (r.code !== 0) throw toolError('tar', `volume ${volume.name}`, { exitCode: r.code ?? undefined, signal: r.signal ?? undefined, stderr });
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
