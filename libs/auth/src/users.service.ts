import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Not, Repository } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { UserEntity } from '@studiovault/catalog';
import { isUniqueViolation } from '@studiovault/catalog';
import { AppError, hashToken, newSecretToken, requestContext } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode, Role } from '@studiovault/contracts';
import { PasswordHasher } from './password-hasher';

const INVITE_DAYS = 7;
const RESET_HOURS = 24;

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  /** Omit to invite: the user sets a password with the returned invite token. */
  password?: string;
}

@Injectable()
export class UsersService {
  private readonly log = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async needsSetup(): Promise<boolean> {
    return (await this.users.count()) === 0;
  }

  /**
   * First-run setup: creates the first admin, once. A transaction-level advisory lock
   * makes two simultaneous setups produce one admin and one SETUP_ALREADY_DONE.
   */
  async setup(input: { email: string; name: string; password: string }): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.dataSource.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('studiovault:first-run-setup'))`);
      if ((await em.count(UserEntity)) > 0) {
        throw new AppError(ErrorCode.SetupAlreadyDone, 'StudioVault is already set up; sign in instead');
      }
      return em.save(
        em.create(UserEntity, {
          email: input.email.toLowerCase(),
          name: input.name,
          role: Role.Admin,
          passwordHash,
          lastLoginAt: new Date(),
        }),
      );
    });
    await requestContext.run(
      { ...requestContext.getStore(), actor: { userId: user.id, email: user.email, role: Role.Admin, via: 'session' } },
      () => this.audit.record('setup.first_admin', { type: 'user', id: user.id }, { email: user.email }),
    );
    return user;
  }

  /** Headless install: STUDIOVAULT_ADMIN_EMAIL/PASSWORD create the first admin when no user exists. */
  async ensureHeadlessAdmin(): Promise<void> {
    const { adminEmail, adminPassword } = this.config.setup;
    if (!adminEmail || !adminPassword) return;
    if (!(await this.needsSetup())) return;
    await requestContext.run({ actor: { userId: 'system', email: 'system', role: Role.Admin, via: 'system' } }, async () => {
      try {
        await this.setup({ email: adminEmail, name: 'Administrator', password: adminPassword });
        this.log.log(`Created the first admin ${adminEmail} from the environment`);
      } catch (err) {
        if (!(err instanceof AppError && err.code === ErrorCode.SetupAlreadyDone)) throw err;
      }
    });
  }

  /** Checks a password. Disabled accounts and unknown e-mails answer the same way, after the same work. */
  async verifyCredentials(email: string, password: string): Promise<UserEntity> {
    const user = await this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: email.toLowerCase().trim() })
      .getOne();
    const ok = await this.hasher.verify(user?.passwordHash ?? (await this.hasher.dummyHash()), password);
    if (!user || !ok || !user.passwordHash) {
      throw new AppError(ErrorCode.InvalidCredentials, 'E-mail or password is wrong');
    }
    if (user.disabledAt) throw new AppError(ErrorCode.UserDisabled, 'This account is disabled; ask your admin');
    await this.users.update(user.id, { lastLoginAt: new Date() });
    return user;
  }

  async findActive(id: string): Promise<UserEntity | null> {
    return this.users.findOne({ where: { id } });
  }

  list(): Promise<UserEntity[]> {
    return this.users.find({ order: { createdAt: 'ASC' } });
  }

  async get(id: string): Promise<UserEntity> {
    const user = await this.users.findOne({ where: { id } });
    if (!user) throw new AppError(ErrorCode.NotFound, 'No such user');
    return user;
  }

  async create(input: NewUser): Promise<{ user: UserEntity; inviteToken?: string }> {
    const email = input.email.toLowerCase().trim();
    let inviteToken: string | undefined;
    const row: Partial<UserEntity> = { email, name: input.name.trim(), role: input.role };
    if (input.password) {
      row.passwordHash = await this.hasher.hash(input.password);
    } else {
      inviteToken = newSecretToken('svi');
      row.inviteTokenHash = hashToken(inviteToken);
      row.inviteExpiresAt = new Date(Date.now() + INVITE_DAYS * 86400_000);
    }
    let user: UserEntity;
    try {
      user = await this.users.save(this.users.create(row));
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw new AppError(ErrorCode.EmailTaken, `A user with e-mail ${email} already exists`);
      throw err;
    }
    await this.audit.record(inviteToken ? 'user.invite' : 'user.create', { type: 'user', id: user.id }, { email, role: user.role });
    return { user: await this.get(user.id), inviteToken };
  }

  async acceptInvite(token: string, password: string): Promise<UserEntity> {
    const user = await this.users.findOne({ where: { inviteTokenHash: hashToken(token) } });
    if (!user || !user.inviteExpiresAt || user.inviteExpiresAt < new Date() || user.disabledAt) {
      throw new AppError(ErrorCode.InviteInvalid, 'This invitation is invalid or has expired; ask your admin for a new one');
    }
    await this.users.update(user.id, {
      passwordHash: await this.hasher.hash(password),
      inviteTokenHash: null,
      inviteExpiresAt: null,
      lastLoginAt: new Date(),
    });
    await requestContext.run(
      { ...requestContext.getStore(), actor: { userId: user.id, email: user.email, role: user.role, via: 'session' } },
      () => this.audit.record('user.accept_invite', { type: 'user', id: user.id }),
    );
    return this.get(user.id);
  }

  /**
   * The signed-in user changes their password; every other session of theirs ends (the one
   * making the change, if any, stays signed in).
   */
  async changePassword(userId: string, current: string, next: string, keepSessionId?: string): Promise<void> {
    const user = await this.users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.id = :id', { id: userId }).getOne();
    if (!user?.passwordHash || !(await this.hasher.verify(user.passwordHash, current))) {
      throw new AppError(ErrorCode.CurrentPasswordWrong, 'The current password is not right');
    }
    const passwordHash = await this.hasher.hash(next);
    const sessionsEnded = await this.dataSource.transaction(async (em) => {
      await em.update(UserEntity, userId, { passwordHash });
      const [, ended] = (await em.query('DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2', [
        userId,
        keepSessionId ?? null,
      ])) as [unknown, number];
      return ended;
    });
    await this.audit.record('user.password_change', { type: 'user', id: userId }, { sessionsEnded });
  }

  /** An admin makes a one-time link for a user who forgot their password (like an invitation). */
  async createPasswordReset(id: string): Promise<{ token: string; expiresAt: Date; user: UserEntity }> {
    const user = await this.get(id);
    if (user.disabledAt) throw new AppError(ErrorCode.UserDisabled, 'This account is disabled; enable it first');
    const token = newSecretToken('svr');
    const expiresAt = new Date(Date.now() + RESET_HOURS * 3600_000);
    await this.users.update(id, { resetTokenHash: hashToken(token), resetExpiresAt: expiresAt });
    await this.audit.record('user.password_reset_create', { type: 'user', id }, { email: user.email, expiresAt: expiresAt.toISOString() });
    return { token, expiresAt, user };
  }

  /** Uses a reset link: sets the password, ends every session of the user; the link is then spent. */
  async resetPassword(token: string, password: string): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(password);
    const user = await this.dataSource.transaction(async (em) => {
      // One UPDATE claims the link, so two uses of it cannot both succeed.
      const claimed = (await em.query(
        `UPDATE users SET password_hash = $2, reset_token_hash = NULL, reset_expires_at = NULL,
                invite_token_hash = NULL, invite_expires_at = NULL, updated_at = now()
          WHERE reset_token_hash = $1 AND reset_expires_at > now() AND disabled_at IS NULL
          RETURNING id`,
        [hashToken(token), passwordHash],
      )) as [{ id: string }[], number];
      const id = claimed[0][0]?.id;
      if (!id)
        throw new AppError(ErrorCode.ResetInvalid, 'This password-reset link is invalid, used or expired; ask your admin for a new one');
      await em.query('DELETE FROM sessions WHERE user_id = $1', [id]);
      return (await em.findOne(UserEntity, { where: { id } }))!;
    });
    await requestContext.run(
      { ...requestContext.getStore(), actor: { userId: user.id, email: user.email, role: user.role, via: 'session' } },
      () => this.audit.record('user.password_reset', { type: 'user', id: user.id }),
    );
    return user;
  }

  async update(id: string, patch: { role?: Role; disabled?: boolean; name?: string }): Promise<UserEntity> {
    const user = await this.get(id);
    const losesAdmin = user.role === Role.Admin && ((patch.role && patch.role !== Role.Admin) || patch.disabled === true);
    return this.dataSource.transaction(async (em) => {
      if (losesAdmin) {
        await em.query(`SELECT pg_advisory_xact_lock(hashtext('studiovault:admins'))`);
        const admins = await em.count(UserEntity, { where: { role: Role.Admin, disabledAt: IsNull(), id: Not(id) } });
        if (admins === 0) throw new AppError(ErrorCode.LastAdmin, 'This is the last active admin; make someone else admin first');
      }
      const changes: Partial<UserEntity> = {};
      if (patch.role !== undefined) changes.role = patch.role;
      if (patch.name !== undefined) changes.name = patch.name.trim();
      if (patch.disabled !== undefined) changes.disabledAt = patch.disabled ? (user.disabledAt ?? new Date()) : null;
      if (Object.keys(changes).length) await em.update(UserEntity, id, changes);
      const details: Record<string, unknown> = { email: user.email };
      if (patch.disabled) {
        // Disabling ends every way in, for good: re-enabling brings no old session or token back.
        await em.query('DELETE FROM sessions WHERE user_id = $1', [id]);
        const [, revoked] = (await em.query('UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
          id,
        ])) as [unknown, number];
        details.tokensRevoked = revoked;
      }
      if (patch.role !== undefined && patch.role !== user.role) details.role = { from: user.role, to: patch.role };
      if (patch.disabled !== undefined) details.disabled = patch.disabled;
      if (patch.name !== undefined) details.name = patch.name;
      await this.audit.record('user.update', { type: 'user', id }, details);
      return (await em.findOne(UserEntity, { where: { id } }))!;
    });
  }
}
