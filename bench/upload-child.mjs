// One upload of a prepared backup folder to the bench sshd, in its own process so its peak RSS is
// bbackup's alone, from the BUILT engine (dist/, as the installed CLI runs; tsx alone adds ~35 MB). argv: backupDir host port key knownHosts targetDir. Prints {seconds, maxRssMb}.
import { readManifest } from '../dist/src/store/manifest.js';
import { SftpRemote } from '../dist/src/remote/sftp.js';
import { uploadBackup } from '../dist/src/remote/upload-backup.js';

const [dir, host, port, key, knownHosts, target] = process.argv.slice(2);
const manifest = await readManifest(dir);
const remote = new SftpRemote('bench', {
  host,
  port: Number(port),
  user: 'root',
  path: target,
  keyFile: key,
  knownHosts,
  insecureAcceptAnyHostKey: false,
});
const t0 = process.hrtime.bigint();
await uploadBackup({
  remote,
  backupDir: dir,
  manifest,
  level: 3,
  encrypted: false,
  signal: new AbortController().signal,
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
await remote.close();
process.stdout.write(`${JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
