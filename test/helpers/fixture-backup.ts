// A backup folder written exactly to the on-disk contract (DESIGN §3, src/store/manifest.ts,
// src/store/layout.ts) from real engine objects, without the backup engine: inspect JSON from the
// engine, volumes copied with rsync -aHAXS (tree, with its index) or GNU tar --xattrs --acls
// (archive), sha256 of every file, manifest.json last. Restore tests stay independent of issue 3.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { rel } from '../../src/store/layout.js';
import {
  MANIFEST_FORMAT,
  type CompressionMethod,
  type FileEntry,
  type IndexEntry,
  type Manifest,
  type ManifestItem,
} from '../../src/store/manifest.js';

export interface FixtureOptions {
  /** the backup folder to create */
  dir: string;
  containers?: string[];
  volumes?: string[];
  networks?: string[];
  format?: 'tree' | 'archive';
  compression?: CompressionMethod;
  host?: string;
}

const EXT: Record<CompressionMethod, string> = { zstd: '.zst', gzip: '.gz', none: '' };

export async function sha256Of(path: string): Promise<FileEntry['sha256']> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path) as AsyncIterable<Buffer>) h.update(c);
  return h.digest('hex');
}

async function fileEntry(dir: string, relPath: string): Promise<FileEntry> {
  const p = join(dir, relPath);
  return { path: relPath, size: (await stat(p)).size, sha256: await sha256Of(p) };
}

async function writeJson(dir: string, relPath: string, doc: unknown): Promise<FileEntry> {
  await mkdir(join(dir, relPath, '..'), { recursive: true });
  await writeFile(join(dir, relPath), JSON.stringify(doc, null, 2));
  return fileEntry(dir, relPath);
}

/** The index of a tree: every entry, depth first, names sorted, root first as "". */
export async function writeTreeIndex(root: string, out: string): Promise<{ bytes: number; files: number }> {
  const lines: string[] = [];
  let bytes = 0;
  let files = 0;
  const walk = async (relPath: string): Promise<void> => {
    const path = relPath === '' ? root : join(root, relPath);
    const st = await lstat(path, { bigint: true });
    const t: IndexEntry['t'] = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'o';
    const e: IndexEntry = {
      p: relPath,
      t,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: String(st.mtimeNs),
    };
    if (t === 'f') {
      e.size = Number(st.size);
      e.sha256 = await sha256Of(path);
      bytes += e.size;
      files++;
    }
    if (t === 'l') e.link = await readlink(path);
    lines.push(JSON.stringify(e));
    if (t === 'd')
      for (const name of (await readdir(path)).sort()) await walk(relPath === '' ? name : `${relPath}/${name}`);
  };
  await walk('');
  await writeFile(out, lines.join('\n') + '\n');
  return { bytes, files };
}

export async function makeFixtureBackup(
  docker: Docker,
  o: FixtureOptions,
): Promise<{ dir: string; manifest: Manifest }> {
  const { dir } = o;
  const format = o.format ?? 'tree';
  const compression = o.compression ?? 'zstd';
  await mkdir(join(dir, 'volumes'), { recursive: true });
  const items: ManifestItem[] = [];
  const users = new Map<string, string[]>();
  for (const name of o.containers ?? []) {
    const inspect = (await docker.getContainer(name).inspect()) as Docker.ContainerInspectInfo;
    for (const m of inspect.Mounts ?? [])
      if (m.Type === 'volume' && m.Name) users.set(m.Name, [...(users.get(m.Name) ?? []), name]);
    const file = await writeJson(dir, rel.containerInspect(name), inspect);
    items.push({
      kind: 'container',
      name,
      id: inspect.Id,
      image: inspect.Config.Image,
      state: inspect.State.Status,
      files: [file],
    });
  }
  for (const name of o.networks ?? []) {
    const inspect = (await docker.getNetwork(name).inspect()) as { Id: string; Driver: string };
    items.push({
      kind: 'network',
      name,
      id: inspect.Id,
      driver: inspect.Driver,
      files: [await writeJson(dir, rel.network(name), inspect)],
    });
  }
  for (const name of o.volumes ?? []) {
    const v = (await docker.getVolume(name).inspect()) as {
      Driver: string;
      Labels: Record<string, string> | null;
      Options: Record<string, string> | null;
      Mountpoint: string;
    };
    const base = {
      kind: 'volume' as const,
      name,
      driver: v.Driver,
      labels: v.Labels ?? {},
      options: v.Options ?? {},
      usedBy: users.get(name) ?? [],
    };
    if (format === 'tree') {
      await execa('rsync', [
        '-aHAXS',
        '--numeric-ids',
        '--modify-window=-1',
        `${v.Mountpoint}/`,
        `${join(dir, rel.volumeTree(name))}/`,
      ]);
      const stats = await writeTreeIndex(join(dir, rel.volumeTree(name)), join(dir, rel.volumeIndex(name)));
      items.push({
        ...base,
        format,
        bytes: stats.bytes,
        fileCount: stats.files,
        files: [await fileEntry(dir, rel.volumeIndex(name))],
      });
    } else {
      const relPath = rel.volumeArchive(name, EXT[compression]);
      const args = [
        '-C',
        v.Mountpoint,
        '--numeric-owner',
        '--xattrs',
        '--xattrs-include=*',
        '--acls',
        '--sparse',
        '-cf',
      ];
      const compress = compression === 'zstd' ? ['--zstd'] : compression === 'gzip' ? ['--gzip'] : [];
      await execa('tar', [...compress, ...args, join(dir, relPath), '.']);
      const { stdout } = await execa('du', ['-sb', '--apparent-size', v.Mountpoint]);
      items.push({
        ...base,
        format,
        compression,
        bytes: Number(stdout.split('\t')[0]),
        fileCount: 0,
        files: [await fileEntry(dir, relPath)],
      });
    }
  }
  const now = new Date().toISOString();
  const id = dir.split('/').pop()!;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    host: o.host ?? 'test-host',
    created: now,
    finished: now,
    tool: { name: 'bbackup', version: 'fixture' },
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: compression, level: 3 },
    encrypted: false,
    items,
    errors: [],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest };
}
