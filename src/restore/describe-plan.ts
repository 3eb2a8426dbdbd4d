// A restore plan as text for people: what is created, replaced or reused, from which backup name,
// every note, every conflict and missing image. Pure; the CLI prints it, the TUI can show it.
import { privilegeLines, privilegesAccepted, type RestorePlan, type RestoreRequest } from './types.js';

const size = (n: number): string =>
  n >= 1 << 30
    ? `${(n / (1 << 30)).toFixed(1)} GB`
    : n >= 1 << 20
      ? `${(n / (1 << 20)).toFixed(1)} MB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KB`
        : `${n} B`;

export function describePlan(
  plan: RestorePlan,
  o: { dryRun: boolean; allowPrivileged?: RestoreRequest['allowPrivileged'] },
): string {
  const out: string[] = [
    `${o.dryRun ? 'Dry run: would restore' : 'Restoring'} from backup ${plan.backupId} (host ${plan.host}, ${plan.backupDir})`,
  ];
  const rows = plan.items.map((i) => [
    i.action,
    i.kind,
    i.target,
    i.target !== i.source ? `from ${i.source}` : '',
    i.kind === 'volume' && i.bytes ? `${i.detail}, ${size(i.bytes)}` : i.detail,
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    out.push(
      `  ${r
        .map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell))
        .join('  ')
        .trimEnd()}`,
    );
  const notes = plan.items.flatMap((i) => i.notes.map((n) => `  ${i.kind} ${i.target}: ${n}`));
  if (notes.length) out.push('Notes:', ...notes);
  if (plan.warnings.length) out.push('Warnings:', ...plan.warnings.map((w) => `  ${w}`));
  if (plan.projectFiles.length)
    out.push(
      'Compose files (--compose-dir):',
      ...plan.projectFiles.map((p) => `  project ${p.project}: ${p.files.length} files to ${p.dir}`),
    );
  if (plan.images.length)
    out.push(
      `Images loaded from the backup (${plan.images.length}):`,
      ...plan.images.map(
        (i) =>
          `  ${i.tags.join(', ') || '(untagged)'} ${i.id.slice(0, 19)}, ${size(i.bytes)}, for ${i.usedBy.join(', ')}`,
      ),
    );
  if (plan.missingImages.length)
    out.push(
      `Missing images (${plan.missingImages.length}, not in the backup: pull them first):`,
      ...plan.missingImages.map((p) => `  ${p.message}`),
    );
  if (plan.conflicts.length)
    out.push(`Conflicts (${plan.conflicts.length}):`, ...plan.conflicts.map((p) => `  ${p.message}`));
  const privileges = privilegeLines(plan);
  const accepted = privilegesAccepted(plan, o.allowPrivileged);
  if (privileges.length)
    out.push(
      `PRIVILEGES on this host (${privileges.length}, ${accepted ? 'allowed by --allow-privileged' : 'refused without --allow-privileged'}):`,
      ...privileges.map((p) => `  ! ${p}`),
    );
  const blocked = plan.conflicts.length + plan.missingImages.length > 0 || !accepted;
  if (o.dryRun)
    out.push(blocked ? 'This restore would be refused; nothing would be changed.' : 'Nothing was changed (dry run).');
  return out.join('\n');
}
