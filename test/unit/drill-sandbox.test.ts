// The drill sandbox's rewriting of create options, and the preset messages: pure, table-driven.
import { describe, expect, it } from 'vitest';
import { makeSandbox, readOnlyBind, withDrillLabels } from '../../src/drill/sandbox.js';
import type { ContainerSpec } from '../../src/restore/container-spec.js';
import { buildReport } from '../../src/notify/report.js';
import { formatWebhook } from '../../src/notify/webhook-format.js';

const P = 'drill-20261202T060102-abcd-';
const spec = (hc: Record<string, unknown>, extra: Record<string, unknown> = {}): ContainerSpec => ({
  create: {
    name: `${P}web`,
    Image: 'x',
    Labels: { a: '1', 'com.docker.compose.project': 'shop' },
    ...extra,
    HostConfig: hc as ContainerSpec['create']['HostConfig'],
  },
  connect: [{ network: `${P}net2`, config: {} }],
  notes: [],
});

describe('drill sandbox', () => {
  it.each([
    {
      name: 'default bridge becomes none, ports and restart dropped',
      hc: {
        NetworkMode: 'bridge',
        PortBindings: { '80/tcp': [{ HostPort: '8080' }] },
        RestartPolicy: { Name: 'always' },
      },
      mode: 'none',
      connect: 0,
    },
    { name: 'host networking becomes none', hc: { NetworkMode: 'host' }, mode: 'none', connect: 0 },
    {
      name: 'a user network (renamed, made internal) stays',
      hc: { NetworkMode: `${P}net` },
      mode: `${P}net`,
      connect: 1,
    },
  ])('$name', ({ hc, mode, connect }) => {
    const s = spec(hc, { NetworkingConfig: { EndpointsConfig: {} } });
    makeSandbox('id1', P).container(s);
    expect(s.create.HostConfig.NetworkMode).toBe(mode);
    expect(s.connect).toHaveLength(connect);
    expect(s.create.HostConfig.PortBindings).toBeUndefined();
    expect(s.create.HostConfig.RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(s.create.Labels).toEqual({
      a: '1',
      'bbackup.drill': 'id1',
      'bbackup.drill.run': expect.stringContaining(`"pid":${process.pid}`),
    });
  });

  it('volumes the backup does not hold get an empty sandbox volume, never the live one; host paths read-only', () => {
    const sb = makeSandbox('id1', P);
    const s = spec({
      NetworkMode: 'none',
      Binds: [`${P}data:/data`, 'cache:/cache', '/srv/conf:/conf:rw,z'],
      Mounts: [
        { Type: 'volume', Source: 'other', Target: '/o' },
        { Type: 'bind', Source: '/etc/x', Target: '/x' },
      ],
    });
    sb.container(s);
    expect(s.create.HostConfig.Binds).toEqual([`${P}data:/data`, `${P}cache:/cache`, '/srv/conf:/conf:z,ro']);
    expect(s.create.HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: `${P}other`, Target: '/o' },
      { Type: 'bind', Source: '/etc/x', Target: '/x', ReadOnly: true },
    ]);
    expect([...sb.extraVolumes]).toEqual([`${P}cache`, `${P}other`]);
  });

  it('refuses to share a namespace or volumes with a container outside the drill', () => {
    expect(() => makeSandbox('id1', P).container(spec({ NetworkMode: 'container:db' }))).toThrow(
      /refers to container db, which is not part of the drill/,
    );
    expect(() => makeSandbox('id1', P).container(spec({ NetworkMode: 'none', VolumesFrom: ['data:ro'] }))).toThrow(
      /volumes-from refers to container data:ro/,
    );
    expect(() => makeSandbox('id1', P).container(spec({ NetworkMode: `container:${P}db` }))).not.toThrow();
  });

  it.each([
    ['/a:/b', '/a:/b:ro'],
    ['/a:/b:ro', '/a:/b:ro'],
    ['/a:/b:rw', '/a:/b:ro'],
    ['vol:/b', 'vol:/b'],
  ])('readOnlyBind(%s) = %s', (bind, out) => expect(readOnlyBind(bind)).toBe(out));

  it('networks become internal and labelled', () => {
    const create: Record<string, unknown> = {
      Name: `${P}n`,
      Internal: false,
      Labels: { 'com.docker.compose.network': 'x' },
    };
    makeSandbox('id1', P).network(create);
    expect(create).toMatchObject({ Internal: true, Labels: { 'bbackup.drill': 'id1' } });
    expect(withDrillLabels(null, 'id2')).toEqual({ 'bbackup.drill': 'id2', 'bbackup.drill.run': expect.any(String) });
  });
});

describe('webhook presets', () => {
  const failed = buildReport({
    event: 'drill.finished',
    host: 'prod',
    backupId: 'B1',
    status: 'failed',
    started: new Date(0),
    finished: new Date(1000),
    errors: [
      {
        item: 'volume pg',
        code: 'INTEGRITY',
        message: 'volume pg: base/1: content differs from the index (sha256)\nmore',
      },
    ],
    drill: { id: 'D1', rto_seconds: null, rpo_seconds: 3600 },
  });
  it.each([
    {
      format: 'slack' as const,
      check: (b: string) =>
        expect(JSON.parse(b).text).toMatch(
          /^\*FAILED: restore drill of B1 on prod\*\n• volume pg: volume pg: base\/1: content differs/,
        ),
    },
    {
      format: 'discord' as const,
      check: (b: string) => expect(JSON.parse(b).content).toContain('drill D1: did not recover, data 3600 s old'),
    },
    {
      format: 'gotify' as const,
      check: (b: string) =>
        expect(JSON.parse(b)).toMatchObject({ title: 'FAILED: restore drill of B1 on prod', priority: 8 }),
    },
    { format: 'ntfy' as const, check: (b: string) => expect(b).not.toContain('more') },
    {
      format: 'json' as const,
      check: (b: string) => expect(JSON.parse(b)).toMatchObject({ event: 'drill.finished', drill: { id: 'D1' } }),
    },
  ])('$format', ({ format, check }) => check(formatWebhook(format, failed).body));
  it('ntfy puts title and priority in headers', () => {
    expect(formatWebhook('ntfy', failed).headers).toMatchObject({
      title: 'FAILED: restore drill of B1 on prod',
      priority: 'high',
    });
  });
});
