import { CliError } from './errors';

/**
 * Everything the CLI prints goes through here. With --json, stdout carries exactly one JSON
 * document (the result, or `{"error": {...}}`); people-facing notes go to stderr either way.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The result of a command: `data` as JSON, or what `human` prints. */
  result(data: unknown, human: () => void): void {
    if (this.json) this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else human();
  }

  /** A line of human output on stdout (ignored with --json: the JSON document is the output). */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A note for the person at the terminal (stderr, also with --json). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`warning: ${text}\n`);
  }

  error(err: CliError): void {
    if (this.json) {
      const error: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.details?.length) error.details = err.details;
      if (err.requestId) error.requestId = err.requestId;
      this.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
      return;
    }
    this.stderr.write(`error: ${clean(err.message)} (${err.code})\n`);
    const extra = (err.details ?? []).filter((d) => d !== err.message);
    for (const d of extra) this.stderr.write(`  - ${clean(d)}\n`);
  }
}

/**
 * Bidirectional controls, invisible spaces and line separators: a file name holding one shows
 * differently from its bytes ("IMG_\u202Egpj.EXE" reads as "IMG_EXE.jpg").
 */
const INVISIBLE = /[\u061c\u200b\u200c\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text from the server shown on a terminal: control characters (escape sequences a project
 * name could smuggle in) become U+FFFD, bidirectional controls and invisible characters show
 * as `<U+202E>`; the rest is shown as given, in NFC.
 */
export function clean(text: string): string {
  return (
    text
      .normalize('NFC')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD')
      .replace(INVISIBLE, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`)
  );
}

/** Columns a string takes on a terminal: combining marks take none, wide East Asian characters two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(ch)) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function truncate(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  let out = '';
  for (const ch of text) {
    if (displayWidth(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | null | undefined;
  /** Longest a cell may get before it is cut with "…". */
  max?: number;
}

/** A plain, aligned text table (no borders, two spaces between columns, no trailing blanks). */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const v = clean(c.value(row) ?? '');
      return c.max ? truncate(v, c.max) : v;
    }),
  );
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]))));
  const render = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - displayWidth(cell))))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join('\n');
}

/** "Label:  value" lines, aligned. */
export function keyValues(pairs: ReadonlyArray<[string, string | null | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${clean(v ?? '-')}`).join('\n');
}

/** An ISO time from the server as the workstation's local time, "2026-05-01 22:10" ("-" when there is none). */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
