import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const REPO = join(__dirname, '..');

/** Lints a would-be file in place, without writing it. */
async function lint(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO });
  const [result] = await eslint.lintText(code, { filePath: join(REPO, filePath) });
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('Nx module boundaries are enforced by lint', () => {
  beforeAll(() => {
    // the rule reads the cached project graph
    execFileSync(join(REPO, 'node_modules/.bin/nx'), ['show', 'projects'], {
      cwd: REPO,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'pipe',
    });
  });

  it.each([
    [
      'the CLI importing a backend library',
      'apps/cli/src/forbidden.ts',
      "import { UsersService } from '@studiovault/auth';\nexport const x = UsersService;\n",
    ],
    [
      'a shared library importing the catalog',
      'libs/contracts/src/forbidden.ts',
      "import { UserEntity } from '@studiovault/catalog';\nexport const x = UserEntity;\n",
    ],
    [
      'a library importing the testing library outside tests',
      'libs/auth/src/forbidden.ts',
      "import { createTestDatabase } from '@studiovault/testing';\nexport const x = createTestDatabase;\n",
    ],
  ])(
    'refuses %s',
    async (_name, file, code) => {
      const problems = await lint(file, code);
      expect(problems.length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('allows the API importing a backend library and the CLI importing the API client', async () => {
    expect(
      await lint('apps/api/src/allowed.ts', "import { UsersService } from '@studiovault/auth';\nexport const x = UsersService;\n"),
    ).toEqual([]);
    expect(await lint('apps/cli/src/allowed.ts', "import { unwrap } from '@studiovault/api-client';\nexport const x = unwrap;\n")).toEqual(
      [],
    );
  }, 60_000);
});
