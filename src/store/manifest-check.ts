// A manifest read from somewhere bbackup does not control (a remote, a copied folder) is checked
// before anything trusts it: the shape of every field the engine reads, and every file it names
// sitting exactly where the layout puts that item's files (no "..", no absolute path, no file of
// one item posing as another's). Returns the manifest, or throws INTEGRITY naming what is wrong.
import { BbackupError } from '../errors.js';
import { checkFileFormat } from './format-version.js';
import { BACKUP_ID_RE, isSafeSegment, rel } from './layout.js';
import { MANIFEST_FORMAT, type DumpItem, type FileEntry, type Manifest, type ManifestItem } from './manifest.js';

const SHA256 = /^[0-9a-f]{64}$/;
const EXTS = ['', '.zst', '.gz'];
const DUMP_ENGINES: readonly DumpItem['engine'][] = ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'sqlite'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The paths a file of this item may have. */
function allowedPaths(item: ManifestItem): string[] {
  switch (item.kind) {
    case 'container':
      return [rel.containerInspect(item.name), rel.containerLogs(item.name)];
    case 'network':
      return [rel.network(item.name)];
    case 'metadata':
      return EXTS.map((e) => rel.metadata(e));
    case 'image':
      return EXTS.map((e) => rel.image(item.name, e));
    case 'project':
      // one flat folder of safe names: projects/<name>/<file>
      return item.files
        .map((f) => String(f.path))
        .filter(
          (p) =>
            p.startsWith(`${rel.project(item.name)}/`) && isSafeSegment(p.slice(rel.project(item.name).length + 1)),
        );
    case 'volume':
      return item.format === 'tree' ? [rel.volumeIndex(item.name)] : EXTS.map((e) => rel.volumeArchive(item.name, e));
    case 'dump':
      return [rel.dump(item.name, item.engine)];
  }
}

export function checkManifest(value: unknown, where: string, expect: { id?: string; host?: string } = {}): Manifest {
  const bad = (what: string): never => {
    throw new BbackupError('INTEGRITY', `${where}: the manifest is not valid: ${what}`, { where });
  };
  if (!isObject(value)) return bad('not a JSON object');
  const m = value as Partial<Manifest> & Record<string, unknown>;
  checkFileFormat(m, MANIFEST_FORMAT, `${where}: the manifest`);
  if (typeof m.id !== 'string' || !BACKUP_ID_RE.test(m.id)) bad(`id ${JSON.stringify(m.id)} is not a backup id`);
  if (typeof m.host !== 'string' || m.host === '') bad('no host');
  if (expect.id !== undefined && m.id !== expect.id) bad(`it belongs to backup ${m.id}, not ${expect.id}`);
  if (expect.host !== undefined && m.host !== expect.host) bad(`it belongs to host ${m.host}, not ${expect.host}`);
  if (m.status !== 'complete' && m.status !== 'partial') bad(`status ${JSON.stringify(m.status)}`);
  if (!Array.isArray(m.items)) return bad('no items');
  if (m.errors !== undefined && !Array.isArray(m.errors)) bad('errors is not a list');
  const seenItems = new Set<string>();
  const seenPaths = new Set<string>();
  for (const [i, item] of (m.items as unknown[]).entries()) {
    if (!isObject(item)) return bad(`item ${i} is not an object`);
    const it = item as Partial<ManifestItem> & Record<string, unknown>;
    if (!['container', 'network', 'volume', 'image', 'project', 'dump', 'metadata'].includes(String(it.kind)))
      bad(`item ${i} has kind ${JSON.stringify(it.kind)}`);
    if (typeof it.name !== 'string' || it.name === '') bad(`item ${i} has no name`);
    if (it.kind === 'volume' && it.format !== 'tree' && it.format !== 'archive')
      bad(`volume ${it.name} has format ${JSON.stringify(it.format)}`);
    if (it.kind === 'volume' && !isSize(it.bytes)) bad(`volume ${it.name} has no byte count`);
    // a dump's fields choose the loader and where files go inside the restored container
    if (it.kind === 'dump') {
      if (!DUMP_ENGINES.includes(it.engine as DumpItem['engine']))
        bad(`dump ${it.name} has engine ${JSON.stringify(it.engine)}`);
      if (!isSize(it.bytes) || typeof it.tool !== 'string' || typeof it.only !== 'boolean')
        bad(`dump ${it.name} has no byte count, tool or only flag`);
      if (
        typeof it.dataDir !== 'string' ||
        !it.dataDir.startsWith('/') ||
        (it.path !== undefined && (typeof it.path !== 'string' || !it.path.startsWith('/')))
      )
        bad(`dump ${it.name}: its data folder and file must be absolute paths`);
    }
    const key = `${it.kind} ${it.name}`;
    if (seenItems.has(key)) bad(`${key} is listed twice`);
    seenItems.add(key);
    if (!Array.isArray(it.files)) return bad(`${key} has no file list`);
    const allowed = allowedPaths(it as ManifestItem);
    for (const f of it.files as unknown[]) {
      if (!isObject(f)) return bad(`${key} lists a file that is not an object`);
      const e = f as Partial<FileEntry>;
      if (typeof e.path !== 'string' || !allowed.includes(e.path))
        bad(`${key} lists the file ${JSON.stringify(e.path)}, which is not where the layout keeps its files`);
      if (!isSize(e.size) || typeof e.sha256 !== 'string' || !SHA256.test(e.sha256))
        bad(`${e.path}: size or sha256 missing or malformed`);
      if (seenPaths.has(e.path!)) bad(`${e.path} is listed twice`);
      seenPaths.add(e.path!);
    }
  }
  return value as unknown as Manifest;
}
