// Drill records in the store: <store>/<host>/.drills/<drill id>.json, one per drill, private like
// the rest of the store and written atomically (temporary name, then rename), so a reader (the TUI,
// `bbackup metrics`) never sees half a record. The catalog ignores dot folders.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFileFormat } from '../store/format-version.js';
import { makePrivateDir, PRIVATE_FILE } from '../store/private.js';
import type { DrillReport } from './types.js';

export const DRILLS_DIR = '.drills';
/** major version of a record (docs/FORMAT.md); a record without one is format 1 */
export const DRILL_RECORD_FORMAT = 1;
const ID_RE = /^\d{8}T\d{6}-[0-9a-f]{4}$/;

export async function writeDrillRecord(hostFolder: string, report: DrillReport): Promise<string> {
  const dir = join(hostFolder, DRILLS_DIR);
  await makePrivateDir(dir);
  const path = join(dir, `${report.id}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ format: DRILL_RECORD_FORMAT, ...report }, null, 2)}\n`, {
    mode: PRIVATE_FILE,
  });
  await rename(tmp, path);
  return path;
}

/**
 * Every readable drill record of a host folder, oldest first; unreadable files, and records of a
 * newer format than this bbackup knows, are skipped (no proof it can read).
 */
export async function readDrillRecords(hostFolder: string): Promise<DrillReport[]> {
  const dir = join(hostFolder, DRILLS_DIR);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) =>
    err.code === 'ENOENT' ? [] : Promise.reject(err),
  );
  const out: DrillReport[] = [];
  for (const n of names.filter((x) => x.endsWith('.json') && ID_RE.test(x.slice(0, -5))).sort()) {
    try {
      const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as DrillReport & { format?: unknown };
      checkFileFormat(r as unknown as Record<string, unknown>, DRILL_RECORD_FORMAT, n);
      if (typeof r.id === 'string' && typeof r.outcome === 'string' && Array.isArray(r.containers)) out.push(r);
    } catch {
      /* a damaged record is no proof: skipped */
    }
  }
  return out;
}

export interface LastDrill {
  outcome: DrillReport['outcome'];
  finished: string;
  drill: string;
  backup: string;
}

/** Per container (name in the backup): the result of its newest drill (passed only when the whole drill passed). */
export function lastDrillByContainer(records: readonly DrillReport[]): Map<string, LastDrill> {
  const out = new Map<string, LastDrill>();
  for (const r of records) {
    for (const c of r.containers) {
      out.set(c.name, {
        outcome: r.outcome === 'cancelled' ? 'cancelled' : c.ok && r.outcome === 'passed' ? 'passed' : 'failed',
        finished: r.finished,
        drill: r.id,
        backup: r.backup_id,
      });
    }
  }
  return out;
}
