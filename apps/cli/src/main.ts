/**
 * `studiovault`: the workstation CLI. Bundled by esbuild into apps/cli/dist/studiovault.cjs
 * (npm run build:cli), which runs on Node >= 20 with nothing else installed.
 *
 * Exit codes: 0 ok, 1 the server answered with an error or an operation failed, 2 usage error
 * (bad flags, not logged in), 3 the server cannot be reached. With --json, stdout carries
 * exactly one JSON document, errors included: {"error": {"code", "message"}}.
 */
import { Command, CommanderError, Option } from 'commander';
import { version } from '../package.json';
import { registerAlertsCommands } from './commands/alerts';
import { registerAuthCommands } from './commands/auth';
import { registerBackupCommands } from './commands/backup';
import { registerDrillCommands } from './commands/drill';
import { registerIngestCommand } from './commands/ingest';
import { registerProjectsCommands } from './commands/projects';
import { registerRestoreCommand } from './commands/restore';
import { registerScrubCommands } from './commands/scrub';
import { registerStatusCommand } from './commands/status';
import { registerTargetsCommands } from './commands/targets';
import { registerVolumesCommands } from './commands/volumes';
import { CliError, CliErrorCode, ExitCode, SilentExit, usageError } from './errors';
import { Output } from './output';
import { normalizeServerUrl, option } from './validate';

export function createProgram(): Command {
  const program = new Command('studiovault')
    .description(
      "StudioVault workstation CLI: sign in to your studio's StudioVault, work with its projects, ingest camera cards, " +
        'manage off-site targets and backups, restore projects and run restore drills',
    )
    .version(version, '-V, --version', 'print the version')
    .addOption(
      new Option(
        '--server <url>',
        'StudioVault server, e.g. http://nas.local:3210 (default: $STUDIOVAULT_SERVER, else the one you logged in to)',
      ).argParser(option(normalizeServerUrl)),
    )
    .option('--json', 'print one JSON document on stdout (errors too), for scripts')
    .configureHelp({ showGlobalOptions: true })
    // Errors are printed by run(), in the format of the chosen output; commander only throws.
    .configureOutput({ outputError: () => undefined })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  STUDIOVAULT_SERVER   server URL (overrides the config file)',
        '  STUDIOVAULT_TOKEN    personal API token (overrides the config file)',
        '  STUDIOVAULT_CONFIG   config file (default: $XDG_CONFIG_HOME/studiovault/config.json or ~/.config/studiovault/config.json)',
        '  STUDIOVAULT_STATE_DIR  where ingest keeps its resume state (default: $XDG_STATE_HOME/studiovault or ~/.local/state/studiovault)',
        '',
        'Exit codes: 0 ok, 1 failed (the server said no), 2 usage error or not logged in, 3 server unreachable.',
      ].join('\n'),
    );
  registerAuthCommands(program);
  registerProjectsCommands(program);
  registerIngestCommand(program);
  registerStatusCommand(program);
  registerTargetsCommands(program);
  registerAlertsCommands(program);
  registerBackupCommands(program);
  registerRestoreCommand(program);
  registerDrillCommands(program);
  registerVolumesCommands(program);
  registerScrubCommands(program);
  return program;
}

/** `--json` anywhere before `--`; known even when commander refuses the command line. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof CommanderError) {
    // A command group without its command (`studiovault projects`): commander printed its help.
    if (err.code === 'commander.help') return usageError('a command is missing; see the list of commands above');
    return usageError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(CliErrorCode.Internal, `unexpected failure: ${message}`, ExitCode.Failed);
}

/** Runs one command line (argv without node and script); resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    // --help and --version end in a CommanderError with exit code 0.
    if (err instanceof CommanderError && err.exitCode === 0) return ExitCode.Ok;
    if (err instanceof SilentExit) return err.exitCode;
    const error = toCliError(err);
    new Output(wantsJson(args)).error(error);
    if (error.code === CliErrorCode.Internal && process.env.STUDIOVAULT_DEBUG && err instanceof Error)
      process.stderr.write(`${err.stack}\n`);
    return error.exitCode;
  }
}

// `studiovault projects list | head -1`: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Ok);
  throw err;
});

void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
