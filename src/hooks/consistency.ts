// Consistency around a volume's copy, driven by container labels (labels.ts). One instance per
// backup run: it counts how many volume copies hold each container, so a container whose two
// volumes are copied at the same time is stopped once and started once, after the last copy.
// The release function never uses the job's signal: it must run after a failure or a cancel too.
import type Docker from 'dockerode';
import { BbackupError, describeError } from '../errors.js';
import type { Emit, LogLevel } from '../events.js';
import { execInContainer } from './docker-exec.js';
import { containerHooks, hasHooks, LABEL_STOP, type ContainerHooks } from './labels.js';
import { projectStops, type VolumeUsers } from './project-stop.js';
import type { StoppedJournal } from './stopped-journal.js';
import { PROJECT_LABEL } from '../docker/compose-order.js';

/** What the backup engine knows of a container that uses the volume. */
export interface VolumeUser {
  name: string;
  id?: string;
}

export interface ConsistencyOptions {
  docker: Docker;
  /** seconds per exec hook unless the container's bbackup.exec.timeout says otherwise */
  defaultTimeoutSec: number;
  emit?: Emit;
  jobId?: string;
  /** the job's signal: aborts a running pre-hook; never used to restart containers */
  signal?: AbortSignal;
  /** records stopped containers so that a run killed outright is repaired by the next one */
  journal?: StoppedJournal;
  /** the engine is on this machine: a timed-out exec hook's process can be killed */
  localEngine?: boolean;
}

export type Release = () => Promise<void>;

interface Held {
  hooks: ContainerHooks;
  holders: number;
  stoppedByUs: boolean;
  /** bbackup.stop on a Compose project's container: the project stops and starts as one (project-stop.ts) */
  project?: string;
}

export interface Consistency {
  /** run pre-hooks and stop labelled containers; the returned function undoes it (idempotent) */
  beforeVolume(volume: string, users: readonly VolumeUser[], signal?: AbortSignal): Promise<Release>;
  /** start every container this run stopped and still holds; a safety net for the end of a run */
  releaseAll(): Promise<void>;
  /** containers currently stopped by this run */
  stopped(): string[];
  /** the volumes this run will copy: a Compose project is then stopped once for all of them */
  expect(volumes: readonly VolumeUsers[]): void;
}

const RESTART_TIMEOUT_MS = 120_000;

export function createConsistency(opts: ConsistencyOptions): Consistency {
  const held = new Map<string, Held>();
  const pending = new Set<Release>();
  // One operation at a time: two volumes of one container must not both run its pre-hook.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const log = (level: LogLevel, msg: string) =>
    opts.emit?.({ type: 'log', jobId: opts.jobId, level, source: 'hooks', msg });
  const container = (name: string) => opts.docker.getContainer(name);
  let planned: readonly VolumeUsers[] | undefined;
  const projects = projectStops({ docker: opts.docker, log, journal: opts.journal, planned: () => planned });

  const runExec = async (
    name: string,
    phase: 'pre' | 'post',
    argv: string[],
    timeoutSec: number,
    signal?: AbortSignal,
  ) => {
    log('info', `container ${name}: exec ${phase}-hook ${JSON.stringify(argv)}`);
    let r;
    try {
      r = await execInContainer(opts.docker, name, argv, {
        timeoutMs: timeoutSec * 1000,
        signal,
        localEngine: opts.localEngine,
      });
    } catch (err) {
      if (signal?.aborted)
        throw new BbackupError(
          'CANCELLED',
          `container ${name}: ${phase}-hook cancelled`,
          { container: name },
          { cause: err },
        );
      throw new BbackupError(
        'TOOL_FAILED',
        `container ${name}: ${phase}-hook ${JSON.stringify(argv)} could not start: ${describeError(err)}`,
        { container: name },
        { cause: err },
      );
    }
    const output = r.output.trimEnd();
    const shown = output ? `\n${output.split('\n').slice(-20).join('\n')}` : ' (no output)';
    if (r.timedOut)
      throw new BbackupError(
        'TOOL_FAILED',
        `container ${name}: ${phase}-hook ${JSON.stringify(argv)} timed out after ${timeoutSec} s${shown}`,
        { container: name },
      );
    if (signal?.aborted) throw new BbackupError('CANCELLED', `container ${name}: ${phase}-hook cancelled`);
    if (r.exitCode !== 0)
      throw new BbackupError(
        'TOOL_FAILED',
        `container ${name}: ${phase}-hook ${JSON.stringify(argv)} exited ${r.exitCode ?? 'unknown'}${shown}`,
        { container: name, exitCode: r.exitCode },
      );
    if (output) log('debug', `container ${name}: ${phase}-hook output: ${output.split('\n').slice(-5).join(' | ')}`);
  };

  const acquire = async (user: VolumeUser, signal?: AbortSignal): Promise<string | undefined> => {
    const existing = held.get(user.name);
    if (existing) {
      existing.holders++;
      return user.name;
    }
    const info = await container(user.id ?? user.name).inspect();
    const hooks = containerHooks(user.name, info.Config.Labels);
    if (!hasHooks(hooks)) return undefined;
    const running = info.State.Running;
    const timeout = hooks.timeout ?? opts.defaultTimeoutSec;
    if (hooks.pre) {
      if (running) await runExec(user.name, 'pre', hooks.pre, timeout, signal ?? opts.signal);
      else
        log(
          'warn',
          `container ${user.name} is not running: its pre-hook is skipped (a stopped container's files are at rest)`,
        );
    }
    const entry: Held = { hooks, holders: 1, stoppedByUs: false };
    held.set(user.name, entry);
    const project = info.Config.Labels?.[PROJECT_LABEL];
    if (hooks.stop && project) {
      try {
        await projects.acquire(project);
      } catch (err) {
        held.delete(user.name);
        throw err;
      }
      entry.project = project;
    } else if (hooks.stop && running) {
      log('info', `container ${user.name}: stopping for the backup of its volumes (${LABEL_STOP}=true)`);
      // Written before the stop: a run killed right after it must still be repairable.
      await opts.journal
        ?.add(user.name)
        .catch((err) => log('warn', `cannot record that ${user.name} is stopped: ${describeError(err)}`));
      try {
        await container(user.name).stop();
      } catch (err) {
        held.delete(user.name);
        await opts.journal?.remove(user.name).catch(() => undefined);
        throw new BbackupError(
          'DOCKER_FAILED',
          `container ${user.name}: could not stop it for the backup: ${describeError(err)}`,
          { container: user.name },
          { cause: err },
        );
      }
      entry.stoppedByUs = true;
    } else if (hooks.stop) {
      log('info', `container ${user.name} was not running: it stays stopped`);
    }
    return user.name;
  };

  const releaseOne = async (name: string): Promise<void> => {
    const entry = held.get(name);
    if (!entry) return;
    entry.holders--;
    if (entry.holders > 0) return;
    held.delete(name);
    const timeout = entry.hooks.timeout ?? opts.defaultTimeoutSec;
    if (entry.project) await projects.release(entry.project);
    if (entry.stoppedByUs) {
      log('info', `container ${name}: starting again`);
      await container(name).start();
      await opts.journal
        ?.remove(name)
        .catch((err) => log('warn', `cannot record that ${name} runs again: ${describeError(err)}`));
    }
    if (entry.hooks.post) {
      const info = await container(name).inspect();
      if (info.State.Running)
        await runExec(
          name,
          'post',
          entry.hooks.post,
          timeout,
          AbortSignal.timeout(Math.max(RESTART_TIMEOUT_MS, timeout * 1000)),
        );
      else log('warn', `container ${name} is not running: its post-hook is skipped`);
    }
  };

  const releaseNames = async (names: string[]): Promise<void> => {
    const errors: unknown[] = [];
    for (const name of [...names].reverse()) {
      try {
        await releaseOne(name);
      } catch (err) {
        log('error', describeError(err));
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(describeError).join('; '));
  };

  return {
    beforeVolume: (_volume, users, signal) =>
      serial(async () => {
        const acquired: string[] = [];
        try {
          for (const user of [...users].sort((a, b) => a.name.localeCompare(b.name))) {
            (signal ?? opts.signal)?.throwIfAborted();
            const name = await acquire(user, signal);
            if (name) acquired.push(name);
          }
        } catch (err) {
          await releaseNames(acquired).catch(() => undefined);
          throw err;
        }
        let done = false;
        const release: Release = () =>
          serial(async () => {
            if (done) return;
            done = true;
            pending.delete(release);
            await releaseNames(acquired);
          });
        pending.add(release);
        return release;
      }),
    releaseAll: async () => {
      for (const release of [...pending]) await release().catch(() => undefined);
      await serial(() => projects.releaseAll());
    },
    stopped: () => [...[...held].filter(([, h]) => h.stoppedByUs).map(([n]) => n), ...projects.stopped()],
    expect: (volumes) => {
      planned = volumes;
    },
  };
}
