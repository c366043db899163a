import type { Command } from 'commander';
import type { Context } from '../context';
import { cardLabel, option, restorePatternArg, slug } from '../validate';
import { action } from './action';
import { FROM_SERVER_HELP, type FromServerOptions, fromOption, restoreFromServer } from './restore-from-server';
import { addFromTargetOptions, type FromTargetOptions, pointInTime, restoreFromTarget } from './restore-from-target';

interface RestoreOptions extends FromTargetOptions, FromServerOptions {
  fromTarget?: boolean;
}

/** A repeatable option: each value checked, all kept. */
const many =
  <T>(check: (raw: string) => T) =>
  (raw: string, previous: T[] | undefined): T[] => [...(previous ?? []), option(check)(raw)];

export function registerRestoreCommand(program: Command): void {
  const cmd = program
    .command('restore')
    .description('restore a project, some of its cards or files to a folder, every file verified by its SHA-256')
    .argument('[project-slug]', 'the project to restore (with --from-target and no project: list what the target holds)', option(slug))
    .option('--from-target', 'restore from an off-site target alone (an S3 bucket or a disk target), without the StudioVault server')
    .option('--card <label>', 'only this card (repeat for more)', many(cardLabel))
    .option(
      '--path <pattern>',
      "only these files, e.g. '*.CR3' (a name at any depth) or 'DCIM/**/*.CR3' (a path on the card); any case (repeat for more)",
      many(restorePatternArg),
    )
    .option(
      '--to <dir>',
      'the folder to restore into: files go to DIR/<card label>/<path on the card>; existing files are never overwritten',
    )
    .option(
      '--at <date>',
      'restore the backup as it was then: YYYY-MM-DD (the end of that day) or a date and time, e.g. 2026-09-12T18:30',
      option(pointInTime),
    );
  cmd.addOption(fromOption()).addHelpText('after', FROM_SERVER_HELP);
  addFromTargetOptions(cmd).addHelpText(
    'after',
    [
      '',
      'From an off-site target (disaster restore: no server, no catalog needed). Give the target as it was set up on',
      'the server: an S3 bucket with --endpoint, --region, --bucket, --prefix and a key that may list and read it, or a',
      'disk target folder with --target-path. Without a project, the command lists the projects and cards the target',
      'holds. Each file is written to a temp file, its SHA-256 checked against the card manifest, and only then given',
      'its name; a file already at its destination is never overwritten and counts as failed.',
      '',
      '--path patterns (the same rule as the server\'s restore plan and the portal): any case; a pattern without "/"',
      'matches a file or folder name at any depth (*.JPG, 100CANON), one with "/" the path on the card from its start',
      '(DCIM/**/*.CR3); * is any run of characters within a name, ? one character, [a-z] / [!a-z] one of / none of a',
      'class, ** any number of folders, \\ the next character as it is; a folder that matches brings all it holds.',
      'No extended globs (+(…), @(…)…) or braces; at most 512 characters and 32 wildcards.',
      '',
      'Exit codes: 0 every file restored and verified (or the list printed), 1 a file failed, was already there, or the',
      'restore could not start (no space, no such project, no backup at --at), 2 usage, 3 the target cannot be reached.',
      '',
      'Examples:',
      '  studiovault restore --from-target --endpoint https://s3.eu-central-003.backblazeb2.com --region eu-central-003 \\',
      '      --bucket studio-vault --prefix nas1/ --access-key-id 003a… --secret-access-key-file ~/.b2-secret',
      '  studiovault restore --from-target --bucket studio-vault --region eu-central-1 --access-key-id AKIA… \\',
      "      --secret-access-key-file ~/.aws-secret anna-ben-wedding --card A001 --path 'DCIM/**/*.CR3' --to ~/Restore",
      '  studiovault restore --from-target --target-path /Volumes/USB-BACKUP anna-ben-wedding --at 2026-09-30 --to ~/Restore',
    ].join('\n'),
  );
  // The project is optional: commander passes undefined for it.
  cmd.action(action<RestoreOptions, string[]>((ctx, opts, ...args) => restore(ctx, opts, args[0])));
}

async function restore(ctx: Context, opts: RestoreOptions, project?: string): Promise<void> {
  if (opts.fromTarget) return restoreFromTarget(ctx, opts, project);
  return restoreFromServer(ctx, opts, project);
}
