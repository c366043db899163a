import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError, CliErrorCode, ExitCode } from './errors';

/**
 * The user's CLI configuration: the server and the personal API token `login` created.
 * One file, readable by its owner only (0600), replaced atomically so a crash never leaves
 * half a file or a moment where the token is readable by others.
 */
export interface StoredConfig {
  /** Normalized server URL (see parseServerUrl). */
  server?: string;
  /** The personal API token itself. Never printed. */
  token?: string;
  tokenId?: string;
  tokenName?: string;
  /** First characters of the token, as the portal shows them (safe to print). */
  tokenPrefix?: string;
  email?: string;
  savedAt?: string;
  /** Settings written by later versions are kept as they are. */
  [key: string]: unknown;
}

/** Keys that belong to a login; `logout` removes them. */
const LOGIN_KEYS = ['token', 'tokenId', 'tokenName', 'tokenPrefix', 'email'] as const;

/** `$STUDIOVAULT_CONFIG`, else `$XDG_CONFIG_HOME/studiovault/config.json`, else `~/.config/studiovault/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STUDIOVAULT_CONFIG) return resolve(env.STUDIOVAULT_CONFIG);
  const base = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config');
  return join(base, 'studiovault', 'config.json');
}

export class ConfigStore {
  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** The stored configuration; an empty one when the file does not exist. */
  async read(): Promise<StoredConfig> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new CliError(
        CliErrorCode.ConfigInvalid,
        `cannot read the config file ${this.path}: ${(err as Error).message}`,
        ExitCode.Failed,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CliError(
        CliErrorCode.ConfigInvalid,
        `the config file ${this.path} is not a JSON object; delete it and run studiovault login again`,
        ExitCode.Failed,
      );
    }
    await this.checkMode();
    return parsed as StoredConfig;
  }

  /** Writes the whole configuration: temporary file (0600) in the same folder, fsync, rename. */
  async write(config: StoredConfig): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.config.tmp`);
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    const handle = await open(tmp, flags, 0o600);
    try {
      // The mode given to open() is reduced by the umask, never widened; make it exact.
      if (process.platform !== 'win32') await handle.chmod(0o600);
      await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`, 'utf8');
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await syncDir(dir);
  }

  /** Forgets the login (token and who), keeps the server and any other setting. */
  async clearLogin(): Promise<StoredConfig> {
    const config = await this.read();
    const next: StoredConfig = { ...config };
    for (const key of LOGIN_KEYS) delete next[key];
    next.savedAt = new Date().toISOString();
    await this.write(next);
    return next;
  }

  /** Like ssh: say so when others can read the file that holds the token. */
  private async checkMode(): Promise<void> {
    if (process.platform === 'win32') return;
    try {
      const s = await stat(this.path);
      if (s.mode & 0o077) {
        this.warn(`the config file ${this.path} can be read by other users; fix it with: chmod 600 ${this.path}`);
      }
    } catch {
      // best effort
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
