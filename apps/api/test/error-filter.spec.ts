/**
 * The error filter and real Postgres errors: input the database refused is the client's 400/409,
 * anything else a generic 500; neither carries the database's text, and the server log has it
 * with the request id.
 */
import { Controller, Get, LoggerService, Module, Param } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { configureApp } from '../src/application';
import { ErrorFilter } from '../src/errors/error.filter';
import { HealthService } from '../src/ops/health.service';
import { MetricsService } from '../src/ops/metrics.service';

const QUERIES: Record<string, [string, unknown[]]> = {
  uuid: ['SELECT $1::uuid', ['not-a-uuid']],
  range: ['SELECT $1::int', ['99999999999']],
  nul: ['SELECT $1::text', ['a\u0000b']],
  fk: ['INSERT INTO child (parent_id) VALUES ($1)', [42]],
  unique: ['INSERT INTO parent (id) VALUES (1)', []],
  missing: ['SELECT * FROM no_such_relation', []],
  syntax: ['SELEC 1', []],
};

@Controller('pg')
class PgController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}
  @Get(':kind')
  async run(@Param('kind') kind: string): Promise<unknown> {
    const [sql, params] = QUERIES[kind]!;
    return this.db.query(sql, params);
  }
}

describe('error filter: database errors reach no client', () => {
  let db: TestDatabase;
  let app: NestExpressApplication;
  const logged: string[] = [];
  const capture: LoggerService = {
    log: () => undefined,
    warn: (m: unknown) => void logged.push(`warn ${String(m)}`),
    error: (m: unknown) => void logged.push(`error ${String(m)}`),
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    @Module({
      imports: [TypeOrmModule.forRoot({ type: 'postgres', url: db.url })],
      controllers: [PgController],
      // The filter counts errors in the real metrics; this app has no volumes to report.
      providers: [
        MetricsService,
        { provide: HealthService, useValue: { volumes: async () => [] } },
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    })
    class PgModule {}
    app = await NestFactory.create<NestExpressApplication>(PgModule, { bodyParser: false, logger: capture });
    configureApp(app, { bodyLimit: '1mb' });
    await app.init();
    const ds = app.get(DataSource);
    await ds.query(
      'CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (parent_id int REFERENCES parent (id)); INSERT INTO parent VALUES (1)',
    );
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it.each([
    ['uuid', 400, 'VALIDATION_FAILED'],
    ['range', 400, 'VALIDATION_FAILED'],
    ['nul', 400, 'VALIDATION_FAILED'],
    ['fk', 400, 'VALIDATION_FAILED'],
    ['unique', 409, 'CONFLICT'],
    ['missing', 500, 'INTERNAL_ERROR'],
    ['syntax', 500, 'INTERNAL_ERROR'],
  ])('%s → %i %s, without the database text, logged with the request id', async (kind, status, code) => {
    logged.length = 0;
    const res = await request(app.getHttpServer()).get(`/api/pg/${kind}`).set('X-Request-Id', `req-${kind}`);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, code, requestId: `req-${kind}` });
    expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'requestId', 'statusCode']);
    expect(res.body.message).not.toMatch(
      /invalid input|violates|relation|out of range|syntax|constraint|parent|child|uuid|integer|byte sequence/i,
    );
    const line = logged.find((l) => l.includes(`req-${kind}`));
    expect(line).toBeDefined();
    expect(line!.startsWith(status === 500 ? 'error' : 'warn')).toBe(true);
  });
});
