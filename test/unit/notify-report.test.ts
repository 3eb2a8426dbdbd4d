import { describe, expect, it } from 'vitest';
import { transportOptions } from '../../src/notify/email.js';
import { buildReport, reportSubject, reportText, shouldNotify, type RunStatus } from '../../src/notify/report.js';
import { displayUrl } from '../../src/notify/webhook.js';

describe('shouldNotify', () => {
  const table: { level: 'failure' | 'partial' | 'always'; send: RunStatus[] }[] = [
    { level: 'failure', send: ['failed', 'cancelled'] },
    { level: 'partial', send: ['partial', 'failed', 'cancelled'] },
    { level: 'always', send: ['ok', 'partial', 'failed', 'cancelled'] },
  ];
  for (const { level, send } of table) {
    for (const status of ['ok', 'partial', 'failed', 'cancelled'] as RunStatus[]) {
      it(`${level} / ${status} -> ${send.includes(status)}`, () => {
        expect(shouldNotify(level, { status })).toBe(send.includes(status));
      });
    }
  }
});

it('a failed upload is a failure even though the local backup is only partial', () => {
  const errors = [{ item: 'upload offsite', code: 'REMOTE_IO', message: 'connection refused' }];
  expect(shouldNotify('failure', { status: 'partial', errors })).toBe(true);
  expect(
    shouldNotify('failure', { status: 'partial', errors: [{ item: 'volume v', code: 'TOOL_FAILED', message: 'x' }] }),
  ).toBe(false);
});

describe('report', () => {
  const started = new Date('2026-11-25T03:00:00Z');
  const report = buildReport({
    host: 'prod-1',
    status: 'failed',
    schedule: 'nightly',
    started,
    finished: new Date('2026-11-25T03:01:02.345Z'),
    errors: [{ item: 'volume pgdata', code: 'TOOL_FAILED', message: 'rsync exited 23\nsome/file: Permission denied' }],
  });
  it('has every documented field', () => {
    expect(Object.keys(report).sort()).toEqual(
      [
        'backup_id',
        'duration',
        'errors',
        'event',
        'finished',
        'host',
        'items',
        'machine',
        'schedule',
        'sizes',
        'started',
        'status',
      ].sort(),
    );
    expect(report).toMatchObject({
      event: 'backup.finished',
      backup_id: null,
      duration: 62.3,
      items: { total: 0, ok: 0, failed: 0, skipped: 0 },
      sizes: { bytes: 0, files: 0 },
    });
  });
  it('subject and text name the failure', () => {
    expect(reportSubject(report)).toBe('[bbackup] FAILED: backup on prod-1 (schedule nightly)');
    const text = reportText(report);
    expect(text.indexOf('Errors:')).toBeLessThan(text.indexOf('event:'));
    expect(text).toContain('volume pgdata: [TOOL_FAILED] rsync exited 23\n    some/file: Permission denied');
  });
  it('a run that could not start says so', () => {
    expect(reportSubject({ ...report, event: 'backup.unavailable' })).toContain('backup could not start on prod-1');
  });
});

describe('email transport options', () => {
  const base = {
    enabled: true,
    smtp_host: 'mail',
    smtp_port: 587,
    tls_reject_unauthorized: true,
    from: 'a@x',
    to: ['b@x'],
  };
  it.each([
    { security: 'starttls', secure: false, requireTLS: true, ignoreTLS: false },
    { security: 'tls', secure: true, requireTLS: false, ignoreTLS: false },
    { security: 'none', secure: false, requireTLS: false, ignoreTLS: true },
  ] as const)('$security', ({ security, ...expected }) => {
    expect(transportOptions({ ...base, security })).toMatchObject(expected);
  });
  it('credentials and certificate checking', () => {
    const o = transportOptions({
      ...base,
      security: 'tls',
      tls_reject_unauthorized: false,
      username: 'u',
      password: 'p',
    });
    expect(o.auth).toEqual({ user: 'u', pass: 'p' });
    expect(o.tls).toEqual({ rejectUnauthorized: false });
    expect(transportOptions({ ...base, security: 'tls' }).auth).toBeUndefined();
  });
});

describe('displayUrl', () => {
  it('shows scheme and host only: credentials, path and query may hold tokens', () => {
    expect(displayUrl('https://user:secret@hooks.example.com/x/y?token=abc')).toBe('https://hooks.example.com/…');
    expect(displayUrl('https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX')).toBe(
      'https://hooks.slack.com/…',
    );
    expect(displayUrl('http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/…');
    expect(displayUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });
});
