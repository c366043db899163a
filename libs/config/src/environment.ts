import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { EnvVar } from './env-var.decorator';

const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const v = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value; // left as a string: @IsBoolean reports it
};
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/**
 * Every environment variable StudioVault reads, declared once. `loadConfig` validates
 * them at start-up; nothing else in the code base reads `process.env`.
 */
export class EnvironmentVariables {
  @EnvVar({
    group: 'server',
    description: 'development, production or test. Production requires a secret key.',
    defaultText: 'development',
  })
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @EnvVar({ group: 'server', description: 'HTTP port of the API and portal.', defaultText: '3210' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @EnvVar({ group: 'server', description: 'Address to listen on.', defaultText: '0.0.0.0' })
  @IsOptional()
  @IsString()
  HOST?: string;

  @EnvVar({
    group: 'server',
    description: 'Run the job worker inside the API process (embedded default). Set false when apps/worker runs separately.',
    defaultText: 'true',
  })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  STUDIOVAULT_WORKER_IN_PROCESS?: boolean;

  @EnvVar({ group: 'server', description: 'Folder of the built portal to serve at /. Empty: the built-in location if present.' })
  @IsOptional()
  @IsString()
  STUDIOVAULT_WEB_DIR?: string;

  @EnvVar({
    group: 'server',
    description:
      'Which proxies to trust for the client address (Express "trust proxy"): loopback, or e.g. "loopback, uniquelocal" behind the web container or an ingress.',
    defaultText: 'loopback',
  })
  @IsOptional()
  @Matches(/^(true|false|\d+|[a-z0-9.:/, ]+)$/i, {
    message: 'STUDIOVAULT_TRUST_PROXY must be true, false, a hop count, or a list of addresses/subnets/names',
  })
  STUDIOVAULT_TRUST_PROXY?: string;

  @EnvVar({ group: 'server', description: 'Largest JSON request body accepted.', defaultText: '1mb' })
  @IsOptional()
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'STUDIOVAULT_BODY_LIMIT must look like 512kb or 1mb' })
  STUDIOVAULT_BODY_LIMIT?: string;

  @EnvVar({
    group: 'database',
    description: 'Postgres connection URL. Unset: an embedded Postgres runs under the data folder.',
    isSensitive: true,
  })
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @EnvVar({ group: 'database', description: 'Run pending migrations at start-up.', defaultText: 'true' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  STUDIOVAULT_MIGRATIONS_RUN?: boolean;

  @EnvVar({ group: 'database', description: 'Port of the embedded Postgres.', defaultText: '5433' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  STUDIOVAULT_EMBEDDED_PG_PORT?: number;

  @EnvVar({ group: 'storage', description: 'Folder for the embedded database, secrets and default volumes.', defaultText: './data' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  STUDIOVAULT_DATA_DIR?: string;

  @EnvVar({ group: 'storage', description: 'Root of the primary volume (fast SSD pool).', defaultText: '<data>/volumes/primary' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  STUDIOVAULT_PRIMARY_ROOT?: string;

  @EnvVar({
    group: 'storage',
    description: 'Root of the mirror volume (second device: HDD pool, USB drive).',
    defaultText: '<data>/volumes/mirror',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  STUDIOVAULT_MIRROR_ROOT?: string;

  @EnvVar({
    group: 'storage',
    description: 'Free space kept on each volume beyond a card: a card that would eat into it is refused.',
    defaultText: '1024',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1024 * 1024)
  STUDIOVAULT_SPACE_MARGIN_MB?: number;

  @EnvVar({
    group: 'storage',
    description:
      "Seconds between checks of each volume's identity marker and device (an offline volume is found, and a returning one caught up, within this).",
    defaultText: '30',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  STUDIOVAULT_VOLUME_CHECK_SECONDS?: number;

  @EnvVar({
    group: 'alerts',
    description:
      'Seconds between passes of the problem detector (at-risk files, offline volumes, failing targets, drills, drives to reconnect) and of the alert outbox.',
    defaultText: '30',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  STUDIOVAULT_ALERT_CHECK_SECONDS?: number;

  @EnvVar({
    group: 'alerts',
    description:
      'The portal address people open (e.g. https://nas.studio.lan:3210): alerts link to its pages. Unset: http://<hostname>:<PORT>.',
  })
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'STUDIOVAULT_PUBLIC_URL must be an http(s) URL' })
  STUDIOVAULT_PUBLIC_URL?: string;

  @EnvVar({
    group: 'storage',
    description:
      'Folders the admin may restore into on the server, separated by commas or colons (absolute paths; never a volume, a folder holding one, or a system folder). Restores go only into these or below them.',
    defaultText: '<data>/restores',
  })
  @IsOptional()
  @IsString()
  STUDIOVAULT_RESTORE_ROOTS?: string;

  @EnvVar({
    group: 'storage',
    description:
      'Folders under which disk targets may be (where USB drives and shares are mounted), separated by commas or colons. Empty: no disk targets.',
  })
  @IsOptional()
  @IsString()
  STUDIOVAULT_DISK_TARGET_ROOTS?: string;

  @EnvVar({
    group: 'security',
    description: "The only folder an S3 target's secret key file (secretAccessKeyFile) may be read from.",
    defaultText: '<data>/keys',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  STUDIOVAULT_KEY_DIR?: string;

  @EnvVar({
    group: 'security',
    description:
      'Key (32+ characters) that encrypts off-site credentials at rest. Required in production; embedded default generates one under the data folder.',
    isSensitive: true,
    fileVariant: true,
  })
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'STUDIOVAULT_SECRET_KEY must be at least 32 characters' })
  STUDIOVAULT_SECRET_KEY?: string;

  @EnvVar({ group: 'security', description: 'Mark the session cookie Secure (behind HTTPS).', defaultText: 'true in production' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  STUDIOVAULT_COOKIE_SECURE?: boolean;

  @EnvVar({ group: 'security', description: 'Hours a portal session lasts without activity.', defaultText: '12' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 30)
  STUDIOVAULT_SESSION_HOURS?: number;

  @EnvVar({
    group: 'security',
    description:
      'Failed sign-ins one address may make on one account before it must wait (30 s, doubling to 15 min); one address may fail 5 times this many in 15 minutes across all accounts.',
    defaultText: '10',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  STUDIOVAULT_LOGIN_ATTEMPTS?: number;

  @EnvVar({
    group: 'security',
    description:
      'Bearer token (24+ characters) Prometheus sends to read /metrics. Unset: /metrics answers only clients on this host (loopback), 401 to others.',
    isSensitive: true,
    fileVariant: true,
  })
  @IsOptional()
  @IsString()
  @MinLength(24, { message: 'STUDIOVAULT_METRICS_TOKEN must be at least 24 characters' })
  @MaxLength(256)
  STUDIOVAULT_METRICS_TOKEN?: string;

  @EnvVar({ group: 'setup', description: 'E-mail of the first admin, created at start-up when no user exists (headless install).' })
  @IsOptional()
  @IsEmail({}, { message: 'STUDIOVAULT_ADMIN_EMAIL must be an e-mail address' })
  STUDIOVAULT_ADMIN_EMAIL?: string;

  @EnvVar({ group: 'setup', description: 'Password of the first admin (12+ characters).', isSensitive: true, fileVariant: true })
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'STUDIOVAULT_ADMIN_PASSWORD must be at least 12 characters' })
  @MaxLength(256)
  STUDIOVAULT_ADMIN_PASSWORD?: string;

  @EnvVar({ group: 'logging', description: 'fatal, error, warn, info, debug or trace.', defaultText: 'info' })
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @EnvVar({
    group: 'logging',
    description:
      'json (one JSON object a line, for log collectors) or pretty (a readable line). Unset: pretty on a terminal, json otherwise.',
    defaultText: 'auto',
  })
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: string;

  @EnvVar({ group: 'jobs', description: 'Parallel jobs per worker process.', defaultText: '2' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  STUDIOVAULT_WORKER_CONCURRENCY?: number;
}
