// The version rule of local files (docs/FORMAT.md, "Versions"): no format = 1, older and current
// read, a newer major refused with "upgrade bbackup" (USAGE, exit 1), a malformed one is damage.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDrillRecords, writeDrillRecord } from '../../src/drill/record.js';
import type { DrillReport } from '../../src/drill/types.js';
import { BbackupError } from '../../src/errors.js';
import { checkFileFormat } from '../../src/store/format-version.js';
import { checkManifest } from '../../src/store/manifest-check.js';
import { readManifest } from '../../src/store/manifest.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-fmtv-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

const codeOf = (f: () => unknown): string | number => {
  try {
    return f() as number;
  } catch (err) {
    return err instanceof BbackupError ? err.code : 'other';
  }
};

describe('checkFileFormat', () => {
  it.each([
    { doc: {}, newest: 1, want: 1 },
    { doc: { format: 1 }, newest: 1, want: 1 },
    { doc: { format: 1 }, newest: 3, want: 1 },
    { doc: { format: 3 }, newest: 3, want: 3 },
    { doc: { format: 2 }, newest: 1, want: 'USAGE' },
    { doc: { format: 0 }, newest: 1, want: 'INTEGRITY' },
    { doc: { format: '1' }, newest: 1, want: 'INTEGRITY' },
    { doc: { format: 1.5 }, newest: 2, want: 'INTEGRITY' },
  ])('$doc, newest $newest -> $want', ({ doc, newest, want }) => {
    expect(codeOf(() => checkFileFormat(doc, newest, 'x'))).toBe(want);
  });
});

const manifest = (extra: Record<string, unknown>) => ({
  id: '20261124T230501Z',
  host: 'h',
  status: 'complete',
  items: [],
  errors: [],
  ...extra,
});

describe('manifest versions', () => {
  it('reads a manifest without format as format 1, refuses a newer one with what to do', async () => {
    const old = join(tmp, 'old');
    const newer = join(tmp, 'newer');
    await mkdir(old);
    await mkdir(newer);
    await writeFile(join(old, 'manifest.json'), JSON.stringify(manifest({})));
    await writeFile(join(newer, 'manifest.json'), JSON.stringify(manifest({ format: 2 })));
    expect((await readManifest(old)).format).toBe(1);
    const err = await readManifest(newer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BbackupError);
    expect((err as BbackupError).code).toBe('USAGE');
    expect((err as BbackupError).message).toMatch(/newer bbackup \(format 2\).*upgrade bbackup/);
    expect(checkManifest(manifest({}), 'r').id).toBe('20261124T230501Z');
    expect(codeOf(() => checkManifest(manifest({ format: 2 }), 'r'))).toBe('USAGE');
  });
});

describe('drill record versions', () => {
  it('writes format 1, reads records without it, skips a newer one', async () => {
    const host = join(tmp, 'host');
    const report = {
      id: '20261124T230501-abcd',
      outcome: 'passed',
      containers: [],
      finished: 'x',
    } as unknown as DrillReport;
    const path = await writeDrillRecord(host, report);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ format: 1 });
    await writeFile(join(host, '.drills', '20261124T230502-abcd.json'), JSON.stringify({ ...report, id: 'old' }));
    await writeFile(
      join(host, '.drills', '20261124T230503-abcd.json'),
      JSON.stringify({ ...report, id: 'new', format: 2 }),
    );
    expect((await readDrillRecords(host)).map((r) => r.id)).toEqual(['20261124T230501-abcd', 'old']);
  });
});
