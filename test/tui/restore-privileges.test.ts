// A backup whose container needs a privilege (an added capability): the TUI's restore confirmation
// lists it highlighted, then asks again in a step of its own where only A allows it; Enter there
// does nothing and n cancels (nothing created); the restore happens only after A. Real engine, real pty.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { testName } from '../helpers/names.js';
import { cleanupAfter } from '../helpers/restore.js';
import { makeWorld, press } from './fixture.js';

it('shows the privileges highlighted and restores only after they are allowed in their own step', async () => {
  const docker = testDocker();
  const w = await makeWorld({ bigMB: 1 });
  const agent = await createTestContainer(
    docker,
    'rsec',
    { HostConfig: { NetworkMode: 'none', CapAdd: ['NET_ADMIN'] } },
    false,
  );
  const backup = await runCli(['-c', w.config, 'backup', '-C', agent]);
  expect(backup.exitCode, backup.stderr).toBe(0);
  const target = testName('rsec');
  cleanupAfter(docker, { containers: [target] });
  const exists = () =>
    docker
      .getContainer(target)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  const app = spawnTui(['-c', w.config], {
    cols: 120,
    rows: 36,
    env: { NO_COLOR: undefined, BBACKUP_NO_COLOR: undefined },
  });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit'), 'the dashboard');
  await press(app, 'l');
  await app.waitFor((t) => t.includes('Backups') && t.includes('complete'), 'the backup listed');
  await press(app, 'r');
  await app.waitFor(
    (t) => t.includes(`container ${agent}`) && t.includes('< Review and restore >'),
    'the restore dialog',
  );
  await press(app, KEYS.home, KEYS.down);
  app.write(target);
  await app.waitFor((t) => t.includes(`restore as: ${target}`), 'the new name');

  const review = async () => {
    await press(app, KEYS.end, KEYS.up, KEYS.enter);
    const plan = await app.waitFor(
      (t) => t.includes('Will be created:') && t.includes('PRIVILEGES on this host (1):'),
      'the confirmation with the privileges',
    );
    expect(plan).toContain(`! container ${target}: capability NET_ADMIN`);
    // highlighted: bold red
    for (const text of ['PRIVILEGES on this host', `! container ${target}: capability NET_ADMIN`]) {
      const style = app.style(text);
      expect(style, text).toMatchObject({ bold: true, palette: true });
      expect([1, 9]).toContain(style!.fg);
    }
    await press(app, KEYS.enter);
    const step = await app.waitFor(
      (t) => t.includes('Allow privileges on this host?') && t.includes('A allow these and restore'),
      'the extra privilege step',
    );
    expect(step).toContain(`! container ${target}: capability NET_ADMIN`);
  };

  await review();
  // Enter is not the key that allows: had it started the restore, the dialog would have closed
  // (that happens before the job starts) and n would not bring us back to it.
  await press(app, KEYS.enter, 'n');
  await app.waitFor(
    (t) => !t.includes('Allow privileges on this host?') && t.includes('< Review and restore >'),
    'back in the restore dialog',
  );
  expect(await exists()).toBe(false);

  await review();
  await press(app, 'a');
  await app.waitFor((t) => /restore .*✓ done/.test(t), 'the restore job done', 60_000);
  expect((await docker.getContainer(target).inspect()).HostConfig.CapAdd).toEqual(['NET_ADMIN']);
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
