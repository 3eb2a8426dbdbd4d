// Encryption pieces not covered by the round trip: `init-encryption` (0600 identity, recipient on
// stdout, never overwrites), passphrase mode (age scrypt through the JS library), a wrong
// passphrase, and the refusal to mix recipients with a passphrase (age allows only one scrypt stanza).
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { ageSpecFrom } from '../../src/crypto/age.js';
import { listRemoteBackups } from '../../src/remote/list.js';
import { openRemote } from '../../src/remote/open.js';
import { pullBackup } from '../../src/remote/pull.js';
import { uploadBackup } from '../../src/remote/upload-backup.js';
import { makeFixtureBackup } from '../helpers/backup-fixture.js';
import { runCli } from '../helpers/cli.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rm-enc-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('init-encryption', () => {
  it('writes a 0600 identity, prints its recipient, and the age CLI uses both', async () => {
    const path = join(tmp, 'keys', 'id.txt');
    const r = await runCli(['init-encryption', '--path', path]);
    expect(r.exitCode, r.stderr).toBe(0);
    const recipient = r.stdout.trim();
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toContain(`# public key: ${recipient}`);
    const enc = await execa('age', ['-r', recipient], { input: 'secret text', encoding: 'buffer' });
    const dec = await execa('age', ['-d', '-i', path], { input: enc.stdout });
    expect(dec.stdout).toBe('secret text');

    const again = await runCli(['init-encryption', '--path', path]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/already exists; refusing to overwrite/);
  });
});

describe('passphrase encryption', () => {
  it('uploads every file as .age and pulls back byte-identical; a wrong passphrase is refused', async () => {
    const { dir, manifest } = await makeFixtureBackup({
      store: join(tmp, 'store'),
      host: 'h1',
      id: '20261124T230501Z',
      bigBytes: 2 << 20,
    });
    const config = parseConfigObject({
      backup: { store: join(tmp, 'pulled') },
      remotes: { nas: { type: 'local', path: join(tmp, 'nas') } },
      encryption: { enabled: true, passphrase: 'correct horse battery staple' },
    });
    // no deadline of our own: one scrypt per file makes this slow on a loaded machine, never wrong
    const signal = new AbortController().signal;
    const remote = openRemote(config, 'nas');
    await uploadBackup({ remote, backupDir: dir, manifest, level: 3, encrypted: true, signal });
    const files = await readdir(join(tmp, 'nas', 'h1', manifest.id), { recursive: true, withFileTypes: true });
    // every file but retention.json (status and a hashed group, for rotation without the key)
    expect(files.filter((f) => f.isFile() && f.name !== 'retention.json').every((f) => f.name.endsWith('.age'))).toBe(
      true,
    );
    expect(files.filter((f) => f.isFile() && !f.name.endsWith('.age')).map((f) => f.name)).toEqual(['retention.json']);
    expect((await listRemoteBackups(remote, signal)).backups[0]).toMatchObject({ id: manifest.id, encrypted: true });
    // the age header says scrypt: a passphrase file, as `age -p` would make
    expect((await readFile(join(tmp, 'nas', 'h1', manifest.id, 'manifest.json.age'))).toString('latin1')).toMatch(
      /-> scrypt /,
    );

    const wrong = parseConfigObject({
      ...config,
      backup: { store: join(tmp, 'wrong') },
      encryption: { enabled: false, passphrase: 'nope' },
    });
    await expect(pullBackup(wrong, 'nas', manifest.id, { signal })).rejects.toThrow(/remote nas|wrong key/);
    expect(await readdir(join(tmp, 'wrong', 'h1')).catch(() => [])).toEqual([]);

    const target = await pullBackup(config, 'nas', manifest.id, { signal });
    await execa('diff', ['-r', '--no-dereference', dir, target]);
  }, 300_000);

  it('refuses recipients and a passphrase together, and enabled with neither', () => {
    expect(() =>
      ageSpecFrom(
        parseConfigObject({ encryption: { enabled: true, recipients: ['age1xyz'], passphrase: 'p' } }).encryption,
      ),
    ).toThrow(/either recipients or passphrase/);
    expect(() => ageSpecFrom(parseConfigObject({ encryption: { enabled: true } }).encryption)).toThrow(
      /init-encryption/,
    );
  });
});
