import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Context } from '../context';
import { CliError, CliErrorCode, ExitCode, SilentExit } from '../errors';
import { withReachRetry } from '../ingest/card-api';
import { formatBytes, formatDuration, formatRate } from '../ingest/progress';
import { clean, type Column, displayWidth, formatWhen, keyValues, table } from '../output';
import { option, targetName } from '../validate';
import { action } from './action';
import { findTarget, healthOf, runSummary } from './targets';

type BackupRun = Schemas['BackupRunDto'];
type BackupStatus = Schemas['BackupStatusDto'];
type TargetStatus = Schemas['TargetStatusDto'];

interface RunOptions {
  target?: string;
  wait?: boolean;
}

/** A run in one of these states does not change any more (a paused run waits for the next night). */
const SETTLED = new Set<BackupRun['state']>(['completed', 'failed', 'paused']);
const POLL_MS = 1000;
/** Errors of a run shown in the summary; --json has the first 100 the server keeps. */
const ERRORS_SHOWN = 5;

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('off-site backup runs: start one now, see what is off-site and immutable');

  backup
    .command('run')
    .description('back up now: every verified file that is not yet on each enabled target (or one) is uploaded')
    .option('--target <name>', 'only this target (see studiovault targets list)', option(targetName))
    .option('--wait', 'wait until every run ends (progress on stderr), then print what each did')
    .addHelpText(
      'after',
      [
        '',
        'A run already going on a target is joined, not started twice. Without --wait the runs go on on the server;',
        'follow them with studiovault backup status.',
        '',
        'Exit codes: 0 started (with --wait: every run completed without errors), 1 a run failed, paused or had errors,',
        '2 usage, 3 server unreachable, 130 interrupted (the runs go on on the server).',
        '',
        'Examples:',
        '  studiovault backup run --wait',
        '  studiovault backup run --target "B2 Frankfurt" --wait --json > run.json',
      ].join('\n'),
    )
    .action(action<RunOptions>(run));

  backup
    .command('status')
    .description('per target: health, last and active run; totals waiting, off-site and immutable')
    .action(action(status));
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

async function run(ctx: Context, opts: RunOptions): Promise<void> {
  const api = await ctx.connect();
  const target = opts.target !== undefined ? await findTarget(api, opts.target) : undefined;
  const started: BackupRun[] = await api.call(api.client.POST('/api/backup/runs', { body: target ? { targetId: target.id } : {} }));
  if (started.length === 0) {
    const disabled = (await api.call(api.client.GET('/api/targets'))).filter((x) => !x.enabled).map((x) => `"${x.name}"`);
    const hint = disabled.length
      ? `every target is disabled (${disabled.slice(0, 5).join(', ')}); enable one with studiovault targets enable NAME`
      : 'add one with studiovault targets add s3 NAME … or studiovault targets add disk NAME --path DIR';
    throw new CliError('NO_TARGETS', `there is no enabled off-site target to back up to: ${hint}`, ExitCode.Failed);
  }
  if (!opts.wait) {
    ctx.out.result(started, () => {
      for (const r of started) ctx.out.line(`${startedText(r)}`);
      ctx.out.line();
      ctx.out.line('The backup goes on on the server; follow it with: studiovault backup status');
    });
    return;
  }

  // ---- wait ----------------------------------------------------------------------------------
  const runs = new Map(started.map((r) => [r.id, r]));
  const tty = Boolean(process.stderr.isTTY);
  const board = new RunBoard(process.stderr, tty);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  if (!ctx.out.json || tty) for (const r of started) board.log(startedText(r));
  const reachTrouble = (err: CliError, delay: number) => board.log(`${err.message}; retrying in ${Math.round(delay / 1000)} s`);
  try {
    while (!abort.signal.aborted && [...runs.values()].some((r) => !SETTLED.has(r.state))) {
      board.draw([...runs.values()]);
      await sleep(POLL_MS, abort.signal);
      if (abort.signal.aborted) break;
      for (const r of [...runs.values()].filter((x) => !SETTLED.has(x.state))) {
        const fresh: BackupRun = await withReachRetry(
          () => api.call(api.client.GET('/api/backup/runs/{id}', { params: { path: { id: r.id } } })),
          undefined,
          reachTrouble,
        );
        runs.set(r.id, fresh);
      }
    }
  } finally {
    board.clear();
    process.removeListener('SIGINT', onSigint);
  }
  if (abort.signal.aborted) {
    throw new CliError(
      CliErrorCode.Cancelled,
      'stopped waiting; the backup goes on on the server (studiovault backup status)',
      ExitCode.Cancelled,
    );
  }

  const final = started.map((r) => runs.get(r.id)!);
  const good = (r: BackupRun) => r.state === 'completed' && r.errorCount === 0;
  ctx.out.result(final, () => {
    for (const r of final) {
      for (const line of summaryLines(r)) ctx.out.line(line);
    }
    ctx.out.line();
    const bad = final.filter((r) => !good(r));
    if (bad.length === 0) ctx.out.line(`Backup complete: ${final.length} run(s) completed without errors.`);
    else ctx.out.line(`BACKUP NOT COMPLETE: ${bad.map((r) => `"${clean(r.targetName)}" ${verdictOf(r)}`).join('; ')}`);
  });
  if (!final.every(good)) throw new SilentExit(ExitCode.Failed);
}

function startedText(r: BackupRun): string {
  const by = r.trigger === 'manual' ? '' : ` (started by ${r.trigger === 'ingest' ? 'an ingest' : `the ${r.trigger} schedule`})`;
  return `Backup to "${clean(r.targetName)}": run ${r.id} ${r.state}${by}`;
}

function verdictOf(r: BackupRun): string {
  if (r.state === 'completed') return `completed with ${r.errorCount} error(s)`;
  return `${r.state}${r.message ? `: ${clean(r.message)}` : ''}`;
}

function rateOf(r: BackupRun): string {
  return formatRate((r.throughputMBps ?? 0) * 1e6);
}

/** What a run did, for people: its outcome, counts, speed, and its first errors. */
function summaryLines(r: BackupRun): string[] {
  const lines = [
    `Backup to "${clean(r.targetName)}": ${r.state}${r.durationSeconds !== null ? ` in ${formatDuration(r.durationSeconds)}` : ''}`,
  ];
  lines.push(
    `  uploaded ${r.files} file(s), ${r.filesSkipped} already there, ${formatBytes(r.bytes)}, ${rateOf(r)}, ${r.errorCount} error(s)`,
  );
  if (r.message && r.state !== 'completed') lines.push(`  ${clean(r.message)}`);
  if (r.errorCount) {
    const shown = r.errors.slice(0, ERRORS_SHOWN);
    lines.push(`  errors${r.errorCount > shown.length ? ` (first ${shown.length} of ${r.errorCount}; --json lists up to 100)` : ''}:`);
    for (const e of shown) lines.push(`    ${e.path ? `${clean(e.path)}: ` : ''}${clean(e.message)}`);
  }
  return lines;
}

/** Runs being waited for, one line each, redrawn in place on a terminal (nothing otherwise). */
class RunBoard {
  private drawn = 0;
  private readonly since = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  /** A message for the person: above the lines on a terminal, a line otherwise. */
  log(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  draw(runs: BackupRun[]): void {
    if (!this.tty) return;
    this.clear();
    const cols = Math.max(60, this.stream.columns || 100);
    const elapsed = formatDuration((Date.now() - this.since) / 1000);
    const lines = runs.map(
      (r) =>
        `${clean(r.targetName)}: ${r.state}  ${r.files} file(s) uploaded, ${r.filesSkipped} already there, ` +
        `${formatBytes(r.bytes)}, ${rateOf(r)}${r.errorCount ? `, ${r.errorCount} error(s)` : ''}  ${elapsed}`,
    );
    const out = lines.map((l) => (displayWidth(l) > cols - 1 ? [...l].slice(0, cols - 1).join('') : l));
    this.stream.write(`${out.join('\n')}\n`);
    this.drawn = out.length;
  }

  clear(): void {
    if (!this.tty || this.drawn === 0) return;
    this.stream.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }
}

// ---- status --------------------------------------------------------------------------------

function activeText(r: BackupRun | null): string {
  if (!r) return '-';
  return `${r.state}: ${r.files} file(s), ${formatBytes(r.bytes)}${r.startedAt ? ` since ${formatWhen(r.startedAt)}` : ''}`;
}

const STATUS_COLUMNS: Column<TargetStatus>[] = [
  { header: 'TARGET', value: (t) => t.name, max: 30 },
  { header: 'KIND', value: (t) => t.kind },
  { header: 'IMMUTABLE', value: (t) => (t.immutable ? 'yes' : 'no') },
  { header: 'HEALTH', value: healthOf },
  { header: 'LAST RUN', value: (t) => runSummary(t.lastRun) },
  { header: 'ACTIVE RUN', value: (t) => activeText(t.activeRun) },
];

const filesBytes = (n: { files: number; bytes: number }) => `${n.files} file(s), ${formatBytes(n.bytes)}`;

async function status(ctx: Context): Promise<void> {
  const api = await ctx.connect();
  const s: BackupStatus = await api.call(api.client.GET('/api/backup/status'));
  ctx.out.result(s, () => {
    if (s.targets.length === 0) {
      ctx.out.line(
        'No off-site targets yet. An admin adds one with: studiovault targets add s3 NAME … or studiovault targets add disk NAME --path DIR',
      );
    } else {
      ctx.out.line(table(s.targets, STATUS_COLUMNS));
    }
    ctx.out.line();
    ctx.out.line(
      keyValues([
        ['Waiting', `${filesBytes(s.pending)} (verified on the NAS, not yet off-site)`],
        ['Off-site', `${filesBytes(s.offsite)} (lock not proven)`],
        ['Immutable', `${filesBytes(s.immutable)} (off-site, lock read back in force)`],
      ]),
    );
  });
}
