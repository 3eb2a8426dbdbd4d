// Every command module registers itself here; one line per module.
import type { Command } from 'commander';
import type { Action } from '../run.js';
import { register as registerInventory } from './inventory.js';
import { register as registerInitConfig } from './init-config.js';

export const COMMAND_MODULES: ((program: Command, action: Action) => void)[] = [registerInventory, registerInitConfig];
