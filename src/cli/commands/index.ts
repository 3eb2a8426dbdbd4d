// Every command module, with the command names it registers; one entry per module. A run loads
// only the module of the command it was given (start-up: README "Speed"); --help, no match and
// anything unclear load them all, so commander sees every command exactly as before.
import type { Command } from 'commander';
import type { Action } from '../run.js';

type Register = (program: Command, action: Action) => void;
interface CommandModule {
  names: string[];
  load: () => Promise<{ register: Register }>;
}

export const COMMAND_MODULES: CommandModule[] = [
  {
    names: ['list-containers', 'list-volumes', 'list-networks', 'list-backup-sets'],
    load: () => import('./inventory.js'),
  },
  { names: ['init-config'], load: () => import('./init-config.js') },
  { names: ['daemon', 'notify-test'], load: () => import('./daemon.js') },
  { names: ['schedule'], load: () => import('./schedule.js') },
  { names: ['tui'], load: () => import('./tui.js') },
  { names: ['restore'], load: () => import('./restore.js') },
  { names: ['diff'], load: () => import('./diff.js') },
  { names: ['status'], load: () => import('./status.js') },
  { names: ['backup'], load: () => import('./backup.js') },
  { names: ['list-remote-backups', 'pull', 'rotate', 'remote-stats'], load: () => import('./remotes.js') },
  { names: ['init-encryption'], load: () => import('./encryption.js') },
  { names: ['list-backups'], load: () => import('./list-backups.js') },
  { names: ['verify'], load: () => import('./verify.js') },
  { names: ['drill'], load: () => import('./drill.js') },
  { names: ['metrics'], load: () => import('./metrics.js') },
  { names: ['dump'], load: () => import('./dump.js') },
  { names: ['migrate'], load: () => import('./migrate.js') },
];

/** Program options (main.ts) whose next word is their value, not a command. */
const VALUE_OPTIONS = new Set(['-c', '--config', '--host']);

/** The command word of argv ('tui' when there is none), or undefined when help is asked for before it. */
export function commandWord(argv: string[]): string | undefined {
  let skip = false;
  for (const a of argv) {
    if (skip) skip = false;
    else if (a === '-h' || a === '--help' || a === '--') return undefined;
    else if (VALUE_OPTIONS.has(a)) skip = true;
    else if (!a.startsWith('-')) return a;
  }
  return 'tui';
}

/** The register functions argv needs: its command's module, or every module. */
export async function registrarsFor(argv: string[]): Promise<Register[]> {
  const word = commandWord(argv);
  const own = COMMAND_MODULES.find((m) => word !== undefined && m.names.includes(word));
  const modules = await Promise.all((own ? [own] : COMMAND_MODULES).map((m) => m.load()));
  return modules.map((m) => m.register);
}
