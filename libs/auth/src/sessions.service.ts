import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { SessionEntity, UserEntity } from '@studiovault/catalog';
import { AppError, hashToken, newSecretToken } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';
import { JobName, OnJob } from '@studiovault/jobs';
import { randomBytes } from 'node:crypto';
import { LoginLimiter } from './login-limiter';

/** Portal sessions: an opaque cookie, stored hashed, with a per-session CSRF token. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly limiter: LoginLimiter,
  ) {}

  get ttlMs(): number {
    return this.config.security.sessionHours * 3600_000;
  }

  async create(userId: string, meta: { ip?: string; userAgent?: string }): Promise<{ token: string; session: SessionEntity }> {
    const token = newSecretToken('svs');
    const now = new Date();
    const session = await this.sessions.save(
      this.sessions.create({
        userId,
        tokenHash: hashToken(token),
        csrfToken: randomBytes(32).toString('base64url'),
        ip: meta.ip?.slice(0, 64) ?? null,
        userAgent: meta.userAgent?.slice(0, 512) ?? null,
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + this.ttlMs),
      }),
    );
    return { token, session };
  }

  /** Resolves a cookie to its session and user; slides the expiry forward on use. */
  async authenticate(token: string): Promise<{ session: SessionEntity; user: UserEntity }> {
    const session = await this.sessions.findOne({ where: { tokenHash: hashToken(token) } });
    if (!session) throw new AppError(ErrorCode.SessionExpired, 'Your session has ended; sign in again');
    const now = Date.now();
    if (session.expiresAt.getTime() <= now) {
      await this.sessions.delete(session.id);
      throw new AppError(ErrorCode.SessionExpired, 'Your session has expired; sign in again');
    }
    const user = await this.users.findOne({ where: { id: session.userId } });
    if (!user || user.disabledAt) {
      await this.sessions.delete(session.id);
      throw new AppError(ErrorCode.UserDisabled, 'This account is disabled; ask your admin');
    }
    // Slide the window at most once a minute, so reads stay cheap.
    if (now - session.lastSeenAt.getTime() > 60_000) {
      const expiresAt = new Date(now + this.ttlMs);
      await this.sessions.update(session.id, { lastSeenAt: new Date(now), expiresAt });
      session.expiresAt = expiresAt;
    }
    return { session, user };
  }

  async revoke(sessionId: string): Promise<void> {
    await this.sessions.delete(sessionId);
  }

  @OnJob(JobName.SessionsPurge)
  async purgeExpired(): Promise<number> {
    const res = await this.sessions.delete({ expiresAt: LessThan(new Date()) });
    await this.limiter.purge(); // failed sign-ins long past, on the same schedule
    return res.affected ?? 0;
  }
}
