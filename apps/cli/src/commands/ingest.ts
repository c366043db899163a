import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import * as tus from 'tus-js-client';
import { USER_AGENT } from '../api';
import type { Context } from '../context';
import { CliError, CliErrorCode, ExitCode, SilentExit, usageError } from '../errors';
import {
  type Card,
  CardApi,
  type CardFile as ServerFile,
  describeUnverified,
  isTransient,
  isVerified,
  totalCount,
  untilAnswered,
  unverifiedLines,
  verifiedCount,
  withReachRetry,
} from '../ingest/card-api';
import { type CardFile, type CardWalk, CardWalkError, walkCard } from '../ingest/card-walk';
import { HashingFile, hashWholeFile, type SourceHashes } from '../ingest/hashing-reader';
import { IngestState, ingestStateDir, pruneStaleStates } from '../ingest/ingest-state';
import { type FileProgress, formatBytes, formatDuration, formatRate, Progress } from '../ingest/progress';
import { IngestHttpStack } from '../ingest/http-stack';
import { IDLE_TIMEOUT_MS, tusUpload, uploadIdOf } from '../ingest/tus-upload';
import { clean } from '../output';
import { cardLabel, nonNegativeInt, option, positiveInt, slug } from '../validate';
import { action } from './action';

interface IngestOptions {
  project: string;
  label?: string;
  concurrency: number;
  wait: boolean;
  waitTimeout: number;
}

const MAX_CONCURRENCY = 16;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_WAIT_SECONDS = 600;
const POLL_MS = 250;

export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description(
      "upload a camera card to a project: hashed as it is read, resumable, verified on the NAS, then 'SAFE TO FORMAT' or why not",
    )
    .argument('<card-path>', "the card's root folder, e.g. /Volumes/EOS_DIGITAL")
    .requiredOption('--project <slug>', 'the project the card belongs to (see studiovault projects list)', option(slug))
    .option('--label <label>', "the card's name in the project, its folder on the NAS (default: the card folder's name)", option(cardLabel))
    .option(
      '--concurrency <n>',
      `files uploaded at once (1 to ${MAX_CONCURRENCY})`,
      option(positiveInt(MAX_CONCURRENCY)),
      DEFAULT_CONCURRENCY,
    )
    .option('--wait-timeout <seconds>', "how long to wait for the server's verification", option(nonNegativeInt), DEFAULT_WAIT_SECONDS)
    .addOption(new Option('--no-wait', 'upload and seal every file, then exit without waiting for the verification'))
    .addHelpText(
      'after',
      [
        '',
        'Every file is hashed (xxh64 and SHA-256) as it is read for the upload, and the server checks the bytes it',
        'wrote against those hashes; then it re-reads both copies from their disks. Run the same command again after',
        'any interruption (pulled cable, closed laptop, Ctrl-C): uploads resume at their byte offset. Every run reads',
        'and hashes every file of the card: a file whose bytes are already verified is skipped, a changed one is',
        'uploaded as a new version. While waiting, the CLI retries through server restarts and 5xx answers.',
        '',
        'Exit codes: 0 every file verified on two devices, 1 not (the last line says why), 2 usage, 3 server unreachable.',
        '',
        'Examples:',
        '  studiovault ingest /Volumes/EOS_DIGITAL --project anna-ben-wedding --label A001',
        '  studiovault ingest /media/card --project anna-ben-wedding --json > A001.json',
      ].join('\n'),
    )
    .action(action<IngestOptions, [string]>(ingest));
}

/** What happened to one file of the card in this run. */
interface FileResult {
  relativePath: string;
  size: number;
  kind: 'file' | 'history';
  /** stored, duplicate, twin, version, history (sealed now); skipped (already on the server); failed. */
  status: string;
  reason?: string;
  protection?: string;
  storedPath?: string;
  xxh64?: string;
  sha256?: string;
  /** The offset an earlier, interrupted upload resumed at. */
  resumedFrom?: number;
  /** Bytes read from the card only to hash them (the prefix the server already had). */
  prefixHashed?: number;
  /** Offsets the upload went on at after network failures in this run (a pulled cable, a restarted server). */
  networkResumes?: number[];
  /** What the server noticed about the name (a case twin, bidi controls, stored under another name). */
  warnings?: { code: string; message: string }[];
  error?: { code: string; message: string };
}

/** Errors after which no further file is tried: every one would fail the same way. */
const FATAL_CODES = new Set([
  CliErrorCode.ServerUnreachable,
  'INSUFFICIENT_STORAGE',
  'UNAUTHENTICATED',
  'TOKEN_INVALID',
  'FORBIDDEN',
  'CARD_NOT_FOUND',
  CliErrorCode.Cancelled,
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ingest(ctx: Context, opts: IngestOptions, cardPathArg: string): Promise<void> {
  // ---- what the user gave -----------------------------------------------------------------
  const cardPath = resolve(cardPathArg);
  let info;
  try {
    info = await stat(cardPath);
  } catch {
    throw usageError(`no such folder: ${cardPathArg}; give the card's root folder, e.g. /Volumes/EOS_DIGITAL`);
  }
  if (!info.isDirectory()) throw usageError(`${cardPathArg} is not a folder; give the card's root folder, e.g. /Volumes/EOS_DIGITAL`);
  let label: string;
  try {
    label = opts.label ?? cardLabel(basename(cardPath));
  } catch (err) {
    throw usageError(`${(err as Error).message}; name the card with --label, e.g. --label A001`);
  }
  const api = await ctx.connect();
  const cards = new CardApi(api);
  const project = opts.project;

  // ---- the card ---------------------------------------------------------------------------
  let walk: CardWalk;
  try {
    walk = await walkCard(cardPath);
  } catch (err) {
    if (err instanceof CardWalkError) throw new CliError('CARD_UNREADABLE', err.message, ExitCode.Failed);
    throw err;
  }
  if (walk.files.length === 0) {
    const junk = walk.skipped.length
      ? ` (only ${walk.skipped.length} item(s) that are not media: ${walk.skipped
          .map((s) => s.rel)
          .slice(0, 5)
          .join(', ')})`
      : '';
    throw new CliError(
      'EMPTY_CARD',
      `the card ${cardPathArg} has no files to ingest${junk}; is this the card's root folder?`,
      ExitCode.Failed,
    );
  }

  const { card: announced, created } = await cards.announce(project, { label, files: walk.files.length, bytes: walk.bytes });
  const cardId = announced.id;
  const stateDir = ingestStateDir(ctx.env);
  await pruneStaleStates(stateDir);
  const state = await IngestState.load(stateDir, { server: api.server, project, label, cardPath: walk.root });
  if (state.problem) ctx.out.warn(`the resume state ${state.path} is not usable (${state.problem}); uploads begin at byte 0`);
  const tty = Boolean(process.stderr.isTTY);
  const progress = new Progress({ stream: process.stderr, tty, json: ctx.out.json, label });
  const say = (text: string) => progress.log(text);
  let stateWarned = false;
  /** The state file cannot be written: the ingest goes on, it only cannot resume. Said once. */
  const stateTrouble = (err: Error) => {
    if (stateWarned) return;
    stateWarned = true;
    say(`warning: cannot write the resume state ${state.path} (${err.message}); an interruption will restart files from byte 0`);
  };
  state.cardId = cardId;
  await state.save().catch(stateTrouble);
  if (!ctx.out.json || tty) {
    say(
      `${created ? 'Ingesting' : 'Ingesting again'} ${walk.files.length} file(s), ${formatBytes(walk.bytes)}, ` +
        `as card "${clean(label)}" of project ${project}${created ? '' : ' (the card exists: every file is read again, files already verified are skipped)'}`,
    );
  }

  // Files the server already has for this card (re-ingest), by path in NFC.
  const onServer = new Map<string, ServerFile[]>();
  if (!created) {
    for (const f of await cards.files(cardId)) {
      const key = f.relativePath.normalize('NFC');
      onServer.set(key, [...(onServer.get(key) ?? []), f]);
    }
  }

  // ---- upload -----------------------------------------------------------------------------
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const results: FileResult[] = [];
  let fatal: CliError | undefined;
  const started = Date.now();
  const endpoint = `${api.server}/files`;
  const httpStack = new IngestHttpStack(IDLE_TIMEOUT_MS);

  const upload = async (f: CardFile, kind: 'file' | 'history', fp: FileProgress): Promise<FileResult> => {
    const base: FileResult = { relativePath: f.rel, size: f.size, kind, status: 'failed' };
    let fromScratch = 0;
    let resumedAgain = false;
    let firstResume: number | null | undefined;
    let prefixHashed = 0;
    const networkResumes: number[] = [];
    for (;;) {
      const record = state.get(f.rel, f.size, f.mtimeMs);
      const file = await HashingFile.open(f.abs, f.size);
      fp.watch(file);
      try {
        fp.setPhase('uploading');
        const metadata: Record<string, string> = { cardId, relativePath: f.rel, mtime: new Date(f.mtimeMs).toISOString() };
        if (kind === 'history') metadata.kind = 'history';
        const sent = await tusUpload(
          {
            endpoint,
            token: api.token!,
            userAgent: USER_AGENT,
            file,
            metadata,
            httpStack,
            uploadUrl: record?.uploadUrl,
            signal: abort.signal,
            onUrl: async (url) => {
              state.update(f.rel, f.size, f.mtimeMs, { uploadUrl: url, sealed: undefined });
              // Before the first byte: a killed CLI then resumes this upload. Without a state file
              // the upload still goes on, it only cannot resume.
              await state.save().catch((err: Error) => stateTrouble(err));
            },
            onUrlGone: () => state.update(f.rel, f.size, f.mtimeMs, { uploadUrl: undefined }),
            onProgress: (bytes) => {
              fp.update(bytes);
              if (fp.phase !== 'uploading') fp.setPhase('uploading');
            },
            onRetry: (reason, delay) => {
              fp.setPhase('retrying', reason);
              say(`${clean(f.rel)}: ${clean(reason)}; retrying in ${Math.round(delay / 1000)} s`);
            },
            onResumed: (offset) => {
              if (firstResume !== undefined) return; // a second attempt of this run (after a mismatch)
              progress.event({ event: 'resume', relativePath: f.rel, offset, size: f.size });
              if (offset > 0) say(`${clean(f.rel)}: resumed at ${formatBytes(offset)} of ${formatBytes(f.size)}`);
            },
            onNetworkResume: (offset) => {
              networkResumes.push(offset);
              progress.event({ event: 'resume', relativePath: f.rel, offset, size: f.size, afterNetworkFailure: true });
              say(`${clean(f.rel)}: going on at ${formatBytes(offset)} of ${formatBytes(f.size)}`);
            },
          },
          api.server,
        );
        if (firstResume === undefined) firstResume = sent.resumedFrom;
        // Always from this run's read of the card (a finished upload that only needs its seal
        // reads the card once more): the server seals only bytes that match the card as it is now.
        fp.setPhase('hashing');
        const hashes: SourceHashes = await file.finish();
        prefixHashed += file.prefixRead;
        state.update(f.rel, f.size, f.mtimeMs, { uploadUrl: sent.url, ...hashes });
        void state.save().catch(stateTrouble);
        fp.setPhase('sealing');
        try {
          const sealed = await withReachRetry(
            () => cards.seal(uploadIdOf(sent.url), hashes),
            undefined,
            (err, delay) => say(`${clean(f.rel)}: sealing: ${clean(err.message)}; retrying in ${Math.round(delay / 1000)} s`),
          );
          state.update(f.rel, f.size, f.mtimeMs, { sealed: { outcome: sealed.outcome, at: new Date().toISOString() } });
          void state.save().catch(stateTrouble);
          const warnings = sealed.warnings ?? [];
          for (const w of warnings) say(`warning: ${clean(f.rel)}: ${clean(w.message)} (${w.code})`);
          return {
            ...base,
            status: sealed.outcome,
            ...(kind === 'file' ? { protection: sealed.protection } : {}),
            storedPath: sealed.storedPath,
            ...hashes,
            ...(firstResume !== null && firstResume !== undefined ? { resumedFrom: firstResume } : {}),
            ...(prefixHashed ? { prefixHashed } : {}),
            ...(networkResumes.length ? { networkResumes } : {}),
            ...(warnings.length ? { warnings } : {}),
          };
        } catch (err) {
          if (!(err instanceof CliError)) throw err;
          if ((err.code === 'CHECKSUM_MISMATCH' || err.code === 'UPLOAD_NOT_FOUND') && fromScratch === 0) {
            // The bytes that arrived differ from the card (nothing was stored), or the upload
            // ended on the server: once more from byte 0, read and hashed afresh.
            say(`${clean(f.rel)}: ${clean(err.message)} (${err.code}); uploading it again from the start`);
            progress.event({ event: 'retry', relativePath: f.rel, code: err.code, message: err.message });
            fromScratch++;
            state.update(f.rel, f.size, f.mtimeMs, { uploadUrl: undefined, xxh64: undefined, sha256: undefined, sealed: undefined });
            await state.save().catch(stateTrouble);
            fp.update(0);
            continue;
          }
          if (err.code === 'UPLOAD_INCOMPLETE' && !resumedAgain) {
            resumedAgain = true; // resume first, then seal
            continue;
          }
          if (err.code === 'CHECKSUM_MISMATCH') {
            throw new CliError(
              err.code,
              `${err.message} It arrived different again after a second upload: check the card reader and the cable.`,
              ExitCode.Failed,
              err.details,
            );
          }
          throw err;
        }
      } finally {
        await file.close();
      }
    }
  };

  const handleFile = async (f: CardFile, kind: 'file' | 'history'): Promise<FileResult> => {
    const fp = progress.file(f.rel, f.size);
    try {
      if (kind === 'file') {
        const skipped = await alreadyThere(f, fp);
        if (skipped) return skipped;
      } else {
        const record = state.get(f.rel, f.size, f.mtimeMs);
        if (record?.sealed?.outcome === 'history') {
          return { relativePath: f.rel, size: f.size, kind, status: 'skipped', reason: 'already kept with the card' };
        }
      }
      return await upload(f, kind, fp);
    } catch (err) {
      const e = err instanceof CliError ? err : new CliError('READ_FAILED', (err as Error).message ?? String(err), ExitCode.Failed);
      if (FATAL_CODES.has(e.code)) fatal ??= e;
      if (e.code !== CliErrorCode.Cancelled) say(`failed: ${clean(f.rel)}: ${clean(e.message)} (${e.code})`);
      return { relativePath: f.rel, size: f.size, kind, status: 'failed', error: { code: e.code, message: e.message } };
    } finally {
      fp.end();
    }
  };

  /** A file the server already has (same path in NFC, same size, same content): not sent again. */
  const alreadyThere = async (f: CardFile, fp: FileProgress): Promise<FileResult | undefined> => {
    const candidates = (onServer.get(f.rel.normalize('NFC')) ?? []).filter((s) => s.size === f.size && s.protection !== 'uploading');
    if (!candidates.length) return undefined;
    // Same content? Always read now (no upload): the verdict this run prints comes from the
    // bytes on the card, never from a cache of sizes and times (a re-shot card can give a file
    // new bytes with the same name, size and mtime).
    const record = state.get(f.rel, f.size, f.mtimeMs);
    fp.setPhase('reading', 'comparing with the copy on the NAS');
    const hashes = await hashWholeFile(f.abs, f.size);
    const sha256 = hashes.sha256;
    if (record?.sha256 && record.sha256 !== sha256) {
      // The file changed since this workstation read it: what the state says of it (an upload
      // of the old bytes, its seal) is of another file.
      state.update(f.rel, f.size, f.mtimeMs, { uploadUrl: undefined, sealed: undefined, ...hashes });
    } else state.update(f.rel, f.size, f.mtimeMs, hashes);
    const match = candidates.find((c) => c.sha256 === sha256);
    if (!match) return undefined; // other content under that name: uploaded, kept as a version
    const reason = isVerified(match.protection)
      ? 'already verified'
      : match.protection === 'copied'
        ? 'already uploaded, verification pending'
        : `already on the server, ${match.protection.replace('_', ' ')}`;
    return {
      relativePath: f.rel,
      size: f.size,
      kind: 'file',
      status: 'skipped',
      reason,
      protection: match.protection,
      xxh64: match.xxh64 ?? undefined,
      sha256,
    };
  };

  // Uploads the server still has for files that changed since (other size or mtime) are ended.
  await endStaleUploads(state, walk, api.token!, httpStack);

  progress.start(walk.bytes + walk.history.reduce((a, f) => a + f.size, 0), walk.files.length + walk.history.length);
  try {
    // The card's own ASC MHL history first: the server verifies the files against it when it seals the card.
    for (const h of walk.history) {
      if (fatal || abort.signal.aborted) break;
      results.push(await handleFile(h, 'history'));
    }
    let next = 0;
    const worker = async () => {
      while (!fatal && !abort.signal.aborted && next < walk.files.length) {
        const f = walk.files[next++];
        results.push(await handleFile(f, 'file'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, walk.files.length) }, worker));
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    await state.save().catch((err: Error) => ctx.out.warn(`could not write the resume state ${state.path}: ${err.message}`));
  }
  if (abort.signal.aborted) {
    throw new CliError(CliErrorCode.Cancelled, 'interrupted; run the same command again to resume where it stopped', ExitCode.Cancelled);
  }
  const uploadSeconds = (Date.now() - started) / 1000;

  // ---- verification -----------------------------------------------------------------------
  const order = new Map([...walk.history, ...walk.files].map((f, i) => [f.rel, i]));
  results.sort((a, b) => order.get(a.relativePath)! - order.get(b.relativePath)!);
  const failed = results.filter((r) => r.status === 'failed');
  let card: Card | undefined;
  let timedOut = false;
  const reachTrouble = (err: CliError, delay: number) => ctx.out.note(`${err.message}; retrying in ${Math.round(delay / 1000)} s`);
  const waitStarted = Date.now();
  if (!fatal) {
    card = await withReachRetry(() => cards.card(cardId), undefined, reachTrouble);
    if (opts.wait) {
      const deadline = Date.now() + opts.waitTimeout * 1000;
      let lastNote = 0;
      // Files still to re-read, or the card's ASC MHL seal still being written (state "verifying").
      // (Every file verified but the card still "copied": the server is between the last file's
      // level and the card's state, a moment before the seal is queued.)
      const settling = (c: Card) => c.state === 'copied' && totalCount(c) > 0 && verifiedCount(c) === totalCount(c);
      while (card.levels.copied > 0 || card.levels.uploading > 0 || card.state === 'verifying' || settling(card)) {
        if (Date.now() >= deadline) {
          timedOut = true;
          break;
        }
        if (Date.now() - lastNote > (tty ? 5000 : 15000)) {
          lastNote = Date.now();
          // A volume offline is what the wait is for: say which, and why, not "0 of N verified".
          const offline = card.offlineVolumes?.[0];
          if (!ctx.out.json || tty)
            progress.log(
              offline
                ? `waiting: ${offline.role} volume offline (${clean(offline.reason)}); ${verifiedCount(card)} of ${totalCount(card)} file(s) verified on two devices`
                : `verifying on the NAS: ${verifiedCount(card)} of ${totalCount(card)} file(s) verified on two devices…`,
            );
        }
        await sleep(POLL_MS);
        // Through server restarts, refused connections and 5xx answers (its database coming
        // back): keep asking, with backoff, until the verdict or the time limit.
        try {
          card = await untilAnswered(
            () => cards.card(cardId),
            deadline,
            () => (!ctx.out.json || tty ? progress.log('server unavailable, retrying…') : undefined),
          );
        } catch (err) {
          if (!isTransient(err)) throw err;
          timedOut = true;
          break;
        }
      }
    }
  }
  // The card's files as the server has them now: each file's level, and those not verified.
  const serverFiles = card ? await withReachRetry(() => cards.files(cardId), undefined, reachTrouble) : [];
  const unverified = serverFiles.filter((f) => !isVerified(f.protection));
  const levelOf = new Map(serverFiles.map((f) => [`${f.relativePath.normalize('NFC')}\n${f.sha256}`, f.protection]));
  for (const r of results) {
    const level = r.kind === 'file' && r.sha256 ? levelOf.get(`${r.relativePath.normalize('NFC')}\n${r.sha256}`) : undefined;
    if (level) r.protection = level;
  }

  // ---- the verdict -------------------------------------------------------------------------
  const count = (s: string) => results.filter((r) => r.kind === 'file' && r.status === s).length;
  const sentFiles = results.filter((r) => r.kind === 'file' && ['stored', 'duplicate', 'twin', 'version'].includes(r.status));
  const transferredBytes = progress.transferred;
  const counts = {
    files: walk.files.length,
    bytes: walk.bytes,
    uploaded: sentFiles.length,
    skipped: count('skipped'),
    duplicates: count('duplicate'),
    twins: count('twin'),
    versions: count('version'),
    failed: failed.length,
    history: results.filter((r) => r.kind === 'history' && r.status !== 'failed').length,
    ignored: walk.skipped.length,
  };
  const verified = card ? verifiedCount(card) : 0;
  const total = card ? totalCount(card) : 0;
  // Each file of the card as read in this run: its bytes (path and SHA-256) verified on the NAS.
  // The card's counts alone are not enough: they say nothing of bytes the server never got.
  const notOnNas = results.filter(
    (r) => r.kind === 'file' && r.status !== 'failed' && !(r.protection && r.sha256 && isVerified(r.protection)),
  );
  const allVerified =
    notOnNas.length === 0 &&
    !!card &&
    failed.length === 0 &&
    !timedOut &&
    card.levels.at_risk === 0 &&
    total > 0 &&
    verified === total &&
    total >= walk.files.length;

  let verdict: { safe: boolean; reason: string };
  if (fatal) verdict = { safe: false, reason: `${fatal.message}; run the same command again to resume` };
  else if (failed.length) verdict = { safe: false, reason: `${failed.length} file(s) of the card were not uploaded` };
  else if (!card) verdict = { safe: false, reason: 'the card state is unknown' };
  else if (!opts.wait && !card.verdict.safe)
    verdict = { safe: false, reason: `${card.verdict.reason} (not waiting: check with studiovault status ${project} --card ${label})` };
  else if (timedOut) {
    verdict = {
      safe: false,
      reason: `${card.verdict.reason} (still verifying after ${opts.waitTimeout} s; check with studiovault status ${project} --card ${label})`,
    };
  } else if (card.verdict.safe && notOnNas.length)
    verdict = {
      safe: false,
      reason: `${notOnNas.length} file(s) of the card are not verified on the NAS as they are on the card now (${notOnNas
        .slice(0, 3)
        .map((r) => r.relativePath)
        .join(', ')}); run the same command again`,
    };
  else verdict = card.verdict;
  const exitCode = fatal
    ? fatal.exitCode
    : opts.wait
      ? allVerified
        ? ExitCode.Ok
        : ExitCode.Failed
      : failed.length
        ? ExitCode.Failed
        : ExitCode.Ok;

  const resumedFrom = Object.fromEntries(results.filter((r) => r.resumedFrom !== undefined).map((r) => [r.relativePath, r.resumedFrom!]));
  const document = {
    server: api.server,
    project,
    card: {
      id: cardId,
      label,
      created,
      path: walk.root,
      state: card?.state ?? null,
      levels: card?.levels ?? null,
      sameDevice: card?.sameDevice ?? null,
      warnings: card?.warnings ?? [],
    },
    counts,
    transfer: {
      bytes: transferredBytes,
      seconds: Number(uploadSeconds.toFixed(3)),
      bytesPerSecond: uploadSeconds > 0 ? Math.round(transferredBytes / uploadSeconds) : null,
      verifySeconds: Number(((Date.now() - waitStarted) / 1000).toFixed(3)),
    },
    resumedFrom,
    files: results,
    ignored: walk.skipped.map((x) => ({ relativePath: x.rel, reason: x.reason })),
    notVerified: unverified.map(describeUnverified),
    verified: { files: verified, of: total },
    waited: opts.wait,
    timedOut,
    verdict,
    ...(fatal ? { error: { code: fatal.code, message: fatal.message } } : {}),
  };

  ctx.out.result(document, () => {
    const o = (t = '') => ctx.out.line(t);
    o(`Card "${clean(label)}" of project ${project}: ${counts.files} file(s), ${formatBytes(counts.bytes)} (${walk.root})`);
    o(
      `Uploaded ${counts.uploaded} (${formatBytes(transferredBytes)} in ${formatDuration(uploadSeconds)}, ${formatRate(uploadSeconds > 0 ? transferredBytes / uploadSeconds : 0)}), ` +
        `skipped ${counts.skipped}, duplicates ${counts.duplicates}, twins ${counts.twins}, versions ${counts.versions}, failed ${counts.failed}`,
    );
    for (const [rel, at] of Object.entries(resumedFrom)) o(`Resumed ${clean(rel)} at ${formatBytes(at)}`);
    const skippedWhy = new Map<string, number>();
    for (const r of results)
      if (r.status === 'skipped') skippedWhy.set(r.reason ?? 'skipped', (skippedWhy.get(r.reason ?? 'skipped') ?? 0) + 1);
    for (const [why, n] of skippedWhy) o(`Skipped ${n} (${why})`);
    if (counts.history) o(`ASC MHL history: ${counts.history} file(s) kept with the card`);
    if (walk.skipped.length) {
      const shown = walk.skipped.slice(0, 8).map((s) => `${clean(s.rel)} (${s.reason})`);
      o(`Not uploaded: ${shown.join(', ')}${walk.skipped.length > shown.length ? `, and ${walk.skipped.length - shown.length} more` : ''}`);
    }
    const special = results.filter((x) => x.status === 'version' || x.status === 'twin');
    for (const r of special.slice(0, 10)) {
      const what = r.status === 'twin' ? 'Twin (stored once, as' : 'Version (other content under that name, kept as';
      o(`${what} ${clean(r.storedPath ?? '')}): ${clean(r.relativePath)}`);
    }
    if (special.length > 10) o(`… and ${special.length - 10} more twins or versions (--json lists them)`);
    for (const r of failed) o(`FAILED ${clean(r.relativePath)}: ${clean(r.error?.message ?? '')} (${r.error?.code})`);
    const nameWarnings = card?.warnings ?? [];
    if (nameWarnings.length) {
      o(`Name warnings (stored as given; ${nameWarnings.length === 100 ? 'the first 100' : nameWarnings.length}):`);
      for (const w of nameWarnings) o(`  ${clean(w.relativePath)}: ${clean(w.message)} (${w.code})`);
    }
    if (card) {
      o(`Verified on two devices: ${verified} of ${total} file(s)${card.sameDevice ? ' (warning: both volumes are on one device)' : ''}`);
      if (unverified.length) {
        o('Not verified:');
        for (const f of unverified.slice(0, 50)) for (const l of unverifiedLines(f)) o(`  ${clean(l)}`);
        if (unverified.length > 50) o(`  … and ${unverified.length - 50} more (studiovault status ${project} --card ${label} --json)`);
      }
    }
    o(verdict.safe ? 'SAFE TO FORMAT' : `NOT SAFE: ${clean(verdict.reason)}`);
  });
  if (exitCode !== ExitCode.Ok) throw new SilentExit(exitCode);
}

/** Ends (tus termination) uploads of files that changed on the card since (another size or mtime). Best effort. */
async function endStaleUploads(state: IngestState, walk: CardWalk, token: string, httpStack: tus.HttpStack): Promise<void> {
  const now = new Map([...walk.files, ...walk.history].map((f) => [f.rel, f]));
  for (const [rel, record] of Object.entries(state.doc.files)) {
    const f = now.get(rel);
    if (!record.uploadUrl || record.sealed || (f && f.size === record.size && f.mtimeMs === record.mtimeMs)) continue;
    try {
      await tus.Upload.terminate(record.uploadUrl, {
        headers: { Authorization: `Bearer ${token}`, 'User-Agent': USER_AGENT },
        retryDelays: null,
        httpStack,
      });
    } catch {
      // gone already, or the server says no: it expires on its own
    }
    state.forget(rel);
  }
}
