import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AlertsModule } from '@studiovault/alerts';
import { AuditModule } from '@studiovault/audit';
import { AuthModule } from '@studiovault/auth';
import { BackupModule } from '@studiovault/backup';
import { catalogDataSourceOptions } from '@studiovault/catalog';
import { AppConfig, ConfigModule } from '@studiovault/config';
import { IngestModule } from '@studiovault/ingest';
import { IntegrityModule } from '@studiovault/integrity';
import { JobsModule } from '@studiovault/jobs';
import { ProjectsModule } from '@studiovault/projects';
import { RecoveryModule } from '@studiovault/recovery';
import { VolumesModule } from '@studiovault/volumes';
import type { Options } from 'pino-http';
import { prettyDestination, requestLogLevel, resolveLogFormat } from './log-format';

export interface CoreOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Postgres schema of the job queue (tests give each database its own anyway). */
  jobSchema?: string;
  /** Seconds between job polls (tests use short ones). */
  jobPollingSeconds?: number;
  maintenanceIntervalSeconds?: number;
}

/**
 * Logs with request ids; secrets are redacted by path. JSON lines for collectors, readable lines
 * on a terminal (LOG_FORMAT forces either). A request is logged once, at a level that follows its
 * outcome (requestLogLevel): health checks and portal files only at debug unless they fail.
 */
export function loggerModule(config: AppConfig, stdout: NodeJS.WriteStream = process.stdout) {
  const pretty = resolveLogFormat(config.logFormat, stdout) === 'pretty';
  const options: Options = {
    level: config.logLevel,
    // apps/api assigns req.id first (before body parsing); elsewhere make one.
    genReqId: (req: IncomingMessage) => req.id ?? randomUUID(),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'req.headers["x-csrf-token"]',
        '*.password',
        '*.token',
        '*.secretAccessKey',
        '*.smtpUrl',
        '*.secret',
      ],
      censor: '**redacted**',
    },
    customLogLevel: requestLogLevel,
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
      // The status only: the security headers would make every line a screen long.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return LoggerModule.forRoot({ pinoHttp: pretty ? [options, prettyDestination(stdout, Boolean(stdout.isTTY))] : options });
}

/** What the API and the worker share: configuration, logging, the catalog, the job queue and the domain modules. */
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(options.config),
        loggerModule(options.config),
        TypeOrmModule.forRoot(catalogDataSourceOptions(options.databaseUrl)),
        JobsModule.forRoot({
          connectionString: options.databaseUrl,
          schema: options.jobSchema,
          pollingIntervalSeconds: options.jobPollingSeconds,
          maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
        }),
        AuditModule,
        AuthModule,
        ProjectsModule,
        VolumesModule,
        IngestModule,
        BackupModule,
        RecoveryModule,
        AlertsModule,
        IntegrityModule,
      ],
      exports: [
        ConfigModule,
        AuditModule,
        AuthModule,
        ProjectsModule,
        VolumesModule,
        IngestModule,
        BackupModule,
        RecoveryModule,
        AlertsModule,
        IntegrityModule,
      ],
    };
  }
}
