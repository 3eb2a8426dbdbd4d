// What `backup` prints at the end: a --dry-run plan table, the one --json summary document, and
// the closing text lines.
import type { BackupPlan, BackupValue } from '../../backup/types.js';
import type { JobResult } from '../../jobs/types.js';
import { describeDump } from '../../dump/plan-dumps.js';
import { formatBytes, formatDuration } from '../../format/units.js';
import { formatTable } from '../output.js';

interface PlanRow {
  kind: string;
  name: string;
  how: string;
  size?: number;
  parent: string;
}

export function planRows(plan: BackupPlan): PlanRow[] {
  return [
    ...plan.containers.map((c) => ({
      kind: 'container',
      name: c.name,
      how: `inspect + logs (${c.state})`,
      parent: '-',
    })),
    ...plan.networks.map((n) => ({ kind: 'network', name: n.name, how: `inspect (${n.driver})`, parent: '-' })),
    ...plan.images.map((i) => ({
      kind: 'image',
      name: i.tags[0] ?? i.id.slice(0, 19),
      how: `engine export (used by ${i.usedBy.join(', ')})`,
      size: i.bytes,
      parent: '-',
    })),
    ...plan.volumes.map((v) => ({
      kind: 'volume',
      name: v.name,
      how: `${v.format} via ${v.mode}`,
      size: v.estimatedBytes,
      parent: v.parent ?? (v.format === 'tree' ? 'none (full copy)' : '-'),
    })),
    ...(plan.dumps ?? []).map((d) => ({ kind: 'dump', name: d.container, how: describeDump(d), parent: '-' })),
  ];
}

export function formatPlan(plan: BackupPlan): string {
  const head = `plan: backup of ${plan.host} into ${plan.hostDir}  (compression ${plan.compression.method}${plan.compression.method === 'none' ? '' : ` -${plan.compression.level}`}${plan.full ? ', full copy' : ''})`;
  const table = formatTable(planRows(plan), [
    { header: 'KIND', value: (r) => r.kind },
    { header: 'NAME', value: (r) => r.name },
    { header: 'HOW', value: (r) => r.how },
    { header: 'SIZE', value: (r) => (r.size === undefined ? '-' : formatBytes(r.size)), align: 'right' },
    { header: 'PARENT', value: (r) => r.parent },
  ]);
  const warnings = [...plan.imageNotes.map((n) => `note: ${n}`), ...plan.warnings.map((w) => `warning: ${w}`)];
  return [
    head,
    table,
    `estimated volume data: ${formatBytes(plan.estimatedBytes)}`,
    `retention group: ${plan.group}`,
    ...warnings,
  ].join('\n');
}

export function summaryDocument(result: JobResult<BackupValue>, seconds: number): Record<string, unknown> {
  const v = result.value;
  if (v?.dryRun) return { dryRun: true, outcome: result.outcome, plan: v.plan };
  return {
    outcome: result.outcome,
    id: v?.id,
    dir: v?.dir,
    host: v?.manifest.host,
    status: v?.manifest.status,
    group: v?.manifest.group,
    parent: v?.manifest.parent,
    seconds: Math.round(seconds * 10) / 10,
    items:
      v?.manifest.items.map((i) => ({
        kind: i.kind,
        name: i.name,
        ...(i.kind === 'volume' ? { bytes: i.bytes, files: i.fileCount, format: i.format, parent: i.parent } : {}),
        ...(i.kind === 'image' ? { tags: i.tags, bytes: i.bytes, linkedFrom: i.linkedFrom } : {}),
        ...(i.kind === 'dump' ? { engine: i.engine, tool: i.tool, bytes: i.bytes, file: i.files[0]?.path } : {}),
      })) ?? [],
    errors: result.errors,
    uploads: v?.post?.uploads,
  };
}

export function formatSummary(result: JobResult<BackupValue>, seconds: number): string {
  const v = result.value;
  const lines: string[] = [];
  if (v && !v.dryRun) {
    const volumeBytes = v.manifest.items.reduce((s, i) => s + (i.kind === 'volume' ? i.bytes : 0), 0);
    lines.push(
      `backup ${v.id} ${v.manifest.status}: ${v.manifest.items.length - 1} items, ${formatBytes(volumeBytes)} of volume data in ${formatDuration(seconds)}`,
      `  ${v.dir}`,
    );
  }
  if (result.outcome === 'cancelled') lines.push('backup cancelled: nothing was kept from this run');
  else if (result.outcome === 'failed') lines.push(`backup failed: ${result.errors.map((e) => e.message).join('; ')}`);
  else if (result.outcome === 'partial')
    lines.push(
      `finished with ${result.errors.length} problem(s):`,
      ...result.errors.map((e) => `  ${e.item}: ${e.message}`),
    );
  return lines.join('\n');
}
