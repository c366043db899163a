import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { ApiTokenEntity, isUniqueViolation, UserEntity } from '@studiovault/catalog';
import { AppError, hashToken, newSecretToken } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

/** Personal API tokens for workstations and the CLI: shown once, stored hashed, named, revocable. */
@Injectable()
export class ApiTokensService {
  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly audit: AuditService,
  ) {}

  async create(userId: string, name: string, expiresAt?: Date): Promise<{ token: string; entity: ApiTokenEntity }> {
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.ValidationFailed, 'expiresAt must be in the future', ['expiresAt must be in the future']);
    }
    const token = newSecretToken('svt');
    let entity: ApiTokenEntity;
    try {
      entity = await this.tokens.save(
        this.tokens.create({
          userId,
          name: name.trim(),
          tokenHash: hashToken(token),
          prefix: token.slice(0, 10),
          expiresAt: expiresAt ?? null,
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'api_tokens_live_name_key')) {
        throw new AppError(ErrorCode.TokenNameTaken, `You already have a token named "${name.trim()}"; revoke it or pick another name`);
      }
      throw err;
    }
    await this.audit.record('token.create', { type: 'api_token', id: entity.id }, { name: entity.name });
    return { token, entity };
  }

  listForUser(userId: string): Promise<ApiTokenEntity[]> {
    return this.tokens.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  async revoke(userId: string, id: string): Promise<void> {
    const res = await this.tokens.update({ id, userId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!res.affected) throw new AppError(ErrorCode.NotFound, 'No such token');
    await this.audit.record('token.revoke', { type: 'api_token', id });
  }

  async authenticate(token: string): Promise<{ token: ApiTokenEntity; user: UserEntity }> {
    const entity = await this.tokens.findOne({ where: { tokenHash: hashToken(token) } });
    if (!entity) throw new AppError(ErrorCode.TokenInvalid, 'This API token is not valid; run `studiovault login` again');
    const user = await this.users.findOne({ where: { id: entity.userId } });
    // A disabled account's tokens are revoked too; its owner is told why.
    if (!user || user.disabledAt) throw new AppError(ErrorCode.UserDisabled, 'This account is disabled; ask your admin');
    if (entity.revokedAt) throw new AppError(ErrorCode.TokenInvalid, 'This API token is not valid; run `studiovault login` again');
    if (entity.expiresAt && entity.expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.TokenInvalid, 'This API token has expired; run `studiovault login` again');
    }
    // last-used time, at most once a minute per token
    if (!entity.lastUsedAt || Date.now() - entity.lastUsedAt.getTime() > 60_000) {
      entity.lastUsedAt = new Date();
      await this.tokens.update(entity.id, { lastUsedAt: entity.lastUsedAt });
    }
    return { token: entity, user };
  }
}
