import { DataSource } from 'typeorm';
import { AuditEventEntity, createCatalogDataSource, migrateCatalog } from '@studiovault/catalog';
import { requestContext } from '@studiovault/common';
import { Role } from '@studiovault/contracts';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { AUDIT_LIMITS, capDetails } from './audit-limits';
import { AuditService } from './audit.service';

describe('AuditService: a row never grows with what a client sends', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let audit: AuditService;
  const rows = () =>
    ds.query(
      `SELECT action, subject_type, subject_id, actor_email, ip, request_id, details, octet_length(details::text) AS details_bytes
         FROM audit_events ORDER BY id`,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrateCatalog(db.url);
    ds = await createCatalogDataSource(db.url).initialize();
    audit = new AuditService(ds.getRepository(AuditEventEntity));
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });
  beforeEach(() => ds.query('DELETE FROM audit_events'));

  it('keeps small details as they are, unmarked', async () => {
    await audit.record('project.create', { type: 'project', id: 'p1' }, { name: 'Anna & Ben', tags: ['a', 'b'] });
    const [row] = await rows();
    expect(row.details).toEqual({ name: 'Anna & Ben', tags: ['a', 'b'] });
  });

  it('cuts a 900 KB string, every column and long lists, and marks the cut', async () => {
    const ctx = {
      requestId: 'r'.repeat(500),
      ip: '1'.repeat(500),
      actor: {
        userId: '00000000-0000-4000-8000-000000000001',
        email: `${'e'.repeat(5000)}@x.test`,
        role: Role.Admin,
        via: 'system' as const,
      },
    };
    await requestContext.run(ctx, () =>
      audit.record(
        'a'.repeat(200),
        { type: 't'.repeat(100), id: 'i'.repeat(100) },
        { email: 'x'.repeat(900_000), list: Array(5000).fill('y') },
      ),
    );
    const [row] = await rows();
    expect(row.action.length).toBeLessThanOrEqual(64);
    expect(row.subject_type.length).toBeLessThanOrEqual(32);
    expect(row.subject_id.length).toBeLessThanOrEqual(64);
    expect(row.actor_email.length).toBeLessThanOrEqual(254);
    expect(row.ip.length).toBeLessThanOrEqual(64);
    expect(row.request_id.length).toBeLessThanOrEqual(64);
    expect(row.details_bytes).toBeLessThanOrEqual(AUDIT_LIMITS.detailsBytes + 64);
    expect(row.details._truncated).toBe(true);
    expect(row.details.email).toMatch(/^x+…\[\+\d+ chars\]$/);
    expect(row.details.list).toHaveLength(AUDIT_LIMITS.items);
  });

  it('keeps only a preview of details that are still too large after the cuts', async () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'é'.repeat(1000)]));
    await audit.record('settings.bulk', undefined, many);
    const [row] = await rows();
    expect(row.details_bytes).toBeLessThanOrEqual(AUDIT_LIMITS.detailsBytes + 64);
    expect(Object.keys(row.details).sort()).toEqual(['_truncated', 'preview']);
    expect(row.details.preview).toMatch(/^\{"k0":"éé/);
  });

  it('cuts deep nesting', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20; i++) deep = { inner: deep };
    const capped = capDetails(deep);
    expect(JSON.stringify(capped)).toContain('[…]');
    expect(capped._truncated).toBe(true);
  });
});
