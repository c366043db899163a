import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The one-time first-run setup code a server wrote under its data folder at start (what an
 * admin would read off the console); tests send it with POST /api/setup.
 */
export async function readSetupCode(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, 'setup-code'), 'utf8')).trim();
}
