// Upload of a 1 GiB backup to a loopback OpenSSH sshd (streaming SFTP, 1 MiB requests, pipelined)
// against `scp` of the same bytes, and bbackup's peak RSS (must stay flat, not grow with size).
// Two shapes: a volume stored as an archive (the same file both ways, against scp) and a volume
// stored as a tree, which bbackup packs as tar|zstd on the fly (against the bare
// `tar | zstd -T0 | ssh cat`, since scp -r would copy the tree unpacked).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startSshd } from '../test/helpers/sshd.js';
import { report, round, say, timed, timedShell } from './lib.js';

const GiB = 1024 ** 3;
const root = process.cwd();

function writeRandom(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(8 << 20);
  for (let left = bytes; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
}

function makeBackup(dir: string, format: 'archive' | 'tree'): void {
  mkdirSync(join(dir, 'volumes'), { recursive: true });
  const file = format === 'archive' ? join(dir, 'volumes', 'data.tar.zst') : join(dir, 'volumes', 'data', 'big.bin');
  mkdirSync(join(file, '..'), { recursive: true });
  writeRandom(file, GiB);
  // an archive is listed with its hash, as the backup engine writes it (upload reuses it)
  const files =
    format === 'archive'
      ? [
          {
            path: 'volumes/data.tar.zst',
            size: GiB,
            sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
          },
        ]
      : [];
  const manifest = {
    format: 1,
    id: '20261124T230501Z',
    host: 'bench',
    created: new Date().toISOString(),
    finished: new Date().toISOString(),
    tool: { name: 'bbackup', version: 'bench' },
    status: 'complete',
    scope: { containers: false, volumes: true, networks: false },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    errors: [],
    items: [
      {
        kind: 'volume',
        name: 'data',
        driver: 'local',
        labels: {},
        options: {},
        usedBy: [],
        format,
        bytes: GiB,
        fileCount: 1,
        files,
      },
    ],
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

const sshd = await startSshd();
const work = await mkdtemp(join('/var/tmp', 'bbt-rm-bench-'));
try {
  for (const format of ['archive', 'tree'] as const) {
    const dir = join(work, `backup-${format}`);
    say(`upload: preparing a 1 GiB ${format} backup`);
    makeBackup(dir, format);
    timed('cat', [
      format === 'archive' ? join(dir, 'volumes', 'data.tar.zst') : join(dir, 'volumes', 'data', 'big.bin'),
    ]); // warm the page cache
    const ssh = [
      '-P',
      String(sshd.port),
      '-i',
      sshd.clientKey,
      '-o',
      `UserKnownHostsFile=${sshd.knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
    ];
    const scps: number[] = [];
    const ours: { seconds: number; maxRssMb: number }[] = [];
    for (let r = 0; r < 2; r++) {
      const scpTarget = join(work, `scp-${format}-${r}`);
      mkdirSync(scpTarget);
      if (format === 'archive')
        scps.push(timed('scp', ['-q', '-r', ...ssh, join(dir, 'volumes'), `root@127.0.0.1:${scpTarget}/`]));
      else {
        // the bare-tool equivalent of packing on the fly: tar | zstd | ssh cat
        const sshArgs = `-p ${sshd.port} -i ${sshd.clientKey} -o UserKnownHostsFile=${sshd.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
        scps.push(
          timedShell(
            `tar -C ${join(dir, 'volumes', 'data')} --format=posix -cf - . | zstd -q -T0 -3 -c | ssh ${sshArgs} root@127.0.0.1 "cat > ${scpTarget}/data.tar.zst"`,
          ),
        );
      }
      execFileSync('sync');
      const out = execFileSync(
        process.execPath,
        [
          join(root, 'bench/upload-child.mjs'),
          dir,
          sshd.host,
          String(sshd.port),
          sshd.clientKey,
          sshd.knownHosts,
          join(work, `ours-${format}-${r}`),
        ],
        { cwd: root, encoding: 'utf8' },
      );
      ours.push(JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; maxRssMb: number });
      await rm(scpTarget, { recursive: true, force: true });
      await rm(join(work, `ours-${format}-${r}`), { recursive: true, force: true });
    }
    const scp = Math.min(...scps);
    const best = ours.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const rate = (s: number) => round(1024 / s, 0);
    say(
      `upload ${format}: bbackup ${round(best.seconds)} s (${rate(best.seconds)} MiB/s), ${format === 'archive' ? 'scp' : 'tar|zstd|ssh'} ${round(scp)} s (${rate(scp)} MiB/s), peak RSS ${round(best.maxRssMb, 0)} MB`,
    );
    if (format === 'archive')
      report({
        bench: 'upload',
        case: '1 GiB archive to loopback sshd vs scp',
        value: round(best.seconds),
        unit: 's',
        baseline: round(scp),
        ratio: round(best.seconds / scp),
        target: '<= 1.0x (at least as fast as scp)',
        pass: best.seconds <= scp,
      });
    else
      report({
        bench: 'upload',
        case: '1 GiB tree packed on the fly vs tar|zstd|ssh cat',
        value: round(best.seconds),
        unit: 's',
        baseline: round(scp),
        ratio: round(best.seconds / scp),
        target: '<= 1.15x',
        pass: best.seconds <= 1.15 * scp,
      });
    report({
      bench: 'upload',
      case: `peak RSS, 1 GiB ${format} upload`,
      value: round(Math.max(...ours.map((o) => o.maxRssMb)), 0),
      unit: 'MB',
      target: '< 200 MB (flat)',
      pass: Math.max(...ours.map((o) => o.maxRssMb)) < 200,
    });
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await sshd.stop();
  await rm(work, { recursive: true, force: true });
}
