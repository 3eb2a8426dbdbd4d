// The upload statuses metrics read (src/remote/upload-status.ts): merged per remote and host, a
// failed attempt keeps the last success's facts, private files, damaged or foreign files skipped.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readUploadStatuses, recordUpload, UPLOADS_DIR } from '../../src/remote/upload-status.js';

let store: string;
beforeEach(async () => {
  store = await mkdtemp(join(tmpdir(), 'bbt-uploads-'));
});
afterEach(() => rm(store, { recursive: true, force: true }));

describe('upload status', () => {
  it('a failure after a success keeps the success and records the error; a later success clears it', async () => {
    await recordUpload(store, {
      remote: 'nas',
      host: 'h/1',
      ok: true,
      last_upload: '2026-12-01T00:00:00.000Z',
      sent_bytes: 10,
    });
    await recordUpload(store, { remote: 'nas', host: 'h/1', ok: false, error: 'remote nas: disk full' });
    expect(await readUploadStatuses(store)).toEqual([
      expect.objectContaining({
        remote: 'nas',
        host: 'h/1',
        ok: false,
        error: 'remote nas: disk full',
        sent_bytes: 10,
        last_upload: '2026-12-01T00:00:00.000Z',
      }),
    ]);
    await recordUpload(store, {
      remote: 'nas',
      host: 'h/1',
      ok: true,
      stored_bytes: 99,
      stored_at: '2026-12-02T00:00:00.000Z',
    });
    const [s] = await readUploadStatuses(store);
    expect(s).toMatchObject({ ok: true, stored_bytes: 99, sent_bytes: 10 });
    expect(s!.error).toBeUndefined();
    const dir = join(store, UPLOADS_DIR, 'nas');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'h%2f1.json'))).mode & 0o777).toBe(0o600);
  });

  it.each([
    { name: 'not JSON', file: 'h.json', text: '{' },
    { name: 'wrong shape', file: 'h.json', text: '{"remote": "nas", "host": "h", "ok": "yes", "attempted": "x"}' },
    {
      name: 'names another pair',
      file: 'h.json',
      text: '{"remote": "nas", "host": "other", "ok": true, "attempted": "x"}',
    },
    { name: 'not ours', file: 'notes.txt', text: 'hello' },
  ])('skips a file that is $name', async ({ file, text }) => {
    await mkdir(join(store, UPLOADS_DIR, 'nas'), { recursive: true });
    await writeFile(join(store, UPLOADS_DIR, 'nas', file), text);
    expect(await readUploadStatuses(store)).toEqual([]);
  });

  it('an empty store has none', async () => expect(await readUploadStatuses(store)).toEqual([]));
});
