import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { envVarMetadata } from './env-var.decorator';
import { EnvironmentVariables } from './environment';
import { isSameOrInside, parseFolderList, systemFolderProblem } from './folders';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  workerInProcess: boolean;
  webDir?: string;
  bodyLimit: string;
  trustProxy: string;
  database: { url?: string; runMigrations: boolean; embeddedPort: number };
  dataDir: string;
  volumes: { primaryRoot: string; mirrorRoot: string; spaceMarginBytes: number; checkSeconds: number };
  /** Where the server may write what an admin points it at (checked again, with symlinks resolved, at each use). */
  folders: {
    /** Restores into NAS folders go only into these or below them. */
    restoreRoots: string[];
    /** Disk targets are only folders at or below these. */
    diskTargetRoots: string[];
    /** S3 targets' secret key files are read only from here. */
    keyDir: string;
  };
  security: {
    secretKey?: string;
    cookieSecure: boolean;
    sessionHours: number;
    loginAttempts: number;
    /** Bearer token for /metrics; unset: loopback clients only. */
    metricsToken?: string;
  };
  setup: { adminEmail?: string; adminPassword?: string };
  logLevel: string;
  /** Unset: pretty when stdout is a terminal, json otherwise (decided where the logger is made). */
  logFormat?: 'json' | 'pretty';
  worker: { concurrency: number };
  alerts: { checkSeconds: number; publicUrl: string };
}

/** A configuration problem: one line that names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function firstProblem(errors: ValidationError[]): string {
  const e = errors[0];
  // Name the type problem before range problems: "PORT must be an integer", not "must not be greater than".
  const first = ['isInt', 'isBoolean', 'isString', 'isIn', 'isEmail', 'matches'].find((k) => e.constraints?.[k]);
  const constraint = e.constraints ? (first ? e.constraints[first] : Object.values(e.constraints)[0]) : 'is invalid';
  return constraint.startsWith(e.property) ? constraint : `${e.property} ${constraint}`;
}

/** Reads `<NAME>_FILE` variants (Docker/Kubernetes secrets) into `<NAME>`. */
function resolveFileVariants(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const meta of envVarMetadata(EnvironmentVariables)) {
    const direct = env[meta.name];
    const file = meta.fileVariant ? env[`${meta.name}_FILE`] : undefined;
    if (direct !== undefined && direct !== '' && file) {
      throw new ConfigError(`Set either ${meta.name} or ${meta.name}_FILE, not both`);
    }
    if (file) {
      try {
        out[meta.name] = readFileSync(file, 'utf8').trim();
      } catch {
        throw new ConfigError(`${meta.name}_FILE: cannot read ${file}`);
      }
    } else {
      out[meta.name] = direct === '' ? undefined : direct;
    }
  }
  return out;
}

/** Validates the environment once, at start-up. Throws ConfigError with a one-line reason. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw = resolveFileVariants(env);
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { skipMissingProperties: false, whitelist: true });
  if (errors.length) throw new ConfigError(firstProblem(errors));

  const nodeEnv = (vars.NODE_ENV ?? 'development') as AppConfig['env'];
  if (nodeEnv === 'production' && !vars.STUDIOVAULT_SECRET_KEY) {
    throw new ConfigError('STUDIOVAULT_SECRET_KEY (or STUDIOVAULT_SECRET_KEY_FILE) is required when NODE_ENV=production');
  }
  if (vars.STUDIOVAULT_ADMIN_PASSWORD && !vars.STUDIOVAULT_ADMIN_EMAIL) {
    throw new ConfigError('STUDIOVAULT_ADMIN_PASSWORD is set but STUDIOVAULT_ADMIN_EMAIL is not');
  }
  if (vars.STUDIOVAULT_ADMIN_EMAIL && !vars.STUDIOVAULT_ADMIN_PASSWORD) {
    throw new ConfigError('STUDIOVAULT_ADMIN_EMAIL is set but STUDIOVAULT_ADMIN_PASSWORD is not');
  }
  const dataDir = resolve(vars.STUDIOVAULT_DATA_DIR ?? './data');
  const primaryRoot = resolve(vars.STUDIOVAULT_PRIMARY_ROOT ?? resolve(dataDir, 'volumes/primary'));
  const mirrorRoot = resolve(vars.STUDIOVAULT_MIRROR_ROOT ?? resolve(dataDir, 'volumes/mirror'));
  const folderRoots = (name: string, raw: string | undefined, fallback: string[]): string[] => {
    const roots = raw === undefined ? fallback : parseFolderList(raw);
    for (const root of roots) {
      if (!isAbsolute(root)) throw new ConfigError(`${name}: ${root} is not an absolute path`);
      const system = systemFolderProblem(root);
      if (system) throw new ConfigError(`${name}: ${root} cannot hold restores or targets: ${system}`);
      for (const volume of [primaryRoot, mirrorRoot])
        if (isSameOrInside(root, volume) || isSameOrInside(volume, root))
          throw new ConfigError(`${name}: ${root} ${isSameOrInside(root, volume) ? 'holds' : 'is inside'} the volume ${volume}`);
    }
    return roots;
  };
  const keyDir = resolve(vars.STUDIOVAULT_KEY_DIR ?? resolve(dataDir, 'keys'));
  return {
    env: nodeEnv,
    port: vars.PORT ?? 3210,
    host: vars.HOST ?? '0.0.0.0',
    workerInProcess: vars.STUDIOVAULT_WORKER_IN_PROCESS ?? true,
    webDir: vars.STUDIOVAULT_WEB_DIR ? resolve(vars.STUDIOVAULT_WEB_DIR) : undefined,
    bodyLimit: vars.STUDIOVAULT_BODY_LIMIT ?? '1mb',
    trustProxy: vars.STUDIOVAULT_TRUST_PROXY ?? 'loopback',
    database: {
      url: vars.DATABASE_URL,
      runMigrations: vars.STUDIOVAULT_MIGRATIONS_RUN ?? true,
      embeddedPort: vars.STUDIOVAULT_EMBEDDED_PG_PORT ?? 5433,
    },
    dataDir,
    volumes: {
      primaryRoot,
      mirrorRoot,
      spaceMarginBytes: (vars.STUDIOVAULT_SPACE_MARGIN_MB ?? 1024) * 1024 * 1024,
      checkSeconds: vars.STUDIOVAULT_VOLUME_CHECK_SECONDS ?? 30,
    },
    folders: {
      restoreRoots: folderRoots('STUDIOVAULT_RESTORE_ROOTS', vars.STUDIOVAULT_RESTORE_ROOTS, [resolve(dataDir, 'restores')]),
      diskTargetRoots: folderRoots('STUDIOVAULT_DISK_TARGET_ROOTS', vars.STUDIOVAULT_DISK_TARGET_ROOTS, []),
      keyDir,
    },
    security: {
      secretKey: vars.STUDIOVAULT_SECRET_KEY,
      cookieSecure: vars.STUDIOVAULT_COOKIE_SECURE ?? nodeEnv === 'production',
      sessionHours: vars.STUDIOVAULT_SESSION_HOURS ?? 12,
      loginAttempts: vars.STUDIOVAULT_LOGIN_ATTEMPTS ?? 10,
      metricsToken: vars.STUDIOVAULT_METRICS_TOKEN,
    },
    setup: { adminEmail: vars.STUDIOVAULT_ADMIN_EMAIL?.toLowerCase(), adminPassword: vars.STUDIOVAULT_ADMIN_PASSWORD },
    logLevel: vars.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    logFormat: vars.LOG_FORMAT as AppConfig['logFormat'],
    worker: { concurrency: vars.STUDIOVAULT_WORKER_CONCURRENCY ?? 2 },
    alerts: {
      checkSeconds: vars.STUDIOVAULT_ALERT_CHECK_SECONDS ?? 30,
      publicUrl: (vars.STUDIOVAULT_PUBLIC_URL ?? `http://${hostname()}:${vars.PORT ?? 3210}`).replace(/\/+$/, ''),
    },
  };
}

/** Names of every sensitive variable, for log redaction. */
export function sensitiveEnvNames(): string[] {
  return envVarMetadata(EnvironmentVariables)
    .filter((m) => m.isSensitive)
    .map((m) => m.name);
}

/** Markdown table of every variable, for the README's configuration reference. */
export function configReference(): string {
  const rows = envVarMetadata(EnvironmentVariables).map(
    (m) =>
      `| \`${m.name}\`${m.fileVariant ? ` (or \`${m.name}_FILE\`)` : ''} | ${m.group} | ${m.defaultText ?? ''} | ${m.description}${m.isSensitive ? ' **Secret.**' : ''} |`,
  );
  return ['| variable | group | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export const CONFIG = Symbol('APP_CONFIG');

/** A value that prints as `**redacted**` (restic's SecretString). */
export class Secret {
  constructor(private readonly value: string) {}
  reveal(): string {
    return this.value;
  }
  toString(): string {
    return '**redacted**';
  }
  toJSON(): string {
    return '**redacted**';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '**redacted**';
  }
}
