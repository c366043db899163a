import { DataSource } from 'typeorm';
import { AppError } from '@studiovault/common';
import { ErrorCode, ProtectionLevel } from '@studiovault/contracts';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { CardFileRow, CatalogQueries, LevelBreakdown } from './catalog-queries';
import { createCatalogDataSource, migrateCatalog } from './data-source';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333'; // a project without cards
const CARD_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'; // P1 A001
const CARD_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'; // P1 B001
const CARD_C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'; // P1 C001, no files
const CARD_D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd'; // P2 A001

const SEANCE_NFC = 'S\u00e9ance/IMG_0003.JPG';
const SEANCE_NFD = 'Se\u0301ance/IMG_0003.JPG';
const ZOE_NFC = 'Zo\u00eb/Notes.txt';
const ZOE_NFD = 'Zoe\u0308/Notes.txt';

interface SeedAsset {
  id: number;
  card: string;
  project: string;
  path: string; // as the card gave it
  version?: number;
  size: number;
  protection: ProtectionLevel;
  reason?: string;
  hashed?: boolean;
}

const L = ProtectionLevel;
// Ids are explicit so that order by id is tested where it matters: 9 and 10 are two versions
// of the same path (a text sort of ids would put "10" first).
const ASSETS: SeedAsset[] = [
  { id: 9, card: CARD_A, project: P1, path: 'DCIM/100CANON/IMG_0001.CR3', size: 25_000_000, protection: L.Immutable },
  {
    id: 10,
    card: CARD_A,
    project: P1,
    path: 'DCIM/100CANON/IMG_0001.CR3',
    version: 2,
    size: 25_000_001,
    protection: L.AtRisk,
    reason: 'hash mismatch on mirror',
  },
  { id: 3, card: CARD_A, project: P1, path: 'DCIM/100CANON/IMG_0001.JPG', size: 6_000_000, protection: L.Offsite },
  { id: 4, card: CARD_A, project: P1, path: 'DCIM/100CANON/IMG_0002.CR3', size: 26_000_000, protection: L.Drilled },
  { id: 2, card: CARD_A, project: P1, path: 'DCIM/100CANON/IMG_0002.JPG', size: 6_500_000, protection: L.Immutable },
  { id: 5, card: CARD_A, project: P1, path: SEANCE_NFD, size: 7_000_000, protection: L.Verified },
  { id: 6, card: CARD_A, project: P1, path: 'Sfondo/IMG_0004.JPG', size: 8_000_000, protection: L.Copied },
  { id: 7, card: CARD_A, project: P1, path: ZOE_NFD, size: 1_000, protection: L.Uploading, hashed: false },
  { id: 11, card: CARD_B, project: P1, path: 'DCIM/100MSDCF/DSC00001.ARW', size: 30_000_000, protection: L.Offsite },
  { id: 12, card: CARD_B, project: P1, path: 'PRIVATE/M4ROOT/CLIP/C0001.MP4', size: 5_000_000_000, protection: L.Copied },
  {
    id: 13,
    card: CARD_B,
    project: P1,
    path: 'DCIM/100MSDCF/DSC00002.ARW',
    size: 31_000_000,
    protection: L.AtRisk,
    reason: 'mirror copy missing',
  },
  { id: 1, card: CARD_D, project: P2, path: 'DCIM/100NIKON/DSC_0001.NEF', size: 40_000_000, protection: L.Uploading, hashed: false },
  { id: 14, card: CARD_D, project: P2, path: 'DCIM/100NIKON/DSC_0002.NEF', size: 41_000_000, protection: L.Immutable },
];

const sha256Of = (id: number) => id.toString(16).padStart(64, '0');
const xxh64Of = (id: number) => id.toString(16).padStart(16, 'f');
const captureOf = (id: number) => new Date(Date.UTC(2026, 8, 12, 14, 0, id));

function breakdown(partial: Partial<Record<ProtectionLevel, [number, string]>>): LevelBreakdown {
  return Object.fromEntries(
    Object.values(ProtectionLevel).map((l) => [l, { files: partial[l]?.[0] ?? 0, bytes: partial[l]?.[1] ?? '0' }]),
  ) as LevelBreakdown;
}

async function expectValidationError(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(ErrorCode.ValidationFailed);
}

describe('CatalogQueries (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let queries: CatalogQueries;
  /** Card A in NFC path order. Code-point collations (C, C.UTF-8) put "Sf" before "Sé". */
  let cardAOrder: number[];

  beforeAll(async () => {
    db = await createTestDatabase();
    const applied = await migrateCatalog(db.url);
    expect(applied).toContain('CatalogIndexes1795691727817');
    ds = createCatalogDataSource(db.url);
    await ds.initialize();
    queries = new CatalogQueries(ds);

    await ds.query(
      `INSERT INTO projects (id, name, slug) VALUES ($1, 'Anna & Ben', 'anna-ben'), ($2, 'Portraits', 'portraits'), ($3, 'Empty', 'empty')`,
      [P1, P2, P3],
    );
    await ds.query(
      `INSERT INTO cards (id, project_id, label) VALUES ($1, $5, 'A001'), ($2, $5, 'B001'), ($3, $5, 'C001'), ($4, $6, 'A001')`,
      [CARD_A, CARD_B, CARD_C, CARD_D, P1, P2],
    );
    for (const a of ASSETS) {
      const hashed = a.hashed !== false;
      await ds.query(
        `INSERT INTO assets (id, card_id, project_id, relative_path, relative_path_nfc, version, size, protection,
                             protection_reason, xxh64, sha256, capture_time)
         OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          a.id,
          a.card,
          a.project,
          a.path,
          a.path.normalize('NFC'),
          a.version ?? 1,
          a.size,
          a.protection,
          a.reason ?? null,
          hashed ? xxh64Of(a.id) : null,
          hashed ? sha256Of(a.id) : null,
          hashed ? captureOf(a.id) : null,
        ],
      );
    }
    const [{ provider, collate }] = await ds.query(
      `SELECT datlocprovider AS provider, datcollate AS collate FROM pg_database WHERE datname = current_database()`,
    );
    const codePoint = provider === 'c' && /^(C|POSIX)(\.|$)/i.test(collate);
    cardAOrder = codePoint ? [9, 10, 3, 4, 2, 6, 5, 7] : [9, 10, 3, 4, 2, 5, 6, 7];
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function walkCard(cardId: string, limit: number): Promise<{ rows: CardFileRow[]; pages: number }> {
    const rows: CardFileRow[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await queries.listCardFiles(cardId, { limit, after });
      pages++;
      expect(page.rows.length).toBeLessThanOrEqual(limit);
      if (page.nextCursor) expect(page.rows).toHaveLength(limit);
      rows.push(...page.rows);
      after = page.nextCursor;
      if (pages > 50) throw new Error('pagination does not end');
    } while (after);
    return { rows, pages };
  }

  describe('listCardFiles', () => {
    it('lists one card in NFC path order, then id, with the path as the card gave it', async () => {
      const page = await queries.listCardFiles(CARD_A, { limit: 100 });
      expect(page.nextCursor).toBeNull();
      expect(page.rows.map((r) => Number(r.id))).toEqual(cardAOrder);
      expect(page.rows[0]).toEqual({
        id: '9',
        relativePath: 'DCIM/100CANON/IMG_0001.CR3',
        relativePathNfc: 'DCIM/100CANON/IMG_0001.CR3',
        version: 1,
        size: '25000000',
        protection: 'immutable',
        protectionReason: null,
        openFinding: null,
        xxh64: xxh64Of(9),
        sha256: sha256Of(9),
        captureTime: captureOf(9),
        nameWarnings: [],
      });
      expect(page.rows[1]).toMatchObject({ id: '10', version: 2, size: '25000001', protection: 'at_risk' });

      const seance = page.rows.find((r) => r.id === '5')!;
      expect(seance.relativePath).toBe(SEANCE_NFD);
      expect(seance.relativePathNfc).toBe(SEANCE_NFC);
      expect(seance.relativePath).not.toBe(seance.relativePathNfc);
      const zoe = page.rows.find((r) => r.id === '7')!;
      expect(zoe).toEqual({
        id: '7',
        relativePath: ZOE_NFD,
        relativePathNfc: ZOE_NFC,
        version: 1,
        size: '1000',
        protection: 'uploading',
        protectionReason: null,
        openFinding: null,
        xxh64: null,
        sha256: null,
        captureTime: null,
        nameWarnings: [],
      });
    });

    it('pages with every limit without skipping or repeating a row', async () => {
      for (let limit = 1; limit <= 9; limit++) {
        const { rows, pages } = await walkCard(CARD_A, limit);
        expect(rows.map((r) => Number(r.id))).toEqual(cardAOrder);
        expect(new Set(rows.map((r) => r.id)).size).toBe(8);
        expect(pages).toBe(Math.max(1, Math.ceil(8 / limit)));
      }
    });

    it('gives no cursor when the last page is exactly full', async () => {
      const first = await queries.listCardFiles(CARD_A, { limit: 4 });
      expect(first.nextCursor).not.toBeNull();
      const second = await queries.listCardFiles(CARD_A, { limit: 4, after: first.nextCursor });
      expect(second.rows.map((r) => Number(r.id))).toEqual(cardAOrder.slice(4));
      expect(second.nextCursor).toBeNull();
    });

    it('keeps cards apart and gives an empty page for a card without files or an unknown card', async () => {
      const b = await queries.listCardFiles(CARD_B, { limit: 10 });
      expect(b.rows.map((r) => r.relativePath)).toEqual([
        'DCIM/100MSDCF/DSC00001.ARW',
        'DCIM/100MSDCF/DSC00002.ARW',
        'PRIVATE/M4ROOT/CLIP/C0001.MP4',
      ]);
      expect(b.rows[2].size).toBe('5000000000');
      expect(await queries.listCardFiles(CARD_C, { limit: 10 })).toEqual({ rows: [], nextCursor: null });
      expect(await queries.listCardFiles('99999999-9999-4999-8999-999999999999', { limit: 10 })).toEqual({
        rows: [],
        nextCursor: null,
      });
    });

    it('rejects bad ids, limits and cursors with VALIDATION_FAILED', async () => {
      const offsitePage = await queries.filesWithoutOffsiteCopy({ limit: 1, includeTotals: false });
      const bad: Array<() => Promise<unknown>> = [
        () => queries.listCardFiles('not-a-uuid', { limit: 10 }),
        () => queries.listCardFiles(CARD_A, { limit: 0 }),
        () => queries.listCardFiles(CARD_A, { limit: 1001 }),
        () => queries.listCardFiles(CARD_A, { limit: 2.5 }),
        () => queries.listCardFiles(CARD_A, { limit: 10, after: 'not a cursor' }),
        () => queries.listCardFiles(CARD_A, { limit: 10, after: Buffer.from('{"p":"x","i":"-1"}').toString('base64url') }),
        () => queries.listCardFiles(CARD_A, { limit: 10, after: offsitePage.nextCursor }),
      ];
      for (const call of bad) await expectValidationError(call());
    });
  });

  describe('projectProtectionSummary', () => {
    it('counts files and bytes per level for the project and for each card, empty cards included', async () => {
      const s = await queries.projectProtectionSummary(P1);
      expect(s).toEqual({
        projectId: P1,
        files: 11,
        bytes: '5164501001',
        byLevel: breakdown({
          uploading: [1, '1000'],
          copied: [2, '5008000000'],
          verified: [1, '7000000'],
          offsite: [2, '36000000'],
          immutable: [2, '31500000'],
          drilled: [1, '26000000'],
          at_risk: [2, '56000001'],
        }),
        cards: [
          {
            cardId: CARD_A,
            label: 'A001',
            files: 8,
            bytes: '103501001',
            byLevel: breakdown({
              uploading: [1, '1000'],
              copied: [1, '8000000'],
              verified: [1, '7000000'],
              offsite: [1, '6000000'],
              immutable: [2, '31500000'],
              drilled: [1, '26000000'],
              at_risk: [1, '25000001'],
            }),
          },
          {
            cardId: CARD_B,
            label: 'B001',
            files: 3,
            bytes: '5061000000',
            byLevel: breakdown({ copied: [1, '5000000000'], offsite: [1, '30000000'], at_risk: [1, '31000000'] }),
          },
          { cardId: CARD_C, label: 'C001', files: 0, bytes: '0', byLevel: breakdown({}) },
        ],
      });
    });

    it('covers only the asked project', async () => {
      const s = await queries.projectProtectionSummary(P2);
      expect(s?.files).toBe(2);
      expect(s?.bytes).toBe('81000000');
      expect(s?.byLevel).toEqual(breakdown({ uploading: [1, '40000000'], immutable: [1, '41000000'] }));
      expect(s?.cards.map((c) => [c.cardId, c.label, c.files])).toEqual([[CARD_D, 'A001', 2]]);
    });

    it('gives zeros for a project without cards and null for an unknown project', async () => {
      expect(await queries.projectProtectionSummary(P3)).toEqual({
        projectId: P3,
        files: 0,
        bytes: '0',
        byLevel: breakdown({}),
        cards: [],
      });
      expect(await queries.projectProtectionSummary('99999999-9999-4999-8999-999999999999')).toBeNull();
      await expectValidationError(queries.projectProtectionSummary("x' OR 1=1 --"));
    });
  });

  describe('filesWithoutOffsiteCopy', () => {
    const WITHOUT_OFFSITE = [1, 5, 6, 7, 10, 12, 13];

    it('lists every file of the studio that is not offsite, immutable or drilled, by id, with totals', async () => {
      const page = await queries.filesWithoutOffsiteCopy({ limit: 100 });
      expect(page.rows.map((r) => Number(r.id))).toEqual(WITHOUT_OFFSITE);
      expect(page.nextCursor).toBeNull();
      expect(page.totals).toEqual({ files: 7, bytes: '5111001001' });
      expect(page.rows.find((r) => r.id === '13')).toEqual({
        id: '13',
        projectId: P1,
        projectSlug: 'anna-ben',
        cardId: CARD_B,
        cardLabel: 'B001',
        relativePath: 'DCIM/100MSDCF/DSC00002.ARW',
        size: '31000000',
        protection: 'at_risk',
        protectionReason: 'mirror copy missing',
        updatedAt: expect.any(Date),
      });
      expect(page.rows.find((r) => r.id === '1')).toMatchObject({ projectSlug: 'portraits', cardLabel: 'A001' });
      expect(page.rows.find((r) => r.id === '7')?.relativePath).toBe(ZOE_NFD);
    });

    it('pages by id without skipping or repeating, totals on every page unless turned off', async () => {
      for (let limit = 1; limit <= 8; limit++) {
        const ids: number[] = [];
        let after: string | null = null;
        let pages = 0;
        do {
          const page = await queries.filesWithoutOffsiteCopy({ limit, after, includeTotals: pages % 2 === 0 });
          if (pages % 2 === 0) expect(page.totals).toEqual({ files: 7, bytes: '5111001001' });
          else expect(page.totals).toBeUndefined();
          ids.push(...page.rows.map((r) => Number(r.id)));
          after = page.nextCursor;
          pages++;
        } while (after && pages < 20);
        expect(ids).toEqual(WITHOUT_OFFSITE);
        expect(pages).toBe(Math.ceil(WITHOUT_OFFSITE.length / limit));
      }
    });

    it('follows protection changes: a file that reaches off-site leaves the list and the totals', async () => {
      await ds.query(`UPDATE assets SET protection = 'offsite' WHERE id = 12`);
      try {
        const page = await queries.filesWithoutOffsiteCopy({ limit: 100 });
        expect(page.rows.map((r) => Number(r.id))).toEqual([1, 5, 6, 7, 10, 13]);
        expect(page.totals).toEqual({ files: 6, bytes: '111001001' });
      } finally {
        await ds.query(`UPDATE assets SET protection = 'copied' WHERE id = 12`);
      }
    });

    it('rejects a card-list cursor', async () => {
      const cardPage = await queries.listCardFiles(CARD_A, { limit: 1 });
      await expectValidationError(queries.filesWithoutOffsiteCopy({ limit: 10, after: cardPage.nextCursor }));
    });

    it('sends SQL whose predicate matches the partial index assets_without_offsite_idx', async () => {
      // The index only helps if the planner can prove the query's WHERE implies the index
      // predicate; with sequential scans disabled, a mismatch shows as a Seq Scan.
      const sent: { sql: string; params?: unknown[] }[] = [];
      const recording = new Proxy(ds, {
        get: (target, prop, receiver) =>
          prop === 'query'
            ? (sql: string, params?: unknown[]) => {
                sent.push({ sql, params });
                return target.query(sql, params);
              }
            : Reflect.get(target, prop, receiver),
      });
      await new CatalogQueries(recording).filesWithoutOffsiteCopy({ limit: 2 });
      expect(sent).toHaveLength(2);
      const runner = ds.createQueryRunner();
      try {
        await runner.connect();
        await runner.query('SET enable_seqscan = off');
        for (const { sql, params } of sent) {
          const plan: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN ${sql}`, params);
          const text = plan.map((p) => p['QUERY PLAN']).join('\n');
          expect(text).toContain('assets_without_offsite_idx');
        }
      } finally {
        await runner.query('RESET enable_seqscan');
        await runner.release();
      }
    });
  });
});
