// The keys table of the README, generated from BINDINGS (so docs cannot drift: a unit test
// compares them; screens/gen-keys-doc.ts rewrites the README section).
import { BINDINGS, type Scope } from './keys.js';

export const README_BEGIN = '<!-- keys:begin (generated from screens/keys.ts by `npx tsx screens/gen-keys-doc.ts`) -->';
export const README_END = '<!-- keys:end -->';

const SCOPE_TITLES: Record<Scope, string> = {
  global: 'everywhere',
  list: 'in a list',
  dashboard: 'dashboard',
  backups: 'backups screen',
  remotes: 'remotes screen',
  log: 'log viewer',
  form: 'a form dialog (backup, restore, sets, hosts)',
  confirm: 'a yes/no question',
  allow: 'the privilege step of a restore',
  files: 'the question before restoring marked files',
  overlay: 'help, details, schedules',
  prompt: 'the / filter line',
};

export function keysMarkdown(): string {
  const rows = BINDINGS.map(
    (b) =>
      `| ${b.label
        .split(' ')
        .map((k) => `\`${k}\``)
        .join(' ')} | ${SCOPE_TITLES[b.scope]} | ${b.help} |`,
  );
  return ['| keys | where | what it does |', '|---|---|---|', ...rows].join('\n');
}
