// The redaction helper: URLs, secret values of a config, option strings; and how rclone flags that
// carry credentials leave the command line.
import { describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { configSecrets, redactParams, redactText, redactUrl } from '../../src/log/redact.js';
import { assertNoSecretInRemote, baseFlags, rcloneEnv, splitFlags } from '../../src/remote/rclone-env.js';

describe('redactUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/…'],
    ['https://discord.com/api/webhooks/123456789012345678/abcDEF-token', 'https://discord.com/…'],
    ['https://u:p@example.com:8443/?token=abc', 'https://example.com:8443/…'],
    ['http://127.0.0.1:9', 'http://127.0.0.1:9'],
    ['not a url', '<invalid url>'],
  ])('%s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

describe('redactText', () => {
  const config = parseConfigObject({
    remotes: {
      s: { type: 'sftp', host: 'h', user: 'u', path: '/p', password: 'sftp-pw-1', key_passphrase: 'kp-secret' },
      r: {
        type: 'rclone',
        remote: 'x:y',
        flags: ['--s3-secret-access-key', 'AKIASECRETVALUE', '--sftp-pass=obscured123', '--fast-list'],
      },
    },
    encryption: { passphrase: 'age-passphrase' },
    notifications: {
      email: { smtp_host: 'h', from: 'a@b', to: ['c@d'], username: 'u', password: 'smtp-pw-9' },
      webhooks: [
        {
          url: 'https://hooks.slack.com/services/T0001/B0001/XyZsecretTOKEN42?auth=q7secretquery',
          headers: { Authorization: 'Bearer hdr-token-77' },
        },
      ],
    },
  });
  it('every secret value of the config is a secret, and the parts of a webhook url that look like tokens', () => {
    const s = configSecrets(config);
    for (const v of [
      'sftp-pw-1',
      'kp-secret',
      'AKIASECRETVALUE',
      'obscured123',
      'age-passphrase',
      'smtp-pw-9',
      'Bearer hdr-token-77',
      'hdr-token-77',
      'XyZsecretTOKEN42',
      'q7secretquery',
    ])
      expect(s).toContain(v);
    expect(s).not.toContain('services');
    expect(
      configSecrets(parseConfigObject({ notifications: { webhooks: [{ url: 'https://hooks.example.com/bbackup' }] } })),
    ).toEqual(['https://hooks.example.com/bbackup']);
    expect(s).not.toContain('--fast-list');
  });
  it('masks them wherever they appear, and the path and query of any URL', () => {
    const text =
      'HTTP 401: invalid token XyZsecretTOKEN42 (auth q7secretquery); login smtp-pw-9 failed; see https://docs.example.com/errors/401?id=5.';
    expect(redactText(text, configSecrets(config))).toBe(
      'HTTP 401: invalid token … (auth …); login … failed; see https://docs.example.com/….',
    );
    expect(redactText('webhook http://127.0.0.1:9/…: failed', [])).toBe('webhook http://127.0.0.1:9/…: failed');
  });
  it('secret-looking key=value options', () => {
    expect(redactParams('type=cifs,o=username=u,password=hunter2,vers=3')).toBe(
      'type=cifs,o=username=u,password=…,vers=3',
    );
  });
});

describe('rclone flags that carry credentials travel in the environment', () => {
  it.each<[string[], string[], Record<string, string>]>([
    [['--fast-list', '--transfers', '8'], ['--fast-list', '--transfers', '8'], {}],
    [['--sftp-pass=abc', '--fast-list'], ['--fast-list'], { RCLONE_SFTP_PASS: 'abc' }],
    [['--s3-secret-access-key', 'K3y', '-v'], ['-v'], { RCLONE_S3_SECRET_ACCESS_KEY: 'K3y' }],
    [['--drive-token={"access_token":"x"}'], [], { RCLONE_DRIVE_TOKEN: '{"access_token":"x"}' }],
    [['--header', 'Authorization: Bearer t'], [], { RCLONE_HEADER: 'Authorization: Bearer t' }],
    [['--sftp-key-use-agent', '--fast-list'], ['--fast-list'], { RCLONE_SFTP_KEY_USE_AGENT: 'true' }],
  ])('%j', (flags, args, env) => {
    expect(splitFlags(flags)).toEqual({ args, env });
    const s = { remote: 'r:p', flags, configFile: '/etc/rclone.conf' };
    expect(baseFlags(s).slice(5)).toEqual(args);
    expect(rcloneEnv(s)).toEqual({ RCLONE_CONFIG: '/etc/rclone.conf', ...env });
  });
  it('a secret flag given twice is refused, without its values', () => {
    expect(() => splitFlags(['--header=A: 1', '--header=B: 2'])).toThrow(
      /^rclone flag --header is given twice; .*\(RCLONE_HEADER\), which holds one value$/,
    );
  });
  it('a credential in the remote string is refused, without echoing it', () => {
    expect(() => assertNoSecretInRemote('nas', ':sftp,host=h,user=u,pass=Hunter22:backups')).toThrow(
      /^remote nas: the rclone remote string carries a credential \(pass=…\)/,
    );
    expect(() => assertNoSecretInRemote('nas', 'mys3,secret_access_key=Hunter22:bucket')).toThrow(
      /RCLONE_CONFIG_<REMOTE>_SECRET_ACCESS_KEY/,
    );
    try {
      assertNoSecretInRemote('nas', ':sftp,pass=Hunter22:x');
    } catch (err) {
      expect(String(err)).not.toContain('Hunter22');
    }
    expect(() => assertNoSecretInRemote('nas', ':sftp,host=h,user=u,port=2222:backups')).not.toThrow();
    expect(() => assertNoSecretInRemote('nas', 'gdrive:backups/a,pass=x')).not.toThrow();
  });
});
