// bbackup run as a container, as the README's `docker run` line shows: the image (built offline
// from this checkout's dist/, test/helpers/app-image.ts) talks to the engine through its socket
// mounted in, reads the volumes read-only from the engine's data-root and writes the store mounted
// at the same path, with no network at all. The host's own bbackup (dist/) then restores that
// backup under a new volume name, and the files are equal.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureAppImage } from '../helpers/app-image.js';
import {
  createTestContainer,
  createTestVolume,
  demux,
  runInBusybox,
  testDocker,
  testLabels,
} from '../helpers/docker.js';
import { testName } from '../helpers/names.js';

const docker = testDocker();
const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace(/^unix:\/\//, '');
const bin = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-img-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every file of a volume with its checksum, sorted, and the modes: what a restore must bring back. */
const contents = (volume: string) =>
  runInBusybox(
    docker,
    'cd /v && find . -type f -exec md5sum {} + | sort -k2 && find . | sort && stat -c "%n %a %u" $(find . | sort)',
    [`${volume}:/v:ro`],
  );

describe('bbackup as a container', () => {
  it('backs up from inside its image; the host restores it, content equal', async () => {
    const image = await ensureAppImage(docker, (m) => console.log(m));
    const { DockerRootDir: dataRoot } = (await docker.info()) as { DockerRootDir: string };
    const v = await createTestVolume(docker, 'img');
    await runInBusybox(
      docker,
      'echo hello > /v/greeting && mkdir -p /v/sub && seq 1 20000 > /v/sub/numbers && chmod 640 /v/greeting && chown 33 /v/sub/numbers',
      [`${v}:/v`],
    );
    const c = await createTestContainer(docker, 'img', { HostConfig: { Binds: [`${v}:/data`] } });
    const store = join(tmp, 'store');
    const config = join(tmp, 'config.yaml');
    await writeFile(config, `backup:\n  store: ${store}\nlogging: {file: /tmp/bbackup.log}\n`);

    // the README's one-off command, with this engine's socket and data-root
    const run = await docker.createContainer({
      name: testName('img'),
      Image: image,
      Cmd: ['--json', 'backup', '-C', c],
      Labels: testLabels(),
      HostConfig: {
        NetworkMode: 'none',
        Binds: [
          `${SOCKET}:/var/run/docker.sock`,
          `${store}:${store}`,
          `${dataRoot}/volumes:${dataRoot}/volumes:ro`,
          `${config}:/etc/bbackup/config.yaml:ro`,
        ],
      },
    });
    onTestFinished(() => run.remove({ force: true }).catch(() => undefined));
    await run.start();
    const { StatusCode } = (await run.wait()) as { StatusCode: number };
    const out = demux((await run.logs({ stdout: true, stderr: false })) as unknown as Buffer);
    const err = demux((await run.logs({ stdout: false, stderr: true })) as unknown as Buffer);
    expect(StatusCode, err + out).toBe(0);
    const report = JSON.parse(out) as { id: string };

    // the host's bbackup (dist/) restores it under another name
    const restored = `${v}-back`;
    onTestFinished(() =>
      docker
        .getVolume(restored)
        .remove({ force: true })
        .catch(() => undefined),
    );
    const hostConfig = join(tmp, 'host.yaml');
    await writeFile(
      hostConfig,
      `docker: {socket: ${SOCKET}}\nbackup:\n  store: ${store}\nlogging: {file: ${join(tmp, 'host.log')}}\n`,
    );
    const r = await execa(
      process.execPath,
      [bin, '-c', hostConfig, 'restore', report.id, '-V', v, '-r', `volume:${v}:${restored}`],
      {
        reject: false,
        env: { NO_COLOR: '1', HOME: tmp, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined },
      },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(await contents(restored)).toBe(await contents(v));
    expect(await contents(restored)).toContain('./greeting 640 0');
  }, 900_000);
});
