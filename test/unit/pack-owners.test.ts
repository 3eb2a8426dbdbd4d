// Which pack keeps each live object when the sweep decides what to drop and what to rewrite:
// one copy per object, in the most live pack holding it, the same decision on every run.
import { describe, expect, it } from 'vitest';
import { planPackOwners } from '../../src/remote/repo/pack-owners.js';
import type { PackInfo } from '../../src/remote/repo/packs.js';

const id = (c: string) => c.repeat(64);
const pack = (packId: string, objects?: [string, number][]): PackInfo => ({
  packId: packId.repeat(32),
  key: `packs/${packId.repeat(32)}.tar.zst`,
  encrypted: false,
  stored: 1,
  mtime: new Date(0),
  objects: objects?.map(([o, s]) => [id(o), s]),
  indexStored: 1,
});

interface Case {
  name: string;
  packs: PackInfo[];
  live: string[];
  /** pack letter -> [owned object letters, owned bytes, total bytes] */
  want: Record<string, [string, number, number]>;
}

const cases: Case[] = [
  {
    name: 'no duplicates: a pack owns its live objects',
    packs: [
      pack('1', [
        ['a', 10],
        ['b', 30],
      ]),
    ],
    live: ['a'],
    want: { '1': ['a', 10, 40] },
  },
  {
    name: 'a cut rewrite: the new all-live pack owns the objects, the old one owns none',
    packs: [
      pack('1', [
        ['a', 10],
        ['b', 10],
        ['c', 80],
      ]),
      pack('2', [
        ['a', 10],
        ['b', 10],
      ]),
    ],
    live: ['a', 'b'],
    want: { '1': ['', 0, 100], '2': ['ab', 20, 20] },
  },
  {
    name: 'equally live duplicates: the smaller pack id keeps them',
    packs: [pack('2', [['a', 10]]), pack('1', [['a', 10]])],
    live: ['a'],
    want: { '1': ['a', 10, 10], '2': ['', 0, 10] },
  },
  {
    name: 'a pack without an index is left to the age rule',
    packs: [pack('1'), pack('2', [['a', 5]])],
    live: ['a'],
    want: { '2': ['a', 5, 5] },
  },
  {
    name: 'nothing live',
    packs: [pack('1', [['a', 10]])],
    live: [],
    want: { '1': ['', 0, 10] },
  },
];

describe('planPackOwners', () => {
  it.each(cases)('$name', (c) => {
    const plans = planPackOwners(c.packs, new Set(c.live.map(id)));
    const got: Record<string, [string, number, number]> = {};
    for (const [packId, p] of plans)
      got[packId[0]!] = [
        [...p.own]
          .map((o) => o[0])
          .sort()
          .join(''),
        p.ownBytes,
        p.total,
      ];
    expect(got).toEqual(c.want);
  });
});
