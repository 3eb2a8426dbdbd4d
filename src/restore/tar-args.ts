// The tar arguments a restore uses to move a saved tree with its metadata (owners by number,
// modes, xattrs, ACLs, sparse files): whole volumes (restore/volume.ts) and chosen paths
// (files/extract.ts) must carry the same metadata, so both take them from here.

/** extract from stdin, keeping what the stream says: numeric owners, modes, xattrs, ACLs */
export const TAR_EXTRACT = [
  '-x',
  '-f',
  '-',
  '--xattrs',
  '--xattrs-include=*',
  '--acls',
  '--numeric-owner',
  '--same-permissions',
  '--same-owner',
];

/** create to stdout from folder `dir`, the given members (relative to it), with that metadata */
export const tarCreateArgs = (dir: string, members: readonly string[]): string[] => [
  '-C',
  dir,
  '--xattrs',
  '--xattrs-include=*',
  '--acls',
  '--numeric-owner',
  '--sparse',
  '--format=posix',
  '-cf',
  '-',
  '--',
  ...members,
];
