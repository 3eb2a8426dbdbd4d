// bbackup.stop on a Compose project: its labelled containers go down together, in reverse
// dependency order (com.docker.compose.depends_on, src/docker/compose-order.ts), at the first volume
// copy that needs any of them, and come back in dependency order after the last one. When the run
// said which volumes it copies (expect), "the last one" is counted from that list, so a project
// whose volumes are copied one after another is stopped once; otherwise the group is released when
// no copy holds it. Whatever is still down at the end of the run is started by releaseAll.
// Calls are serialised by consistency.ts.
import type Docker from 'dockerode';
import { composeOrderOrFallback, PROJECT_LABEL } from '../docker/compose-order.js';
import { BbackupError, describeError } from '../errors.js';
import type { LogLevel } from '../events.js';
import { LABEL_STOP, parseBoolLabel } from './labels.js';
import type { StoppedJournal } from './stopped-journal.js';

export interface VolumeUsers {
  usedBy: readonly string[];
}

interface Group {
  /** stop-labelled containers of the project, in start order */
  members: string[];
  /** the members this run stopped, in the order they were stopped */
  stopped: string[];
  holders: number;
  released: number;
  /** acquisitions the planned volumes will make; undefined = not told */
  expected?: number;
}

export interface ProjectStops {
  acquire(project: string): Promise<void>;
  release(project: string): Promise<void>;
  releaseAll(): Promise<void>;
  stopped(): string[];
}

export function projectStops(o: {
  docker: Docker;
  log: (level: LogLevel, msg: string) => void;
  journal?: StoppedJournal;
  planned: () => readonly VolumeUsers[] | undefined;
}): ProjectStops {
  const groups = new Map<string, Group>();

  const start = async (project: string, g: Group): Promise<void> => {
    groups.delete(project);
    const errors: string[] = [];
    for (const name of g.members.filter((m) => g.stopped.includes(m))) {
      o.log('info', `container ${name} (project ${project}): starting again`);
      try {
        await o.docker.getContainer(name).start();
        await o.journal
          ?.remove(name)
          .catch((err) => o.log('warn', `cannot record that ${name} runs again: ${describeError(err)}`));
      } catch (err) {
        errors.push(`container ${name}: ${describeError(err)}`);
      }
    }
    if (errors.length)
      throw new BbackupError(
        'DOCKER_FAILED',
        `Compose project ${project}: could not start again after the backup: ${errors.join('; ')}`,
        { project },
      );
  };

  const acquire = async (project: string): Promise<void> => {
    const held = groups.get(project);
    if (held) {
      held.holders++;
      return;
    }
    const list = await o.docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project}`] } });
    const labelled = list
      .map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels, running: c.State === 'running' }))
      .filter((c) => parseBoolLabel(c.labels[LABEL_STOP], `container ${c.name}: label ${LABEL_STOP}`));
    const ordered = composeOrderOrFallback(labelled, (msg) => o.log('warn', `Compose project ${project}: ${msg}`));
    const members = ordered.map((c) => c.name);
    const planned = o.planned();
    const g: Group = {
      members,
      stopped: [],
      holders: 1,
      released: 0,
      expected: planned?.reduce((n, v) => n + v.usedBy.filter((u) => members.includes(u)).length, 0),
    };
    groups.set(project, g);
    o.log(
      'info',
      `Compose project ${project}: stopping ${members.join(', ')} together for the backup of their volumes (${LABEL_STOP}=true), in reverse dependency order`,
    );
    for (const c of [...ordered].reverse()) {
      if (!c.running) {
        o.log('info', `container ${c.name} (project ${project}) was not running: it stays stopped`);
        continue;
      }
      // Written before the stop: a run killed right after it must still be repairable.
      await o.journal
        ?.add(c.name)
        .catch((err) => o.log('warn', `cannot record that ${c.name} is stopped: ${describeError(err)}`));
      try {
        await o.docker.getContainer(c.name).stop();
      } catch (err) {
        await o.journal?.remove(c.name).catch(() => undefined);
        await start(project, g).catch((e) => o.log('error', describeError(e)));
        throw new BbackupError(
          'DOCKER_FAILED',
          `container ${c.name} (Compose project ${project}): could not stop it for the backup: ${describeError(err)}; the project's other containers were started again`,
          { container: c.name, project },
          { cause: err },
        );
      }
      g.stopped.push(c.name);
    }
  };

  const release = async (project: string): Promise<void> => {
    const g = groups.get(project);
    if (!g) return;
    g.holders--;
    g.released++;
    if (g.holders > 0 || (g.expected !== undefined && g.released < g.expected)) return;
    await start(project, g);
  };

  return {
    acquire,
    release,
    releaseAll: async () => {
      for (const [project, g] of [...groups])
        await start(project, g).catch((err) => o.log('error', describeError(err)));
    },
    stopped: () => [...groups.values()].flatMap((g) => g.stopped),
  };
}
