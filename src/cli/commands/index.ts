// Every command module registers itself here; one line per module.
import type { Command } from 'commander';
import type { Action } from '../run.js';
import { register as registerInventory } from './inventory.js';
import { register as registerInitConfig } from './init-config.js';
import { register as registerTui } from './tui.js';
import { register as registerDaemon } from './daemon.js';
import { register as registerSchedule } from './schedule.js';
import { register as registerRestore } from './restore.js';
import { register as registerRemotes } from './remotes.js';
import { register as registerEncryption } from './encryption.js';
import { register as registerBackup } from './backup.js';
import { register as registerListBackups } from './list-backups.js';
import { register as registerVerify } from './verify.js';
import { register as registerDump } from './dump.js';

export const COMMAND_MODULES: ((program: Command, action: Action) => void)[] = [registerInventory, registerInitConfig, registerDaemon, registerSchedule, registerTui, registerRestore, registerBackup, registerRemotes, registerEncryption, registerListBackups, registerVerify, registerDump];
