/** O_DIRECT needs the file offset, the length and the memory address of every transfer aligned to the logical block size; 4096 covers every disk in use. */
export const DIRECT_ALIGN = 4096;

const WASM_PAGE = 64 * 1024;

// Node's global (the compiler's lib has no DOM or WebAssembly types here).
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

/**
 * Reusable 4096-aligned buffers for O_DIRECT I/O. Node gives no aligned allocation (a
 * Buffer's address is whatever malloc returns), but a WebAssembly memory is page-aligned by
 * construction: each buffer is one, and it is kept for the next use instead of being freed.
 * A buffer that is never given back (an aborted upload) is simply garbage-collected.
 */
export class AlignedBufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly mine = new WeakSet<ArrayBuffer>();
  readonly size: number;

  /**
   * @param size bytes per buffer, rounded up to a 64 KiB WebAssembly page
   * @param keep buffers kept when given back (the rest are left to the garbage collector)
   */
  constructor(
    size: number,
    private readonly keep = 8,
  ) {
    this.size = Math.ceil(size / WASM_PAGE) * WASM_PAGE;
  }

  take(): Buffer {
    let memory = this.free.pop();
    if (!memory) {
      memory = new WebAssembly.Memory({ initial: this.size / WASM_PAGE }).buffer;
      this.mine.add(memory);
    }
    return Buffer.from(memory);
  }

  /** Whether `view` lies in one of this pool's buffers (then its address ≡ its byteOffset mod 4096). */
  owns(view: Uint8Array): boolean {
    // No `instanceof ArrayBuffer`: a WebAssembly memory may come from another realm (Jest's sandbox).
    return this.mine.has(view.buffer as ArrayBuffer);
  }

  /** Gives back the buffer `view` lies in; a view of other memory is ignored. */
  give(view: Uint8Array): void {
    if (this.owns(view) && this.free.length < this.keep && !this.free.includes(view.buffer as ArrayBuffer)) {
      this.free.push(view.buffer as ArrayBuffer);
    }
  }
}

/**
 * Gathers small stream chunks (a socket's 16-64 KiB) into a pool's buffers: `add` copies a chunk
 * in and returns the buffers it filled; `rest` hands over the partly filled one at the end.
 * `lead` leaves room at the start of the first buffer, so that a byte's place in the buffer is
 * its file position mod 4096 (an upload resumed at any offset, written with O_DIRECT).
 */
export class ChunkGatherer {
  private buf: Buffer | undefined;
  private fill: number;

  constructor(
    private readonly pool: AlignedBufferPool,
    private lead = 0,
  ) {
    this.fill = lead;
  }

  /** Bytes gathered and not yet handed over. */
  get pending(): number {
    return this.buf ? this.fill - this.lead : 0;
  }

  add(chunk: Uint8Array): Buffer[] {
    const full: Buffer[] = [];
    let used = 0;
    while (used < chunk.length) {
      this.buf ??= this.pool.take();
      const n = Math.min(chunk.length - used, this.buf.length - this.fill);
      this.buf.set(chunk.subarray(used, used + n), this.fill);
      this.fill += n;
      used += n;
      if (this.fill === this.buf.length) {
        full.push(this.buf.subarray(this.lead));
        this.buf = undefined;
        this.lead = 0;
        this.fill = 0;
      }
    }
    return full;
  }

  /** The partly filled buffer, if it holds any byte (a buffer holding none goes back to the pool). */
  rest(): Buffer | undefined {
    const { buf, lead, fill } = this;
    this.buf = undefined;
    this.lead = 0;
    this.fill = 0;
    if (buf && fill > lead) return buf.subarray(lead, fill);
    if (buf) this.pool.give(buf);
    return undefined;
  }

  /** Drops what is gathered (the stream failed): the buffer goes back to the pool. */
  drop(): void {
    if (this.buf) this.pool.give(this.buf);
    this.buf = undefined;
  }
}
