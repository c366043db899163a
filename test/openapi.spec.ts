import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateOpenApi, stableStringify } from '../apps/api/src/openapi';

const REPO = join(__dirname, '..');

describe('the committed OpenAPI spec and generated client', () => {
  it('match the code (run `npm run openapi` after changing an endpoint)', async () => {
    const committed = readFileSync(join(REPO, 'libs/api-client/openapi.json'), 'utf8');
    expect(stableStringify(await generateOpenApi())).toBe(committed);

    const out = join(mkdtempSync(join(tmpdir(), 'sv-openapi-')), 'schema.ts');
    execFileSync(join(REPO, 'node_modules/.bin/openapi-typescript'), ['libs/api-client/openapi.json', '-o', out], {
      cwd: REPO,
      stdio: 'pipe',
    });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(REPO, 'libs/api-client/src/schema.ts'), 'utf8'));
  });

  it('declares error responses and an access rule on every operation', async () => {
    const doc = await generateOpenApi();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { operationId?: string; [k: string]: unknown }>)) {
        expect([path, method, op['x-studiovault-role']]).toEqual([path, method, expect.stringMatching(/^(public|viewer|editor|admin)$/)]);
        expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      }
    }
  });
});
