import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@studiovault/audit';
import { ApiTokenEntity, SessionEntity, UserEntity } from '@studiovault/catalog';
import { ApiTokensService } from './api-tokens.service';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, SessionEntity, ApiTokenEntity]), AuditModule],
  providers: [UsersService, SessionsService, ApiTokensService, PasswordHasher, LoginLimiter],
  exports: [UsersService, SessionsService, ApiTokensService, PasswordHasher, LoginLimiter],
})
export class AuthModule {}
