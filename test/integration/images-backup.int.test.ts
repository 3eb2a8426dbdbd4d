// Images in a backup (issue 16): a locally built image is exported, compressed, listed in the
// manifest and stored once per id (the next backup hard-links it); backup.images none leaves it
// out; an image the engine cannot export and a store too small for it make the backup partial
// and the manifest never claims the image.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ImageItem } from '../../src/store/manifest.js';
import { verifyBackup } from '../../src/store/verify.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { makeLocalImage } from '../helpers/images.js';
import { WORKER_IMAGE } from '../helpers/names.js';
import { runBackup, tempDir, testConfig } from './backup-helpers.js';

const imageItems = (items: { kind: string }[]) => items.filter((i): i is ImageItem => i.kind === 'image');

describe('images in a backup', () => {
  it('saves a local image once per id: exported, listed with tag and sha256, hard-linked by the next backup; none leaves it out', async () => {
    const docker = testDocker();
    const img = await makeLocalImage(docker, 'img');
    const c = await createTestContainer(docker, 'img', { Image: img.tag }, false);
    const store = await tempDir('bbt-img-');
    const config = testConfig(store);
    const first = await runBackup({ containers: [c] }, config);
    expect(first.result.errors).toEqual([]);
    expect(first.result.outcome).toBe('ok');
    const v1 = first.result.value!;
    if (v1.dryRun) throw new Error('dry run');
    const [item] = imageItems(v1.manifest.items);
    expect(item).toMatchObject({ name: img.id, tags: [img.tag], usedBy: [c], compression: 'zstd' });
    expect(item!.linkedFrom).toBeUndefined();
    const file = join(v1.dir, item!.files[0]!.path);
    expect(item!.files[0]!.path).toBe(`images/${img.id.slice(7)}.tar.zst`);
    // the file is a real docker save archive: zstd decodes it, and tar lists the image's config by id
    const listing = execFileSync('bash', ['-c', `zstd -dc '${file}' | tar -t`], { encoding: 'utf8' });
    expect(listing).toContain(`${img.id.slice(7)}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await verifyBackup(v1.dir)).problems).toEqual([]);

    const second = await runBackup({ containers: [c] }, config);
    expect(second.result.outcome).toBe('ok');
    const v2 = second.result.value!;
    if (v2.dryRun) throw new Error('dry run');
    const [again] = imageItems(v2.manifest.items);
    expect(again).toMatchObject({ name: img.id, linkedFrom: v1.id, files: item!.files });
    expect(statSync(join(v2.dir, again!.files[0]!.path)).ino).toBe(statSync(file).ino);
    expect((await verifyBackup(v2.dir)).problems).toEqual([]);

    const none = await runBackup({ containers: [c], images: 'none' }, config);
    if (none.result.value?.dryRun !== false) throw new Error('no backup');
    expect(imageItems(none.result.value.manifest.items)).toEqual([]);
  });

  it('an image the engine cannot export: exit 4, a clear message, no image in the manifest or on disk', async () => {
    const docker = testDocker();
    const img = await makeLocalImage(docker, 'img');
    const c = await createTestContainer(docker, 'img', { Image: img.tag }, false);
    // the image is deleted under the (stopped) container: the engine still names it, but cannot export it
    await docker.getImage(img.id).remove({ force: true });
    const root = await tempDir('bbt-img-');
    const cfg = join(root, 'bbackup.yaml');
    const store = join(root, 'store');
    execFileSync('bash', [
      '-c',
      `printf 'backup:\\n  store: ${store}\\n  volumes:\\n    worker_image: ${WORKER_IMAGE}\\nretention:\\n  enabled: false\\ndocker:\\n  socket: ${process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '')}\\n' > ${cfg}`,
    ]);
    const r = await runCli(['-c', cfg, '--json', 'backup', '-C', c]);
    expect(r.exitCode, r.stderr).toBe(4);
    const doc = JSON.parse(r.stdout) as {
      status: string;
      dir: string;
      items: { kind: string }[];
      errors: { item: string; message: string }[];
    };
    expect(doc.status).toBe('partial');
    expect(doc.items.filter((i) => i.kind === 'image')).toEqual([]);
    expect(doc.items.some((i) => i.kind === 'container')).toBe(true);
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0]!.message).toMatch(
      new RegExp(`image ${img.id.slice(0, 19)}.*used by ${c}.*could not be exported.*holds no copy`),
    );
    expect(existsSync(join(doc.dir, 'images')) ? readdirSync(join(doc.dir, 'images')) : []).toEqual([]);
  });

  it('a store without room for the image: partial, the image left out with the sizes named, the rest kept', async () => {
    const docker = testDocker();
    const img = await makeLocalImage(docker, 'img');
    const c = await createTestContainer(docker, 'img', { Image: img.tag }, false);
    const root = await tempDir('bbt-img-');
    const store = join(root, 'small');
    await mkdir(store);
    // a real small filesystem: the definitions fit, the ~2 MB image does not
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', store]);
    onTestFinished(() => void execFileSync('umount', [store]));
    const out = await runBackup({ containers: [c] }, testConfig(store));
    expect(out.result.outcome).toBe('partial');
    expect(out.result.errors).toHaveLength(1);
    expect(out.result.errors[0]!.message).toMatch(
      /was not saved: it needs up to [\d.]+ MiB and the store has [\d.]+ MiB free/,
    );
    if (out.result.value?.dryRun !== false) throw new Error('no backup');
    expect(imageItems(out.result.value.manifest.items)).toEqual([]);
    expect(out.result.value.manifest.errors.map((e) => e.kind)).toEqual(['image']);
    expect(out.result.value.manifest.items.some((i) => i.kind === 'container' && i.name === c)).toBe(true);
  });
});

describe('Compose project files', () => {
  it('a compose file that cannot be read: exit 4, named in the message; the readable ones and the containers are kept', async () => {
    const docker = testDocker();
    const root = await tempDir('bbt-img-');
    const project = `bbtimgp${process.pid}`;
    writeFileSync(join(root, 'compose.yaml'), 'services: {}\n');
    const missing = join(root, 'gone', 'override.yaml');
    const c = await createTestContainer(
      docker,
      'img',
      {
        Labels: {
          'com.docker.compose.project': project,
          'com.docker.compose.project.config_files': `${join(root, 'compose.yaml')},${missing}`,
          'com.docker.compose.project.working_dir': root,
        },
      },
      false,
    );
    const cfg = join(root, 'bbackup.yaml');
    writeFileSync(
      cfg,
      JSON.stringify({
        backup: { store: join(root, 'store'), volumes: { worker_image: WORKER_IMAGE } },
        retention: { enabled: false },
        docker: { socket: process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '') },
      }),
    );
    const r = await runCli(['-c', cfg, '--json', 'backup', '-P', project]);
    expect(r.exitCode, r.stderr).toBe(4);
    const doc = JSON.parse(r.stdout) as {
      dir: string;
      status: string;
      items: { kind: string; name: string }[];
      errors: { item: string; message: string }[];
    };
    expect(doc.status).toBe('partial');
    expect(doc.items.map((i) => `${i.kind} ${i.name}`)).toEqual(
      expect.arrayContaining([`container ${c}`, `project ${project}`]),
    );
    expect(doc.errors.map((e) => e.message)).toEqual([
      expect.stringContaining(`compose file ${missing}: not found on this host`),
    ]);
    expect(readFileSync(join(doc.dir, 'projects', project, 'compose.yaml'), 'utf8')).toBe('services: {}\n');
    expect((await verifyBackup(doc.dir)).problems).toEqual([]);
  });
});

describe('restoring an image from the backup', () => {
  it('a damaged image file refuses the restore before anything changes; the intact one is loaded with its tag and the container created', async () => {
    const docker = testDocker();
    const img = await makeLocalImage(docker, 'img');
    const c = await createTestContainer(docker, 'img', { Image: img.tag }, false);
    const store = await tempDir('bbt-img-');
    const out = await runBackup({ containers: [c] }, testConfig(store));
    if (out.result.value?.dryRun !== false) throw new Error('no backup');
    const { dir, manifest } = out.result.value;
    const [item] = imageItems(manifest.items);
    await docker.getContainer(c).remove({ force: true });
    await docker.getImage(img.id).remove({ force: true });
    const cfg = join(store, '..', 'restore.yaml');
    writeFileSync(
      cfg,
      JSON.stringify({
        backup: { store, volumes: { worker_image: WORKER_IMAGE } },
        retention: { enabled: false },
        docker: { socket: process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '') },
      }),
    );

    const file = join(dir, item!.files[0]!.path);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0xff;
    writeFileSync(file, bad);
    const refused = await runCli(['-c', cfg, 'restore', dir, '-C', c]);
    expect(refused.exitCode, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(
      new RegExp(`images/${img.id.slice(7)}\\.tar\\.zst: sha256 .* differs from the manifest`),
    );
    expect(
      await docker
        .getImage(img.id)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
    expect(
      await docker
        .getContainer(c)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);

    // an archive that would tag another image on load (docker load applies RepoTags): refused even with --no-verify
    const x = join(store, '..', 'x');
    writeFileSync(file, good);
    execFileSync('bash', [
      '-euc',
      `mkdir -p '${x}' && zstd -dcq '${file}' | tar -x -C '${x}' && sed -i 's/"RepoTags":null/"RepoTags":["bbt-img-victim:1"]/' '${x}/manifest.json' && (cd '${x}' && tar -c *) | zstd -q -o '${file}.new' && mv '${file}.new' '${file}'`,
    ]);
    const tagged = await runCli(['-c', cfg, 'restore', dir, '-C', c, '--no-verify']);
    expect(tagged.exitCode, tagged.stderr).toBe(4);
    expect(tagged.stderr).toContain("was not made by bbackup's export (it carries tags bbt-img-victim:1)");
    expect(tagged.stderr).toContain('nothing was restored');
    expect(
      await docker
        .getImage('bbt-img-victim:1')
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
    expect(
      await docker
        .getContainer(c)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);

    writeFileSync(file, good);
    const r = await runCli(['-c', cfg, 'restore', dir, '-C', c]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('Images loaded from the backup (1):');
    expect((await docker.getImage(img.tag).inspect()).Id).toBe(img.id);
    expect((await docker.getContainer(c).inspect()).Image).toBe(img.id);
  });
});
