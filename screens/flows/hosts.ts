// The host switcher: a picker over the config's hosts:, then the TUI shows the chosen host's
// engine (containers, volumes, networks, events) and its store folder (<store>/<host>).
import { expandHome } from '../../src/config/locate.js';
import { connectDocker, resolveDockerTarget } from '../../src/docker/client.js';
import { FormModal } from '../dialogs/form.js';
import { hostInfo } from '../engine/host-info.js';
import { createEngine } from '../engine/real.js';
import type { FormRow } from '../presenters/form.js';
import type { Tui } from '../tui.js';

export function switchHostDialog(app: Tui): void {
  const hosts = Object.entries(app.state.config.hosts);
  if (hosts.length === 0)
    return app.notify('info', 'no hosts in the config (hosts:): the TUI shows the one Docker engine it started with');
  const current = app.state.host.name;
  const rows: FormRow[] = [
    { type: 'heading', text: 'Docker hosts from the config: Enter switches to the one under the cursor' },
    ...hosts.map(([name, h]): FormRow => ({
      type: 'button',
      id: name,
      label: `${name}${name === current ? ' (shown now)' : ''}  ${h.docker_host}`,
    })),
  ];
  const modal = new FormModal(
    'hosts',
    app.screen,
    'Switch host',
    rows,
    (name) => {
      app.closeModal(modal);
      if (name !== current) void switchHost(app, name);
    },
    () => app.closeModal(modal),
    app.theme,
    hosts.some(([n]) => n === current) ? current : undefined,
  );
  app.openModal(modal);
}

async function switchHost(app: Tui, name: string): Promise<void> {
  // A running job belongs to its engine; switching under it would hide it and its controls.
  if (app.handles.size > 0)
    return app.notify('warn', `not switching to ${name}: finish or cancel the running jobs first`);
  app.notify('info', `connecting to host ${name}`);
  try {
    const config = app.state.config;
    const connection = await connectDocker(resolveDockerTarget(config, name, app.env));
    const engine = createEngine({ config: () => app.state.config, connection });
    await app.switchEngine(engine, await hostInfo(engine, expandHome(config.backup.store)));
    app.notify('info', `host ${name}: Docker ${connection.serverVersion}, store ${engine.hostDir}`);
  } catch (err) {
    app.notify('error', `host ${name}: ${(err as Error).message} (still showing ${app.state.host.name})`);
  }
}
