import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError } from '@studiovault/common';
import { ErrorCode, NameWarning, ProtectionLevel } from '@studiovault/contracts';

/**
 * The catalog's hot read queries: the file list of a card, the protection summary of a
 * project, and the studio-wide list of files without a verified off-site copy.
 *
 * Plain parameterized SQL over the catalog DataSource, written against the indexes in
 * migrations/ (see bench/README.md for the 1M-file benchmark):
 * - listCardFiles             → assets_card_order_idx (card_id, relative_path_nfc, id)
 * - projectProtectionSummary  → assets_project_summary_idx (project_id, card_id, protection) INCLUDE (size)
 * - filesWithoutOffsiteCopy   → assets_without_offsite_idx (id) INCLUDE (size) WHERE protection NOT IN (…)
 *
 * Conventions (as in the entities): bigint ids and byte totals are strings, file counts are
 * numbers. Cursors are opaque strings: pass `nextCursor` back as `after`; null means the
 * last page was returned.
 */

/** Levels that mean "a verified off-site copy exists" (3-2-1 and above). */
export const OFFSITE_PROTECTION_LEVELS: readonly ProtectionLevel[] = [
  ProtectionLevel.Offsite,
  ProtectionLevel.Immutable,
  ProtectionLevel.Drilled,
];

/** Every level, in the order of DESIGN.md (at_risk last). */
export const PROTECTION_LEVELS: readonly ProtectionLevel[] = Object.values(ProtectionLevel);

/** The largest page any of these queries returns. */
export const MAX_PAGE_LIMIT = 1000;

/**
 * The predicate for "no verified off-site copy". Written as NOT IN (fail-closed: a level
 * added later counts as not off-site until it is listed above) and spelled exactly like the
 * predicate of the partial index assets_without_offsite_idx, so the planner can use it.
 * The values are constants of this module, never user input.
 */
const WITHOUT_OFFSITE_PREDICATE = `protection NOT IN (${OFFSITE_PROTECTION_LEVELS.map((l) => `'${l}'`).join(', ')})`;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT_ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const BIGINT_MAX = 9223372036854775807n;

export interface PageRequest {
  /** Rows per page, 1..MAX_PAGE_LIMIT. */
  limit: number;
  /** The `nextCursor` of the previous page; omit for the first page. */
  after?: string | null;
}

export interface Page<T> {
  rows: T[];
  /** Pass as `after` for the next page; null when there is none. */
  nextCursor: string | null;
}

export interface CardFileRow {
  id: string;
  /** The path exactly as the card gave it (macOS: NFD). */
  relativePath: string;
  /** The same path in NFC: what the list is ordered by. */
  relativePathNfc: string;
  version: number;
  size: string;
  protection: ProtectionLevel;
  /** Why the level is what it is (at risk: which copy and both hashes). */
  protectionReason: string | null;
  /** The original cannot be opened (a drill's finding, not a copy problem): what the opener said. */
  openFinding: string | null;
  xxh64: string | null;
  sha256: string | null;
  captureTime: Date | null;
  /** What the ingest noticed about the name (case twin, bidi controls, stored under another name). */
  nameWarnings: NameWarning[];
}

export interface LevelTotals {
  files: number;
  bytes: string;
}

export type LevelBreakdown = Record<ProtectionLevel, LevelTotals>;

export interface CardProtectionSummary {
  cardId: string;
  /** Null only if an asset of this project points at a card of another project (inconsistent catalog). */
  label: string | null;
  files: number;
  bytes: string;
  byLevel: LevelBreakdown;
}

export interface ProjectProtectionSummary {
  projectId: string;
  files: number;
  bytes: string;
  /** Every level is present, with zeros where the project has no such file. */
  byLevel: LevelBreakdown;
  /** Every card of the project (also cards without files), ordered by label. */
  cards: CardProtectionSummary[];
}

export interface FileWithoutOffsiteRow {
  id: string;
  projectId: string;
  projectSlug: string;
  cardId: string;
  cardLabel: string;
  relativePath: string;
  size: string;
  protection: ProtectionLevel;
  protectionReason: string | null;
  updatedAt: Date;
}

export interface OffsiteGapTotals {
  files: number;
  bytes: string;
}

export interface FilesWithoutOffsitePage extends Page<FileWithoutOffsiteRow> {
  /** Count and bytes of all such files in the studio (not just this page); absent if includeTotals is false. */
  totals?: OffsiteGapTotals;
}

@Injectable()
export class CatalogQueries {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One card's files, ordered by NFC path then id, keyset-paged on (relative_path_nfc, id).
   * An unknown card gives an empty page.
   */
  async listCardFiles(cardId: string, page: PageRequest, filter: { notVerified?: boolean } = {}): Promise<Page<CardFileRow>> {
    assertUuid('cardId', cardId);
    const limit = checkLimit(page.limit);
    const after = page.after ? decodeCardFilesCursor(page.after) : null;
    // ORDER BY and the keyset compare name a.id (bigint): a bare `id` in ORDER BY would pick
    // the output column id::text and order "10" before "9".
    const columns = `a.id::text AS id, a.relative_path, a.relative_path_nfc, a.version, a.size::text AS size,
      a.protection, a.protection_reason, a.open_finding, a.xxh64, a.sha256, a.capture_time, a.name_warnings`;
    // "not verified": below verified, or at risk (fail-closed: an unknown level counts)
    const only = filter.notVerified ? `AND a.protection NOT IN ('verified', 'offsite', 'immutable', 'drilled')` : '';
    // limit + 1 rows tell whether another page exists without a second query.
    const rows: RawCardFile[] = after
      ? await this.dataSource.query(
          `SELECT ${columns} FROM assets a
            WHERE a.card_id = $1 AND (a.relative_path_nfc, a.id) > ($2::text, $3::bigint) ${only}
            ORDER BY a.relative_path_nfc, a.id
            LIMIT $4`,
          [cardId, after.path, after.id, limit + 1],
        )
      : await this.dataSource.query(
          `SELECT ${columns} FROM assets a
            WHERE a.card_id = $1 ${only}
            ORDER BY a.relative_path_nfc, a.id
            LIMIT $2`,
          [cardId, limit + 1],
        );
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      rows: pageRows.map(toCardFileRow),
      nextCursor: hasMore ? encodeCursor({ p: last.relative_path_nfc, i: last.id }) : null,
    };
  }

  /**
   * Files and bytes per protection level for a project, overall and per card.
   * Returns null when the project does not exist.
   */
  async projectProtectionSummary(projectId: string): Promise<ProjectProtectionSummary | null> {
    assertUuid('projectId', projectId);
    // One scan of the project's assets grouped by (card, level), joined with every card of
    // the project so cards without files show up too. The project totals are the sum of
    // these groups, so they always agree with the per-card figures.
    const rows: RawCardLevel[] = await this.dataSource.query(
      `WITH per_card_level AS (
         SELECT card_id, protection, count(*) AS files, sum(size) AS bytes
           FROM assets
          WHERE project_id = $1
          GROUP BY card_id, protection
       ), project_cards AS (
         SELECT id, label FROM cards WHERE project_id = $1
       )
       SELECT coalesce(pc.id, g.card_id)::text AS card_id, pc.label, g.protection,
              g.files::text AS files, g.bytes::text AS bytes
         FROM project_cards pc
         FULL JOIN per_card_level g ON g.card_id = pc.id
        ORDER BY pc.label NULLS LAST, 1, g.protection`,
      [projectId],
    );
    if (rows.length === 0) {
      const exists: unknown[] = await this.dataSource.query(`SELECT 1 FROM projects WHERE id = $1`, [projectId]);
      if (exists.length === 0) return null;
    }

    const project = { files: 0, bytes: 0n, byLevel: emptyBreakdown() };
    const cards = new Map<string, { label: string | null; files: number; bytes: bigint; byLevel: BigBreakdown }>();
    for (const r of rows) {
      let card = cards.get(r.card_id);
      if (!card) {
        card = { label: r.label, files: 0, bytes: 0n, byLevel: emptyBreakdown() };
        cards.set(r.card_id, card);
      }
      if (r.protection === null) continue; // a card without files
      const files = Number(r.files);
      const bytes = BigInt(r.bytes ?? '0');
      for (const target of [project, card]) {
        target.files += files;
        target.bytes += bytes;
        const level = target.byLevel[r.protection];
        if (!level) throw new Error(`Unknown protection level in the catalog: ${r.protection}`);
        level.files += files;
        level.bytes += bytes;
      }
    }
    return {
      projectId,
      files: project.files,
      bytes: project.bytes.toString(),
      byLevel: publicBreakdown(project.byLevel),
      cards: [...cards.entries()].map(([cardId, c]) => ({
        cardId,
        label: c.label,
        files: c.files,
        bytes: c.bytes.toString(),
        byLevel: publicBreakdown(c.byLevel),
      })),
    };
  }

  /**
   * The whole studio's files without a verified off-site copy (protection not offsite,
   * immutable or drilled), keyset-paged by id, with the total count and bytes of all such
   * files (one extra index-only query, run alongside; pass includeTotals: false to skip it).
   */
  async filesWithoutOffsiteCopy(page: PageRequest & { includeTotals?: boolean }): Promise<FilesWithoutOffsitePage> {
    const limit = checkLimit(page.limit);
    const afterId = page.after ? decodeIdCursor(page.after) : '0';
    const rowsQuery: Promise<RawWithoutOffsite[]> = this.dataSource.query(
      `SELECT a.id::text AS id, a.project_id::text AS project_id, p.slug AS project_slug,
              a.card_id::text AS card_id, c.label AS card_label, a.relative_path,
              a.size::text AS size, a.protection, a.protection_reason, a.updated_at
         FROM (SELECT id, project_id, card_id, relative_path, size, protection, protection_reason, updated_at
                 FROM assets
                WHERE ${WITHOUT_OFFSITE_PREDICATE} AND id > $1::bigint
                ORDER BY id
                LIMIT $2) a
         JOIN cards c ON c.id = a.card_id
         JOIN projects p ON p.id = a.project_id
        ORDER BY a.id`,
      [afterId, limit + 1],
    );
    const totalsQuery = page.includeTotals === false ? Promise.resolve(undefined) : this.offsiteGapTotals();
    const [rows, totals] = await Promise.all([rowsQuery, totalsQuery]);
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const result: FilesWithoutOffsitePage = {
      rows: pageRows.map(toWithoutOffsiteRow),
      nextCursor: hasMore ? encodeCursor({ i: pageRows[pageRows.length - 1].id }) : null,
    };
    if (totals) result.totals = totals;
    return result;
  }

  /** Count and bytes of every file in the studio without a verified off-site copy. */
  async offsiteGapTotals(): Promise<OffsiteGapTotals> {
    const [row]: { files: string; bytes: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS files, coalesce(sum(size), 0)::text AS bytes
         FROM assets
        WHERE ${WITHOUT_OFFSITE_PREDICATE}`,
    );
    return { files: Number(row.files), bytes: row.bytes };
  }
}

// ---- rows as Postgres returns them ------------------------------------------------------

interface RawCardFile {
  id: string;
  relative_path: string;
  relative_path_nfc: string;
  version: number;
  size: string;
  protection: ProtectionLevel;
  protection_reason: string | null;
  open_finding: string | null;
  xxh64: string | null;
  sha256: string | null;
  capture_time: Date | null;
  name_warnings: NameWarning[];
}

interface RawCardLevel {
  card_id: string;
  label: string | null;
  protection: ProtectionLevel | null;
  files: string | null;
  bytes: string | null;
}

interface RawWithoutOffsite {
  id: string;
  project_id: string;
  project_slug: string;
  card_id: string;
  card_label: string;
  relative_path: string;
  size: string;
  protection: ProtectionLevel;
  protection_reason: string | null;
  updated_at: Date;
}

function toCardFileRow(r: RawCardFile): CardFileRow {
  return {
    id: r.id,
    relativePath: r.relative_path,
    relativePathNfc: r.relative_path_nfc,
    version: r.version,
    size: r.size,
    protection: r.protection,
    protectionReason: r.protection_reason,
    openFinding: r.open_finding,
    xxh64: r.xxh64,
    sha256: r.sha256,
    captureTime: r.capture_time,
    nameWarnings: r.name_warnings ?? [],
  };
}

function toWithoutOffsiteRow(r: RawWithoutOffsite): FileWithoutOffsiteRow {
  return {
    id: r.id,
    projectId: r.project_id,
    projectSlug: r.project_slug,
    cardId: r.card_id,
    cardLabel: r.card_label,
    relativePath: r.relative_path,
    size: r.size,
    protection: r.protection,
    protectionReason: r.protection_reason,
    updatedAt: r.updated_at,
  };
}

type BigBreakdown = Record<ProtectionLevel, { files: number; bytes: bigint }>;

function emptyBreakdown(): BigBreakdown {
  return Object.fromEntries(PROTECTION_LEVELS.map((l) => [l, { files: 0, bytes: 0n }])) as BigBreakdown;
}

function publicBreakdown(b: BigBreakdown): LevelBreakdown {
  return Object.fromEntries(PROTECTION_LEVELS.map((l) => [l, { files: b[l].files, bytes: b[l].bytes.toString() }])) as LevelBreakdown;
}

// ---- input checks and cursors ---------------------------------------------------------

function invalid(field: string, message: string): AppError {
  return new AppError(ErrorCode.ValidationFailed, `${field} ${message}`, [`${field} is invalid`]);
}

function assertUuid(field: string, value: string): void {
  if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw invalid(field, 'must be a UUID');
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

function isBigintId(v: unknown): v is string {
  return typeof v === 'string' && BIGINT_ID_PATTERN.test(v) && BigInt(v) <= BIGINT_MAX;
}

function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeCursorJson(cursor: string): Record<string, unknown> {
  if (typeof cursor !== 'string' || cursor.length > 12000 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid('after', 'is not a cursor returned by this list');
  }
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid('after', 'is not a cursor returned by this list');
}

function decodeCardFilesCursor(cursor: string): { path: string; id: string } {
  const v = decodeCursorJson(cursor);
  if (typeof v.p !== 'string' || v.p.length < 1 || v.p.length > 4096 || v.p.includes('\u0000') || !isBigintId(v.i)) {
    throw invalid('after', 'is not a cursor returned by this list');
  }
  return { path: v.p, id: v.i };
}

function decodeIdCursor(cursor: string): string {
  const v = decodeCursorJson(cursor);
  if (!isBigintId(v.i) || 'p' in v) throw invalid('after', 'is not a cursor returned by this list');
  return v.i;
}
