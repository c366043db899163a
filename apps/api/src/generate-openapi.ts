import { writeFileSync } from 'node:fs';
import { generateOpenApi, stableStringify } from './openapi';

/** `npm run openapi`: writes libs/api-client/openapi.json from the code. */
async function main(): Promise<void> {
  const out = process.argv[2] ?? 'libs/api-client/openapi.json';
  writeFileSync(out, stableStringify(await generateOpenApi()));
  process.stdout.write(`wrote ${out}\n`);
}
void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
