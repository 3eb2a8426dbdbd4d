// The architecture's rules are enforced by the linter (eslint.config.js, README "Architecture"):
// each fixture in test/fixtures/lint breaks one of them and must be reported, linted as if it
// lived where the rule applies; the well-behaved one must pass. Only the rules under test run
// (no type information is needed for them), so this stays fast.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const RULES = new Set(['no-restricted-imports', 'no-restricted-properties']);
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => RULES.has(ruleId),
  overrideConfig: { languageOptions: { parserOptions: { project: null, projectService: false } } },
});

async function lint(fixture: string, as: string): Promise<{ ruleId: string | null; message: string }[]> {
  const text = readFileSync(join(root, 'test/fixtures/lint', fixture), 'utf8');
  const [result] = await eslint.lintText(text, { filePath: join(root, as) });
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
}

describe('lint: architecture boundaries', () => {
  it.each([
    ['engine-imports-screens.ts', 'src/jobs/fixture.ts', 'no-restricted-imports', /never imports the TUI/],
    ['engine-imports-cli.ts', 'src/jobs/fixture.ts', 'no-restricted-imports', /only src\/cli\/ uses src\/cli\//],
    ['engine-imports-blessed.ts', 'src/store/fixture.ts', 'no-restricted-imports', /blessed belongs to the TUI/],
    ['screens-imports-cli.ts', 'screens/views/fixture.ts', 'no-restricted-imports', /the TUI never imports the CLI/],
    ['cli-imports-screens.ts', 'src/cli/commands/fixture.ts', 'no-restricted-imports', /never imports the TUI/],
    ['process-exit.ts', 'src/jobs/fixture.ts', 'no-restricted-properties', /only src\/cli\/bin\.ts ends the process/],
    ['process-exit.ts', 'screens/fixture.ts', 'no-restricted-properties', /only src\/cli\/bin\.ts ends the process/],
  ])('%s at %s breaks %s', async (fixture, as, rule, message) => {
    const found = await lint(fixture, as);
    expect(found).toHaveLength(1);
    expect(found[0]?.ruleId).toBe(rule);
    expect(found[0]?.message).toMatch(message);
  });

  it('passes a module that keeps the rules', async () => {
    expect(await lint('engine-ok.ts', 'src/jobs/fixture.ts')).toEqual([]);
  });

  it('lets the bin entry, and only it, end the process', async () => {
    expect(await lint('process-exit.ts', 'src/cli/bin.ts')).toEqual([]);
  });
});
