// moby's `--bridge=none` deletes the host's docker0 link at startup even when another daemon owns
// it (RECIPES.md §1). The demo remembers docker0 before starting its private engine and puts it
// back, with the same MAC and addresses, if it vanished.
import { execa } from 'execa';

interface LinkState {
  address: string;
  addrs: { local: string; prefixlen: number; broadcast?: string }[];
}

export async function snapshotDocker0(): Promise<LinkState | undefined> {
  const r = await execa('ip', ['-j', 'addr', 'show', 'dev', 'docker0'], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const [link] = JSON.parse(r.stdout) as {
    address: string;
    addr_info: { family: string; local: string; prefixlen: number; broadcast?: string }[];
  }[];
  if (!link) return undefined;
  return { address: link.address, addrs: link.addr_info.filter((a) => a.family === 'inet') };
}

export async function restoreDocker0(before: LinkState | undefined, say: (s: string) => void): Promise<void> {
  if (!before || (await snapshotDocker0())) return;
  say('the private dockerd removed docker0 (a moby quirk); recreating it for the main engine');
  await execa('ip', ['link', 'add', 'name', 'docker0', 'type', 'bridge']);
  await execa('ip', ['link', 'set', 'docker0', 'address', before.address]);
  for (const a of before.addrs) {
    await execa('ip', [
      'addr',
      'add',
      `${a.local}/${a.prefixlen}`,
      ...(a.broadcast ? ['brd', a.broadcast] : []),
      'dev',
      'docker0',
    ]);
  }
  await execa('ip', ['link', 'set', 'docker0', 'up']);
}
