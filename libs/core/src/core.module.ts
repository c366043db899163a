import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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

export interface CoreOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Postgres schema of the job queue (tests give each database its own anyway). */
  jobSchema?: string;
  /** Seconds between job polls (tests use short ones). */
  jobPollingSeconds?: number;
  maintenanceIntervalSeconds?: number;
}

/** Structured JSON logs with request ids; secrets are redacted by path. */
export function loggerModule(config: AppConfig) {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.logLevel,
      // apps/api assigns req.id first (before body parsing); elsewhere make one.
      genReqId: (req: IncomingMessage & { id?: string }) => req.id ?? randomUUID(),
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'req.headers["x-csrf-token"]',
          '*.password',
          '*.token',
          '*.secretAccessKey',
        ],
        censor: '**redacted**',
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/api/health/live' || req.url === '/metrics' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
      },
    },
  });
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
        IntegrityModule,
      ],
    };
  }
}
