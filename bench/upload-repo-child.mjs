// One upload of a local backup to a remote repository (remote format 2), in its own process so its
// peak RSS is bbackup's alone, from the BUILT engine (dist/, as the installed CLI runs; tsx alone
// adds ~35 MB). argv: backupDir store local <folder> | backupDir store sftp host port
// key knownHosts <folder>. Prints {seconds, planSeconds, cpuSeconds, phases, maxRssMb, stored, added, skipped, total}.
import { readManifest } from '../dist/src/store/manifest.js';
import { LocalRemote } from '../dist/src/remote/local.js';
import { SftpRemote } from '../dist/src/remote/sftp.js';
import { uploadSnapshot } from '../dist/src/remote/repo/upload.js';

const [dir, store, kind, ...rest] = process.argv.slice(2);
const remote =
  kind === 'local'
    ? new LocalRemote('bench', rest[0])
    : new SftpRemote('bench', {
        host: rest[0],
        port: Number(rest[1]),
        user: 'root',
        keyFile: rest[2],
        knownHosts: rest[3],
        path: rest[4],
        insecureAcceptAnyHostKey: false,
      });
const manifest = await readManifest(dir);
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let planned; // the first progress event: lock taken, remote listed, upload planned
const r = await uploadSnapshot({
  emit: (e) => {
    if (e.type === 'item.progress') planned ??= process.hrtime.bigint();
  },
  remote,
  backupDir: dir,
  manifest,
  store,
  level: 3,
  encrypted: false,
  canDecrypt: false,
  signal: new AbortController().signal,
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
// CPU of this process (not of zstd, age or sshd): on a loaded machine it says more than wall time
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const planSeconds = planned === undefined ? undefined : Number(planned - t0) / 1e9;
await remote.close();
process.stdout.write(
  `${JSON.stringify({ seconds, planSeconds, cpuSeconds, phases: r.phases, maxRssMb: process.resourceUsage().maxRSS / 1024, stored: r.stored, added: r.added, skipped: r.skipped, total: r.total })}\n`,
);
