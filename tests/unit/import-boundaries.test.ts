import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The architecture's import rules (docs/architecture.md) are enforced by lint.
// These cases lint virtual files with the project's real config; the files do
// not exist, so the type-aware parser is told to give them a default project.
const VIRTUAL_FILES = [
  'renderer/src/bad.ts',
  'renderer/src/ok.ts',
  'electron/core/bad.ts',
  'relay/bad.ts',
  'shared/bad.ts',
  'electron/cli/bad.ts',
  'electron/cli/regex.ts',
  'electron/cli/bad-connection.ts',
  'electron/cli/bad-electron.ts',
  'electron/main/bad.ts',
  'electron/core/service/bad.ts',
  'electron/core/service/bad-binding.ts',
  'electron/core/service/bad-connection.ts',
  'electron/core/history/ok.ts',
];
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: VIRTUAL_FILES,
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: VIRTUAL_FILES.length,
        },
      },
    },
  },
});

async function restrictedImports(filePath: string, code: string): Promise<number> {
  return ruleHits(filePath, code, 'no-restricted-imports');
}

async function ruleHits(filePath: string, code: string, ruleId: string): Promise<number> {
  const [result] = await eslint.lintText(code, { filePath });
  // A file that did not parse has no rule errors: that must fail the test, not pass a "0".
  expect(result!.messages.filter((m) => m.fatal).map((m) => m.message)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === ruleId).length;
}

/** Lint errors of the SQL rule (a statement or a database import) in `code` at `filePath`. */
async function sqlViolations(filePath: string, code: string): Promise<number> {
  return (
    (await ruleHits(filePath, code, 'no-restricted-syntax')) +
    (await restrictedImports(filePath, code))
  );
}

// A statement as the CLI and the service used to write them.
const RAW_SQL = `type Db = { prepare(sql: string): { get(): unknown }; exec(sql: string): void };
export function count(profile: { db: Db }): unknown {
  return profile.db.prepare('SELECT count(*) FROM contacts').get();
}
export function wipe(profile: { db: Db }): void {
  profile.db.exec('DELETE FROM messages');
}
`;

// Type-aware linting builds a TypeScript program per file: slow on a loaded 2-core machine.
describe('import boundaries', { timeout: 60_000 }, () => {
  it('the renderer cannot import privileged code or Node', async () => {
    expect(
      await restrictedImports(
        'renderer/src/bad.ts',
        "import { Profile } from '../../electron/core/index.ts';\nexport { Profile };\n",
      ),
    ).toBe(1);
    expect(
      await restrictedImports(
        'renderer/src/bad.ts',
        "import { readFileSync } from 'node:fs';\nexport { readFileSync };\n",
      ),
    ).toBe(1);
    expect(
      await restrictedImports(
        'renderer/src/ok.ts',
        "import { ERROR_MESSAGES } from '../../shared/errors.ts';\nexport { ERROR_MESSAGES };\n",
      ),
    ).toBe(0);
  });

  it("the core cannot import 'electron' or the relay server, but may use the shared wire protocol", async () => {
    expect(
      await restrictedImports(
        'electron/core/bad.ts',
        "import { app } from 'electron';\nexport { app };\n",
      ),
    ).toBe(1);
    expect(
      await restrictedImports(
        'electron/core/bad.ts',
        "import { x } from '../../relay/server.ts';\nexport { x };\n",
      ),
    ).toBe(1);
    expect(
      await restrictedImports(
        'electron/core/bad.ts',
        "import { RELAY_LIMITS } from '../../shared/relay/protocol.ts';\nexport { RELAY_LIMITS };\n",
      ),
    ).toBe(0);
  });

  it('the relay cannot import anything under electron/', async () => {
    expect(
      await restrictedImports(
        'relay/bad.ts',
        "import { Profile } from '../electron/core/index.ts';\nexport { Profile };\n",
      ),
    ).toBe(1);
  });

  it('shared/ imports nothing of ours and no Node API', async () => {
    expect(
      await restrictedImports(
        'shared/bad.ts',
        "import { createHash } from 'node:crypto';\nexport { createHash };\n",
      ),
    ).toBe(1);
  });

  it('SQL runs only in the core modules that own tables: not in the CLI, main or the service', async () => {
    // Two statements, two errors, wherever they are planted outside the owning modules.
    expect(await sqlViolations('electron/cli/bad.ts', RAW_SQL)).toBe(2);
    expect(await sqlViolations('electron/main/bad.ts', RAW_SQL)).toBe(2);
    expect(await sqlViolations('electron/core/service/bad.ts', RAW_SQL)).toBe(2);
    // The owning modules may (history/ is one).
    expect(await sqlViolations('electron/core/history/ok.ts', RAW_SQL)).toBe(0);
    // A regular expression's exec is not SQL.
    expect(
      await sqlViolations('electron/cli/regex.ts', "export const m = /a(b)/.exec('ab');\n"),
    ).toBe(0);
  });

  it('outside those modules nothing imports the database binding or the connection module', async () => {
    expect(
      await sqlViolations(
        'electron/core/service/bad-binding.ts',
        "import Database from '@signalapp/sqlcipher';\nexport { Database };\n",
      ),
    ).toBe(1);
    expect(
      await sqlViolations(
        'electron/core/service/bad-connection.ts',
        "import { openKeyed } from '../db/sqlite.ts';\nexport { openKeyed };\n",
      ),
    ).toBe(1);
    expect(
      await sqlViolations(
        'electron/cli/bad-connection.ts',
        "import { openKeyed } from '../core/db/sqlite.ts';\nexport { openKeyed };\n",
      ),
    ).toBe(1);
    // The CLI keeps its other boundaries under the same rule entry.
    expect(
      await restrictedImports(
        'electron/cli/bad-electron.ts',
        "import { app } from 'electron';\nexport { app };\n",
      ),
    ).toBe(1);
  });
});
