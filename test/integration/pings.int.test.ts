// Health-check pings of a schedule, received by a loopback HTTP server: start, then success for a
// good run; start, then failure carrying the error for a failed one; a ping endpoint that answers
// 500 is retried, and one that does not answer at all never fails the run.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { httpSink } from '../helpers/http-sink.js';
import { testName } from '../helpers/names.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

const docker = testDocker();
const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace(/^unix:\/\//, '');

describe('schedule pings', () => {
  it('start → success for a good run, start → failure with the error for a failed one; retried on 500; never failing the run', async () => {
    const dir = await tempDir('ping');
    // the first success ping gets a 500: it must be retried
    const sink = await httpSink((r) =>
      r.path === '/uuid-ok/success' && !sinkSeen.has(r.path) ? (sinkSeen.add(r.path), 500) : 200,
    );
    const sinkSeen = new Set<string>();
    const v = await createTestVolume(docker, 'ping');
    await runInBusybox(docker, 'echo x > /d/x', [`${v}:/d`]);
    const c = await createTestContainer(docker, 'ping', { HostConfig: { Binds: [`${v}:/data`] } });
    const ping = (key: string) => ({
      start: `${sink.url}/${key}/start`,
      success: `${sink.url}/${key}/success`,
      failure: `${sink.url}/${key}/failure`,
      retries: 2,
    });
    const config = await writeConfig(dir, {
      docker: { socket: SOCKET },
      backup: { store: join(dir, 'store') },
      logging: { file: join(dir, 'bbackup.log') },
      schedule: {
        good: { cron: '0 3 * * *', containers: [c], ping: ping('uuid-ok') },
        bad: { cron: '0 3 * * *', containers: [testName('ping-missing')], ping: ping('uuid-bad') },
        // a port nothing listens on: the pings fail, the run does not
        deaf: {
          cron: '0 3 * * *',
          containers: [c],
          ping: {
            start: 'http://127.0.0.1:9/x/start',
            success: 'http://127.0.0.1:9/x/success',
            retries: 1,
            timeout: 2,
          },
        },
      },
    });
    const env = { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined };

    const good = await runCli(['-c', config, 'schedule', 'run', 'good'], { env });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(sink.received.map((r) => r.path)).toEqual(['/uuid-ok/start', '/uuid-ok/success', '/uuid-ok/success']);
    expect(sink.received[2]!.body).toMatch(/^schedule good: ok \(backup \d{8}T\d{6}Z\)/);

    const bad = await runCli(['-c', config, 'schedule', 'run', 'bad'], { env });
    expect(bad.exitCode).not.toBe(0);
    expect(sink.received.slice(3).map((r) => r.path)).toEqual(['/uuid-bad/start', '/uuid-bad/failure']);
    expect(sink.received[4]!.body).toContain('schedule bad: failed');
    expect(sink.received[4]!.body).toContain('ping-missing');

    const deaf = await runCli(['-c', config, 'schedule', 'run', 'deaf'], { env });
    expect(deaf.exitCode, deaf.stderr).toBe(0);
    expect(sink.received).toHaveLength(5);
    // the ping's key never reaches the log
    const { readFile } = await import('node:fs/promises');
    const log = await readFile(join(dir, 'bbackup.log'), 'utf8');
    expect(log).toMatch(/start ping http:\/\/127\.0\.0\.1:9\/\S* failed after 2 attempt\(s\)/);
    expect(log).not.toContain('uuid-ok');
  }, 600_000);
});
