// The restore dialog as data: rows from a manifest, and the request from the dialog's values.
import type { Manifest } from '../../src/store/manifest.js';
import type { RestoreRequest } from '../engine/types.js';
import type { FormRow, FormValues } from '../presenters/form.js';

/** One toggle and one "as" name per item; defaults restore everything under its own name. */
export function restoreRows(m: Manifest): FormRow[] {
  const rows: FormRow[] = [{ type: 'heading', text: `Backup ${m.id} of ${m.host}, ${m.status}, created ${m.created}` }];
  for (const kind of ['container', 'volume', 'network'] as const) {
    const items = m.items.filter((i) => i.kind === kind);
    if (!items.length) continue;
    rows.push({ type: 'heading', text: `${kind}s` });
    for (const i of items) {
      rows.push({ type: 'toggle', id: `${kind}:${i.name}`, label: `${kind} ${i.name}`, value: true });
      rows.push({
        type: 'text',
        id: `as:${kind}:${i.name}`,
        label: '    restore as',
        value: '',
        placeholder: `${i.name} (type a new name to rename)`,
      });
    }
  }
  rows.push(
    { type: 'heading', text: 'Options' },
    { type: 'toggle', id: 'force', label: 'force: replace what exists under the target names', value: false },
    { type: 'toggle', id: 'start', label: 'start containers that were running at backup time', value: true },
    ...(m.items.some((i) => i.kind === 'dump')
      ? [
          {
            type: 'toggle',
            id: 'dump',
            label: 'load database dumps into restored servers (off: volume files only)',
            value: true,
          } as FormRow,
        ]
      : []),
    { type: 'button', id: 'review', label: 'Review and restore' },
    { type: 'button', id: 'cancel', label: 'Cancel' },
  );
  return rows;
}

export function restoreRequest(m: Manifest, v: FormValues): RestoreRequest {
  const req: RestoreRequest = {
    id: m.id,
    containers: [],
    volumes: [],
    networks: [],
    renames: { container: {}, volume: {}, network: {} },
    force: v.force === true,
    start: v.start === true,
    dump: v.dump !== false,
  };
  for (const i of m.items) {
    if (
      i.kind === 'metadata' ||
      i.kind === 'image' ||
      i.kind === 'project' ||
      i.kind === 'dump' ||
      v[`${i.kind}:${i.name}`] !== true
    )
      continue;
    ({ container: req.containers, volume: req.volumes, network: req.networks })[i.kind].push(i.name);
    const as = String(v[`as:${i.kind}:${i.name}`] ?? '').trim();
    if (as && as !== i.name) req.renames[i.kind][i.name] = as;
  }
  return req;
}
