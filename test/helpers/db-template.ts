// Initialised data folders for the test database servers, made once and copied into each new
// server's volume: initdb and mariadb-install-db (plus the temporary server each entry script
// runs) cost seconds per server, and no dump test is about a server's first start. Kept under
// /var/tmp per image and entry script, like the image itself; the restore paths under test still
// initialise their fresh volumes the real way.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { testLabels } from './docker.js';
import { testName } from './names.js';

const ROOT = '/var/tmp/bbackup-test-db-templates';

export interface TemplateSpec {
  image: string;
  user: string;
  env: string[];
  cmd: string[];
  dataDir: string;
  /** resolves once the server in `container` answers (its entry script has finished initialising) */
  ready: (container: string) => Promise<void>;
}

const making = new Map<string, Promise<string>>();

/** The folder holding an initialised data folder for `spec` (made on first use). */
export async function dataTemplate(docker: Docker, spec: TemplateSpec): Promise<string> {
  const image = (await docker.getImage(spec.image).inspect()).Id;
  const key = createHash('sha256')
    .update(JSON.stringify([image, spec.user, spec.env, spec.cmd, spec.dataDir]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(ROOT, key);
  if (
    await stat(dir).then(
      () => true,
      () => false,
    )
  )
    return dir;
  let p = making.get(dir);
  if (!p) {
    p = make(docker, spec, dir).finally(() => making.delete(dir));
    making.set(dir, p);
  }
  return p;
}

/** Copy the template into an empty volume's folder (the folder's own owner and mode included). */
export async function fillFromTemplate(template: string, mountpoint: string): Promise<void> {
  await execa('cp', ['-a', '--sparse=always', `${template}/.`, mountpoint]);
}

async function make(docker: Docker, spec: TemplateSpec, dir: string): Promise<string> {
  const volume = testName('sdtpl');
  const name = testName('sdtpl');
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  try {
    const c = await docker.createContainer({
      name,
      Image: spec.image,
      User: spec.user,
      Env: spec.env,
      Cmd: spec.cmd,
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none', Binds: [`${volume}:${spec.dataDir}`] },
    });
    await c.start();
    await spec.ready(name);
    // SIGTERM is a clean shutdown for postgres (smart) and mariadbd alike; wait for the exit
    await c.kill({ signal: 'SIGTERM' });
    const exit = (await c.wait()) as { StatusCode: number };
    if (exit.StatusCode !== 0) throw new Error(`template server ${name} exited ${exit.StatusCode} on SIGTERM`);
    const mountpoint = ((await docker.getVolume(volume).inspect()) as { Mountpoint: string }).Mountpoint;
    // made under a temporary name and renamed: concurrent runs never see half a template
    await mkdir(ROOT, { recursive: true, mode: 0o700 });
    const partial = `${dir}.${process.pid}.partial`;
    await rm(partial, { recursive: true, force: true });
    await execa('cp', ['-a', '--sparse=always', mountpoint, partial]);
    await rename(partial, dir).catch(async (err: NodeJS.ErrnoException) => {
      await rm(partial, { recursive: true, force: true });
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err; // another run made it first
    });
    return dir;
  } finally {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
    await docker
      .getVolume(volume)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
