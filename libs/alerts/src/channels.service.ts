import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { CredentialsBox } from '@studiovault/backup';
import { AlertChannelEntity, AlertChannelKind, isUniqueViolation } from '@studiovault/catalog';
import { AppError } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';
import { AlertSenders, hostOf, WEBHOOK_FORMATS, type WebhookFormat } from './alert-senders';
import type { AlertMessage } from './alert-message';

export interface ChannelInput {
  name: string;
  kind: AlertChannelKind;
  /** email: smtp://user:pass@host:587 or smtps://…:465 (sealed). */
  smtpUrl?: string;
  from?: string;
  to?: string[];
  /** webhook: the receiver's address (sealed: chat webhooks carry their token in the path). */
  url?: string;
  /** webhook: the HMAC signing secret (sealed); a random one is made when none is given. */
  secret?: string;
  format?: WebhookFormat;
  digest?: boolean;
  enabled?: boolean;
}

/** What a channel's row shows: nothing secret. */
export interface ChannelSettings {
  smtpHost?: string;
  smtpPort?: number;
  smtpSecure?: boolean;
  smtpUser?: string;
  from?: string;
  to?: string[];
  host?: string;
  format?: WebhookFormat;
}

interface ChannelSecrets {
  smtpUrl?: string;
  url?: string;
  secret?: string;
  [k: string]: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;

function emailOf(addr: string): string {
  const m = /<([^>]+)>\s*$/.exec(addr);
  return (m ? m[1] : addr).trim();
}

/** Alert channels: admin-managed e-mail and webhook destinations, their secrets sealed like target credentials. */
@Injectable()
export class ChannelsService {
  private box?: CredentialsBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly senders: AlertSenders,
  ) {}

  private sealer(): CredentialsBox {
    this.box ??= CredentialsBox.fromConfig(this.config.security.secretKey, this.config.dataDir);
    return this.box;
  }

  list(): Promise<AlertChannelEntity[]> {
    return this.db.getRepository(AlertChannelEntity).find({ order: { name: 'ASC' } });
  }

  /** By id or (case-insensitive) name. */
  async find(idOrName: string): Promise<AlertChannelEntity> {
    const repo = this.db.getRepository(AlertChannelEntity);
    const found = /^[0-9a-f-]{36}$/i.test(idOrName)
      ? await repo.findOne({ where: { id: idOrName } })
      : await repo.createQueryBuilder('c').where('lower(c.name) = lower(:n)', { n: idOrName }).getOne();
    if (!found) throw new AppError(ErrorCode.NotFound, `No alert channel "${idOrName}"`);
    return found;
  }

  /** Creates a channel. Returns the webhook secret once when StudioVault made it (so the receiver can check signatures). */
  async create(input: ChannelInput): Promise<{ channel: AlertChannelEntity; generatedSecret: string | null }> {
    const problems: string[] = [];
    const name = (input.name ?? '').trim();
    if (!NAME.test(name)) problems.push('name: 1-64 letters, digits, spaces, dots, dashes or underscores');
    let settings: ChannelSettings;
    let secrets: ChannelSecrets;
    let generatedSecret: string | null = null;
    if (input.kind === 'email') {
      let url: URL | null;
      try {
        url = new URL(input.smtpUrl ?? '');
        if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') url = null;
      } catch {
        url = null;
      }
      if (!url || !url.hostname) problems.push('smtpUrl: smtp://user:password@host:587 or smtps://user:password@host:465');
      if (!input.from || !EMAIL.test(emailOf(input.from))) problems.push('from: an e-mail address');
      const to = (input.to ?? []).map((a) => a.trim()).filter(Boolean);
      if (!to.length || to.some((a) => !EMAIL.test(emailOf(a)))) problems.push('to: one or more e-mail addresses');
      if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'The e-mail channel is incomplete', problems);
      settings = {
        smtpHost: url!.hostname,
        smtpPort: Number(url!.port) || (url!.protocol === 'smtps:' ? 465 : 587),
        smtpSecure: url!.protocol === 'smtps:',
        smtpUser: url!.username ? decodeURIComponent(url!.username) : undefined,
        from: input.from,
        to,
      };
      secrets = { smtpUrl: input.smtpUrl };
    } else if (input.kind === 'webhook') {
      try {
        const u = new URL(input.url ?? '');
        if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push('url: an http(s) URL');
      } catch {
        problems.push('url: an http(s) URL');
      }
      const format = input.format ?? 'json';
      if (!WEBHOOK_FORMATS.includes(format)) problems.push(`format: one of ${WEBHOOK_FORMATS.join(', ')}`);
      if (input.secret !== undefined && input.secret.length < 16) problems.push('secret: at least 16 characters');
      if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'The webhook channel is incomplete', problems);
      const secret = input.secret ?? (generatedSecret = randomBytes(24).toString('base64url'));
      settings = { host: hostOf(input.url!), format };
      secrets = { url: input.url, secret };
    } else {
      throw new AppError(ErrorCode.ValidationFailed, 'Unknown channel kind', ['kind: email or webhook']);
    }
    const [{ id }] = await this.db.query(`SELECT gen_random_uuid() AS id`);
    const repo = this.db.getRepository(AlertChannelEntity);
    try {
      await repo.insert({
        id,
        name,
        kind: input.kind,
        settings: settings as never,
        secretsEncrypted: this.sealer().seal(secrets as Record<string, string>, `alert-channel:${id}`),
        digest: input.digest ?? false,
        enabled: input.enabled ?? true,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.Conflict, `An alert channel named "${name}" exists already`);
      throw err;
    }
    await this.audit.record('alerts.channel.create', { type: 'alert_channel', id }, { name, kind: input.kind, ...settings });
    return { channel: await this.find(id), generatedSecret };
  }

  async update(idOrName: string, input: { enabled?: boolean; digest?: boolean }): Promise<AlertChannelEntity> {
    const c = await this.find(idOrName);
    const change = Object.fromEntries(Object.entries(input).filter(([, v]) => typeof v === 'boolean'));
    if (Object.keys(change).length) await this.db.getRepository(AlertChannelEntity).update(c.id, change);
    await this.audit.record('alerts.channel.update', { type: 'alert_channel', id: c.id }, { name: c.name, ...change });
    return this.find(c.id);
  }

  async remove(idOrName: string): Promise<void> {
    const c = await this.find(idOrName);
    await this.db.getRepository(AlertChannelEntity).delete(c.id);
    await this.audit.record('alerts.channel.delete', { type: 'alert_channel', id: c.id }, { name: c.name });
  }

  /** Sends one message to a channel now (the outbox and the "test" button use this). */
  async send(c: AlertChannelEntity, m: AlertMessage): Promise<void> {
    const [row] = await this.db.query(`SELECT secrets_encrypted FROM alert_channels WHERE id = $1`, [c.id]);
    if (!row) throw new Error('the channel was removed');
    let secrets: ChannelSecrets;
    try {
      secrets = this.sealer().open(row.secrets_encrypted, `alert-channel:${c.id}`) as ChannelSecrets;
    } catch {
      throw new Error('its stored secrets cannot be decrypted (STUDIOVAULT_SECRET_KEY changed): add the channel again');
    }
    const s = c.settings as ChannelSettings;
    if (c.kind === 'email') await this.senders.email({ smtpUrl: secrets.smtpUrl!, from: s.from!, to: s.to! }, m);
    else await this.senders.webhook({ url: secrets.url!, secret: secrets.secret!, format: s.format ?? 'json' }, m);
  }

  async recordResult(id: string, error: string | null): Promise<void> {
    if (error === null) await this.db.query(`UPDATE alert_channels SET last_sent_at = now() WHERE id = $1`, [id]);
    else await this.db.query(`UPDATE alert_channels SET last_error = $2, last_error_at = now() WHERE id = $1`, [id, error.slice(0, 1000)]);
  }
}
