import { Api } from './api';
import { ConfigStore, configPath, type StoredConfig } from './config-store';
import { notLoggedIn, usageError } from './errors';
import { Output } from './output';
import { normalizeServerUrl } from './validate';

/** Options every command accepts (defined once on the program). */
export interface GlobalOptions {
  /** Already normalized by the option's parser. */
  server?: string;
  json?: boolean;
}

/** What a command runs with: where to print, where the config lives, the environment. */
export class Context {
  readonly out: Output;
  readonly store: ConfigStore;

  constructor(
    readonly opts: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.out = new Output(Boolean(opts.json));
    this.store = new ConfigStore(configPath(env), (m) => this.out.warn(m));
  }

  /** `STUDIOVAULT_TOKEN`, when set and not blank. */
  get envToken(): string | undefined {
    return this.env.STUDIOVAULT_TOKEN?.trim() || undefined;
  }

  /** The server to talk to: --server, else $STUDIOVAULT_SERVER, else the one in the config file. */
  server(config: StoredConfig | undefined): string | undefined {
    if (this.opts.server) return this.opts.server;
    const fromEnv = this.env.STUDIOVAULT_SERVER?.trim();
    if (fromEnv) {
      try {
        return normalizeServerUrl(fromEnv);
      } catch (err) {
        throw usageError(`STUDIOVAULT_SERVER: ${(err as Error).message}`);
      }
    }
    return config?.server;
  }

  /**
   * An API client with credentials: $STUDIOVAULT_TOKEN, else the token `login` stored, which
   * is only ever sent to the server it was issued by.
   */
  async connect(): Promise<Api> {
    const envToken = this.envToken;
    const preset = this.opts.server ?? this.env.STUDIOVAULT_SERVER?.trim();
    // With both variables set (CI, scripts) the config file is not needed at all.
    const config = envToken && preset ? undefined : await this.store.read();
    const server = this.server(config);
    if (envToken) {
      if (!server) throw usageError('STUDIOVAULT_TOKEN is set but no server is known: pass --server URL or set STUDIOVAULT_SERVER');
      return new Api(server, envToken);
    }
    if (!server) throw notLoggedIn();
    if (!config?.token || config.server !== server) throw notLoggedIn(server);
    return new Api(server, config.token);
  }

  /** Where the credentials come from, for whoami. */
  credentialSource(): 'env' | 'config' {
    return this.envToken ? 'env' : 'config';
  }
}
