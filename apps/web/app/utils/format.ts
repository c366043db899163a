const dateOnly = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** A calendar date as stored (YYYY-MM-DD, no time zone), e.g. "12 Sep 2026". */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? value : dateOnly.format(d);
}

/** A moment in local time, e.g. "12 Sep 2026, 14:05". */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateTime.format(d);
}

/** "3 minutes ago", "yesterday"; `never` when there is no moment. */
export function formatAgo(value: string | null | undefined, never = 'never'): string {
  if (!value) return never;
  const seconds = (new Date(value).getTime() - Date.now()) / 1000;
  if (Number.isNaN(seconds)) return value;
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', 30],
    ['month', 12],
    ['year', Infinity],
  ];
  let amount = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return Math.abs(amount) < 45 && unit === 'second' ? 'just now' : relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return formatDateTime(value);
}

/** Binary sizes the way NAS vendors show them: "1.8 TB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

export function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Project types in the studio's words. */
export const PROJECT_TYPE_LABELS: Record<string, string> = {
  wedding: 'Wedding',
  portrait: 'Portrait',
  newborn: 'Newborn',
  family: 'Family',
  event: 'Event',
  commercial: 'Commercial',
  other: 'Other',
};

export const ROLE_LABELS: Record<string, string> = {
  viewer: 'Viewer',
  editor: 'Editor',
  admin: 'Admin',
};
