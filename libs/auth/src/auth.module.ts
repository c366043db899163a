import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@studiovault/audit';
import { ApiTokenEntity, SessionEntity, UserEntity } from '@studiovault/catalog';
import { ApiTokensService } from './api-tokens.service';
import { LoginFailureStore, PgLoginFailureStore } from './login-failure.store';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { SetupCodeService } from './setup-code.service';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, SessionEntity, ApiTokenEntity]), AuditModule],
  providers: [
    UsersService,
    SessionsService,
    ApiTokensService,
    PasswordHasher,
    LoginLimiter,
    SetupCodeService,
    { provide: LoginFailureStore, useClass: PgLoginFailureStore },
  ],
  exports: [UsersService, SessionsService, ApiTokensService, PasswordHasher, LoginLimiter, SetupCodeService],
})
export class AuthModule {}
