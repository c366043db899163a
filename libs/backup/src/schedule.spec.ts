import { isTimeZone, nextWallClock } from './schedule';

describe('nextWallClock', () => {
  it('finds the next 06:00 in UTC and in a zone with an offset', () => {
    const now = new Date('2026-11-26T13:00:00Z');
    expect(nextWallClock('06:00', 'UTC', now).toISOString()).toBe('2026-11-27T06:00:00.000Z');
    expect(nextWallClock('18:30', 'UTC', now).toISOString()).toBe('2026-11-26T18:30:00.000Z');
    // Berlin is UTC+1 in November: 06:00 local = 05:00Z
    expect(nextWallClock('06:00', 'Europe/Berlin', now).toISOString()).toBe('2026-11-27T05:00:00.000Z');
    // New York is UTC-5: 06:00 local = 11:00Z, already past at 13:00Z
    expect(nextWallClock('06:00', 'America/New_York', now).toISOString()).toBe('2026-11-27T11:00:00.000Z');
  });

  it('tells a real time zone from a typo', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
