import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

it('bbackup --version prints the version and exits 0', async () => {
  const r = await runCli(['--version']);
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
});
