import { readFile, stat } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Api } from '../api';
import type { Context } from '../context';
import { CliError, ExitCode, SilentExit, usageError } from '../errors';
import { formatBytes } from '../ingest/progress';
import { clean, type Column, formatWhen, keyValues, table } from '../output';
import { endpointUrl, lockMode, option, serverPath, targetName } from '../validate';
import { action } from './action';

export type Target = Schemas['TargetDto'];
type Tested = Schemas['TargetTestedDto'];
type Report = Schemas['PreflightReportDto'];
type Check = Schemas['PreflightCheckDto'];
type CreateTarget = Schemas['CreateTargetDto'];
type BackupRun = Schemas['BackupRunDto'];
type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** The server refuses longer secret keys (CreateTargetDto); a bigger file is the wrong file. */
const SECRET_MAX = 1024;

interface S3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  pathStyle?: boolean;
  storageClass?: string;
  accessKeyId: string;
  secretAccessKeyFile?: string;
  serverSecretFile?: string;
  lockMode?: LockMode;
  notImmutable?: boolean;
}

interface DiskOptions {
  path: string;
  rotatesOffsite?: boolean;
  removable?: boolean;
  immutable?: boolean;
  lockMode?: LockMode;
}

const lockModeOption = () =>
  new Option('--lock-mode <mode>', 'Object Lock mode of every upload: governance (default) or compliance').argParser(option(lockMode));

export function registerTargetsCommands(program: Command): void {
  const targets = program
    .command('targets')
    .description('off-site targets (admin): S3-compatible buckets with Object Lock, and disk folders on the NAS');

  const add = targets.command('add').description('add an off-site target; its connection test runs first and is printed check by check');

  add
    .command('s3')
    .description('add an S3-compatible bucket (AWS S3, Backblaze B2, Wasabi, MinIO, Ceph RGW)')
    .argument('<name>', 'a name for the target, e.g. "B2 Frankfurt" (quote it)')
    .option('--endpoint <url>', 'the S3 endpoint, e.g. https://s3.eu-central-003.backblazeb2.com (omit for AWS S3)', option(endpointUrl))
    .requiredOption('--region <region>', 'the region, e.g. eu-central-003 (us-east-1 for MinIO and Ceph RGW)')
    .requiredOption('--bucket <bucket>', 'the bucket (for immutable backups it must have Object Lock enabled)')
    .option('--prefix <prefix>', 'a folder in the bucket for this NAS, e.g. studio-nas/')
    .option('--path-style', 'path-style URLs (endpoint/bucket/key), the default with --endpoint')
    .option('--no-path-style', 'virtual-hosted URLs (bucket.endpoint/key)')
    .option('--storage-class <class>', "storage class of the uploads, e.g. STANDARD_IA (default: the bucket's)")
    .requiredOption('--access-key-id <id>', 'the access key id of a writer key (no delete or bypass rights)')
    .option(
      '--secret-access-key-file <file>',
      'a file on this computer holding the secret access key (sent once, stored encrypted on the server)',
    )
    .option('--server-secret-file <path>', 'instead: a file on the server holding the secret key, read at every use', option(serverPath))
    .addOption(lockModeOption())
    .option('--not-immutable', 'do not lock the uploads (a bucket without Object Lock; the copies can be deleted)')
    .addHelpText(
      'after',
      [
        '',
        'The secret access key is never printed and never passed on the command line. Checks: reachable, credentials',
        'valid, bucket exists, versioning on, Object Lock on, can put object, can set retention. An immutable target',
        '(the default) whose bucket has no Object Lock is refused.',
        '',
        'Examples:',
        '  studiovault targets add s3 "B2 Frankfurt" --endpoint https://s3.eu-central-003.backblazeb2.com --region eu-central-003 \\',
        '      --bucket studio-vault --prefix nas1/ --access-key-id 003a… --secret-access-key-file ~/.b2-secret',
        '  studiovault targets add s3 aws --region eu-central-1 --bucket studio-vault --access-key-id AKIA… \\',
        '      --server-secret-file /run/secrets/aws-secret --lock-mode compliance',
      ].join('\n'),
    )
    .action(action<S3Options, [string]>(addS3));

  add
    .command('disk')
    .description('add a folder on the NAS (a USB drive, a second share) as a target')
    .argument('<name>', 'a name for the target, e.g. "USB rotation"')
    .requiredOption('--path <dir>', 'an empty folder on the server (where the drive is mounted), e.g. /mnt/usb-backup', option(serverPath))
    .option('--rotates-offsite', 'the drive leaves the building in turns: its copies count as off-site')
    .option(
      '--removable',
      'the drive is unplugged at times: while away its runs wait (not fail), plugged in it catches up; a reminder after 30 days unseen',
    )
    .option('--immutable', 'lock the uploads (emulated: StudioVault refuses deletes, but anyone holding the drive can delete files)')
    .addOption(lockModeOption())
    .addHelpText('after', '\nExample:\n  studiovault targets add disk "USB rotation" --path /mnt/usb-backup --rotates-offsite --removable')
    .action(action<DiskOptions, [string]>(addDisk));

  targets.command('list').description('list the off-site targets: where, lock mode, health and last run').action(action(list));

  targets
    .command('test')
    .description("run a target's connection test again and print each check (exit 1 when a check the target needs failed)")
    .argument('<name>', 'the target name (see studiovault targets list)')
    .action(action<Record<string, never>, [string]>(test));

  targets
    .command('disable')
    .description('stop backing up to a target (its copies stay); runs skip it until it is enabled again')
    .argument('<name>', 'the target name')
    .action(action<Record<string, never>, [string]>((ctx, _opts, name) => setEnabled(ctx, name, false)));

  targets
    .command('enable')
    .description('back up to a disabled target again (its connection test must pass)')
    .argument('<name>', 'the target name')
    .action(action<Record<string, never>, [string]>((ctx, _opts, name) => setEnabled(ctx, name, true)));

  targets
    .command('remove')
    .description('delete a target that holds no copies (one that does can only be disabled)')
    .argument('<name>', 'the target name')
    .action(action<Record<string, never>, [string]>(remove));
}

// ---- add ------------------------------------------------------------------------------------

function nameArg(raw: string): string {
  try {
    return targetName(raw);
  } catch (err) {
    throw usageError((err as Error).message);
  }
}

async function addS3(ctx: Context, opts: S3Options, nameRaw: string): Promise<void> {
  const name = nameArg(nameRaw);
  const region = opts.region.trim();
  const bucket = opts.bucket.trim();
  const accessKeyId = opts.accessKeyId.trim();
  if (!region) throw usageError('--region must not be blank, e.g. --region eu-central-003');
  if (!bucket) throw usageError('--bucket must not be blank');
  if (!accessKeyId) throw usageError('--access-key-id must not be blank');
  if (opts.secretAccessKeyFile !== undefined && opts.serverSecretFile !== undefined) {
    throw usageError(
      'give the secret key one way: --secret-access-key-file (a file here) or --server-secret-file (a file on the server), not both',
    );
  }
  if (opts.secretAccessKeyFile === undefined && opts.serverSecretFile === undefined) {
    throw usageError(
      'the secret access key is missing: --secret-access-key-file FILE (a file on this computer) or --server-secret-file PATH (a file on the server)',
    );
  }
  const body: CreateTarget = {
    kind: 's3',
    name,
    endpoint: opts.endpoint,
    region,
    bucket,
    prefix: opts.prefix?.trim() || undefined,
    pathStyle: opts.pathStyle,
    storageClass: opts.storageClass?.trim() || undefined,
    accessKeyId,
    lockMode: opts.lockMode,
    immutable: opts.notImmutable ? false : undefined,
  };
  if (opts.serverSecretFile !== undefined) body.secretAccessKeyFile = opts.serverSecretFile;
  else body.secretAccessKey = await readSecretFile(opts.secretAccessKeyFile!, (m) => ctx.out.warn(m));
  await create(ctx, body);
}

async function addDisk(ctx: Context, opts: DiskOptions, nameRaw: string): Promise<void> {
  const name = nameArg(nameRaw);
  await create(ctx, {
    kind: 'disk',
    name,
    path: opts.path,
    rotatesOffsite: opts.rotatesOffsite ? true : undefined,
    removable: opts.removable ? true : undefined,
    immutable: opts.immutable ? true : undefined,
    lockMode: opts.lockMode,
  });
}

/**
 * The secret access key from a file on this computer: one line (a trailing newline is dropped),
 * never shown, not even in an error. A file others may read is used, with a warning.
 */
export async function readSecretFile(path: string, warn: (message: string) => void): Promise<string> {
  const what = `the secret key file ${path}`;
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw usageError(`cannot read ${what}: ${fileProblem(err)}`);
  }
  if (!info.isFile()) throw usageError(`${what} is not a file; --secret-access-key-file takes a file holding only the secret access key`);
  if (info.size > SECRET_MAX + 2) {
    throw usageError(`${what} has ${formatBytes(info.size)}: too much for a secret access key; it must hold only the key`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${what}: ${fileProblem(err)}`);
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (!secret.trim()) throw usageError(`${what} is empty; put the secret access key in it`);
  if (/[\r\n]/.test(secret)) throw usageError(`${what} has more than one line; it must hold only the secret access key`);
  if (secret.trim() !== secret) throw usageError(`${what} has blanks around the key; it must hold only the secret access key`);
  if (secret.length > SECRET_MAX)
    throw usageError(`${what} holds more than ${SECRET_MAX} characters; it must hold only the secret access key`);
  if (process.platform !== 'win32' && info.mode & 0o044) {
    warn(
      `${what} can be read by other users of this computer (mode ${(info.mode & 0o777).toString(8)}); restrict it with chmod 600 ${path}`,
    );
  }
  return secret;
}

function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return code ?? (err as Error).message;
}

async function create(ctx: Context, body: CreateTarget): Promise<void> {
  const api = await ctx.connect();
  let tested: Tested;
  try {
    tested = await api.call(api.client.POST('/api/targets', { body }));
  } catch (err) {
    if (err instanceof CliError && err.code === 'TARGET_PREFLIGHT_FAILED') refused(ctx, err);
    throw err;
  }
  const { target, test } = tested;
  ctx.out.result(tested, () => {
    for (const line of checkLines(test, target.immutable)) ctx.out.line(line);
    ctx.out.line();
    ctx.out.line(`Added off-site target "${clean(target.name)}" (${target.kind}).`);
    ctx.out.line(describe(target));
  });
}

/**
 * The server refused a target whose connection test failed (nothing was saved): the reason,
 * then each check as ✓/✗/– lines on stderr. With --json the standard error document.
 */
function refused(ctx: Context, err: CliError): void {
  if (ctx.out.json) return;
  ctx.out.error(new CliError(err.code, err.message, err.exitCode, undefined, err.requestId));
  for (const d of err.details ?? []) ctx.out.note(`  ${refusedCheckLine(d)}`);
  throw new SilentExit(err.exitCode);
}

/** The server's details line "name: status (detail)" as a check line; other lines as they are. */
function refusedCheckLine(detail: string): string {
  const m = /^(.+?): (ok|failed|skipped)(?: \(([\s\S]*)\))?$/.exec(detail);
  if (!m) return clean(detail);
  const [, name, status, why] = m;
  return `${MARK[status as Check['status']]} ${clean(name)}${why ? `: ${clean(why)}` : ''}`;
}

// ---- checks ---------------------------------------------------------------------------------

const MARK: Record<Check['status'], string> = { ok: '✓', failed: '✗', skipped: '–' };

/** Checks every target needs; the lock checks only count for an immutable one (as the server decides when saving). */
const LOCK_CHECKS = new Set(['objectLock', 'retention']);

export function isRequired(check: Check, immutable: boolean): boolean {
  return immutable || !LOCK_CHECKS.has(check.id);
}

/** Checks the target needs that did not pass (failed, or skipped because an earlier one failed). */
export function failedChecks(report: Pick<Report, 'checks'>, immutable: boolean): Check[] {
  return report.checks.filter((c) => isRequired(c, immutable) && c.status !== 'ok');
}

/** One line per check: "✓ reachable: …"; a lock check a target that is not immutable does not need is marked "–". */
export function checkLines(report: Report, immutable: boolean): string[] {
  const lines = report.checks.map((c) => {
    const needed = isRequired(c, immutable);
    const mark = c.status === 'failed' && !needed ? MARK.skipped : MARK[c.status];
    const note = !needed && c.status !== 'ok' ? ' (not needed: uploads to this target are not locked)' : '';
    return `${mark} ${clean(c.name)}: ${clean(c.detail)}${note}`;
  });
  if (report.defaultRetention) {
    lines.push(`  default retention of the bucket: ${report.defaultRetention.mode} ${report.defaultRetention.days} day(s)`);
  }
  return lines;
}

// ---- list, test, enable, disable, remove --------------------------------------------------

/** The target with this name (case-insensitive), found in the list (the API addresses targets by id). */
export async function findTarget(api: Api, nameRaw: string): Promise<Target> {
  const name = nameArg(nameRaw);
  const all: Target[] = await api.call(api.client.GET('/api/targets'));
  const wanted = name.toLowerCase();
  const found = all.find((t) => t.name.normalize('NFC').toLowerCase() === wanted);
  if (found) return found;
  const known = all.map((t) => `"${t.name}"`).slice(0, 10);
  throw new CliError(
    'TARGET_NOT_FOUND',
    `there is no off-site target named "${name}"${known.length ? ` (targets: ${known.join(', ')})` : ' (there are no targets yet)'}`,
    ExitCode.Failed,
  );
}

/** "bucket/prefix/ at host", or the folder on the NAS. */
export function whereOf(t: Target): string {
  if (t.kind === 'disk') {
    const notes = [
      t.rotatesOffsite ? 'rotates off-site' : '',
      t.removable ? `removable, ${t.drive === 'away' ? 'unplugged' : 'plugged in'}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return `${t.path ?? '?'}${notes ? ` (${notes})` : ''}`;
  }
  let host = t.region ? `s3.${t.region}.amazonaws.com` : 'AWS S3';
  if (t.endpoint) {
    try {
      host = new URL(t.endpoint).host;
    } catch {
      host = t.endpoint;
    }
  }
  return `${t.bucket ?? '?'}${t.prefix ? `/${t.prefix.replace(/^\/+/, '')}` : ''} at ${host}`;
}

export function runSummary(r: BackupRun | null | undefined): string {
  if (!r) return 'never';
  const errors = r.errorCount ? `, ${r.errorCount} error(s)` : '';
  return `${r.state} ${formatWhen(r.finishedAt ?? r.startedAt ?? r.createdAt)}${errors}`;
}

export const healthOf = (t: { health: string; enabled: boolean }) => (t.enabled ? t.health : `${t.health}, disabled`);

const TARGET_COLUMNS: Column<Target>[] = [
  { header: 'NAME', value: (t) => t.name, max: 30 },
  { header: 'KIND', value: (t) => t.kind },
  { header: 'WHERE', value: whereOf, max: 60 },
  { header: 'LOCK', value: (t) => (t.immutable ? t.lockMode.toLowerCase() : '-') },
  { header: 'IMMUTABLE', value: (t) => (t.immutable ? 'yes' : 'no') },
  { header: 'HEALTH', value: healthOf },
  { header: 'LAST RUN', value: (t) => runSummary(t.lastRun) },
];

async function list(ctx: Context): Promise<void> {
  const api = await ctx.connect();
  const all: Target[] = await api.call(api.client.GET('/api/targets'));
  ctx.out.result(all, () => {
    if (all.length === 0) {
      ctx.out.line(
        'No off-site targets yet. Add one with: studiovault targets add s3 NAME … or studiovault targets add disk NAME --path DIR',
      );
      return;
    }
    ctx.out.line(table(all, TARGET_COLUMNS));
    ctx.out.line();
    ctx.out.line(`${all.length} target(s), ${all.filter((t) => t.enabled).length} enabled`);
  });
}

async function test(ctx: Context, _opts: unknown, nameRaw: string): Promise<void> {
  nameArg(nameRaw);
  const api = await ctx.connect();
  const target = await findTarget(api, nameRaw);
  const report: Report = await api.call(api.client.POST('/api/targets/{id}/test', { params: { path: { id: target.id } } }));
  const failed = failedChecks(report, target.immutable);
  const doc = {
    target: { id: target.id, name: target.name, kind: target.kind, immutable: target.immutable },
    usable: failed.length === 0,
    ...report,
  };
  ctx.out.result(doc, () => {
    for (const line of checkLines(report, target.immutable)) ctx.out.line(line);
    ctx.out.line();
    if (failed.length === 0) ctx.out.line(`Target "${clean(target.name)}" passes every check it needs.`);
    else ctx.out.line(`FAILED: target "${clean(target.name)}": ${clean(failed[0].name)}: ${clean(failed[0].detail)}`);
  });
  if (failed.length) throw new SilentExit(ExitCode.Failed);
}

async function setEnabled(ctx: Context, nameRaw: string, enabled: boolean): Promise<void> {
  nameArg(nameRaw);
  const api = await ctx.connect();
  const target = await findTarget(api, nameRaw);
  let tested: Schemas['TargetUpdatedDto'];
  try {
    tested = await api.call(api.client.PATCH('/api/targets/{id}', { params: { path: { id: target.id } }, body: { enabled } }));
  } catch (err) {
    if (err instanceof CliError && err.code === 'TARGET_PREFLIGHT_FAILED') refused(ctx, err);
    throw err;
  }
  ctx.out.result(tested, () => {
    if (enabled) {
      if (tested.test) for (const line of checkLines(tested.test, tested.target.immutable)) ctx.out.line(line);
      ctx.out.line();
      ctx.out.line(`Enabled off-site target "${clean(tested.target.name)}": backups upload to it again.`);
    } else {
      ctx.out.line(
        `Disabled off-site target "${clean(tested.target.name)}": backups skip it (its copies stay); studiovault targets enable to undo.`,
      );
    }
  });
}

async function remove(ctx: Context, _opts: unknown, nameRaw: string): Promise<void> {
  nameArg(nameRaw);
  const api = await ctx.connect();
  const target = await findTarget(api, nameRaw);
  await api.call(api.client.DELETE('/api/targets/{id}', { params: { path: { id: target.id } } }));
  ctx.out.result({ removed: { id: target.id, name: target.name } }, () => ctx.out.line(`Removed off-site target "${clean(target.name)}".`));
}

// ---- one target -----------------------------------------------------------------------------

function yesNo(v: boolean | undefined): string {
  return v ? 'yes' : 'no';
}

function lastTestText(t: Target): string {
  if (!t.lastTest) return 'never';
  const failed = failedChecks(t.lastTest, t.immutable);
  const what = failed.length ? `failed: ${failed.map((c) => c.name).join(', ')}` : 'passed every check it needs';
  return `${formatWhen(t.lastTest.at)}, ${what}`;
}

function describe(t: Target): string {
  const pairs: Array<[string, string | null | undefined]> = [
    ['Name', t.name],
    ['Kind', t.kind === 's3' ? 'S3-compatible bucket' : 'folder on the NAS'],
  ];
  if (t.kind === 's3') {
    pairs.push(
      ['Endpoint', t.endpoint ?? 'AWS S3'],
      ['Region', t.region],
      ['Bucket', t.bucket],
      ['Prefix', t.prefix],
      ['Path style', yesNo(t.pathStyle)],
      ['Storage class', t.storageClass ?? "the bucket's default"],
      ['Access key id', t.accessKeyId],
      [
        'Secret key',
        t.secretSource === 'file' ? `read from ${t.secretAccessKeyFile ?? 'a file'} on the server` : 'stored encrypted on the server',
      ],
    );
  } else {
    pairs.push(['Path', t.path], ['Rotates off-site', yesNo(t.rotatesOffsite)]);
  }
  pairs.push(
    ['Immutable', t.immutable ? `yes: ${t.lockMode} lock on every upload, read back` : 'no: uploads are not locked'],
    ['Enabled', yesNo(t.enabled)],
    ['Health', t.health],
    ['Last test', lastTestText(t)],
    ['Last run', runSummary(t.lastRun)],
    ['ID', t.id],
  );
  return keyValues(pairs);
}
