import { Throttle } from './throttle';

describe('Throttle', () => {
  it('holds the average rate of concurrent takers to the cap', async () => {
    const t = new Throttle(4 * 1024 * 1024); // 4 MiB/s, burst 4 MiB
    const started = Date.now();
    // 12 MiB in 1 MiB parts from three takers: 4 MiB burst, then 8 MiB at 4 MiB/s ≈ 2 s
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let i = 0; i < 4; i++) await t.take(1024 * 1024);
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(1.7);
    expect(seconds).toBeLessThan(3.5);
  });

  it('does not wait without a cap', async () => {
    const t = new Throttle(null);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) await t.take(1024 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(200);
    expect(t.limited).toBe(false);
  });
});
