import type { IncomingMessage, ServerResponse } from 'node:http';

/** LOG_FORMAT when set; else readable on a terminal, JSON for a pipe, a file or a log collector. */
export function resolveLogFormat(format: 'json' | 'pretty' | undefined, stdout: NodeJS.WriteStream = process.stdout): 'json' | 'pretty' {
  return format ?? (stdout.isTTY ? 'pretty' : 'json');
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 20: '\x1b[90m', 30: '\x1b[32m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };
/** Fields a line shows in its own way, or that say nothing to a person at a terminal. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'req', 'res', 'responseTime', 'err']);

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function clock(time: unknown): string {
  const d = new Date(typeof time === 'number' ? time : Date.now());
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad2(d.getMilliseconds(), 3)}`;
}

function inline(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/**
 * One pino JSON line as a line a person reads: `12:04:31.020 INFO  GET /api/projects 200 12ms`
 * for a request, `12:04:31.020 WARN  [Context] message key=value` for the rest, the stack of an
 * error below it. Anything that is not a JSON object passes as it is.
 */
export function prettyLogLine(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (!o || typeof o !== 'object') return `${line.trimEnd()}\n`;
  const level = Number(o.level);
  let name = (LEVELS[level] ?? String(o.level)).padEnd(5);
  if (color && COLORS[level]) name = `${COLORS[level]}${name}\x1b[0m`;
  const parts = [clock(o.time), name];
  const req = o.req as { id?: string; method?: string; url?: string } | undefined;
  const res = o.res as { statusCode?: number } | undefined;
  if (req?.method && res) {
    parts.push(`${req.method} ${req.url ?? ''} ${res.statusCode ?? '-'}`);
    if (typeof o.responseTime === 'number') parts.push(`${Math.round(o.responseTime)}ms`);
    if (o.msg && !/^request (completed|errored)$/.test(String(o.msg))) parts.push(`- ${String(o.msg)}`);
  } else {
    if (o.context) parts.push(`[${String(o.context)}]`);
    if (o.msg !== undefined) parts.push(String(o.msg));
  }
  const extra = Object.entries(o).filter(([k]) => !SHOWN.has(k));
  if (req?.id) extra.push(['req', req.id]);
  if (extra.length) parts.push(extra.map(([k, v]) => `${k}=${inline(v)}`).join(' '));
  let out = parts.join(' ');
  const err = o.err as { stack?: string; message?: string } | undefined;
  if (err?.stack || err?.message) out += `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}`;
  return `${out}\n`;
}

/** A pino destination that writes each line readable. */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout, color = false): { write(line: string): void } {
  return { write: (line: string) => void out.write(prettyLogLine(line, color)) };
}

const NOT_PORTAL = /^\/(api|files|metrics)(\/|$|\?)/;
const ROUTINE = /^\/(api\/health(\/|$|\?)|metrics($|\?))/;

/**
 * The level of a request's log line: failures at warn (4xx) and error (5xx, or an exception),
 * the rest at info, except what would drown them: health checks, metrics scrapes and the
 * portal's files, at debug.
 */
export function requestLogLevel(req: IncomingMessage, res: ServerResponse, err?: Error): 'debug' | 'info' | 'warn' | 'error' {
  if (err || res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  if (ROUTINE.test(url) || !NOT_PORTAL.test(url)) return 'debug';
  return 'info';
}
