import { describe, expect, it } from 'vitest';
import { containerHooks, parseBoolLabel, parseCommandLabel } from '../../src/hooks/labels.js';
import { hookEnv } from '../../src/hooks/host-hooks.js';
import { buildReport } from '../../src/notify/report.js';

describe('parseCommandLabel', () => {
  it.each([
    { value: '["pg_dump","-f","/data/dump.sql"]', argv: ['pg_dump', '-f', '/data/dump.sql'] },
    { value: '  ["sh", "-c", "echo a > /x; sync"] ', argv: ['sh', '-c', 'echo a > /x; sync'] },
    { value: 'pg_dump -f /data/dump.sql', argv: ['pg_dump', '-f', '/data/dump.sql'] },
    { value: '  redis-cli\tSAVE  ', argv: ['redis-cli', 'SAVE'] },
    // no shell: quotes and operators are plain words unless the user writes sh -c in JSON
    { value: 'echo "a b" > /x', argv: ['echo', '"a', 'b"', '>', '/x'] },
  ])('$value', ({ value, argv }) => {
    expect(parseCommandLabel(value)).toEqual(argv);
  });

  it.each([
    { value: '', error: /empty command/ },
    { value: '[]', error: /non-empty array of strings/ },
    { value: '["a", 1]', error: /non-empty array of strings/ },
    { value: '["a",', error: /not valid JSON/ },
  ])('refuses $value', ({ value, error }) => {
    expect(() => parseCommandLabel(value, 'lbl')).toThrow(error);
  });
});

describe('parseBoolLabel', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['1', true],
    ['on', true],
    ['false', false],
    ['no', false],
    ['0', false],
    ['', false],
    [undefined, false],
  ] as const)('%s -> %s', (value, expected) => {
    expect(parseBoolLabel(value, 'bbackup.stop')).toBe(expected);
  });
  it('refuses a word that is neither', () => {
    expect(() => parseBoolLabel('maybe', 'bbackup.stop')).toThrow(/expected true or false/);
  });
});

describe('containerHooks', () => {
  it('reads every label', () => {
    expect(
      containerHooks('db', {
        'bbackup.stop': 'true',
        'bbackup.exec.pre': '["pg_dump","-f","/d"]',
        'bbackup.exec.post': 'rm /d',
        'bbackup.exec.timeout': '30',
        other: 'x',
      }),
    ).toEqual({ stop: true, pre: ['pg_dump', '-f', '/d'], post: ['rm', '/d'], timeout: 30 });
  });
  it('no labels, no hooks', () => {
    expect(containerHooks('web', null)).toEqual({ stop: false });
  });
  it('names the container and label on a bad value', () => {
    expect(() => containerHooks('db', { 'bbackup.exec.timeout': '-1' })).toThrow(
      /container db: label bbackup.exec.timeout/,
    );
    expect(() => containerHooks('db', { 'bbackup.stop': 'sure' })).toThrow(/container db: label bbackup.stop/);
  });
});

describe('hookEnv', () => {
  it('pre has the host and schedule, post adds the outcome', () => {
    const ctx = { host: 'prod-1', storeDir: '/b/prod-1', schedule: 'nightly' };
    expect(hookEnv('pre', ctx)).toEqual({
      BBACKUP_EVENT: 'pre',
      BBACKUP_HOST: 'prod-1',
      BBACKUP_STORE: '/b/prod-1',
      BBACKUP_SCHEDULE: 'nightly',
    });
    const report = buildReport({
      host: 'prod-1',
      status: 'partial',
      backupId: '20261125T010203Z',
      started: new Date(Date.now() - 5000),
      items: { total: 3, ok: 2, failed: 1 },
      sizes: { bytes: 42 },
      errors: [{ item: 'volume v', code: 'TOOL_FAILED', message: 'x' }],
    });
    const env = hookEnv('post', ctx, report, '/b/prod-1/20261125T010203Z');
    expect(env).toMatchObject({
      BBACKUP_EVENT: 'post',
      BBACKUP_STATUS: 'partial',
      BBACKUP_BACKUP_ID: '20261125T010203Z',
      BBACKUP_BACKUP_DIR: '/b/prod-1/20261125T010203Z',
      BBACKUP_ITEMS_OK: '2',
      BBACKUP_ITEMS_FAILED: '1',
      BBACKUP_BYTES: '42',
      BBACKUP_ERRORS: '1',
    });
    expect(JSON.parse(env.BBACKUP_REPORT!).backup_id).toBe('20261125T010203Z');
  });
});
