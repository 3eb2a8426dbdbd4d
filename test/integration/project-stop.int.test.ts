// bbackup.stop on a Compose project (issue 16), on the real engine through the real CLI: the
// project's labelled containers go down together in reverse depends_on order, once for both of its
// volumes, and come back in depends_on order; docker events show the order.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { isRunning, tempDir, watchEvents, writeConfig, type DockerEvent } from './ops-fixtures.js';

const docker = testDocker();
const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;

/** Wait (on events, not on the clock) until `count` events of `status` arrived; the deadline only ends a hung test. */
async function eventsArrive(events: DockerEvent[], status: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (events.filter((e) => e.status === status).length < count) {
    if (Date.now() > deadline)
      throw new Error(`only ${events.filter((e) => e.status === status).length} ${status} events`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bbackup.stop on a Compose project', () => {
  it('stops the project together in reverse dependency order, once, and starts it in dependency order', async () => {
    const dir = await tempDir('proj');
    const project = testName('proj');
    const pl = (service: string, dependsOn?: string) => ({
      'com.docker.compose.project': project,
      'com.docker.compose.service': service,
      ...(dependsOn ? { 'com.docker.compose.depends_on': dependsOn } : {}),
      'bbackup.stop': 'true',
    });
    const dbData = await createTestVolume(docker, 'proj', { labels: { 'com.docker.compose.project': project } });
    const appData = await createTestVolume(docker, 'proj', { labels: { 'com.docker.compose.project': project } });
    // names in the opposite of dependency order for stopping: a stop in name order would be wrong
    const db = await createTestContainer(docker, 'proj', {
      name: `${project}-a-db`,
      Labels: pl('db'),
      HostConfig: { Binds: [`${dbData}:/data`] },
    });
    const app = await createTestContainer(docker, 'proj', {
      name: `${project}-b-app`,
      Labels: pl('app', 'db:service_healthy:false'),
      HostConfig: { Binds: [`${appData}:/data`] },
    });
    const web = await createTestContainer(docker, 'proj', {
      name: `${project}-c-web`,
      Labels: pl('web', 'app:service_started:true,db:service_started:false'),
    });
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: ENGINE.replace(/^unix:\/\//, '') },
      logging: { level: 'debug', file: join(dir, 'bbackup.log') },
      retention: { enabled: false },
    });
    const watch = await watchEvents(docker, [db, app, web]);
    const r = await runCli(['-c', config, '--json', 'backup', '-P', project], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr).toBe(0);
    await eventsArrive(watch.events, 'start', 3);
    watch.stop();
    const seq = watch.events.filter((e) => ['die', 'start'].includes(e.status)).map((e) => `${e.status} ${e.name}`);
    // web has no volume of its own but is part of the project: it goes down first and comes up last
    expect(seq).toEqual([`die ${web}`, `die ${app}`, `die ${db}`, `start ${db}`, `start ${app}`, `start ${web}`]);
    for (const c of [db, app, web]) expect(await isRunning(docker, c)).toBe(true);
  });
});
