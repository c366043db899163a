/**
 * A bandwidth cap (token bucket) shared by every upload of a run. `take(bytes)` waits until the
 * bytes may be sent at `bytesPerSecond`, with a burst of one second's worth; a part is sent
 * whole after its wait, so the average rate holds and the peak is one part. Unlimited when the
 * rate is null.
 */
export class Throttle {
  private available: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly bytesPerSecond: number | null) {
    this.available = bytesPerSecond ?? 0;
  }

  get limited(): boolean {
    return this.bytesPerSecond !== null;
  }

  take(bytes: number): Promise<void> {
    const rate = this.bytesPerSecond;
    if (rate === null || bytes <= 0) return Promise.resolve();
    // Serialised: each caller waits for the ones before it, so the rate is shared fairly.
    const turn = this.queue.then(async () => {
      const now = Date.now();
      this.available = Math.min(rate, this.available + ((now - this.last) / 1000) * rate);
      this.last = now;
      this.available -= bytes;
      if (this.available < 0) {
        const waitMs = (-this.available / rate) * 1000;
        await new Promise((r) => setTimeout(r, waitMs));
        this.available = 0;
        this.last = Date.now();
      }
    });
    this.queue = turn;
    return turn;
  }
}
