import type { Command } from 'commander';
import { Context, type GlobalOptions } from '../context';

/**
 * Adapts a command implementation to commander: builds the Context from the global options
 * (--server, --json) and passes the command's own options, then its arguments.
 * Errors propagate to main, which prints them and picks the exit code.
 */
export function action<O = Record<string, never>, A extends string[] = []>(
  run: (ctx: Context, opts: O, ...args: A) => Promise<void>,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw) => {
    const cmd = raw[raw.length - 1] as Command;
    const args = raw.slice(0, -2) as A;
    const ctx = new Context(cmd.optsWithGlobals<GlobalOptions>());
    await run(ctx, cmd.opts<O & object>() as O, ...args);
  };
}
