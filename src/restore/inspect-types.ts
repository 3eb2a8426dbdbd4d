// The parts of `docker inspect` (container, image, network) the restore reads. The engine sends
// more; everything not named here is carried through untouched as unknown values.

export type Json = unknown;

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** Config of a container, and (the same shape) of an image: the image's values are the defaults. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  Healthcheck?: HealthConfig | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
  [key: string]: Json;
}

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  RW: boolean;
  Mode?: string;
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  NetworkID?: string;
  DriverOpts?: Record<string, string> | null;
  [key: string]: Json;
}

export interface HostMount {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  [key: string]: Json;
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: HostMount[] | null;
  NetworkMode?: string;
  VolumesFrom?: string[] | null;
  Links?: string[] | null;
  PidMode?: string;
  IpcMode?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  [key: string]: Json;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  /** image id (sha256:...) */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkSettings?: { Networks?: Record<string, EndpointSettings> | null };
  Mounts?: MountPoint[];
  State?: { Status?: string };
}

export interface NetworkInspect {
  Name: string;
  Id: string;
  Driver: string;
  Scope?: string;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  IPAM?: {
    Driver?: string;
    Options?: Record<string, string> | null;
    Config?:
      { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null;
  };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name: string }> | null;
}
