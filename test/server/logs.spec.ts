/** The server's request log, as `npm start` runs it: JSON lines in a pipe, readable lines on request; routine requests quiet. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { freePort, requireBuild, ServerProcess, startServer, waitForHealth } from './server-process';

describe('request logs of the built server', () => {
  let db: TestDatabase;
  let dataDir: string;
  let webDir: string;

  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-logs-'));
    webDir = await mkdtemp(join(tmpdir(), 'sv-logs-web-'));
    await writeFile(join(webDir, 'index.html'), '<!DOCTYPE html><html><body>portal</body></html>');
    await writeFile(join(webDir, 'app.js'), 'console.log(1)');
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(webDir, { recursive: true, force: true });
  });

  /** Starts the server, makes routine and failing requests, and returns its stdout once the last one is logged. */
  async function run(env: Record<string, string>, lastLine: RegExp): Promise<string> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server: ServerProcess = startServer({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_WEB_DIR: webDir,
      STUDIOVAULT_WORKER_IN_PROCESS: 'false',
      LOG_LEVEL: 'info',
      ...env,
    });
    try {
      await waitForHealth(base, server);
      for (const path of ['/api/health', '/api/health/live', '/app.js', '/', '/projects/x', '/api/nope'])
        expect((await fetch(`${base}${path}`)).status).toBe(path === '/api/nope' ? 404 : 200);
      const bad = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(bad.status).toBe(400);
      expect((await fetch(`${base}/api/setup`)).status).toBe(200); // the last one: logged at info
      const deadline = Date.now() + 10_000;
      while (!lastLine.test(server.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return server.stdout();
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }

  it('writes one JSON object a line to a pipe: failures logged, health checks and portal files not at info', async () => {
    const out = await run({}, /"url":"\/api\/setup"/);
    const logs = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; req?: { url: string; method: string }; res?: { statusCode: number } });
    const requests = logs.filter((l) => l.req && l.res).map((l) => [l.req!.method, l.req!.url, l.res!.statusCode, l.level]);
    expect(requests).toEqual([
      ['GET', '/api/nope', 404, 40],
      ['POST', '/api/auth/login', 400, 40],
      ['GET', '/api/setup', 200, 30],
    ]);
    expect(JSON.stringify(logs.find((l) => l.req?.url === '/api/nope'))).not.toContain('content-security-policy'); // no header dump
    // every line is JSON but the start-up banner and the shutdown notice (Nest's boot lines too)
    const other = out.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
    // (and the first-run setup code, printed for the person at the console)
    const forPeople =
      /StudioVault is running|^ {2}(database|portal|worker):|^SIGTERM: |^First-run setup: |^ {4}[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$|^ {2}\(also in .*setup-code/;
    expect(other.filter((l) => !forPeople.test(l))).toEqual([]);
    expect(logs.some((l) => (l as { context?: string }).context === 'NestFactory')).toBe(true);
  }, 60_000);

  it('writes readable lines with LOG_FORMAT=pretty', async () => {
    const out = await run({ LOG_FORMAT: 'pretty' }, /GET \/api\/setup 200/);
    expect(out).not.toMatch(/^\{/m);
    const logLines = out.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
    expect(logLines.some((l) => / INFO {2}\[NestFactory\] Starting Nest application/.test(l))).toBe(true);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}GET \/api\/nope 404 \d+ms req=[\w-]+$/m);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}POST \/api\/auth\/login 400 \d+ms req=[\w-]+$/m);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/api\/setup 200 \d+ms req=[\w-]+$/m);
    const requestLines = logLines.filter((l) => /^\S+ [A-Z]+ +(GET|POST) \S+ \d{3} \d+ms/.test(l));
    expect(requestLines.map((l) => l.replace(/^\S+ ([A-Z]+) +(\S+ \S+ \d+).*$/, '$1 $2'))).toEqual([
      'WARN GET /api/nope 404',
      'WARN POST /api/auth/login 400',
      'INFO GET /api/setup 200',
    ]);
  }, 60_000);
});
