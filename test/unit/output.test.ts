// Text output helpers: aligned tables and human units.
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/output.js';
import { formatBytes, formatDuration } from '../../src/format/units.js';

describe('formatTable', () => {
  it('pads every column to its widest cell, right-aligns where asked, trims line ends', () => {
    const rows = [
      { name: 'web', size: 1536, note: '' },
      { name: 'database', size: 10, note: 'x' },
    ];
    const text = formatTable(rows, [
      { header: 'NAME', value: (r) => r.name },
      { header: 'SIZE', value: (r) => formatBytes(r.size), align: 'right' },
      { header: 'NOTE', value: (r) => r.note },
    ]);
    expect(text.split('\n')).toEqual(['NAME        SIZE  NOTE', 'web       1.5 KB', 'database    10 B  x']);
  });

  it('an empty list is just the header', () => {
    expect(formatTable([], [{ header: 'NAME', value: (r: { n: string }) => r.n }])).toBe('NAME');
  });
});

describe('formatBytes', () => {
  it.each([
    [undefined, '-'],
    [Number.NaN, '-'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [3 * 1024 * 1024, '3.0 MB'],
    [150 * 1024 * 1024, '150 MB'],
    [1.25 * 1024 ** 3, '1.3 GB'],
    [2 * 1024 ** 5, '2.0 PB'],
    [4096 * 1024 ** 5, '4096 PB'],
  ])('%s -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [undefined, '-'],
    [-1, '-'],
    [0, '0:00'],
    [59.6, '1:00'],
    [125, '2:05'],
    [3600, '1:00:00'],
    [3723, '1:02:03'],
  ])('%s s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
