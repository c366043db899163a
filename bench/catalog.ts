/**
 * Catalog read benchmark: seeds 1,000,000 assets over 200 projects and 2,000 cards into a
 * dedicated database (sv_bench_catalog, dropped and recreated), then times the three hot
 * read queries of CatalogQueries over a real TypeORM DataSource and prints p50/p95/p99.
 *
 *   npm run build:server      # compiles libs + migrations into dist/ (the swc line in package.json)
 *   npx swc bench -d dist && node dist/bench/catalog.js [--iterations=200] [--reuse] [--explain] [--shuffle]
 *
 * --reuse    keep an already seeded sv_bench_catalog (still runs pending migrations)
 * --explain  print EXPLAIN (ANALYZE, BUFFERS) of every statement the queries send, once
 * --shuffle  seed each batch of 200 cards in random physical order (scattered heap), instead
 *            of card after card
 *
 * Admin connection: SV_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * Results also land in bench/out/catalog-<time>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CatalogQueries, createCatalogDataSource, migrateCatalog } from '@studiovault/catalog';

const ADMIN_URL = process.env.SV_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'sv_bench_catalog';
const PROJECTS = 200;
const CARDS = 2000;
const ASSETS = 1_000_000;
const BIG_CARD_FILES = 5000;
const TARGET_P95_MS = 50;

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'] as const;
  }),
);
const ITERATIONS = Number(args.get('iterations') ?? 200);
const WARMUP = Math.max(10, Math.round(ITERATIONS / 10));
const REUSE = args.get('reuse') === 'true';
const EXPLAIN = args.get('explain') === 'true';
/** Insert each batch's assets in random order: the worst case for heap locality (see README). */
const SHUFFLE = args.get('shuffle') === 'true';

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Deterministic PRNG (mulberry32) so every run seeds the same shape. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Files per card: card 1 holds BIG_CARD_FILES, the others 150..850, summing to exactly ASSETS. */
function cardSizes(): number[] {
  const rnd = prng(20260912);
  const sizes = [BIG_CARD_FILES];
  for (let i = 1; i < CARDS; i++) sizes.push(150 + Math.floor(rnd() * 701));
  let diff = ASSETS - sizes.reduce((a, b) => a + b, 0);
  for (let i = 1; diff !== 0; i = (i % (CARDS - 1)) + 1) {
    const step = Math.sign(diff);
    if (sizes[i] + step >= 100 && sizes[i] + step <= 900) {
      sizes[i] += step;
      diff -= step;
    }
  }
  return sizes;
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  console.log(`  ${label}: ${(ms / 1000).toFixed(1)} s`);
  return { result, ms };
}

async function seed(): Promise<Record<string, number>> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  const phases: Record<string, number> = {};
  console.log(
    `Seeding ${DB_NAME}: ${ASSETS.toLocaleString('en')} assets, ${PROJECTS} projects, ${CARDS} cards` +
      (SHUFFLE ? ' (shuffled layout)' : ''),
  );
  phases.migrateMs = (await timed('migrate', () => migrateCatalog(dbUrl(DB_NAME)))).ms;

  const c = new Client({ connectionString: dbUrl(DB_NAME) });
  await c.connect();
  try {
    await c.query(`SET maintenance_work_mem = '256MB'`);
    phases.projectsAndCardsMs = (
      await timed('projects + cards', async () => {
        await c.query(
          `INSERT INTO projects (name, slug, client, shoot_date, type, created_at, updated_at)
           SELECT format('Project %s', g), format('project-%s', lpad(g::text, 3, '0')), format('Client %s', g),
                  date '2024-01-01' + (g * 3), (ARRAY['wedding','portrait','newborn','family','event','commercial','other'])[1 + g % 7],
                  timestamptz '2024-01-01' + make_interval(days => g * 3), timestamptz '2024-01-01' + make_interval(days => g * 3)
             FROM generate_series(1, $1::int) g`,
          [PROJECTS],
        );
        // Card n (1-based) belongs to project ceil(n / 10); labels A001, B001, C001, A002, ...
        // per project, where the letter is the camera body.
        const sizes = cardSizes();
        await c.query(
          `CREATE TEMP TABLE seed_cards AS
           SELECT s.ord, s.n, p.id AS project_id, p.shoot_date, ((s.ord - 1) % 4) AS kind,
                  chr(65 + ((s.ord - 1) % 10) % 3) || lpad((((s.ord - 1) % 10) / 3 + 1)::text, 3, '0') AS label,
                  NULL::uuid AS card_id
             FROM (SELECT n, ord::int AS ord FROM unnest($1::int[]) WITH ORDINALITY AS u(n, ord)) s
             JOIN (SELECT id, shoot_date, row_number() OVER (ORDER BY slug) AS pno FROM projects) p
               ON p.pno = (s.ord - 1) / ($2::int / $3::int) + 1`,
          [sizes, CARDS, PROJECTS],
        );
        await c.query(
          `INSERT INTO cards (project_id, label, camera_make, camera_model, state, announced_files, created_at, updated_at, verified_at)
           SELECT project_id, label, (ARRAY['Canon','Sony','Nikon','Fujifilm'])[kind + 1],
                  (ARRAY['EOS R5','ILCE-7M4','Z 8','X-T5'])[kind + 1], 'verified', n,
                  shoot_date + time '20:00' + make_interval(mins => ord::int), shoot_date + time '20:00' + make_interval(mins => ord::int),
                  shoot_date + time '23:00' + make_interval(mins => ord::int)
             FROM seed_cards ORDER BY ord`,
        );
        await c.query(`UPDATE seed_cards s SET card_id = cd.id FROM cards cd WHERE cd.project_id = s.project_id AND cd.label = s.label`);
        await c.query(`CREATE INDEX ON seed_cards (ord)`);
        await c.query(`ANALYZE seed_cards`);
      })
    ).ms;

    // Assets in ingest order (card after card), in 10 batches for progress. Protection mix:
    // the last 2% of cards are still in flight (uploading/copied/verified), ~0.6% of the
    // older files are scattered at_risk/verified (a failed scrub, a re-check), the rest is
    // off-site: 15% offsite, 70% immutable, 15% drilled.
    phases.assetsMs = (
      await timed('assets (INSERT ... SELECT generate_series)', async () => {
        await c.query(`SELECT setseed(0.2026)`);
        const batches = 10;
        const per = CARDS / batches;
        for (let b = 0; b < batches; b++) {
          const t0 = performance.now();
          await c.query(
            `INSERT INTO assets (card_id, project_id, relative_path, relative_path_nfc, version, size, file_class,
                                 capture_time, modified_time, xxh64, sha256, protection, protection_reason, created_at, updated_at)
             SELECT card_id, project_id, path, path, 1, size, file_class, t, t, left(md5(card_id::text || g), 16),
                    encode(sha256(convert_to(card_id::text || '/' || g, 'UTF8')), 'hex'), protection,
                    CASE WHEN protection = 'at_risk' THEN 'mirror copy hash mismatch during scrub' END,
                    t + interval '2 hours', t + interval '2 hours'
               FROM (
                 SELECT sc.card_id, sc.project_id, sc.g AS g,
                        sc.shoot_date + time '14:00' + make_interval(secs => g * 4) AS t,
                        CASE sc.kind
                          WHEN 0 THEN format('DCIM/%sCANON/IMG_%s.%s', 100 + (g - 1) / 2000, lpad(((g + 1) / 2)::text, 4, '0'),
                                             CASE WHEN g % 2 = 1 THEN 'CR3' ELSE 'JPG' END)
                          WHEN 1 THEN CASE WHEN g % 20 = 0 THEN format('PRIVATE/M4ROOT/CLIP/C%s.MP4', lpad(g::text, 4, '0'))
                                           ELSE format('DCIM/%sMSDCF/DSC%s.ARW', 100 + (g - 1) / 1000, lpad(g::text, 5, '0')) END
                          WHEN 2 THEN format('DCIM/%sNIKON/DSC_%s.NEF', 100 + (g - 1) / 1000, lpad(g::text, 4, '0'))
                          ELSE format('DCIM/%s_FUJI/DSCF%s.RAF', 100 + (g - 1) / 1000, lpad(g::text, 4, '0'))
                        END AS path,
                        CASE WHEN sc.kind = 0 AND g % 2 = 0 THEN 'image'
                             WHEN sc.kind = 1 AND g % 20 = 0 THEN 'video' ELSE 'raw' END AS file_class,
                        CASE WHEN sc.kind = 0 AND g % 2 = 0 THEN 4000000 + (random() * 8000000)::bigint
                             WHEN sc.kind = 1 AND g % 20 = 0 THEN 200000000 + (random() * 3800000000)::bigint
                             ELSE 20000000 + (random() * 40000000)::bigint END AS size,
                        CASE WHEN sc.ord > $3::int * 0.98 THEN (ARRAY['uploading','copied','verified','verified'])[1 + (g % 4)]
                             WHEN r < 0.003 THEN 'at_risk' WHEN r < 0.006 THEN 'verified'
                             WHEN r < 0.156 THEN 'offsite' WHEN r < 0.856 THEN 'immutable' ELSE 'drilled'
                        END AS protection
                   FROM (SELECT sc.*, g, random() AS r
                           FROM seed_cards sc
                           CROSS JOIN LATERAL generate_series(1, sc.n) g
                          WHERE sc.ord > $1::int AND sc.ord <= $2::int) sc
                  ORDER BY ${SHUFFLE ? 'random()' : 'sc.ord, g'}
               ) s`,
            [b * per, (b + 1) * per, CARDS],
          );
          process.stdout.write(`    batch ${b + 1}/${batches}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        }
      })
    ).ms;

    phases.cardTotalsMs = (
      await timed('card totals', () =>
        c.query(
          `UPDATE cards c SET file_count = a.files, total_bytes = a.bytes
             FROM (SELECT card_id, count(*) AS files, sum(size) AS bytes FROM assets GROUP BY card_id) a
            WHERE a.card_id = c.id`,
        ),
      )
    ).ms;
    await c.query(`INSERT INTO settings (key, value) VALUES ('bench.seed', $1)`, [
      JSON.stringify({ layout: SHUFFLE ? 'shuffled' : 'ingest-order', seededAt: new Date().toISOString() }),
    ]);
    phases.vacuumAnalyzeMs = (await timed('VACUUM ANALYZE', () => c.query(`VACUUM ANALYZE`))).ms;
  } finally {
    await c.end();
  }
  phases.totalMs = Object.values(phases).reduce((a, b) => a + b, 0);
  console.log(`  seed total: ${(phases.totalMs / 1000).toFixed(1)} s`);
  return phases;
}

interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    min: r(s[0]),
    p50: r(rank(50)),
    p95: r(rank(95)),
    p99: r(rank(99)),
    max: r(s[s.length - 1]),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`benchmark sanity check failed: ${message}`);
}

/** Records the SQL the queries send, so --explain can EXPLAIN exactly that. */
function recordingDataSource(ds: DataSource, log: { sql: string; params?: unknown[] }[]): DataSource {
  return new Proxy(ds, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: unknown[]) => {
          log.push({ sql, params });
          return target.query(sql, params);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

async function main(): Promise<void> {
  if (typeof CatalogQueries !== 'function') {
    throw new Error('dist/libs is older than the sources (no CatalogQueries): run `npm run build:server` first');
  }
  const started = new Date();
  const loadBefore = loadavg();
  let seedPhases: Record<string, number> | null = null;
  if (REUSE) {
    console.log(`Reusing ${DB_NAME}; applying pending migrations`);
    const applied = await migrateCatalog(dbUrl(DB_NAME));
    if (applied.length) {
      console.log(`  applied: ${applied.join(', ')}; VACUUM ANALYZE`);
      const c = new Client({ connectionString: dbUrl(DB_NAME) });
      await c.connect();
      await c.query('VACUUM ANALYZE');
      await c.end();
    }
  } else {
    seedPhases = await seed();
  }

  const ds = createCatalogDataSource(dbUrl(DB_NAME));
  await ds.initialize();
  const queries = new CatalogQueries(ds);
  const rnd = prng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];

  const [{ version }] = await ds.query(`SELECT version()`);
  const [seedRow] = await ds.query(`SELECT value FROM settings WHERE key = 'bench.seed'`);
  const seedInfo = seedRow?.value as { layout: string; seededAt: string } | undefined;
  const sizes = await ds.query(
    `SELECT (SELECT count(*) FROM assets)::int AS assets, (SELECT count(*) FROM cards)::int AS cards,
            (SELECT count(*) FROM projects)::int AS projects,
            pg_size_pretty(pg_table_size('assets')) AS assets_table, pg_size_pretty(pg_indexes_size('assets')) AS assets_indexes`,
  );
  const cards: { id: string; n: number }[] = await ds.query(`SELECT id::text, file_count AS n FROM cards ORDER BY id`);
  const projects: { id: string }[] = await ds.query(`SELECT id::text FROM projects ORDER BY id`);
  const [big] = await ds.query(`SELECT id::text, file_count AS n FROM cards WHERE file_count = $1 LIMIT 1`, [BIG_CARD_FILES]);
  const [gap] = await ds.query(
    `SELECT count(*)::int AS files, sum(size)::text AS bytes FROM assets WHERE protection NOT IN ('offsite','immutable','drilled')`,
  );
  check(big, `no card with ${BIG_CARD_FILES} files`);
  console.log(`Data: ${JSON.stringify(sizes[0])}; big card ${big.id} (${big.n} files); not off-site: ${gap.files} files`);

  const results: Record<string, Stats & { note: string }> = {};
  const record = (name: string, samples: number[], note: string) => {
    results[name] = { ...stats(samples), note };
  };

  // 1a. listCardFiles, one page of 500 from the start of a random card.
  {
    const run = async () => {
      const card = pick(cards);
      const t0 = performance.now();
      const page = await queries.listCardFiles(card.id, { limit: 500 });
      const ms = performance.now() - t0;
      check(page.rows.length === Math.min(500, card.n), `first page of card ${card.id} has ${page.rows.length} rows`);
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) await run();
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) samples.push(await run());
    record('listCardFiles: first page (limit 500)', samples, 'random card of 2,000');
  }

  // 1b. listCardFiles, a page of 500 after a cursor in the middle of the 5,000-file card,
  //     and a full walk of that card (limit 500 → 10 pages), every page timed.
  {
    const cursors: string[] = [];
    const walk = async (pageSamples?: number[]) => {
      const seen = new Set<string>();
      let after: string | null = null;
      let lastKey: [string, bigint] | null = null;
      let pages = 0;
      const t0 = performance.now();
      do {
        const p0 = performance.now();
        const page = await queries.listCardFiles(big.id, { limit: 500, after });
        pageSamples?.push(performance.now() - p0);
        pages++;
        for (const r of page.rows) {
          check(!seen.has(r.id), `row ${r.id} repeated`);
          seen.add(r.id);
          const key: [string, bigint] = [r.relativePathNfc, BigInt(r.id)];
          if (lastKey) check(lastKey[0] < key[0] || (lastKey[0] === key[0] && lastKey[1] < key[1]), 'order broken');
          lastKey = key;
        }
        if (page.nextCursor && cursors.length < 9) cursors.push(page.nextCursor);
        after = page.nextCursor;
      } while (after);
      check(seen.size === BIG_CARD_FILES && pages === BIG_CARD_FILES / 500, `walk saw ${seen.size} rows in ${pages} pages`);
      return performance.now() - t0;
    };
    for (let i = 0; i < Math.max(3, WARMUP / 5); i++) await walk();
    const walkSamples: number[] = [];
    const pageSamples: number[] = [];
    const walks = ITERATIONS;
    for (let i = 0; i < walks; i++) walkSamples.push(await walk(pageSamples));
    record('listCardFiles: each page of a 5,000-file walk', pageSamples, `${walks} walks x 10 pages of 500`);
    record('listCardFiles: full walk of 5,000 files', walkSamples, '10 pages of 500, end to end');

    const midSamples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now();
      const page = await queries.listCardFiles(big.id, { limit: 500, after: pick(cursors) });
      midSamples.push(performance.now() - t0);
      check(page.rows.length === 500, 'mid page short');
    }
    record('listCardFiles: page after a cursor (limit 500)', midSamples, 'random cursor inside the 5,000-file card');
  }

  // 2. projectProtectionSummary for a random project (the one with the big card included).
  {
    const run = async () => {
      const t0 = performance.now();
      const s = await queries.projectProtectionSummary(pick(projects).id);
      const ms = performance.now() - t0;
      check(s && s.cards.length === CARDS / PROJECTS && s.files === s.cards.reduce((a, c) => a + c.files, 0), 'summary shape');
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) await run();
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) samples.push(await run());
    record('projectProtectionSummary', samples, 'random project of 200 (~5,000 files, 10 cards)');
  }

  // 3. filesWithoutOffsiteCopy: walk the studio-wide list 100 at a time (wrapping around),
  //    with totals (default) and without.
  for (const includeTotals of [true, false]) {
    let after: string | null = null;
    const run = async () => {
      const t0 = performance.now();
      const page = await queries.filesWithoutOffsiteCopy({ limit: 100, after, includeTotals });
      const ms = performance.now() - t0;
      if (includeTotals) check(page.totals?.files === gap.files && page.totals?.bytes === gap.bytes, 'totals');
      check(page.rows.length === 100 || page.nextCursor === null, 'short page before the end');
      after = page.nextCursor;
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) await run();
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) samples.push(await run());
    record(
      includeTotals ? 'filesWithoutOffsiteCopy (limit 100 + totals)' : 'filesWithoutOffsiteCopy (limit 100, no totals)',
      samples,
      `consecutive pages of ${gap.files.toLocaleString('en')} files, wrapping`,
    );
  }

  if (EXPLAIN) {
    const log: { sql: string; params?: unknown[] }[] = [];
    const rec = new CatalogQueries(recordingDataSource(ds, log));
    const first = await rec.listCardFiles(big.id, { limit: 500 });
    await rec.listCardFiles(big.id, { limit: 500, after: first.nextCursor });
    await rec.projectProtectionSummary(projects[0].id);
    const gapPage = await rec.filesWithoutOffsiteCopy({ limit: 100 });
    await rec.filesWithoutOffsiteCopy({ limit: 100, after: gapPage.nextCursor, includeTotals: false });
    for (const { sql, params } of log) {
      const plan: { 'QUERY PLAN': string }[] = await ds.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      console.log(`\n${sql.replace(/\s+/g, ' ').trim()}\n  params: ${JSON.stringify(params ?? [])}`);
      for (const line of plan) console.log(`  ${line['QUERY PLAN']}`);
    }
  }
  await ds.destroy();

  const loadAfter = loadavg();
  console.log(`\nResults (ms, ${ITERATIONS} iterations after ${WARMUP} warm-up; target p95 <= ${TARGET_P95_MS} ms per call)`);
  const nameWidth = Math.max(...Object.keys(results).map((k) => k.length));
  const cols = ['n', 'p50', 'p95', 'p99', 'max'] as const;
  console.log(`${'query'.padEnd(nameWidth)}  ${cols.map((c) => c.padStart(7)).join(' ')}  target`);
  for (const [name, s] of Object.entries(results)) {
    const perCall = !name.includes('full walk');
    const verdict = perCall ? (s.p95 <= TARGET_P95_MS ? 'ok' : 'MISS') : 'n/a (10 calls)';
    console.log(`${name.padEnd(nameWidth)}  ${cols.map((c) => String(s[c]).padStart(7)).join(' ')}  ${verdict}`);
  }
  const report = {
    benchmark: 'catalog-queries',
    startedAt: started.toISOString(),
    database: DB_NAME,
    postgres: version,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), loadBefore, loadAfter },
    data: { ...sizes[0], bigCard: big, withoutOffsite: gap },
    seed: seedPhases,
    layout: seedInfo?.layout === 'shuffled' ? 'shuffled within batches of 200 cards' : 'card after card (ingest order)',
    seededAt: seedInfo?.seededAt,
    iterations: ITERATIONS,
    warmup: WARMUP,
    targetP95Ms: TARGET_P95_MS,
    resultsMs: results,
  };
  console.log(`\n${JSON.stringify(report, null, 2)}`);
  const outDir = join(process.cwd(), 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `catalog-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(`\nWritten: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
