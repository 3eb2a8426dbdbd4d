// Which images a backup saves (config backup.images): none; local = those no registry can give
// back (no RepoDigests: built or imported on this host); all = every image a selected container
// uses. Pure; the facts come from the engine (readImageFacts), so --dry-run shows the same list.
import type Docker from 'dockerode';
import type { ContainerInfo } from '../docker/inventory.js';

export type ImagesMode = 'none' | 'local' | 'all';

export interface ImageFacts {
  tags: string[];
  repoDigests: string[];
  /** uncompressed bytes as the engine reports them */
  size: number;
}

export interface PlannedImage {
  /** sha256:<hex> */
  id: string;
  tags: string[];
  /** selected containers using it */
  usedBy: string[];
  /** engine's size, for the space check and progress; undefined when the engine no longer knows the image */
  bytes?: number;
}

/** `facts`: per image id, what the engine says; a missing entry = the engine could not inspect it (saved anyway, so its failure is reported). */
export function planImages(
  containers: Pick<ContainerInfo, 'name' | 'imageId'>[],
  mode: ImagesMode,
  facts: Map<string, ImageFacts>,
): { images: PlannedImage[]; notes: string[] } {
  if (mode === 'none') return { images: [], notes: [] };
  const users = new Map<string, string[]>();
  for (const c of containers) if (c.imageId) users.set(c.imageId, [...(users.get(c.imageId) ?? []), c.name]);
  const images: PlannedImage[] = [];
  const notes: string[] = [];
  for (const [id, usedBy] of [...users].sort(([a], [b]) => a.localeCompare(b))) {
    const f = facts.get(id);
    if (f && mode === 'local' && f.repoDigests.length > 0) {
      notes.push(
        `image ${f.tags[0] ?? id} is not saved: a registry holds it (${f.repoDigests[0]}); backup.images: all saves it too`,
      );
      continue;
    }
    images.push({ id, tags: f?.tags ?? [], usedBy, bytes: f?.size });
  }
  return { images, notes };
}

/** Inspect each image id; ids the engine no longer has are left out of the map. */
export async function readImageFacts(docker: Docker, ids: Iterable<string>): Promise<Map<string, ImageFacts>> {
  const out = new Map<string, ImageFacts>();
  for (const id of new Set(ids)) {
    try {
      const info = await docker.getImage(id).inspect();
      out.set(id, {
        tags: (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        repoDigests: (info.RepoDigests ?? []).filter((d) => !d.startsWith('<none>')),
        size: info.Size,
      });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  return out;
}
