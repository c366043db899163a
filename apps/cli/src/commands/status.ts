import type { Command } from 'commander';
import type { Context } from '../context';
import { CliError, ExitCode, usageError } from '../errors';
import { type Card, CardApi, describeUnverified, isVerified, totalCount, unverifiedLines, verifiedCount } from '../ingest/card-api';
import { formatBytes } from '../ingest/progress';
import { clean, type Column, keyValues, table } from '../output';
import { slug } from '../validate';
import { action } from './action';

interface StatusOptions {
  card?: string;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("a project's cards: how many files are at each protection level, and whether each card is safe to format")
    .argument('<project-slug>', 'the project slug (see studiovault projects list)')
    .option('--card <label>', 'one card: its counts, its verdict and its files that are not verified (at risk: with both hashes)')
    .addHelpText('after', '\nExamples:\n  studiovault status anna-ben-wedding\n  studiovault status anna-ben-wedding --card A001 --json')
    .action(action<StatusOptions, [string]>(status));
}

const verdictText = (c: Card) => (c.verdict.safe ? 'SAFE TO FORMAT' : `NOT SAFE: ${c.verdict.reason}`);

const CARD_COLUMNS: Column<Card>[] = [
  { header: 'CARD', value: (c) => c.label, max: 30 },
  { header: 'STATE', value: (c) => c.state },
  { header: 'FILES', value: (c) => String(totalCount(c)) },
  { header: 'SIZE', value: (c) => formatBytes(c.totalBytes) },
  { header: 'UPLOADING', value: (c) => String(c.levels.uploading + c.uploadsInFlight) },
  { header: 'COPIED', value: (c) => String(c.levels.copied) },
  { header: 'VERIFIED', value: (c) => String(c.levels.verified) },
  { header: 'OFF-SITE', value: (c) => String(c.levels.offsite) },
  { header: 'IMMUTABLE', value: (c) => String(c.levels.immutable) },
  { header: 'DRILLED', value: (c) => String(c.levels.drilled) },
  { header: 'AT RISK', value: (c) => String(c.levels.at_risk) },
  { header: 'VERDICT', value: verdictText },
];

async function status(ctx: Context, opts: StatusOptions, projectArg: string): Promise<void> {
  let project: string;
  try {
    project = slug(projectArg);
  } catch (err) {
    throw usageError(`${(err as Error).message}; find a project's slug with studiovault projects list --search TEXT`);
  }
  const wanted = opts.card?.normalize('NFC').trim();
  if (opts.card !== undefined && !wanted) throw usageError('--card needs a card label, e.g. --card A001');
  const api = await ctx.connect();
  const cards = new CardApi(api);
  const all = await cards.projectCards(project);

  if (wanted === undefined) {
    ctx.out.result({ project, cards: all }, () => {
      if (all.length === 0) {
        ctx.out.line(`No cards in project ${project} yet. Ingest one with: studiovault ingest CARD-PATH --project ${project}`);
        return;
      }
      ctx.out.line(table(all, CARD_COLUMNS));
      const safe = all.filter((c) => c.verdict.safe).length;
      ctx.out.line();
      ctx.out.line(`${all.length} card(s), ${safe} safe to format`);
    });
    return;
  }

  const card = all.find((c) => c.label.normalize('NFC') === wanted);
  if (!card) {
    const known = all.map((c) => c.label).slice(0, 10);
    throw new CliError(
      'NOT_FOUND',
      `project ${project} has no card labelled "${wanted}"${known.length ? ` (its cards: ${known.join(', ')})` : ' (it has no cards yet)'}`,
      ExitCode.Failed,
    );
  }
  const notVerified = totalCount(card) > verifiedCount(card) ? (await cards.files(card.id)).filter((f) => !isVerified(f.protection)) : [];
  ctx.out.result({ project, card, notVerified: notVerified.map(describeUnverified) }, () => {
    const l = card.levels;
    ctx.out.line(
      keyValues([
        ['Card', card.label],
        ['Project', project],
        ['State', card.state],
        [
          'Files',
          `${totalCount(card)}${card.announcedFiles !== null ? ` of ${card.announcedFiles} announced` : ''}, ${formatBytes(card.totalBytes)}`,
        ],
        [
          'Protection',
          `uploading ${l.uploading + card.uploadsInFlight}, copied ${l.copied}, verified ${l.verified}, off-site ${l.offsite}, immutable ${l.immutable}, drilled ${l.drilled}, at risk ${l.at_risk}`,
        ],
        ['Two devices', card.sameDevice ? 'NO: both volumes are on one device' : 'yes'],
        ['Verified at', card.verifiedAt],
      ]),
    );
    if (notVerified.length) {
      ctx.out.line();
      ctx.out.line(`Not verified (${notVerified.length}):`);
      for (const f of notVerified) for (const line of unverifiedLines(f)) ctx.out.line(`  ${clean(line)}`);
    }
    if (card.warnings.length) {
      ctx.out.line();
      ctx.out.line(`Name warnings (stored as given; ${card.warnings.length === 100 ? 'the first 100' : card.warnings.length}):`);
      for (const w of card.warnings) ctx.out.line(`  ${clean(w.relativePath)}: ${clean(w.message)} (${w.code})`);
    }
    ctx.out.line();
    ctx.out.line(clean(verdictText(card)));
  });
}
