// The containers pane groups a Compose project's containers under its name, in a real
// pseudo-terminal: Space on the project selects all of them (and the backup dialog counts them),
// Enter folds the project and unfolds it again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { filterPane, press } from './fixture.js';

it('groups containers under their Compose project; Space selects the project, Enter folds it', async () => {
  const docker = testDocker();
  const project = testName('proj');
  const members: string[] = [];
  for (const service of ['db', 'web', 'cache'])
    members.push(
      await createTestContainer(
        docker,
        'proj',
        {
          name: `${project}-${service}-1`,
          Labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': service },
        },
        false,
      ),
    );
  const dir = await mkdtemp(join(tmpdir(), 'bbt-proj-tui-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'bbackup.yaml');
  const socket = (process.env.BBACKUP_TEST_DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
  await writeFile(
    config,
    [
      'backup:',
      `  store: ${join(dir, 'store')}`,
      'retention: { enabled: false }',
      `logging: { file: ${join(dir, 'bbackup.log')}, level: info }`,
      `docker: { socket: ${socket} }`,
      '',
    ].join('\n'),
  );
  const app = spawnTui(['-c', config], { cols: 200, rows: 40 });
  await app.waitFor((t) => t.includes('Containers') && t.includes(`project ${project}`), 'the project header');
  await filterPane(app, project);
  // the header first (cursor on it), its containers indented under it
  await app.waitFor(
    (t) => t.includes(`- project ${project}`) && members.every((m) => t.includes(`[ ] ${m}`)),
    'the project unfolded with its three containers',
  );
  await press(app, KEYS.space);
  const selected = await app.waitFor(
    (t) => members.every((m) => t.includes(`[x] ${m}`)),
    'all three containers selected by Space on the project',
  );
  expect(selected).toContain('3 containers, 0 running, 3 selected');

  await press(app, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`+ project ${project}`) && members.every((m) => !t.includes(m)),
    'the project folded: its containers hidden',
  );
  await press(app, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`- project ${project}`) && members.every((m) => t.includes(`[x] ${m}`)),
    'unfolded again, still selected',
  );

  await press(app, 'b');
  await app.waitFor((t) => t.includes('Back up 3 container(s)'), 'the backup dialog counting the project');
  await press(app, KEYS.escape);
  await app.waitFor((t) => !t.includes('Back up 3 container(s)'), 'the dialog closed');
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
