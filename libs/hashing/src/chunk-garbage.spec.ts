import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { countedReadStream } from './chunk-garbage';

const MiB = 1024 * 1024;

/**
 * A fresh Node process (Node 24 runs the TypeScript module as it is) that makes 256 MiB of
 * 64 KiB chunks, each dead at once, the way a socket hands them out under load (no turn of the
 * event loop between them, so only allocation-driven collections run), optionally noting each;
 * returns the most their dead bytes weighed at any time.
 */
function peakOfDeadChunks(note: boolean): number {
  const script = `
    const { chunksDone } = await import(${JSON.stringify(pathToFileURL(join(__dirname, 'chunk-garbage.ts')).href)});
    const held = () => process.memoryUsage().arrayBuffers;
    const base = held();
    let peak = 0;
    for (let i = 0; i < 4096; i++) {
      Buffer.allocUnsafeSlow(64 * 1024).fill(i);
      if (${note}) chunksDone(64 * 1024);
      if (i % 16 === 0) peak = Math.max(peak, held() - base);
    }
    console.log(peak);`;
  return Number(execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script]).toString().trim());
}

describe('chunk garbage', () => {
  it('keeps dead chunks to a few MiB where V8 alone lets them reach its 64 MB external limit', () => {
    const alone = peakOfDeadChunks(false);
    const noted = peakOfDeadChunks(true);
    expect(alone).toBeGreaterThan(60 * MiB);
    expect(noted).toBeLessThan(40 * MiB);
  });

  it('countedReadStream reads the file as it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-chunks-'));
    try {
      const data = randomBytes(9 * MiB + 123);
      await writeFile(join(dir, 'f'), data);
      const parts: Buffer[] = [];
      for await (const c of countedReadStream(join(dir, 'f'), { highWaterMark: MiB, start: 5 }) as AsyncIterable<Buffer>) parts.push(c);
      expect(Buffer.concat(parts).equals(data.subarray(5))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
