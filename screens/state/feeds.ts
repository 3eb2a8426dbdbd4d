// Live data into the state: Docker events refresh the inventory, chokidar watches the config
// (a bad edit is reported and the last good config stays) and the store (backups made elsewhere
// appear). Every feed only arms timers in answer to an event: nothing polls while idle.
import { readFileSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Inventory } from '../../src/docker/inventory.js';
import type { TuiEngine } from '../engine/types.js';

export interface FeedSinks {
  inventory(inv: Inventory): void;
  config(cfg: Config): void;
  backupsChanged(): void;
  error(msg: string): void;
  info(msg: string): void;
}

export interface Feeds {
  refreshInventory(sizes?: boolean): void;
  stop(): Promise<void>;
}

export function startFeeds(
  engine: TuiEngine,
  configPath: string | undefined,
  env: NodeJS.ProcessEnv,
  sink: FeedSinks,
): Feeds {
  let inflight = false;
  let again: boolean | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let lastSizes = new Map<string, number>();
  const load = async (sizes: boolean) => {
    if (inflight) {
      again = (again ?? false) || sizes;
      return;
    }
    inflight = true;
    try {
      const inv = await engine.readInventory({ sizes });
      if (sizes) lastSizes = new Map(inv.volumes.filter((v) => v.size !== undefined).map((v) => [v.name, v.size!]));
      else for (const v of inv.volumes) v.size ??= lastSizes.get(v.name);
      sink.inventory(inv);
    } catch (err) {
      sink.error(`inventory: ${(err as Error).message}`);
    } finally {
      inflight = false;
      if (again !== undefined) {
        const s = again;
        again = undefined;
        void load(s);
      }
    }
  };
  const refreshInventory = (sizes = false) => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void load(sizes), 150);
  };
  const stopDocker = engine.watchDocker(
    () => refreshInventory(false),
    (err) => sink.error(`Docker events: ${err.message} (reconnecting)`),
  );
  const watchers: FSWatcher[] = [];
  if (configPath) {
    const w = watch(configPath, {
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
    });
    w.on('all', (ev) => {
      if (ev !== 'add' && ev !== 'change') return;
      try {
        const cfg = parseConfigText(readFileSync(configPath, 'utf8'), configPath, env);
        sink.config(cfg);
        sink.info(`config reloaded from ${configPath}`);
      } catch (err) {
        sink.error(`config not reloaded, the last good one stays: ${(err as Error).message}`);
      }
    });
    w.on('error', (err) => sink.error(`config watch: ${(err as Error).message}`));
    watchers.push(w);
  }
  // The host folder may not exist yet: watch the store root two levels deep for backup folders.
  const storeWatcher = watch(engine.storeRoot, { ignoreInitial: true, depth: 2 });
  let storeDebounce: NodeJS.Timeout | undefined;
  storeWatcher.on('all', (_ev, path) => {
    if (!path.startsWith(engine.hostDir)) return;
    if (storeDebounce) clearTimeout(storeDebounce);
    storeDebounce = setTimeout(() => sink.backupsChanged(), 300);
  });
  storeWatcher.on('error', () => undefined);
  watchers.push(storeWatcher);
  void load(false).then(() => load(true));
  return {
    refreshInventory,
    async stop() {
      stopDocker();
      if (debounce) clearTimeout(debounce);
      if (storeDebounce) clearTimeout(storeDebounce);
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
