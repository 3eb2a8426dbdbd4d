// Is the restored application up? Per sandbox container: wait for its healthcheck to say healthy
// (or, without one, for it to stay running `upSeconds`), then run its probe label, if any, with
// `docker exec`. The answer is a verdict with the evidence a person needs to see why it failed.
import type Docker from 'dockerode';
import { describeError } from '../errors.js';
import { execInContainer } from '../hooks/docker-exec.js';
import { parseCommandLabel } from '../hooks/labels.js';
import { PROBE_LABEL } from './sandbox.js';

export interface ReadinessOptions {
  /** seconds a container without a healthcheck must stay running */
  upSeconds: number;
  /** seconds to wait for healthy (and for the probe to finish) */
  timeoutSeconds: number;
  localEngine: boolean;
  signal: AbortSignal;
  /** poll interval, ms (tests keep the default) */
  pollMs?: number;
}

export interface Readiness {
  ok: boolean;
  /** healthy: its healthcheck passed; up: ran upSeconds without a healthcheck */
  how: 'healthy' | 'up' | 'unhealthy' | 'exited' | 'timeout' | 'probe failed' | 'error';
  detail: string;
  probe?: { argv: string[]; exitCode: number | null; output: string };
}

interface StateInfo {
  Running: boolean;
  ExitCode: number;
  StartedAt: string;
  Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] };
}

const tail = (text: string, n = 400): string => (text.length > n ? `…${text.slice(-n)}` : text).trim();

export async function waitReady(docker: Docker, name: string, o: ReadinessOptions): Promise<Readiness> {
  try {
    const up = await waitUp(docker, name, o);
    if (!up.ok) return up;
    const labels = ((await docker.getContainer(name).inspect()).Config.Labels ?? {}) as Record<string, string>;
    const label = labels[PROBE_LABEL];
    if (label === undefined) return up;
    const argv = parseCommandLabel(label, `label ${PROBE_LABEL} of ${name}`);
    const r = await execInContainer(docker, name, argv, {
      timeoutMs: o.timeoutSeconds * 1000,
      signal: o.signal,
      localEngine: o.localEngine,
    });
    const probe = { argv, exitCode: r.exitCode, output: tail(r.output) };
    if (r.exitCode === 0) return { ...up, detail: `${up.detail}; probe ${JSON.stringify(argv)} passed`, probe };
    const why = r.timedOut ? `did not finish within ${o.timeoutSeconds} s` : `exited ${r.exitCode ?? '?'}`;
    return {
      ok: false,
      how: 'probe failed',
      detail: `probe ${JSON.stringify(argv)} ${why}${probe.output ? `: ${probe.output}` : ''}`,
      probe,
    };
  } catch (err) {
    if (o.signal.aborted) throw err;
    return { ok: false, how: 'error', detail: describeError(err) };
  }
}

async function waitUp(docker: Docker, name: string, o: ReadinessOptions): Promise<Readiness> {
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  const pollMs = o.pollMs ?? 500;
  for (;;) {
    o.signal.throwIfAborted();
    const state = (await docker.getContainer(name).inspect()).State as unknown as StateInfo;
    const health = state.Health?.Status;
    if (!state.Running)
      return { ok: false, how: 'exited', detail: `exited with code ${state.ExitCode}${await lastLogs(docker, name)}` };
    if (health === 'healthy') return { ok: true, how: 'healthy', detail: 'healthcheck passed' };
    if (health === 'unhealthy') {
      const last = state.Health?.Log?.at(-1);
      return {
        ok: false,
        how: 'unhealthy',
        detail: `healthcheck failed${last ? ` (exit ${last.ExitCode}): ${tail(last.Output)}` : ''}`,
      };
    }
    if (health === undefined || health === 'none') {
      const upFor = (Date.now() - Date.parse(state.StartedAt)) / 1000;
      if (upFor >= o.upSeconds) return { ok: true, how: 'up', detail: `running for ${o.upSeconds} s (no healthcheck)` };
    }
    if (Date.now() >= deadline) {
      return {
        ok: false,
        how: 'timeout',
        detail: health
          ? `still ${health} after ${o.timeoutSeconds} s`
          : `not up for ${o.upSeconds} s within ${o.timeoutSeconds} s`,
      };
    }
    await sleep(pollMs, o.signal);
  }
}

async function lastLogs(docker: Docker, name: string): Promise<string> {
  try {
    const buf = await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: 5 });
    const text = demux(buf).trim();
    return text ? `; last output: ${tail(text)}` : '';
  } catch {
    return '';
  }
}

function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return out.length ? Buffer.concat(out).toString('utf8') : buf.toString('utf8');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
