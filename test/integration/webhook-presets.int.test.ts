// Webhook presets as the services receive them: `bbackup notify-test` sends to six webhooks on a
// loopback server, one per format, and each body is checked in the shape that service accepts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { httpSink } from '../helpers/http-sink.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

describe('webhook presets', () => {
  it('json, slack, discord, teams, ntfy and gotify each get their own shape', async () => {
    const dir = await tempDir('presets');
    const sink = await httpSink();
    const formats = ['json', 'slack', 'discord', 'teams', 'ntfy', 'gotify'] as const;
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      logging: { file: join(dir, 'bbackup.log') },
      notifications: { webhooks: formats.map((f) => ({ url: `${sink.url}/${f}`, format: f, retries: 0 })) },
    });
    const r = await runCli(['-c', config, 'notify-test'], { env: { HOME: dir, BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const by = (f: string) => sink.received.find((x) => x.path === `/${f}`)!;
    expect(sink.received).toHaveLength(6);
    const title = /test notification from \S+ for default/;

    expect(JSON.parse(by('json').body)).toMatchObject({ event: 'notify.test', status: 'ok', host: 'default' });
    expect((JSON.parse(by('slack').body) as { text: string }).text).toMatch(title);
    expect((JSON.parse(by('discord').body) as { content: string }).content).toMatch(title);
    const teams = JSON.parse(by('teams').body) as {
      type: string;
      attachments: { contentType: string; content: { type: string; body: { text: string }[] } }[];
    };
    expect(teams.type).toBe('message');
    expect(teams.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teams.attachments[0]!.content.body[0]!.text).toMatch(title);
    expect(by('ntfy').headers['content-type']).toMatch(/^text\/plain/);
    expect(by('ntfy').headers.title).toMatch(title);
    expect(by('ntfy').body).toContain('host default');
    expect(JSON.parse(by('gotify').body)).toMatchObject({
      title: expect.stringMatching(title),
      priority: 4,
      message: expect.stringContaining('host default'),
    });
  }, 300_000);
});
