import { randomBytes } from 'node:crypto';
import { AlignedBufferPool, ChunkGatherer } from './aligned-buffers';

const KiB = 1024;

/** Feeds `data` in chunks of the given sizes; returns what the gatherer handed over, in order. */
function gatherAll(g: ChunkGatherer, data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - at);
    out.push(...g.add(data.subarray(at, at + n)));
    at += n;
  }
  const rest = g.rest();
  if (rest) out.push(rest);
  return out;
}

describe('ChunkGatherer', () => {
  const pool = new AlignedBufferPool(64 * KiB, 4);

  it('hands over full pool buffers, then the partly filled one, with every byte in order', () => {
    const data = randomBytes(3 * 64 * KiB + 1000);
    const out = gatherAll(new ChunkGatherer(pool), data, [7000, 16 * KiB, 33]);
    expect(out.map((b) => b.length)).toEqual([64 * KiB, 64 * KiB, 64 * KiB, 1000]);
    expect(out.slice(0, 3).every((b) => pool.owns(b) && b.byteOffset === 0)).toBe(true);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('leaves `lead` bytes free at the start of the first buffer only (an upload resumed mid-block)', () => {
    const lead = 1234;
    const data = randomBytes(2 * 64 * KiB);
    const out = gatherAll(new ChunkGatherer(pool, lead), data, [5000]);
    expect(out[0].byteOffset).toBe(lead);
    expect(out[0].length).toBe(64 * KiB - lead);
    expect(out[1].byteOffset).toBe(0);
    expect(out.map((b) => b.length)).toEqual([64 * KiB - lead, 64 * KiB, lead]);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('has nothing to hand over for an empty stream, and reports what is pending', () => {
    const g = new ChunkGatherer(pool, 100);
    expect(g.pending).toBe(0);
    expect(g.rest()).toBeUndefined();
    g.add(Buffer.alloc(10));
    expect(g.pending).toBe(10);
    g.drop();
    expect(g.pending).toBe(0);
  });
});
