// list-containers, list-volumes, list-networks, list-backup-sets
import type { Command } from 'commander';
import { failedWith, type Ending } from '../../errors.js';
import type { Outcome } from '../../events.js';
import { listContainers, listNetworks, listVolumes, readInventory, resolveBackupSets } from '../../docker/inventory.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../../format/units.js';
import { formatTable } from '../output.js';
import type { Action } from '../run.js';

export function register(program: Command, action: Action): void {
  program
    .command('list-containers')
    .description('containers on the Docker engine, with state, image, volumes and networks')
    .action(action(listContainersCommand));
  program
    .command('list-volumes')
    .description('named volumes with size and the containers that use them')
    .option('--no-size', 'skip computing sizes (faster on big engines)')
    .action(action(listVolumesCommand));
  program
    .command('list-networks')
    .description('networks with driver, subnet and attached containers')
    .action(action(listNetworksCommand));
  program
    .command('list-backup-sets')
    .description('backup sets from the config, each member checked against the engine')
    .action(action(listBackupSetsCommand));
}

async function listContainersCommand(ctx: CliContext): Promise<Outcome> {
  const containers = await ctx.timed('list containers', (docker) => listContainers(docker));
  if (ctx.opts.json) ctx.printJson({ containers });
  else
    ctx.print(
      formatTable(containers, [
        { header: 'NAME', value: (c) => c.name },
        { header: 'STATE', value: (c) => c.state },
        { header: 'IMAGE', value: (c) => c.image },
        {
          header: 'VOLUMES',
          value: (c) =>
            c.mounts
              .filter((m) => m.type === 'volume')
              .map((m) => m.source)
              .join(',') || '-',
        },
        { header: 'NETWORKS', value: (c) => c.networks.join(',') || '-' },
        { header: 'ID', value: (c) => c.id.slice(0, 12) },
      ]),
    );
  return 'ok';
}

async function listVolumesCommand(ctx: CliContext, opts: { size: boolean }): Promise<Outcome> {
  const volumes = await ctx.timed('list volumes', (docker) => listVolumes(docker, undefined, { sizes: opts.size }));
  if (ctx.opts.json) ctx.printJson({ volumes });
  else
    ctx.print(
      formatTable(volumes, [
        { header: 'NAME', value: (v) => v.name },
        { header: 'DRIVER', value: (v) => v.driver },
        { header: 'SIZE', value: (v) => formatBytes(v.size), align: 'right' },
        { header: 'USED BY', value: (v) => v.usedBy.join(',') || '-' },
        { header: 'MOUNTPOINT', value: (v) => v.mountpoint },
      ]),
    );
  return 'ok';
}

async function listNetworksCommand(ctx: CliContext): Promise<Outcome> {
  const networks = await ctx.timed('list networks', (docker) => listNetworks(docker));
  if (ctx.opts.json) ctx.printJson({ networks });
  else
    ctx.print(
      formatTable(networks, [
        { header: 'NAME', value: (n) => n.name },
        { header: 'DRIVER', value: (n) => n.driver },
        { header: 'SUBNET', value: (n) => n.subnets.join(',') || '-' },
        { header: 'INTERNAL', value: (n) => (n.internal ? 'yes' : 'no') },
        { header: 'CONTAINERS', value: (n) => n.containers.join(',') || '-' },
      ]),
    );
  return 'ok';
}

async function listBackupSetsCommand(ctx: CliContext): Promise<Outcome | Ending> {
  const config = ctx.config;
  if (Object.keys(config.backup.backup_sets).length === 0) {
    if (ctx.opts.json) ctx.printJson({ backup_sets: [] });
    else ctx.print('no backup sets configured (backup.backup_sets in the config)');
    return 'ok';
  }
  const inventory = await ctx.timed('read inventory', (docker) => readInventory(docker, { sizes: false }));
  const sets = resolveBackupSets(config, inventory);
  const missing = sets.flatMap((s) =>
    s.members.filter((m) => m.missing).map((m) => `backup set ${s.name}: ${m.kind} ${m.name} does not exist`),
  );
  for (const line of missing) ctx.logger.warn(line);
  if (ctx.opts.json) ctx.printJson({ backup_sets: sets });
  else
    ctx.print(
      formatTable(sets, [
        { header: 'SET', value: (s) => s.name },
        {
          header: 'MEMBERS',
          value: (s) => s.members.map((m) => `${m.kind}:${m.name}${m.missing ? '(missing)' : ''}`).join(' '),
        },
        { header: 'DESCRIPTION', value: (s) => s.description ?? '' },
      ]),
    );
  // Missing members are a user error in the config: say so in the exit code too.
  return missing.length > 0 ? failedWith('NOT_FOUND') : 'ok';
}
