// Networks: create options from a saved `docker network inspect`, and the subnet check that keeps a
// renamed copy (or any restore) from asking for an address range another network already holds.
import type { NetworkInspect } from './inspect-types.js';

export interface NetworkSpec {
  create: Record<string, unknown> & { Name: string };
  /** false when the saved subnets were left to the engine to choose */
  fixedSubnet: boolean;
}

/** `takenBy`: the subnets already in use on the engine, each with the network that holds it. */
export function buildNetworkSpec(
  saved: NetworkInspect,
  target: string,
  takenBy: ReadonlyMap<string, string>,
): NetworkSpec & { clash?: string } {
  const configs = saved.IPAM?.Config ?? [];
  const clash = configs
    .map((c) => (c.Subnet ? findOverlap(c.Subnet, takenBy) : undefined))
    .find((x) => x !== undefined);
  const ipam: Record<string, unknown> = { Driver: saved.IPAM?.Driver ?? 'default' };
  if (saved.IPAM?.Options && Object.keys(saved.IPAM.Options).length > 0) ipam.Options = saved.IPAM.Options;
  if (!clash && configs.length > 0) ipam.Config = configs;
  const create: NetworkSpec['create'] = {
    Name: target,
    CheckDuplicate: true,
    Driver: saved.Driver,
    Internal: saved.Internal ?? false,
    Attachable: saved.Attachable ?? false,
    Ingress: saved.Ingress ?? false,
    EnableIPv6: saved.EnableIPv6 ?? false,
    IPAM: ipam,
    Options: saved.Options ?? {},
    Labels: saved.Labels ?? {},
  };
  return { create, fixedSubnet: !clash && configs.length > 0, clash };
}

/** "10.0.0.0/16 (held by net-a)" when `subnet` overlaps one in `taken`. */
export function findOverlap(subnet: string, taken: ReadonlyMap<string, string>): string | undefined {
  for (const [other, holder] of taken)
    if (overlaps(subnet, other)) return `${subnet} overlaps ${other} of network ${holder}`;
  return undefined;
}

export function overlaps(a: string, b: string): boolean {
  const pa = parseCidr4(a);
  const pb = parseCidr4(b);
  if (!pa || !pb) return a.toLowerCase() === b.toLowerCase(); // IPv6: exact match only
  const bits = Math.min(pa.bits, pb.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (pa.addr & mask) >>> 0 === (pb.addr & mask) >>> 0;
}

function parseCidr4(cidr: string): { addr: number; bits: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return { addr: ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0, bits: Number(m[5]) };
}
