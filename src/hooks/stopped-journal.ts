// Which containers a run has stopped (bbackup.stop), written down while they are down:
// <store>/<host>/.stopped-containers.json. SIGINT/SIGTERM restart them in a finally, but a run
// killed outright (SIGKILL, OOM, power cut) cannot; the next run on that host reads this file and
// starts again what a dead run left stopped. Entries carry the run's identity (process-identity.ts),
// so a recycled pid never keeps a dead run's containers down.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { describeError } from '../errors.js';
import type { Emit } from '../events.js';
import { currentRun, parseRunIdentity, runLiveness, type RunIdentity } from '../process-identity.js';

export const STOPPED_FILE = '.stopped-containers.json';
export const journalPathFor = (hostFolder: string): string => join(hostFolder, STOPPED_FILE);

interface Entry {
  container: string;
  pid: number;
  machine: string;
  stopped: string;
  /** absent in entries written by older versions (then only pid and machine) */
  run?: RunIdentity;
}

const mine = (e: Entry): boolean =>
  e.run ? e.run.runId === currentRun().runId : e.pid === process.pid && e.machine === currentRun().hostname;

/** An entry with an identity is alive only if its run is; an old one (pid only) only if it cannot be proven dead. */
function entryAlive(e: Entry): boolean {
  const run = parseRunIdentity(e.run);
  if (run) return runLiveness(run) === 'alive';
  return runLiveness({ pid: e.pid, hostname: e.machine }) === 'unknown' && e.machine === currentRun().hostname;
}

async function read(path: string): Promise<Entry[]> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { stopped?: Entry[] };
    return Array.isArray(parsed.stopped) ? parsed.stopped : [];
  } catch {
    return [];
  }
}

async function write(path: string, entries: Entry[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${currentRun().runId}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ stopped: entries }, null, 2)}\n`);
  await rename(tmp, path);
}

export interface StoppedJournal {
  add(container: string): Promise<void>;
  remove(container: string): Promise<void>;
}

/** Calls are serialised by the caller (consistency.ts runs one operation at a time). */
export function stoppedJournal(path: string): StoppedJournal {
  return {
    add: async (container) => {
      const run = currentRun();
      await write(path, [
        ...(await read(path)).filter((e) => e.container !== container),
        { container, pid: run.pid, machine: run.hostname, stopped: new Date().toISOString(), run },
      ]);
    },
    remove: async (container) =>
      write(
        path,
        (await read(path)).filter((e) => !(e.container === container && mine(e))),
      ),
  };
}

/** Start what runs that are no longer alive left stopped; returns the containers started. */
export async function recoverStopped(docker: Docker, path: string, emit?: Emit): Promise<string[]> {
  const entries = await read(path);
  if (entries.length === 0) return [];
  const keep: Entry[] = [];
  const started: string[] = [];
  for (const e of entries) {
    if (entryAlive(e)) {
      keep.push(e);
      continue;
    }
    try {
      const info = await docker.getContainer(e.container).inspect();
      if (!info.State.Running) {
        emit?.({
          type: 'log',
          level: 'warn',
          source: 'hooks',
          msg: `container ${e.container} was stopped by a backup run that died (pid ${e.pid}, ${e.stopped}): starting it again`,
        });
        await docker.getContainer(e.container).start();
        started.push(e.container);
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) {
        emit?.({
          type: 'log',
          level: 'error',
          source: 'hooks',
          msg: `container ${e.container} was left stopped by a dead backup run and could not be started: ${describeError(err)}`,
        });
        keep.push(e);
      }
    }
  }
  await write(path, keep);
  return started;
}
