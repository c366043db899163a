/**
 * `studiovault scrub run|status`: the scrub re-reads every local copy on both volumes from its
 * device and compares it with the source hash; a damaged or missing copy is healed from a good one.
 */
import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Api } from '../api';
import type { Context } from '../context';
import { ExitCode, SilentExit } from '../errors';
import { formatBytes } from '../ingest/progress';
import { clean, formatWhen } from '../output';
import { action } from './action';

type Status = Schemas['ScrubStatusDto'];
type Pass = Schemas['ScrubPassDto'];

interface RunOptions {
  project?: string;
  wait?: boolean;
}

const POLL_MS = 1000;
const KIND_WORDS: Record<string, string> = {
  mismatch: 'bytes differ',
  missing: 'file missing',
  short: 'file shorter',
  long: 'file longer',
  read_error: 'read error',
};

function getStatus(api: Api): Promise<Status> {
  return api.call(api.client.GET('/api/scrub/status'));
}

function passLine(p: Pass): string {
  const pct = p.bytesTotal ? ` (${Math.floor((100 * p.bytesDone) / p.bytesTotal)} %)` : '';
  const paused = p.pausedReason ? `, paused: ${clean(p.pausedReason)}` : '';
  return (
    `${p.trigger} pass ${p.state}, started ${formatWhen(p.startedAt)}: ${p.filesDone} of ${p.filesTotal} copies, ` +
    `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}${pct}, ${p.findings} finding(s)${paused}`
  );
}

function statusLines(s: Status): string[] {
  const c = s.coverage;
  const lines = [
    s.running ? `Running: ${passLine(s.running)}` : 'No scrub pass running.',
    s.last ? `Last: ${passLine(s.last)}` : 'No scrub pass yet.',
    `Cycle of ${c.cycleDays} day(s): ${c.scrubbedInCycle} of ${c.copies} local copies scrubbed, ${c.checkedInCycle} read from the device` +
      `${c.oldestCheckAt ? `; oldest check ${formatWhen(c.oldestCheckAt)}` : ''}`,
    `I/O cap: ${s.settings.rateMBps ? `${s.settings.rateMBps} MB/s` : 'none'}; quiet hours: ${
      s.settings.quietStart ? `${s.settings.quietStart}-${s.settings.quietEnd}` : 'none'
    }; quarantine kept ${s.settings.quarantineDays} day(s)`,
    `Open findings: ${s.openFindings}`,
  ];
  if (s.findings.length) {
    lines.push('Latest findings:');
    for (const f of s.findings.slice(0, 10)) {
      const outcome = f.outcome === 'healed' ? `healed from ${f.healedFrom}` : f.outcome.replace(/_/g, ' ');
      lines.push(
        `  ${formatWhen(f.foundAt)} file ${f.assetId} ${f.volume ?? ''} copy: ${KIND_WORDS[f.kind] ?? f.kind} (${f.foundBy}): ${outcome}`,
      );
    }
  }
  return lines;
}

async function run(ctx: Context, opts: RunOptions): Promise<void> {
  const api = await ctx.connect();
  const started = await api.call(api.client.POST('/api/scrub/runs', { body: { project: opts.project } }));
  if (!opts.wait) {
    ctx.out.result(started, () => {
      ctx.out.line(`Scrub pass ${started.id} started: ${started.filesTotal} copies, ${formatBytes(started.bytesTotal)}.`);
      ctx.out.line('It goes on on the server; see its progress with: studiovault scrub status');
    });
    return;
  }
  let status = await getStatus(api);
  // Wait for the pass, then for the heals of what it found (they run as their own jobs).
  while (status.running?.id === started.id || (status.last?.id === started.id && status.findings.some((f) => f.outcome === 'open'))) {
    if (!ctx.out.json && status.running) ctx.out.note(passLine(status.running));
    await new Promise((r) => setTimeout(r, POLL_MS));
    status = await getStatus(api);
  }
  ctx.out.result(status, () => {
    for (const l of statusLines(status)) ctx.out.line(l);
  });
  if (status.openFindings > 0) throw new SilentExit(ExitCode.Failed);
}

export function registerScrubCommands(program: Command): void {
  const scrub = program
    .command('scrub')
    .description('re-read every local copy from its device and compare it with the source hash; damaged copies are healed');

  scrub
    .command('run')
    .description('start a scrub pass now (admin)')
    .option('--project <slug>', "only this project's copies")
    .option('--wait', 'wait until the pass and its heals are done, then print the status')
    .addHelpText(
      'after',
      [
        '',
        'The server also scrubs by itself, so that every copy is re-read at least once per cycle (admin settings:',
        'cycle days, I/O cap in MB/s, quiet hours). A copy that differs, is missing, shorter or longer, or cannot be',
        'read is rewritten from a good copy (the other volume, else off-site); the damaged bytes go to',
        '<volume>/.studiovault-quarantine/<date>/.',
        '',
        'Exit codes: 0 started (with --wait: no open findings), 1 a file has no good copy or is still being healed,',
        '2 usage, 3 server unreachable.',
      ].join('\n'),
    )
    .action(action<RunOptions>(run));

  scrub
    .command('status')
    .description("the scrub's progress, the cycle's coverage and the latest findings")
    .action(
      action(async (ctx) => {
        const api = await ctx.connect();
        const status = await getStatus(api);
        ctx.out.result(status, () => {
          for (const l of statusLines(status)) ctx.out.line(l);
        });
      }),
    );
}
