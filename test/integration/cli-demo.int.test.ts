// `npm run demo` end to end. Without a terminal: its own dockerd, sshd and age identity, the demo
// objects read back through bbackup, a backup on both remotes, pull, restore under a new name, a
// failing pre-backup hook (partial, exit 4 as expected). On a terminal: the first steps, then the
// TUI: both remotes' backups, a pull, two schedules with the daemon alive, the failed hook in the
// error pane. Each time nothing is left behind (processes, temp folders, objects on the demo
// engine), also after Ctrl-C. The demo never touches the shared test engine: it starts its own.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { KEYS, spawnTui, type PtyApp } from '../helpers/pty.js';
import { TOUR, TOUR_TITLE } from '../../screens/tour.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = { ...process.env, DOCKER_HOST: undefined, BBACKUP_CONFIG: undefined, NO_COLOR: '1' };
const asRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// generous: the demo and the machine's other work share two cores (waits end as soon as the screen shows it)
const SLOW = 120_000;

interface Started {
  engineDir: string;
  workDir: string;
  pids: { name: string; pid: number }[];
}

/** What the demo said it started: its folders and the pids of dockerd, sshd and the daemon. */
function startedBy(output: string): Started {
  const text = output.replace(/\r/g, '');
  const engineDir = /engine up at unix:\/\/(\/tmp\/bbdemo-engine-[^/\s]+)\/d\.sock \(dockerd pid (\d+)\)/.exec(text);
  const workDir = /temp folder (\/tmp\/bbdemo-work-[^/\s]+) /.exec(text);
  const sshd = /sshd on 127\.0\.0\.1:\d+ \(pid (\d+)\)/.exec(text);
  const daemon = /bbackup daemon running the schedules in the background \(pid (\d+);/.exec(text);
  expect(engineDir, text).not.toBeNull();
  expect(workDir, text).not.toBeNull();
  expect(sshd, text).not.toBeNull();
  const pids = [
    { name: 'dockerd', pid: Number(engineDir![2]) },
    { name: 'sshd', pid: Number(sshd![1]) },
    ...(daemon ? [{ name: 'bbackup daemon', pid: Number(daemon[1]) }] : []),
  ];
  return { engineDir: engineDir![1]!, workDir: workDir![1]!, pids };
}

/** A pid is still the demo's when it runs and its command line names a demo folder. */
function stillRunning(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && cmd.includes('/tmp/bbdemo-');
  } catch {
    return false;
  }
}

function expectNothingLeft(output: string, s: Started): void {
  expect(output).toContain('demo: demo engine emptied: 0 containers, 0 volumes, 0 networks left');
  expect(output).toContain('demo: private dockerd stopped');
  for (const p of s.pids) expect(stillRunning(p.pid), `${p.name} pid ${p.pid} still running`).toBe(false);
  expect(existsSync(s.engineDir), s.engineDir).toBe(false);
  expect(existsSync(s.workDir), s.workDir).toBe(false);
}

describe('npm run demo', () => {
  it('without a terminal: the tour of commands, remotes, pull, restore, a failing hook; then cleans up (refuses clearly when not root)', async () => {
    const r = await execa('bash', ['scripts/demo.sh'], { cwd: root, env, stdin: 'ignore', reject: false, all: true });
    if (!asRoot) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('demo: must run as root');
      return;
    }
    expect(r.exitCode, r.all).toBe(0);
    for (const name of [
      'bbdemo-web',
      'bbdemo-db',
      'bbdemo-nightly-job',
      'bbdemo-sidecar',
      'bbdemo-reports',
      'bbdemo-db-data',
      'bbdemo-media',
      'bbdemo-net',
    ])
      expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/^bbdemo-db-data +local +2\d\.\d MB +bbdemo-db /m);
    expect(r.stdout).toMatch(/^bbdemo-media +local +2\d\d MB +bbdemo-web /m);
    expect(r.stdout).toMatch(/^bbdemo-nightly-job +exited /m);
    expect(r.stdout).toMatch(/^bbdemo-sidecar +created .* bbdemo-net /m);
    expect(r.stdout).toMatch(/^bbdemo-net +bridge +10\.231\.7\.0\/24 +yes +bbdemo-sidecar$/m);
    expect(r.stdout).toContain('container:bbdemo-old-api(missing)');
    // the first backup is on both remotes, encrypted, and no longer local: pulled back, then restored under a new name
    const nas = /^nas +\S+ +(\d{8}T\d{6}Z) .* yes$/m.exec(r.stdout);
    expect(nas, r.stdout).not.toBeNull();
    expect(r.stdout).toMatch(new RegExp(`^offsite +\\S+ +${nas![1]} .* yes$`, 'm'));
    expect(r.stdout).toContain(`pulled ${nas![1]} from offsite`);
    expect(r.stdout).toMatch(/create +volume +bbdemo-db-data-restored +from bbdemo-db-data/);
    expect(r.stdout).toContain('restore ok: 1 of 1 restored');
    // two schedules, one with a last result
    expect(r.stdout).toMatch(/^shop-every-2-min +\*\/2 \* \* \* \* +set shop +\S+ \S+ +\S+ \S+ +ok /m);
    expect(r.stdout).toMatch(/^nightly-offsite +30 2 \* \* \* +set shop /m);
    // the failing pre-backup hook: a partial backup that says why, exit 4 as the demo expects
    expect(r.all).toMatch(
      /volume bbdemo-reports-data: container bbdemo-reports: pre-hook \["flush-reports"\] exited 75\s+flush-reports: cannot flush/,
    );
    expect(r.stdout).toContain('(exit code 4, as expected)');
    expect(r.stdout).not.toMatch(/exit code \d+, expected/);
    expectNothingLeft(r.all!, startedBy(r.all!));
  }, 600_000);

  it.runIf(asRoot)(
    'on a terminal: first steps, then the TUI shows both remotes, pulls, lists two schedules and the failed hook; q leaves nothing',
    async () => {
      const app = spawnTui([], {
        command: { file: 'bash', args: ['scripts/demo.sh'], cwd: root },
        cols: 160,
        rows: 45,
        // no scheduled run may take the store lock while the test drives the TUI (the overlay still shows next runs)
        env: { DOCKER_HOST: undefined, BBACKUP_CONFIG: undefined, BBDEMO_OFTEN_CRON: '0 0 1 1 *' },
      });
      try {
        await driveDemo(app);
      } catch (err) {
        // SIGTERM to the terminal's process group, as closing a terminal would, so the demo cleans up
        try {
          process.kill(-app.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        await Promise.race([app.exited, sleep(60_000)]);
        throw err;
      }
      const { exitCode } = await app.exited;
      const output = app.raw();
      expect(exitCode, output.slice(-3000)).toBe(0);
      expectNothingLeft(output, startedBy(output));
    },
    600_000,
  );

  it.runIf(asRoot)(
    'Ctrl-C in the middle still stops the daemon and removes everything',
    async () => {
      const child = execa('bash', ['scripts/demo.sh'], {
        cwd: root,
        env,
        stdin: 'ignore',
        reject: false,
        detached: true,
        all: true,
      });
      let seen = '';
      await new Promise<void>((resolve) => {
        child.all!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (seen.includes('demo: image ')) resolve();
        });
        void child.then(() => resolve());
      });
      process.kill(-child.pid!, 'SIGINT'); // the whole process group, as a terminal does
      const r = await child;
      expect(r.exitCode, r.all).toBe(130);
      expect(r.all).toContain('demo: SIGINT: stopping');
      expect(r.all).toContain('demo: sshd stopped');
      expectNothingLeft(r.all!, startedBy(r.all!));
    },
    300_000,
  );
});

async function press(app: PtyApp, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    app.write(k);
    await sleep(80); // one at a time, like a person: blessed parses a burst with Enter inside badly
  }
}

async function driveDemo(app: PtyApp): Promise<void> {
  const tour = await app.waitFor(
    (t) => t.includes('Press Enter to open the TUI'),
    'the first steps before the TUI',
    300_000,
  );
  expect(tour).toContain(TOUR_TITLE);
  for (const s of TOUR) expect(tour).toContain(`  ${s.key}  ${s.what}`);
  const offsiteId = /dropping the local copy of (\d{8}T\d{6}Z)/.exec(app.raw())?.[1];
  expect(offsiteId, app.raw().slice(-3000)).toBeDefined();
  await press(app, KEYS.enter);
  await app.waitFor(
    (t) => t.includes('Containers') && t.includes('Errors') && t.includes('bbdemo-reports'),
    'the dashboard',
    SLOW,
  );

  // remotes: the first one is listed on entry; Enter on the second lists its backups too
  await press(app, 'o');
  await app.waitFor((t) => t.includes('Backups on nas') && t.includes(offsiteId!), `${offsiteId} on nas`, SLOW);
  await press(app, KEYS.down, KEYS.enter);
  await app.waitFor((t) => t.includes('Backups on offsite') && t.includes(offsiteId!), `${offsiteId} on offsite`, SLOW);
  // F pulls it (not in the local store any more); the backups screen then lists it
  await press(app, 'f');
  await app.waitFor((t) => new RegExp(`pull ${offsiteId} from offsite.*✓ done`).test(t), 'the pull to end', SLOW);
  // R on it opens the restore dialog, where each item gets a "restore as" name
  await press(app, 'r');
  await app.waitFor(
    (t) => t.includes(`Restore ${offsiteId}`) && t.includes('restore as') && t.includes('< Review and restore >'),
    'the restore dialog',
    SLOW,
  );
  await press(app, KEYS.escape, 'l');
  await app.waitFor(
    (t) => t.includes(offsiteId!) && !t.includes('restore as'),
    `${offsiteId} in the local store`,
    SLOW,
  );

  // schedules: two, the daemon alive, the frequent one with a last result
  await press(app, 'c');
  const schedules = await app.waitFor(
    (t) => t.includes('shop-every-2-min') && t.includes('nightly-offsite') && /daemon pid \d+ running/.test(t),
    'the schedules overlay',
    SLOW,
  );
  expect(schedules).toMatch(/last +ok at/);
  await press(app, KEYS.escape, 'd');

  // the set "reports": its pre-backup hook fails, the error pane says why, the backup ends partial
  await press(app, 't');
  const picker = await app.waitFor(
    (t) => t.includes('Backup sets from the config') && t.includes('< reports '),
    'the set picker',
    SLOW,
  );
  // the cursor starts on the first set: step down to "reports", wherever the picker lists it
  const sets = [...picker.matchAll(/< (\S+) +\d+ members/g)].map((m) => m[1]);
  expect(sets).toContain('reports');
  await press(app, ...Array<string>(sets.indexOf('reports')).fill(KEYS.down), KEYS.enter);
  await app.waitFor((t) => t.includes('backup set reports selected'), 'the set reports selected', SLOW);
  await press(app, 'b');
  await app.waitFor((t) => t.includes('< Start backup >'), 'the scope dialog', SLOW);
  await press(app, KEYS.end, KEYS.up, KEYS.enter);
  const failed = await app.waitFor(
    (t) => /ERROR .*pre-hook \["flush-reports"\] exited 75/.test(t) && /job backup-\S+ ended: partial/.test(t),
    'the failed hook in the error pane and a partial backup',
    120_000,
  );
  expect(failed).toMatch(/ERROR .*volume bbdemo-reports-data failed: container bbdemo-reports: pre-hook/);

  await press(app, 'q');
  await app.waitFor((t) => t.includes('demo: private dockerd stopped'), 'the demo to clean up after q', 120_000);
}
