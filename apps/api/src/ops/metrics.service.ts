import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ProtectionLevel } from '@studiovault/contracts';
import { HealthService, type VolumeHealth } from './health.service';

/** Scrapes come every 15-60 s; the catalog and the volumes are asked at most this often. */
const SNAPSHOT_TTL_MS = 10_000;

interface CatalogSnapshot {
  volumes: VolumeHealth[];
  byLevel: Map<string, number>;
  oldestUnverifiedSeconds: number;
}

/** Prometheus metrics. One registry per application instance (tests start several). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'studiovault_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'studiovault_http_errors_total',
    help: 'HTTP error responses by stable error code',
    labelNames: ['code'],
    registers: [this.registry],
  });

  private snapshot?: { at: number; value: Promise<CatalogSnapshot> };

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthService,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'studiovault_' });
    // A catalog that does not answer: the labelled gauges are left out of the scrape, the others are NaN
    // (unknown, never a reassuring 0); the rest of the scrape still renders.
    const empty: CatalogSnapshot = { volumes: [], byLevel: new Map(), oldestUnverifiedSeconds: 0 };
    const snap = () => this.catalogSnapshot().catch(() => empty);
    new Gauge({
      name: 'studiovault_volume_online',
      help: 'A local volume is online: its identity marker and device check out (1), or offline (0)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const v of (await snap()).volumes) this.set({ role: v.role }, v.state === 'offline' ? 0 : 1);
      },
    });
    new Gauge({
      name: 'studiovault_volume_free_bytes',
      help: 'Free bytes on a local volume (online volumes only)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const v of (await snap()).volumes) if (v.freeBytes !== null) this.set({ role: v.role }, v.freeBytes);
      },
    });
    new Gauge({
      name: 'studiovault_files',
      help: 'Files by protection level',
      labelNames: ['level'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = await snap();
        if (s === empty) return;
        for (const level of Object.values(ProtectionLevel)) this.set({ level }, s.byLevel.get(level) ?? 0);
      },
    });
    new Gauge({
      name: 'studiovault_files_at_risk',
      help: 'Files at risk: a copy damaged or missing, a lock not in force, a drill error',
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = await snap();
        this.set(s === empty ? NaN : (s.byLevel.get(ProtectionLevel.AtRisk) ?? 0));
      },
    });
    new Gauge({
      name: 'studiovault_oldest_unverified_file_age_seconds',
      help: 'Age of the oldest file written but not yet verified on two devices (0: none)',
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = await snap();
        this.set(s === empty ? NaN : s.oldestUnverifiedSeconds);
      },
    });
    new Gauge({
      name: 'studiovault_db_pool_connections',
      help: 'Catalog database pool connections',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const pool = (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
        if (!pool) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  /** Volumes checked now, files per level from one aggregate query; cached for a few seconds. */
  private catalogSnapshot(): Promise<CatalogSnapshot> {
    if (this.snapshot && Date.now() - this.snapshot.at < SNAPSHOT_TTL_MS) return this.snapshot.value;
    const value = (async (): Promise<CatalogSnapshot> => {
      const [volumes, levels, oldest] = await Promise.all([
        this.health.volumes(),
        this.dataSource.query(`SELECT protection, count(*)::bigint AS n FROM assets GROUP BY protection`) as Promise<
          { protection: string; n: string }[]
        >,
        this.dataSource.query(
          `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM assets WHERE protection = 'copied'`,
        ) as Promise<{ age: number }[]>,
      ]);
      return {
        volumes,
        byLevel: new Map(levels.map((r) => [r.protection, Number(r.n)])),
        oldestUnverifiedSeconds: Math.max(0, Math.round(Number(oldest[0]?.age ?? 0))),
      };
    })();
    this.snapshot = { at: Date.now(), value };
    // A failed snapshot is not kept: the next scrape asks again.
    value.catch(() => {
      if (this.snapshot?.value === value) this.snapshot = undefined;
    });
    return value;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
