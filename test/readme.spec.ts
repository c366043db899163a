import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference } from '@studiovault/config';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every environment variable as the code declares it', () => {
    // Compare table rows cell by cell: Prettier may re-align the README's columns.
    const cells = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/^-+$/, '---'))
        .join('|');
    const readmeRows = new Set(
      README.split('\n')
        .filter((l) => l.startsWith('|'))
        .map(cells),
    );
    const missing = configReference()
      .split('\n')
      .map(cells)
      .filter((row) => !readmeRows.has(row));
    expect(missing).toEqual([]);
  });

  it('keeps the two-command quick start, and CI runs its test command', () => {
    expect(README).toMatch(/npm install && npm start/);
    expect(README).toMatch(/^npm test\b/m);
    const ci = readFileSync(join(__dirname, '..', '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
  });
});
