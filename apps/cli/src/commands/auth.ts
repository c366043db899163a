import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import { Api } from '../api';
import type { StoredConfig } from '../config-store';
import type { Context } from '../context';
import { CliError, CliErrorCode, usageError } from '../errors';
import { clean, keyValues } from '../output';
import { ask, readStdin } from '../prompt';
import { action } from './action';

type CreatedToken = Schemas['CreatedTokenDto'];
type Session = Schemas['SessionDto'];

const TOKEN_NAME_MAX = 100;
/** Revoking on logout must not hang a shell when the NAS is away. */
const REVOKE_TIMEOUT_MS = 5_000;

interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  tokenName?: string;
}

interface LogoutOptions {
  local?: boolean;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('sign in to a StudioVault server and store a personal API token for this workstation')
    .option('--email <email>', 'your e-mail address (asked when not given)')
    .option('--password-stdin', 'read the password from standard input (for scripts; needs --email)')
    .option('--token-name <name>', 'name of the token, as the portal lists it (default: cli@<hostname>)')
    .addHelpText(
      'after',
      '\nExamples:\n  studiovault login --server http://nas.local:3210\n  printf %s "$PASSWORD" | studiovault login --server http://nas.local:3210 --email ada@studio.example --password-stdin',
    )
    .action(action<LoginOptions>(login));

  program
    .command('logout')
    .description("revoke this workstation's token on the server and forget it locally")
    .option('--local', 'only forget the token on this workstation; do not contact the server')
    .action(action<LogoutOptions>(logout));

  program.command('whoami').description('show who the stored token (or $STUDIOVAULT_TOKEN) signs in as').action(action(whoami));

  program
    .command('password')
    .description('change your password (your portal sessions end; API tokens stay valid)')
    .option('--password-stdin', 'read the current password and then the new one, one per line, from standard input (for scripts)')
    .addHelpText(
      'after',
      '\nExamples:\n  studiovault password\n  printf \'%s\\n%s\\n\' "$OLD" "$NEW" | studiovault password --password-stdin',
    )
    .action(action<PasswordOptions>(changePassword));
}

interface PasswordOptions {
  passwordStdin?: boolean;
}

const MIN_PASSWORD = 12;

async function changePassword(ctx: Context, opts: PasswordOptions): Promise<void> {
  const api = await ctx.connect();
  let currentPassword: string;
  let newPassword: string;
  if (opts.passwordStdin) {
    const lines = (await readStdin()).split(/\r?\n/);
    if (lines.length < 2 || !lines[0] || !lines[1]) {
      throw usageError('--password-stdin needs two lines on standard input: the current password, then the new one');
    }
    [currentPassword, newPassword] = lines;
  } else {
    currentPassword = await ask('Current password: ', { hidden: true });
    newPassword = await ask(`New password (at least ${MIN_PASSWORD} characters): `, { hidden: true });
    if ((await ask('New password again: ', { hidden: true })) !== newPassword) throw usageError('the two new passwords differ');
  }
  if (newPassword.length < MIN_PASSWORD) throw usageError(`the new password needs at least ${MIN_PASSWORD} characters`);
  await api.call(api.client.POST('/api/auth/password', { body: { currentPassword, newPassword } }));
  ctx.out.result({ server: api.server, changed: true }, () =>
    ctx.out.line('Password changed. Your portal sessions have ended; sign in there again with the new password.'),
  );
}

export function defaultTokenName(host = hostname()): string {
  return `cli@${host}`.slice(0, TOKEN_NAME_MAX);
}

async function login(ctx: Context, opts: LoginOptions): Promise<void> {
  let config: StoredConfig = {};
  try {
    config = await ctx.store.read();
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== CliErrorCode.ConfigInvalid) throw err;
    ctx.out.warn(`${err.message}; login replaces it`);
  }
  const server = ctx.server(config);
  if (!server) throw usageError('which server? run studiovault login --server URL, e.g. --server http://nas.local:3210');
  if (opts.passwordStdin && !opts.email) throw usageError('--password-stdin needs --email (standard input carries the password)');
  const explicitName = opts.tokenName?.trim();
  if (opts.tokenName !== undefined && (!explicitName || explicitName.length > TOKEN_NAME_MAX)) {
    throw usageError(`--token-name must have 1 to ${TOKEN_NAME_MAX} characters`);
  }
  const email = (opts.email ?? (await ask(`E-mail for ${server}: `))).trim();
  if (!email) throw usageError('an e-mail address is needed to sign in');
  const password = opts.passwordStdin ? await readStdin() : await ask(`Password for ${email}: `, { hidden: true });
  if (!password) throw usageError(opts.passwordStdin ? 'standard input held no password' : 'a password is needed to sign in');

  // The login this one replaces (the config holds one); its token is revoked below.
  const previous = config.token && config.server ? { ...config, server: config.server } : undefined;
  const api = new Api(server);
  const create = (tokenName: string) => api.call(api.client.POST('/api/auth/token', { body: { email, password, tokenName } }));
  const name = explicitName ?? defaultTokenName();
  let previousRevoked = false;
  let created: CreatedToken;
  try {
    created = await create(name);
  } catch (err) {
    if (explicitName || !(err instanceof CliError) || err.code !== 'TOKEN_NAME_TAKEN') throw err;
    // The workstation's name is taken, most likely by this workstation's earlier login: that
    // token is replaced now, so revoke it and take the name again. If the name belongs to a
    // token this config no longer knows, use a name that cannot clash.
    if (previous?.server === server && previous.tokenId && previous.tokenName === name) {
      previousRevoked = (await revoke(previous.server, previous)) !== 'failed';
    }
    try {
      created = previousRevoked ? await create(name) : await create(uniqueName(name));
    } catch (again) {
      if (!(again instanceof CliError) || again.code !== 'TOKEN_NAME_TAKEN') throw again;
      created = await create(uniqueName(name));
    }
  }

  await ctx.store.write({
    ...config,
    server,
    token: created.token,
    tokenId: created.id,
    tokenName: created.name,
    tokenPrefix: created.prefix,
    email,
    savedAt: new Date().toISOString(),
  });
  // The token this one replaces would otherwise stay valid with nobody holding it.
  if (previous && !previousRevoked && previous.token !== created.token) {
    const outcome = await revoke(previous.server, previous);
    if (previous.server !== server) {
      if (outcome === 'failed') {
        ctx.out.warn(`the login to ${previous.server} is replaced, but its token could not be revoked there; revoke it in that portal`);
      } else {
        ctx.out.note(`note: the login to ${previous.server} is replaced and its token revoked`);
      }
    }
  }

  const authed = new Api(server, created.token);
  const session: Session = await authed.call(authed.client.GET('/api/auth/session'));
  if (ctx.envToken) ctx.out.note('note: STUDIOVAULT_TOKEN is set in this environment and takes precedence over the stored token');
  const token = { id: created.id, name: created.name, prefix: created.prefix, createdAt: created.createdAt, expiresAt: created.expiresAt };
  ctx.out.result({ server, user: session.user, token, config: ctx.store.path }, () => {
    ctx.out.line(`Logged in to ${server} as ${clean(session.user.name)} <${clean(session.user.email)}> (${session.user.role}).`);
    ctx.out.line(`Token "${clean(created.name)}" (${created.prefix}…) saved in ${ctx.store.path}.`);
  });
}

/** "cli@host 2026-05-01T10:22:03Z": unique enough for a second token of the same workstation. */
function uniqueName(name: string): string {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return `${name.slice(0, TOKEN_NAME_MAX - stamp.length - 1)} ${stamp}`;
}

/** Revokes a stored token with itself. 'gone': it was already revoked or expired. */
async function revoke(server: string, config: StoredConfig): Promise<'revoked' | 'gone' | 'failed'> {
  if (!config.token || !config.tokenId) return 'failed';
  const api = new Api(server, config.token, REVOKE_TIMEOUT_MS);
  try {
    await api.call(api.client.DELETE('/api/tokens/{id}', { params: { path: { id: config.tokenId } } }));
    return 'revoked';
  } catch (err) {
    if (err instanceof CliError && ['TOKEN_INVALID', 'NOT_FOUND'].includes(err.code)) return 'gone';
    return 'failed';
  }
}

async function logout(ctx: Context, opts: LogoutOptions): Promise<void> {
  const config = await ctx.store.read();
  if (!config.token) {
    ctx.out.result({ server: config.server ?? null, loggedOut: false, tokenRevoked: false }, () =>
      ctx.out.line('Not logged in; nothing to forget.'),
    );
    return;
  }
  const server = config.server ?? null;
  const outcome = opts.local || !config.server ? 'skipped' : await revoke(config.server, config);
  await ctx.store.clearLogin();
  const name = clean(config.tokenName ?? config.tokenPrefix ?? 'token');
  if (outcome === 'failed') {
    ctx.out.warn(`could not revoke the token "${name}" on ${server}; it stays valid until you revoke it in the portal`);
  }
  if (ctx.envToken) ctx.out.note('note: STUDIOVAULT_TOKEN is still set in this environment');
  const tokenRevoked = outcome === 'revoked' || outcome === 'gone';
  ctx.out.result({ server, loggedOut: true, tokenRevoked }, () => {
    const what = tokenRevoked ? `token "${name}" revoked and forgotten` : `token "${name}" forgotten on this workstation`;
    ctx.out.line(`Logged out of ${server ?? 'the server'}: ${what}.`);
  });
}

async function whoami(ctx: Context): Promise<void> {
  const api = await ctx.connect();
  const session: Session = await api.call(api.client.GET('/api/auth/session'));
  const { user } = session;
  const source = ctx.credentialSource();
  ctx.out.result({ server: api.server, via: session.via, credentials: source, user }, () => {
    ctx.out.line(
      keyValues([
        ['User', `${user.name} <${user.email}>`],
        ['Role', user.role],
        ['Server', api.server],
        ['Token from', source === 'env' ? 'STUDIOVAULT_TOKEN' : ctx.store.path],
      ]),
    );
  });
}
