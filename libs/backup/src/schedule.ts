/** Times of the nightly window, in the studio's time zone. */

/** Minutes east of UTC of a time zone at an instant. */
function offsetMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The next instant after `now` at which the wall clock in `timeZone` reads `hhmm` ("06:00"). */
export function nextWallClock(hhmm: string, timeZone: string, now = new Date()): Date {
  const [h, m] = hhmm.split(':').map(Number);
  const local = new Date(now.getTime() + offsetMinutes(timeZone, now) * 60_000);
  for (let day = 0; day < 3; day++) {
    const guess = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + day, h, m);
    const at = new Date(guess - offsetMinutes(timeZone, new Date(guess)) * 60_000);
    if (at.getTime() > now.getTime()) return at;
  }
  throw new Error(`no ${hhmm} in ${timeZone} after ${now.toISOString()}`);
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function serverTimeZone(): string {
  return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** What is wrong with a cron schedule (5 fields) and its time zone, for a settings form; empty when fine. */
export function scheduleProblems(schedule: string, timezone: string, example: string): string[] {
  const problems: string[] = [];
  if (!/^\S+( \S+){4}$/.test(schedule.trim())) problems.push(`schedule: a cron expression with 5 fields, e.g. "${example}"`);
  if (!isTimeZone(timezone)) problems.push(`timezone: "${timezone}" is not a time zone (e.g. Europe/Berlin)`);
  return problems;
}
