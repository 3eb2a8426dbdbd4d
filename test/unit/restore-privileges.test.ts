// The privilege detector: which saved definitions need --allow-privileged, as tables of inspect
// fragments; and the plan, its text and its refusal built from them.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/restore/plan-build.js';
import { describePlan } from '../../src/restore/describe-plan.js';
import type { ContainerInspect, HostConfig, NetworkInspect } from '../../src/restore/inspect-types.js';
import { containerPrivileges, networkPrivileges, volumePrivileges } from '../../src/restore/privileges.js';
import { checkRenames, emptyRenames } from '../../src/restore/renames.js';
import { assertRunnable } from '../../src/restore/restore-job.js';
import { privilegeLines, privilegesAccepted } from '../../src/restore/types.js';
import type { Manifest } from '../../src/store/manifest.js';

const ctx = {
  restored: new Set(['app', 'sidecar']),
  idToName: new Map([
    ['a'.repeat(64), 'app'],
    ['s'.repeat(64), 'sidecar'],
  ]),
};
const container = (hc: Record<string, unknown>): ContainerInspect => ({
  Id: 'a'.repeat(64),
  Name: '/app',
  Image: 'sha256:1',
  Config: { Image: 'busybox' },
  HostConfig: hc as HostConfig,
});
const detect = (hc: Record<string, unknown>) => containerPrivileges(container(hc), ctx);

describe('containers', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an ordinary container',
      {
        NetworkMode: 'none',
        Binds: ['data:/data', 'logs:/logs:ro'],
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Privileged: false,
      },
      [],
    ],
    ['default capabilities added back', { CapAdd: ['CHOWN', 'cap_net_raw', 'KILL'] }, []],
    ["the daemon's default path masks", { MaskedPaths: ['/proc/kcore'], ReadonlyPaths: ['/proc/sys'] }, []],
    ['apparmor docker-default, seccomp builtin', { SecurityOpt: ['apparmor=docker-default', 'seccomp=builtin'] }, []],
    [
      'sharing a namespace with a container restored too',
      { NetworkMode: `container:${'s'.repeat(64)}`, PidMode: 'container:sidecar', VolumesFrom: ['sidecar:ro'] },
      [],
    ],
    [
      'tmpfs and named-volume mounts',
      {
        Mounts: [
          { Type: 'tmpfs', Target: '/tmp' },
          { Type: 'volume', Source: 'data', Target: '/data' },
        ],
      },
      [],
    ],
    ['privileged mode', { Privileged: true }, ['privileged mode (every capability and every host device)']],
    [
      'privileged in another letter case (the engine reads it)',
      { privileged: true },
      ['privileged mode (every capability and every host device)'],
    ],
    [
      'added capabilities',
      { CapAdd: ['NET_ADMIN', 'CAP_SYS_ADMIN', 'CHOWN'] },
      ['capability NET_ADMIN', 'capability SYS_ADMIN'],
    ],
    ['a capability as a plain string', { capadd: 'sys_ptrace' }, ['capability SYS_PTRACE']],
    ['ALL capabilities', { CapAdd: ['ALL'] }, ['capability ALL (every capability)']],
    [
      'devices',
      {
        Devices: [
          { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
          { PathOnHost: '/dev/sda', PathInContainer: '/dev/disk' },
        ],
      },
      ['host device /dev/fuse', 'host device /dev/sda as /dev/disk'],
    ],
    [
      'GPU requests',
      { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] },
      ['device request {"Driver":"nvidia","Count":-1,"Capabilities":[["gpu"]]}'],
    ],
    ['device cgroup rules', { DeviceCgroupRules: ['c 10:200 rwm'] }, ['device cgroup rule c 10:200 rwm']],
    ['a host bind', { Binds: ['/srv/app:/app:ro', 'data:/data'] }, ['host path /srv/app mounted at /app (read-only)']],
    [
      'the Docker socket',
      { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
      [
        'host path /var/run/docker.sock mounted at /var/run/docker.sock — the Docker socket: full control of the engine and the host',
      ],
    ],
    [
      'the host root',
      { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] },
      ["host path / mounted at /host — the host's whole filesystem"],
    ],
    [
      'a bind mount spelled in lower case',
      { mounts: [{ type: 'BIND', source: '/etc', target: '/e', readonly: true }] },
      ['host path /etc mounted at /e (read-only)'],
    ],
    [
      'a volume mount whose driver options bind a host path',
      {
        Mounts: [
          {
            Type: 'volume',
            Source: 'v',
            Target: '/v',
            VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/root' } } },
          },
        ],
      },
      ['mount of volume v at /v: local driver binds host path /root (type=none, o=bind, device=/root)'],
    ],
    [
      'host namespaces',
      { NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host', UsernsMode: 'host' },
      [
        'host network namespace',
        'host PID namespace (sees and signals every host process)',
        'host IPC namespace',
        'host UTS namespace',
        'host user namespace (no user-namespace remapping)',
      ],
    ],
    ['the host cgroup namespace (the daemon default on cgroup v1)', { CgroupnsMode: 'host' }, []],
    [
      'the cgroup namespace of a container outside the restore',
      { CgroupnsMode: 'container:other' },
      ['cgroup namespace of container other, which this restore does not create'],
    ],
    [
      'a namespace of a container outside the restore',
      { NetworkMode: 'container:prod-db', IpcMode: `container:${'f'.repeat(64)}` },
      [
        'network namespace of container prod-db, which this restore does not create',
        `IPC namespace of container ${'f'.repeat(64)}, which this restore does not create`,
      ],
    ],
    [
      'volumes of a container outside the restore',
      { VolumesFrom: ['agent:ro'] },
      ['volumes of container agent, which this restore does not create'],
    ],
    [
      'security options switched off',
      { SecurityOpt: ['seccomp=unconfined', 'apparmor:unconfined', 'label=disable', 'systempaths=unconfined'] },
      [
        'seccomp=unconfined (no system call filter)',
        'apparmor=unconfined',
        'label=disable (SELinux separation off)',
        'systempaths=unconfined (/proc and /sys not masked)',
      ],
    ],
    [
      'a custom seccomp profile, an unknown option',
      { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'label=type:spc_t', 'whatever=1'] },
      ["seccomp=<custom profile> (not Docker's default filter)", 'label=type:spc_t', 'security option whatever=1'],
    ],
    [
      'explicitly empty masked paths',
      { MaskedPaths: [], ReadonlyPaths: [] },
      ['systempaths=unconfined (/proc and /sys not masked)'],
    ],
    [
      'terminal escapes in a path are not printed',
      { Binds: ['/tmp/\u001b[2J:/x'] },
      ['host path /tmp/?[2J mounted at /x'],
    ],
  ])('%s', (_name, hc, expected) => {
    expect(detect(hc)).toEqual(expected);
  });
});

describe('volumes', () => {
  it.each<[string, unknown, unknown, string[]]>([
    ['local, no options', 'local', {}, []],
    ['no driver recorded', '', null, []],
    ['tmpfs', 'local', { type: 'tmpfs', device: 'tmpfs', o: 'size=100m' }, []],
    [
      'a bind of a host path',
      'local',
      { type: 'none', o: 'bind', device: '/etc' },
      ['local driver binds host path /etc (type=none, o=bind, device=/etc)'],
    ],
    [
      'a block device',
      'local',
      { type: 'ext4', device: '/dev/sdb1' },
      ['local driver mounts /dev/sdb1 (type ext4) (type=ext4, device=/dev/sdb1)'],
    ],
    [
      'a CIFS share: the password is not shown',
      'local',
      { type: 'cifs', device: '//nas/share', o: 'username=u,password=hunter22' },
      ['local driver mounts //nas/share (type cifs) (type=cifs, device=//nas/share, o=username=u,password=…)'],
    ],
    ['another driver with options', 'rexray', { size: '10' }, ['driver rexray with options size=10']],
    ['options that are not a map', 'local', 'o=bind', ['driver local with options o=bind']],
  ])('%s', (_name, driver, options, expected) => {
    expect(volumePrivileges(driver, options)).toEqual(expected);
  });
});

describe('networks', () => {
  const net = (o: Partial<NetworkInspect>): NetworkInspect => ({ Name: 'n', Id: 'n1', Driver: 'bridge', ...o });
  it.each<[string, Partial<NetworkInspect>, string[]]>([
    ['a plain bridge', { Options: {}, IPAM: { Driver: 'default', Config: [{ Subnet: '10.1.0.0/24' }] } }, []],
    [
      'harmless bridge options',
      { Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_icc': 'false' } },
      [],
    ],
    [
      'macvlan on a host interface',
      { Driver: 'macvlan', Options: { parent: 'eth0.10' } },
      ['attached to host interface eth0.10 (parent=eth0.10)'],
    ],
    [
      'a host bridge by name',
      { Options: { 'com.docker.network.bridge.name': 'br0' } },
      ['uses host bridge interface br0 (com.docker.network.bridge.name)'],
    ],
    [
      'other driver and IPAM options',
      {
        Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
        IPAM: { Driver: 'dhcp', Options: { dhcp_interface: 'eth0' } },
      },
      ['driver option com.docker.network.bridge.inhibit_ipv4=true', 'IPAM option dhcp_interface=eth0'],
    ],
  ])('%s', (_name, o, expected) => {
    expect(networkPrivileges(net(o))).toEqual(expected);
  });
});

describe('the plan', () => {
  const manifest: Manifest = {
    format: 1,
    id: '20261125T200000Z',
    host: 'h',
    created: '',
    finished: '',
    tool: { name: 'bbackup', version: 't' },
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    errors: [],
    items: [
      { kind: 'container', name: 'agent', id: 'a'.repeat(64), image: 'agent:1', state: 'exited', files: [] },
      {
        kind: 'volume',
        name: 'hostetc',
        driver: 'local',
        labels: {},
        options: { type: 'none', o: 'bind', device: '/etc' },
        usedBy: [],
        format: 'tree',
        bytes: 1,
        fileCount: 1,
        files: [],
      },
      { kind: 'network', name: 'lan', id: 'n1', driver: 'macvlan', files: [] },
    ],
  };
  const agent: ContainerInspect = {
    Id: 'a'.repeat(64),
    Name: '/agent',
    Image: 'sha256:1',
    Config: { Image: 'agent:1' },
    HostConfig: {
      NetworkMode: 'none',
      Binds: ['/var/run/docker.sock:/var/run/docker.sock:ro', 'hostetc:/etc-copy'],
      CapAdd: ['SYS_ADMIN'],
    },
  };
  const plan = (existing: string[] = []) =>
    buildPlan({
      backupDir: '/b',
      manifest,
      request: {
        containers: existing.length ? ['agent'] : [],
        volumes: [],
        networks: [],
        all: existing.length === 0,
        force: false,
        start: true,
      },
      renames: checkRenames(emptyRenames(), manifest),
      inspects: new Map([['agent', agent]]),
      networks: new Map([['lan', { Name: 'lan', Id: 'n1', Driver: 'macvlan', Options: { parent: 'eth1' } }]]),
      engine: {
        containers: new Map(),
        volumes: new Map(existing.map((v) => [v, { usedBy: [] }])),
        networks: new Map(),
      },
      images: new Map([['agent', 'present']]),
    });
  const expected = [
    'network lan: attached to host interface eth1 (parent=eth1)',
    'volume hostetc: local driver binds host path /etc (type=none, o=bind, device=/etc)',
    'container agent: capability SYS_ADMIN',
    'container agent: host path /var/run/docker.sock mounted at /var/run/docker.sock (read-only) — the Docker socket: full control of the engine and the host',
  ];

  it('lists every privilege per item, and the refusal names each one and the flag', () => {
    const p = plan();
    expect(privilegeLines(p)).toEqual(expected);
    expect(() => assertRunnable(p)).toThrow(
      /refused: restoring from backup 20261125T200000Z would grant these privileges on this host; nothing was changed:\n  network lan: attached/,
    );
    expect(() => assertRunnable(p)).toThrow(/restore again with --allow-privileged/);
    try {
      assertRunnable(p);
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(1);
      for (const line of expected) expect((err as Error).message).toContain(line);
    }
    expect(() => assertRunnable(p, true)).not.toThrow();
  });
  it('a confirmed list allows exactly that list', () => {
    const p = plan();
    expect(privilegesAccepted(p, expected)).toBe(true);
    expect(privilegesAccepted(p, expected.slice(1))).toBe(false);
    expect(privilegesAccepted(p, false)).toBe(false);
  });
  it('a volume that exists and is used as it is grants nothing', () => {
    const p = plan(['hostetc']);
    expect(p.items.find((i) => i.kind === 'volume')!.action).toBe('reuse');
    expect(privilegeLines(p)).toEqual(expected.slice(2));
  });
  it('the dry-run text shows the list and whether the flag allows it', () => {
    const text = describePlan(plan(), { dryRun: true });
    expect(text).toContain(
      'PRIVILEGES on this host (4, refused without --allow-privileged):\n  ! network lan: attached to host interface eth1',
    );
    expect(text).toContain('This restore would be refused; nothing would be changed.');
    const allowed = describePlan(plan(), { dryRun: true, allowPrivileged: true });
    expect(allowed).toContain('PRIVILEGES on this host (4, allowed by --allow-privileged):');
    expect(allowed).toContain('Nothing was changed (dry run).');
  });
});
