/**
 * The problem detector's rules against a real, migrated Postgres: each kind is found from the
 * catalog rows that cause it, and gone when the cause is.
 *
 *   npx jest test/alerts/problem-detector.spec.ts --maxWorkers=1
 */
import { DataSource } from 'typeorm';
import { DEFAULT_ALERT_SETTINGS, ProblemDetector, type DetectedProblem } from '@studiovault/alerts';
import { migrateCatalog } from '@studiovault/catalog';
import { createTestDatabase, type TestDatabase } from '@studiovault/testing';

let tdb: TestDatabase;
let db: DataSource;
let detector: ProblemDetector;
let target: string;
let asset: string;

const S = DEFAULT_ALERT_SETTINGS;
const kinds = (list: DetectedProblem[]) => list.map((p) => p.kind).sort();
const find = async (kind: string) => (await detector.detect(S)).find((p) => p.kind === kind);

beforeAll(async () => {
  tdb = await createTestDatabase('sv_detector');
  await migrateCatalog(tdb.url);
  db = new DataSource({ type: 'postgres', url: tdb.url });
  await db.initialize();
  detector = new ProblemDetector(db);
  const [p] = await db.query(`INSERT INTO projects (name, slug) VALUES ('Anna & Ben', 'anna-ben') RETURNING id`);
  const [c] = await db.query(
    `INSERT INTO cards (project_id, label, state, verified_at) VALUES ($1, 'A001', 'verified', now() - interval '30 hours') RETURNING id`,
    [p.id],
  );
  const [a] = await db.query(
    `INSERT INTO assets (card_id, project_id, relative_path, relative_path_nfc, size, protection)
     VALUES ($1, $2, 'DCIM/IMG_0001.CR3', 'DCIM/IMG_0001.CR3', 10, 'verified') RETURNING id`,
    [c.id, p.id],
  );
  asset = a.id;
  const [t] = await db.query(
    `INSERT INTO offsite_targets (name, kind, settings, immutable) VALUES ('B2 Frankfurt', 's3', '{"bucket":"b"}', true) RETURNING id`,
  );
  target = t.id;
}, 60_000);

afterAll(async () => {
  await db?.destroy();
  await tdb?.drop();
});

it('files verified locally but not off-site after the admin hours', async () => {
  const p = await find('offsite_lagging');
  expect(p).toMatchObject({
    key: 'offsite:lagging',
    title: '1 file verified locally but not off-site after 24 hours',
    details: { files: [{ path: 'anna-ben/A001/DCIM/IMG_0001.CR3' }], fileCount: 1 },
  });
  expect(kinds(await detector.detect({ ...S, offsiteLagHours: 48 }))).not.toContain('offsite_lagging');
});

it('a copy whose Object Lock did not read back (uploaded, not immutable, on an immutable S3 target)', async () => {
  await db.query(
    `INSERT INTO copies (asset_id, target_id, state, version_id, updated_at) VALUES ($1, $2, 'uploaded', 'v1', now() - interval '1 hour')`,
    [asset, target],
  );
  await db.query(`UPDATE assets SET protection = 'offsite' WHERE id = $1`, [asset]);
  const p = await find('lock_not_read_back');
  expect(p).toMatchObject({
    key: `target:${target}:locks`,
    severity: 'critical',
    title: '1 copy on "B2 Frankfurt" whose Object Lock did not read back',
    details: { files: [{ path: 'anna-ben/A001/DCIM/IMG_0001.CR3' }] },
  });
  expect(kinds(await detector.detect(S))).not.toContain('offsite_lagging'); // it is off-site now
  await db.query(`UPDATE copies SET state = 'immutable' WHERE target_id = $1`, [target]);
  expect(await find('lock_not_read_back')).toBeUndefined();
});

it('an off-site run that failed, or a target unreachable longer than the admin time', async () => {
  const [run] = await db.query(
    `INSERT INTO backup_runs (target_id, trigger, state, started_at, message) VALUES ($1, 'nightly', 'running', now() - interval '30 minutes', 'target unavailable, retrying: connect ECONNREFUSED') RETURNING id`,
    [target],
  );
  expect(await find('target_failing')).toBeUndefined(); // 30 minutes < 60
  expect(kinds(await detector.detect({ ...S, targetDownMinutes: 20 }))).toContain('target_failing');
  await db.query(`UPDATE backup_runs SET state = 'failed', message = 'InvalidAccessKeyId' WHERE id = $1`, [run.id]);
  expect(await find('target_failing')).toMatchObject({
    key: `target:${target}:failing`,
    title: 'Off-site run to "B2 Frankfurt" failed: InvalidAccessKeyId',
    link: '/admin/offsite',
  });
  await db.query(`INSERT INTO backup_runs (target_id, trigger, state) VALUES ($1, 'manual', 'completed')`, [target]);
  expect(await find('target_failing')).toBeUndefined(); // the next run went through
});

it('a failed drill, and an overdue one once off-site copies are older than the admin days', async () => {
  expect(await find('drill_overdue')).toBeUndefined(); // the copies are an hour old
  await db.query(`UPDATE copies SET created_at = now() - interval '40 days'`);
  expect(await find('drill_overdue')).toMatchObject({ title: 'No restore drill passed in the last 35 days', link: '/drills' });
  await db.query(
    `INSERT INTO restore_drills (trigger, state, started_at, finished_at, error_count) VALUES ('schedule', 'failed', now() - interval '1 hour', now(), 2)`,
  );
  expect(await find('drill_failed')).toMatchObject({ severity: 'critical', title: 'The last restore drill failed with 2 errors' });
  await db.query(
    `INSERT INTO restore_drills (trigger, state, started_at, finished_at) VALUES ('manual', 'passed', now(), now() + interval '1 second')`,
  );
  const now = kinds(await detector.detect(S));
  expect(now).not.toContain('drill_failed');
  expect(now).not.toContain('drill_overdue');
});

it('a volume low on space below the threshold or the largest recent card', async () => {
  await db.query(
    `INSERT INTO storage_volumes (role, root_path, state, free_bytes, total_bytes) VALUES ('mirror', '/pools/mirror', 'online', $1, $2)`,
    [5 * 1024 ** 3, 100 * 1024 ** 3],
  );
  expect(await find('volume_low_space')).toMatchObject({ title: 'The mirror volume is low on space: 5.0 GB free, below 10.0 GB' });
  expect(kinds(await detector.detect({ ...S, lowSpaceGb: 1 }))).not.toContain('volume_low_space');
  await db.query(`UPDATE cards SET total_bytes = $1`, [6 * 1024 ** 3]); // the next card may be as big as the last one
  expect((await detector.detect({ ...S, lowSpaceGb: 1 })).find((p) => p.kind === 'volume_low_space')?.title).toBe(
    'The mirror volume is low on space: 5.0 GB free, below 6.0 GB',
  );
});
