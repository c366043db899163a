import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TerminusModule } from '@nestjs/terminus';
import { CoreModule, CoreOptions } from '@studiovault/core';
import { AccessGuard } from './auth/access.guard';
import { LoginRateLimitGuard, PasswordGuard } from './auth/login.guards';
import { MetricsAccessGuard } from './auth/metrics-access.guard';
import { RouteAccessCheck } from './auth/route-access.check';
import { SetupCodeAnnouncer } from './auth/setup-code.announcer';
import { ApiTokenStrategy, PasswordStrategy, SessionCookieStrategy } from './auth/strategies';
import { AlertsController, ProblemsController } from './controllers/alerts.controller';
import { AuditController } from './controllers/audit.controller';
import { AuthController } from './controllers/auth.controller';
import { BackupController } from './controllers/backup.controller';
import { CardsController } from './controllers/cards.controller';
import { SettingsController } from './controllers/settings.controller';
import { UploadsController } from './controllers/uploads.controller';
import { HealthController } from './controllers/health.controller';
import { IntegrityController } from './controllers/integrity.controller';
import { MetricsController } from './controllers/metrics.controller';
import { ProjectsController } from './controllers/projects.controller';
import { DrillsController, RestoreController, RetentionController } from './controllers/recovery.controller';
import { TargetsController } from './controllers/targets.controller';
import { TokensController } from './controllers/tokens.controller';
import { UsersController } from './controllers/users.controller';
import { VolumesController } from './controllers/volumes.controller';
import { ErrorFilter } from './errors/error.filter';
import { HealthService } from './ops/health.service';
import { MetricsService } from './ops/metrics.service';
import { RequestContextMiddleware } from './ops/request-context.middleware';

@Module({})
export class AppModule implements NestModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(options), PassportModule, TerminusModule.forRoot({ logger: false }), DiscoveryModule],
      controllers: [
        AuthController,
        UsersController,
        TokensController,
        ProjectsController,
        AuditController,
        VolumesController,
        CardsController,
        IntegrityController,
        UploadsController,
        SettingsController,
        TargetsController,
        BackupController,
        RestoreController,
        DrillsController,
        RetentionController,
        AlertsController,
        ProblemsController,
        HealthController,
        MetricsController,
      ],
      providers: [
        HealthService,
        MetricsService,
        PasswordStrategy,
        ApiTokenStrategy,
        SessionCookieStrategy,
        LoginRateLimitGuard,
        PasswordGuard,
        MetricsAccessGuard,
        RouteAccessCheck,
        SetupCodeAnnouncer,
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('{*path}');
  }
}
