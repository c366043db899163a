import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Api } from '../api';
import type { Context } from '../context';
import { CliError, CliErrorCode, ExitCode, SilentExit } from '../errors';
import { withReachRetry } from '../ingest/card-api';
import { formatBytes, formatDuration } from '../ingest/progress';
import { clean, type Column, displayWidth, formatWhen, table } from '../output';
import { option, positiveInt } from '../validate';
import { action } from './action';

type Drill = Schemas['DrillDto'];

interface RunOptions {
  wait?: boolean;
}

interface ListOptions {
  limit: number;
}

/** A drill in one of these states is over. */
const SETTLED = new Set<Drill['state']>(['passed', 'failed']);
const POLL_MS = 1000;
/** Errors of a drill shown for people; --json has every one the server keeps (500). */
const ERRORS_SHOWN = 10;

export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('restore drills: restore from the off-site target into a temporary folder and prove every file (the "0" of 3-2-1-1-0)');

  drill
    .command('run')
    .description('run a restore drill now (admin); with --wait, wait for its verdict')
    .option('--wait', 'wait until the drill ends (progress on stderr), then print its verdict and errors')
    .addHelpText(
      'after',
      [
        '',
        'The drill restores the most recently completed project in full, and a random sample of older files, from the',
        'off-site target into a temporary folder on the server; verifies every SHA-256 against the catalog; opens a',
        'sample as a person would (RAW previews, JPEGs, video headers); confirms every lock is in force and that the',
        'backup key cannot delete a locked version. The report is kept (studiovault drill list; the portal shows the',
        'thumbnails). Without --wait the drill goes on on the server.',
        '',
        'With --json: the drill report (files, bytes, errorCount and each error; the thumbnails are left out).',
        '',
        'Exit codes: 0 started (with --wait: passed with zero errors), 1 the drill failed, 2 usage, 3 server unreachable,',
        '130 interrupted (the drill goes on on the server).',
        '',
        'Examples:',
        '  studiovault drill run --wait',
        '  studiovault drill run --wait --json > drill.json',
      ].join('\n'),
    )
    .action(action<RunOptions>(run));

  drill
    .command('list')
    .description('the drill history, newest first: when, state, target, files, bytes, errors, verdict')
    .option('--limit <n>', 'how many drills (1 to 100)', option(positiveInt(100)), 20)
    .action(action<ListOptions>(list));
}

/** The drill as printed with --json: thumbnails (base64 JPEGs) are for the portal. */
function forJson(d: Drill): Drill {
  if (!d.opened) return d;
  return { ...d, opened: d.opened.map(({ thumbnail: _thumbnail, ...o }) => o) };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

function getDrill(api: Api, id: string): Promise<Drill> {
  return api.call(api.client.GET('/api/drills/{id}', { params: { path: { id } } }));
}

async function run(ctx: Context, opts: RunOptions): Promise<void> {
  const api = await ctx.connect();
  const { id } = await api.call(api.client.POST('/api/drills'));
  let drill = await getDrill(api, id);
  if (!opts.wait) {
    ctx.out.result(forJson(drill), () => {
      ctx.out.line(`Restore drill ${drill.id} ${drill.state}.`);
      ctx.out.line();
      ctx.out.line('The drill goes on on the server; see its verdict with: studiovault drill list');
    });
    return;
  }

  // ---- wait ----------------------------------------------------------------------------------
  const tty = Boolean(process.stderr.isTTY);
  const line = new StatusLine(process.stderr, tty);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  if (!ctx.out.json || tty) line.log(`Restore drill ${drill.id} ${drill.state}`);
  const reachTrouble = (err: CliError, delay: number) => line.log(`${err.message}; retrying in ${Math.round(delay / 1000)} s`);
  try {
    while (!abort.signal.aborted && !SETTLED.has(drill.state)) {
      line.draw(drill);
      await sleep(POLL_MS, abort.signal);
      if (abort.signal.aborted) break;
      drill = await withReachRetry(() => getDrill(api, id), undefined, reachTrouble);
    }
  } finally {
    line.clear();
    process.removeListener('SIGINT', onSigint);
  }
  if (abort.signal.aborted) {
    throw new CliError(
      CliErrorCode.Cancelled,
      `stopped waiting; the drill goes on on the server (studiovault drill list)`,
      ExitCode.Cancelled,
    );
  }

  ctx.out.result(forJson(drill), () => {
    for (const l of reportLines(drill)) ctx.out.line(l);
    ctx.out.line();
    ctx.out.line(`${drill.state === 'passed' ? 'DRILL PASSED' : 'DRILL FAILED'}: ${clean(drill.verdict ?? drill.state)}`);
  });
  if (drill.state !== 'passed') throw new SilentExit(ExitCode.Failed);
}

/** What a finished drill did, for people: its counts, the files opened, its first errors. */
function reportLines(d: Drill): string[] {
  const took = d.durationSeconds !== null ? ` in ${formatDuration(d.durationSeconds)}` : '';
  const lines = [`Restore drill ${d.id}: ${d.state}${took}${d.targetName ? `, from "${clean(d.targetName)}"` : ''}`];
  const project = d.project ? `project ${clean(d.project)}` : 'no completed project';
  lines.push(
    `  restored and verified ${d.files} file(s), ${formatBytes(d.bytes)}` +
      `${d.restoreSeconds !== null ? ` in ${d.restoreSeconds} s` : ''} (${project}, ${d.sampled ?? 0} older file(s) sampled)`,
  );
  const opened = d.opened ?? [];
  if (opened.length) lines.push(`  opened ${opened.length} like a person would, ${opened.filter((o) => !o.ok).length} failed`);
  if (d.locksChecked) lines.push(`  ${d.locksChecked} lock(s) checked`);
  if (d.deleteRefused === true) lines.push('  the backup key was refused when it tried to delete a locked version');
  if (d.errorCount) {
    const shown = d.errors.slice(0, ERRORS_SHOWN);
    lines.push(`  errors${d.errorCount > shown.length ? ` (first ${shown.length} of ${d.errorCount}; --json lists them)` : ''}:`);
    for (const e of shown) lines.push(`    ${KIND_LABELS[e.kind] ?? e.kind}: ${e.path ? `${clean(e.path)}: ` : ''}${clean(e.message)}`);
    lines.push(...adviceLines(shown));
  } else {
    lines.push('  0 errors');
  }
  const findings = d.findings ?? [];
  if (findings.length) {
    const shown = findings.slice(0, ERRORS_SHOWN);
    lines.push(`  not copy problems (the drill passes on them; levels and cards unchanged):`);
    for (const f of shown) lines.push(`    ${KIND_LABELS[f.kind] ?? f.kind}: ${f.path ? `${clean(f.path)}: ` : ''}${clean(f.message)}`);
    if (findings.length > shown.length) lines.push(`    … and ${findings.length - shown.length} more (--json lists them)`);
    lines.push(...adviceLines(shown));
  }
  return lines;
}

/** A finding's kind, in words. */
const KIND_LABELS: Record<string, string> = {
  damaged_copy: 'damaged copy',
  missing_copy: 'missing copy',
  unreadable_copy: 'copy not readable',
  unreadable_original: 'original cannot be opened',
  lock_not_in_force: 'lock not in force',
  delete_not_refused: 'delete not refused',
  target_unreachable: 'target',
};

/** What to do, once per kind of finding shown. */
function adviceLines(items: { kind: string; advice: string }[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of items) {
    if (seen.has(e.kind) || !e.advice) continue;
    seen.add(e.kind);
    out.push(`    what to do (${KIND_LABELS[e.kind] ?? e.kind}): ${clean(e.advice)}`);
  }
  return out;
}

/** The drill being waited for, one line redrawn in place on a terminal (nothing otherwise). */
class StatusLine {
  private drawn = false;
  private readonly since = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  log(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  draw(d: Drill): void {
    if (!this.tty) return;
    this.clear();
    const cols = Math.max(60, this.stream.columns || 100);
    const target = d.targetName ? ` from "${clean(d.targetName)}"` : '';
    const text = `Restore drill${target}: ${d.state}  ${formatDuration((Date.now() - this.since) / 1000)}`;
    this.stream.write(`${displayWidth(text) > cols - 1 ? [...text].slice(0, cols - 1).join('') : text}\n`);
    this.drawn = true;
  }

  clear(): void {
    if (!this.tty || !this.drawn) return;
    this.stream.write('\x1b[1A\r\x1b[J');
    this.drawn = false;
  }
}

// ---- list ----------------------------------------------------------------------------------

const DRILL_COLUMNS: Column<Drill>[] = [
  { header: 'WHEN', value: (d) => formatWhen(d.finishedAt ?? d.startedAt ?? d.createdAt) },
  { header: 'STATE', value: (d) => d.state },
  { header: 'TARGET', value: (d) => d.targetName ?? '-', max: 30 },
  { header: 'FILES', value: (d) => String(d.files) },
  { header: 'BYTES', value: (d) => formatBytes(d.bytes) },
  { header: 'ERRORS', value: (d) => String(d.errorCount) },
  { header: 'VERDICT', value: (d) => d.verdict ?? (SETTLED.has(d.state) ? '-' : 'not yet'), max: 100 },
];

async function list(ctx: Context, opts: ListOptions): Promise<void> {
  const api = await ctx.connect();
  const drills: Drill[] = await api.call(api.client.GET('/api/drills', { params: { query: { limit: opts.limit } } }));
  ctx.out.result(drills.map(forJson), () => {
    if (drills.length === 0) {
      ctx.out.line('No restore drills yet. Run one now with: studiovault drill run --wait');
      return;
    }
    ctx.out.line(table(drills, DRILL_COLUMNS));
    ctx.out.line();
    const passed = drills.filter((d) => d.state === 'passed').length;
    const failed = drills.filter((d) => d.state === 'failed').length;
    ctx.out.line(
      `${drills.length} drill(s): ${passed} passed, ${failed} failed${drills.length - passed - failed ? `, ${drills.length - passed - failed} going on` : ''}`,
    );
  });
}
