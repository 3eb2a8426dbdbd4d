// Metrics as Prometheus sees them: after a real backup (and a drill record), `bbackup metrics
// --textfile` replaces the .prom file by a rename, and `bbackup daemon --metrics` serves the same
// over loopback; both are read back with a Prometheus text-format parser. Per remote: the last
// upload's time and result, and the bytes the remote holds, equal to what is on its disk.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { describe, expect, it, onTestFinished } from 'vitest';
import { writeDrillRecord } from '../../src/drill/record.js';
import type { DrillReport } from '../../src/drill/types.js';
import type { Manifest, VolumeItem } from '../../src/store/manifest.js';
import { cliCommand, runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

const docker = testDocker();
const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace(/^unix:\/\//, '');

const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const fam = families.find((f) => f.name === name);
  const sample = fam?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
};

/** Bytes of every file under a folder: what a local remote holds. */
async function bytesUnder(root: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

describe('metrics', () => {
  it('textfile written atomically and /metrics of the daemon, parsed as Prometheus text', async () => {
    const dir = await tempDir('metrics');
    const v = await createTestVolume(docker, 'metrics');
    await runInBusybox(docker, 'seq 1 5000 > /d/numbers && echo hi > /d/hi', [`${v}:/d`]);
    const c = await createTestContainer(docker, 'metrics', { HostConfig: { Binds: [`${v}:/data`] } });
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      docker: { socket: SOCKET },
      backup: { store },
      logging: { file: join(dir, 'bbackup.log') },
      schedule: { nightly: { cron: '0 3 * * *', containers: [c] } },
      remotes: {
        offsite: { type: 'local', path: join(dir, 'remote'), retry: 0 },
        // a folder under a plain file: every upload there fails
        broken: { type: 'local', path: join(dir, 'plain-file', 'remote'), retry: 0, enabled: false },
      },
    });
    await writeFile(join(dir, 'plain-file'), 'not a folder\n');
    const env = { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined };
    const b = await runCli(['-c', config, '--json', 'backup', '-C', c], { env });
    expect(b.exitCode, b.stderr).toBe(0);
    const id = (JSON.parse(b.stdout) as { id: string }).id;
    const uploaded = Date.now() / 1000;
    const other = await createTestContainer(docker, 'met');
    const failed = await runCli(['-c', config, 'backup', '-C', other, '-r', 'broken'], { env });
    expect(failed.exitCode, failed.stderr).toBe(4);
    const remoteBytes = await bytesUnder(join(dir, 'remote'));
    expect(remoteBytes).toBeGreaterThan(0);
    const hostFolder = (await readdir(store)).find((d) => !d.startsWith('.'))!;
    const manifest = JSON.parse(await readFile(join(store, hostFolder, id, 'manifest.json'), 'utf8')) as Manifest;
    const vol = manifest.items.find((i): i is VolumeItem => i.kind === 'volume' && i.name === v)!;
    const drill: DrillReport = {
      id: '20261202T010203-abcd',
      host: manifest.host,
      backup_id: id,
      backup_created: manifest.created,
      outcome: 'passed',
      schedule: null,
      started: manifest.finished,
      finished: manifest.finished,
      rto_seconds: 4.5,
      rpo_seconds: 60,
      containers: [{ name: c, sandbox: `drill-x-${c}`, state: 'healthy', ok: true, detail: '' }],
      volumes: [],
      errors: [],
      kept: false,
      sandbox: { prefix: 'drill-x-', containers: [], volumes: [], networks: [] },
    };
    await writeDrillRecord(join(store, hostFolder), drill);

    const checkFamilies = (families: ParsedFamily[]) => {
      const labels = { host: manifest.host, kind: 'volume', name: v };
      expect(value(families, 'bbackup_item_last_bytes', labels)).toBe(vol.bytes);
      expect(value(families, 'bbackup_item_last_files', labels)).toBe(vol.fileCount);
      expect(value(families, 'bbackup_item_last_result', labels)).toBe(1);
      expect(value(families, 'bbackup_item_last_success_timestamp_seconds', labels)).toBe(
        Date.parse(manifest.finished) / 1000,
      );
      expect(value(families, 'bbackup_item_last_result', { kind: 'container', name: c })).toBe(1);
      expect(value(families, 'bbackup_backups', { host: manifest.host })).toBe(2);
      const offsite = { remote: 'offsite', host: manifest.host };
      expect(value(families, 'bbackup_remote_last_upload_result', offsite)).toBe(1);
      const at = value(families, 'bbackup_remote_last_upload_timestamp_seconds', offsite)!;
      expect(at).toBeGreaterThanOrEqual(Date.parse(manifest.finished) / 1000);
      expect(at).toBeLessThanOrEqual(uploaded);
      expect(value(families, 'bbackup_remote_last_upload_sent_bytes', offsite)).toBeGreaterThan(0);
      expect(value(families, 'bbackup_remote_stored_bytes', { remote: 'offsite' })).toBe(remoteBytes);
      expect(value(families, 'bbackup_remote_last_upload_result', { remote: 'broken', host: manifest.host })).toBe(0);
      expect(value(families, 'bbackup_remote_last_upload_timestamp_seconds', { remote: 'broken' })).toBeUndefined();
      expect(value(families, 'bbackup_drill_last_passed', { container: c })).toBe(1);
      expect(value(families, 'bbackup_drill_last_rto_seconds', { host: manifest.host })).toBe(4.5);
      expect(value(families, 'bbackup_schedules')).toBe(1);
    };

    // textfile: an old file is replaced by a rename (new inode), nothing temporary is left
    const prom = join(dir, 'bbackup.prom');
    await writeFile(prom, '# old\n');
    const before = await stat(prom);
    const t = await runCli(['-c', config, 'metrics', '--textfile', prom], { env });
    expect(t.exitCode, t.stderr).toBe(0);
    const after = await stat(prom);
    expect(after.ino).not.toBe(before.ino);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
    const fromFile = parsePrometheusTextFormat(await readFile(prom, 'utf8'));
    checkFamilies(fromFile);
    expect(value(fromFile, 'bbackup_daemon_up')).toBe(0);

    // the daemon on a free loopback port
    const cli = cliCommand();
    const daemon = execa(cli.file, [...cli.args, '-c', config, '-v', 'daemon', '--metrics', '127.0.0.1:0'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1', ...env },
    });
    onTestFinished(() => void daemon.kill('SIGKILL'));
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      daemon.stderr!.on('data', (b: Buffer) => {
        err += b.toString('utf8');
        const m = /metrics served on (127\.0\.0\.1:\d+) \(GET \/metrics\)/.exec(err);
        if (m) resolve(`http://${m[1]!}/metrics`);
      });
      void daemon.then((r) => reject(new Error(`daemon ended: ${r.exitCode} ${err}`)));
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const scraped = parsePrometheusTextFormat(await res.text());
    checkFamilies(scraped);
    expect(value(scraped, 'bbackup_daemon_up')).toBe(1);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
  }, 600_000);
});
