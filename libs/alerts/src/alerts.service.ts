import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { BackupService } from '@studiovault/backup';
import { AlertChannelEntity, ProblemEntity, SettingEntity } from '@studiovault/catalog';
import { AppConfig, CONFIG } from '@studiovault/config';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { AlertSettings, DEFAULT_ALERT_SETTINGS, validateAlertSettings } from './alert-settings';
import { AlertMessage, digestMessage, problemMessage, testMessage } from './alert-message';
import { ChannelsService } from './channels.service';
import { DetectedProblem, ProblemDetector } from './problem-detector';

const SETTINGS_KEY = 'alerts.settings';
/** After this many failed attempts a delivery is given up (about two days with the backoff below). */
const MAX_ATTEMPTS = 12;
const MAX_DELAY_MS = 6 * 3600_000;

export interface PassResult {
  raised: string[];
  cleared: string[];
  open: number;
}

interface DeliveryRow {
  id: string;
  channel_id: string;
  event: string;
  payload: AlertMessage;
  attempts: number;
}

/**
 * Problems and alerts. Every pass (every STUDIOVAULT_ALERT_CHECK_SECONDS in the process that runs
 * jobs, a cron backstop, or on demand) checks the removable drives, computes the problems that
 * hold now, and diffs them with the open ones: a new one is raised (one "started" alert per
 * channel), a gone one cleared (one "cleared" alert). Alerts go through an outbox in Postgres,
 * retried with backoff; a channel shows its last error. Digest channels get one summary a day.
 */
@Injectable()
export class AlertsService implements BeforeApplicationShutdown {
  private readonly log = new Logger(AlertsService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<PassResult>;
  /** First retry delay of a failed delivery, doubled at each attempt (tests shorten it). */
  retryBaseMs = 30_000;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly detector: ProblemDetector,
    private readonly channels: ChannelsService,
    private readonly backup: BackupService,
    private readonly audit: AuditService,
    private readonly queue: JobQueue,
  ) {
    queue.onStarted(async (role) => {
      if (role !== 'worker' || this.timer) return;
      this.timer = setInterval(
        () => void this.pass().catch((err) => this.log.warn(`alerts: ${(err as Error).message}`)),
        this.config.alerts.checkSeconds * 1000,
      );
      this.timer.unref();
    });
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- settings ----

  async settings(): Promise<AlertSettings> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SETTINGS_KEY } });
    return { ...DEFAULT_ALERT_SETTINGS, ...((row?.value as Partial<AlertSettings>) ?? {}) };
  }

  async setSettings(input: Partial<Record<keyof AlertSettings, unknown>>): Promise<AlertSettings> {
    const next = validateAlertSettings(await this.settings(), input);
    await this.db.getRepository(SettingEntity).upsert({ key: SETTINGS_KEY, value: next }, ['key']);
    await this.audit.record('settings.alerts', undefined, { ...next });
    return next;
  }

  // ---- problems ----

  openProblems(): Promise<ProblemEntity[]> {
    return this.db.getRepository(ProblemEntity).find({ where: { clearedAt: IsNull() }, order: { startedAt: 'ASC' } });
  }

  recentProblems(limit = 50): Promise<ProblemEntity[]> {
    return this.db.getRepository(ProblemEntity).find({ order: { startedAt: 'DESC' }, take: limit });
  }

  /** One pass: drives, detection and diff, then the outbox and the digest. Concurrent callers share the running pass. */
  @OnJob(JobName.AlertsCheck)
  async pass(): Promise<PassResult> {
    this.running ??= (async () => {
      try {
        await this.backup.checkDrives().catch((err) => this.log.warn(`drive check: ${(err as Error).message}`));
        const result = await this.detectAndDiff();
        await this.deliverDue();
        await this.sendDigests();
        // The outbox keeps a month of history; pending deliveries stay until sent or given up.
        await this.db.query(`DELETE FROM alert_deliveries WHERE state <> 'pending' AND created_at < now() - interval '30 days'`);
        return result;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Computes the problems and diffs them against the open ones, under a lock so two workers never raise one twice. */
  async detectAndDiff(now = new Date()): Promise<PassResult> {
    const settings = await this.settings();
    const found = await this.detector.detect(settings, now);
    const portal = this.config.alerts.publicUrl;
    return this.db.transaction(async (tx) => {
      const [{ locked }] = await tx.query(`SELECT pg_try_advisory_xact_lock(hashtext('studiovault:problems')) AS locked`);
      if (!locked) return { raised: [], cleared: [], open: -1 };
      const open = await tx.getRepository(ProblemEntity).find({ where: { clearedAt: IsNull() } });
      const openByKey = new Map(open.map((p) => [p.key, p]));
      const foundKeys = new Set(found.map((p) => p.key));
      const channels = (await tx.getRepository(AlertChannelEntity).find({ where: { enabled: true } })).filter((c) => !c.digest);
      const raised: string[] = [];
      const cleared: string[] = [];
      const enqueue = async (p: ProblemEntity, event: 'problem.started' | 'problem.cleared') => {
        const message = problemMessage(p, event, portal);
        for (const c of channels)
          await tx.query(`INSERT INTO alert_deliveries (channel_id, problem_id, event, payload) VALUES ($1, $2, $3, $4)`, [
            c.id,
            p.id,
            event,
            JSON.stringify(message),
          ]);
      };
      for (const d of found) {
        const existing = openByKey.get(d.key);
        if (existing) {
          await tx.query(`UPDATE problems SET last_seen_at = $2, title = $3, details = $4, subject = $5 WHERE id = $1`, [
            existing.id,
            now,
            d.title,
            JSON.stringify(d.details),
            JSON.stringify(d.subject),
          ]);
          continue;
        }
        const p = await this.insertProblem(tx, d, now);
        raised.push(d.key);
        this.log.warn(`problem: ${d.title}`);
        await enqueue(p, 'problem.started');
      }
      for (const p of open) {
        if (foundKeys.has(p.key)) continue;
        await tx.query(`UPDATE problems SET cleared_at = $2 WHERE id = $1`, [p.id, now]);
        p.clearedAt = now;
        cleared.push(p.key);
        this.log.log(`cleared: ${p.title}`);
        await enqueue(p, 'problem.cleared');
      }
      return { raised, cleared, open: found.length };
    });
  }

  private async insertProblem(tx: DataSource['manager'], d: DetectedProblem, now: Date): Promise<ProblemEntity> {
    const [row] = await tx.query(
      `INSERT INTO problems (key, kind, severity, title, subject, details, link, started_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
      [d.key, d.kind, d.severity, d.title, JSON.stringify(d.subject), JSON.stringify(d.details), d.link, now],
    );
    return (await tx.getRepository(ProblemEntity).findOneByOrFail({ id: row.id }))!;
  }

  // ---- delivery ----

  /** Sends the outbox's due deliveries. A failure is kept on the channel and retried with backoff. */
  async deliverDue(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    // Each delivery is tried at most once per call: a retry due before the call ends waits for the next pass.
    const [{ now: callStart }] = await this.db.query(`SELECT now() AS now`);
    for (;;) {
      // A short lease instead of a held row lock: a worker that dies mid-send leaves the row due again in 2 minutes.
      const due: DeliveryRow[] = await this.db
        .query(
          `UPDATE alert_deliveries SET next_attempt_at = now() + interval '2 minutes'
          WHERE id IN (SELECT id FROM alert_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                        ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED)
          RETURNING id, channel_id, event, payload, attempts`,
          [callStart],
        )
        .then((r: [DeliveryRow[], number] | DeliveryRow[]) => (Array.isArray(r[0]) ? (r[0] as DeliveryRow[]) : (r as DeliveryRow[])));
      if (!due.length) break;
      due.sort((a, b) => Number(a.id) - Number(b.id));
      const channels = new Map((await this.channels.list()).map((c) => [c.id, c]));
      for (const d of due) {
        const channel = channels.get(d.channel_id);
        if (!channel) continue;
        try {
          await this.channels.send(channel, d.payload);
          await this.db.query(
            `UPDATE alert_deliveries SET state = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`,
            [d.id],
          );
          await this.channels.recordResult(channel.id, null);
          sent++;
        } catch (err) {
          const message = (err as Error).message;
          const attempts = d.attempts + 1;
          const delay = Math.min(this.retryBaseMs * 2 ** (attempts - 1), MAX_DELAY_MS);
          await this.db.query(
            `UPDATE alert_deliveries SET attempts = $2, last_error = $3, state = $4, next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1`,
            [d.id, attempts, message.slice(0, 1000), attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', delay / 1000],
          );
          await this.channels.recordResult(channel.id, message);
          this.log.warn(`alert to "${channel.name}" failed (attempt ${attempts}): ${message}`);
          failed++;
        }
      }
    }
    return { sent, failed };
  }

  /** Sends a test message now (not through the outbox), recording the outcome on the channel. */
  async test(idOrName: string): Promise<{ ok: boolean; error: string | null }> {
    const c = await this.channels.find(idOrName);
    try {
      await this.channels.send(c, testMessage(c.name, this.config.alerts.publicUrl));
      await this.channels.recordResult(c.id, null);
      return { ok: true, error: null };
    } catch (err) {
      await this.channels.recordResult(c.id, (err as Error).message);
      return { ok: false, error: (err as Error).message };
    }
  }

  /** Per channel: deliveries waiting for a retry and given up. */
  async deliveryCounts(): Promise<Map<string, { pending: number; failed: number; lastDeliveryError: string | null }>> {
    const rows: { channel_id: string; pending: number; failed: number; last_error: string | null }[] = await this.db.query(
      `SELECT channel_id, count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'failed')::int AS failed,
              (array_agg(last_error ORDER BY id DESC) FILTER (WHERE last_error IS NOT NULL AND state <> 'sent'))[1] AS last_error
         FROM alert_deliveries GROUP BY channel_id`,
    );
    return new Map(rows.map((r) => [r.channel_id, { pending: r.pending, failed: r.failed, lastDeliveryError: r.last_error }]));
  }

  // ---- digest ----

  /** Digest channels: one summary a day, at the admin's hour (UTC), of the open problems and the day's cleared ones. */
  async sendDigests(now = new Date(), force = false): Promise<number> {
    const settings = await this.settings();
    const slot = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), settings.digestHourUtc));
    if (slot > now) slot.setUTCDate(slot.getUTCDate() - 1);
    const channels = (await this.channels.list()).filter(
      (c) => c.enabled && c.digest && (force || !c.lastDigestAt || c.lastDigestAt < slot),
    );
    if (!channels.length) return 0;
    const open = await this.openProblems();
    const cleared = await this.db
      .getRepository(ProblemEntity)
      .createQueryBuilder('p')
      .where('p.cleared_at > :since', { since: new Date(now.getTime() - 86_400_000) })
      .orderBy('p.cleared_at', 'ASC')
      .getMany();
    const message = digestMessage(open, cleared, this.config.alerts.publicUrl);
    for (const c of channels) {
      // Claimed by the update: two workers never queue the same day's digest twice.
      const claimed = await this.db.query(
        `UPDATE alert_channels SET last_digest_at = $2 WHERE id = $1 AND (last_digest_at IS NULL OR last_digest_at < $3 OR $4) RETURNING id`,
        [c.id, now, slot, force],
      );
      if (!(claimed[0] as unknown[]).length) continue;
      await this.db.query(`INSERT INTO alert_deliveries (channel_id, event, payload) VALUES ($1, 'digest', $2)`, [
        c.id,
        JSON.stringify(message),
      ]);
    }
    await this.deliverDue();
    return channels.length;
  }
}
