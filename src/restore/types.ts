// The restore vocabulary: what the user asks for, and the plan computed from it before anything on
// the engine is touched. Plain data, so the CLI, --json and the TUI can all show the same plan.
import type { Manifest } from '../store/manifest.js';
import type { PlanProjectFiles } from './project-files.js';
import type { ContainerSpec } from './container-spec.js';
import type { PlannedLoad } from '../dump/types.js';

export type RestoreKind = 'container' | 'volume' | 'network';

/** old name -> new name, per kind (a plain `-r old:new` fills every kind holding `old`) */
export interface Renames {
  container: Record<string, string>;
  volume: Record<string, string>;
  network: Record<string, string>;
}

export type VolumeMode = 'auto' | 'host' | 'worker' | 'stream';

export interface RestoreRequest {
  /** the backup folder (holds manifest.json) */
  backupDir: string;
  /** names as stored in the backup */
  containers: string[];
  volumes: string[];
  networks: string[];
  /** everything the backup holds */
  all: boolean;
  renames: Renames;
  /** replace existing objects that were named (never the ones only pulled in as dependencies) */
  force: boolean;
  /** start containers that were running at backup time */
  start: boolean;
  /** check sizes and sha256 of what is restored against the manifest first */
  verify: boolean;
  /** Compose projects: their containers, volumes and networks (src/restore/project-rename.ts) */
  projects?: string[];
  /** Compose project old -> new name: every object of the project gets a new name, the labels follow */
  projectRenames?: Record<string, string>;
  /** write the Compose projects' files (compose files, .env) to DIR/<project>/ */
  composeDir?: string;
  /** load containers' database dumps (default true; false = --no-dump: files only) */
  dump?: boolean;
  /** seconds to wait for a restored database server to accept connections (default 300) */
  dumpWait?: number;
  /**
   * Privileges the operator accepted (src/restore/privileges.ts): true = whatever the plan lists
   * (--allow-privileged); a list = exactly these plan lines (what the TUI showed and was confirmed);
   * false or absent = none, so a plan that needs any is refused.
   */
  allowPrivileged?: boolean | readonly string[];
}

/**
 * What happens to one object:
 * - create: the target name is free; it is created from the backup
 * - replace: the target exists and was named, --force given: it is removed, then created
 * - reuse: a dependency (volume/network of a selected container) already exists and is used as it is
 * - conflict: the target exists and no --force: nothing at all is done
 */
export type PlanAction = 'create' | 'replace' | 'reuse' | 'conflict';

export interface PlanItem {
  kind: RestoreKind;
  /** name in the backup */
  source: string;
  /** name on the engine after the restore */
  target: string;
  action: PlanAction;
  /** named by the user (or --all), or pulled in because a selected container uses it */
  why: 'selected' | 'dependency';
  /** human notes: dropped static IP, subnet not fixed, image id used instead of a tag, ... */
  notes: string[];
  /** one line for people: format and size, image and start, subnet */
  detail: string;
  /** bytes of volume data to write (0 for the rest) */
  bytes: number;
  /** what creating it grants on the host (privileged mode, host paths, capabilities, ...); [] for none */
  privileges: string[];
  container?: { image: string; imageRef: string; start: boolean };
  /** container: its database dump is loaded (src/dump/restore-plan.ts) */
  dump?: PlannedLoad;
  /** volume: created empty, the dump of this (target) container fills it */
  dumpFills?: string;
  network?: { fixedSubnet: boolean; dropStaticIp?: string };
}

export interface PlanProblem {
  kind: RestoreKind | 'image' | 'backup';
  name: string;
  message: string;
}

export interface PlanImage {
  /** sha256:<hex>, as in the manifest */
  id: string;
  tags: string[];
  /** target names of the containers that need it */
  usedBy: string[];
  /** compressed bytes to read */
  bytes: number;
}

export interface RestorePlan {
  backupDir: string;
  backupId: string;
  host: string;
  manifest: Manifest;
  renames: Renames;
  /** --project-rename: Compose project old -> new (the object renames are in `renames`) */
  projectRenames?: Record<string, string>;
  /** in execution order: networks, volumes, containers */
  items: PlanItem[];
  /** objects in the way (without --force), or in the way in a way --force cannot fix */
  conflicts: PlanProblem[];
  /** --compose-dir: the projects' files and where they go */
  projectFiles: PlanProjectFiles[];
  /** images the engine lacks that this backup holds: loaded before the containers are created */
  images: PlanImage[];
  /** images the containers need that neither the engine nor the backup has: they must be pulled first */
  missingImages: PlanProblem[];
  /** warnings that do not stop the restore */
  warnings: string[];
}

/** One line per privilege, "container web: capability NET_ADMIN": what the operator must accept. */
export const privilegeLines = (plan: Pick<RestorePlan, 'items'>): string[] =>
  plan.items.flatMap((i) => i.privileges.map((p) => `${i.kind} ${i.target}: ${p}`));

/** Whether every privilege the plan needs was accepted. */
export function privilegesAccepted(
  plan: Pick<RestorePlan, 'items'>,
  allow: RestoreRequest['allowPrivileged'],
): boolean {
  if (allow === true) return true;
  const accepted: readonly string[] = typeof allow === 'object' ? allow : [];
  return privilegeLines(plan).every((l) => accepted.includes(l));
}

export const itemKey = (kind: RestoreKind, name: string): string => `${kind}:${name}`;

/**
 * How a drill isolates what it restores (src/drill/sandbox.ts): each hook rewrites, in place, the
 * create options of an object just before the engine is asked to make it.
 */
export interface Sandbox {
  container(spec: ContainerSpec): void;
  network(create: Record<string, unknown>): void;
  /** the labels a restored volume gets */
  labels(saved: Record<string, string>): Record<string, string>;
}
