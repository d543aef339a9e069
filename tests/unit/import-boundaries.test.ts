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
];
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: VIRTUAL_FILES } } },
  },
});

async function restrictedImports(filePath: string, code: string): Promise<number> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').length;
}

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
});
