/**
 * The built `studiovault` CLI (apps/cli/dist/studiovault.cjs) as a child process against the
 * real API on a real HTTP port with a real Postgres database.
 *
 *   cd /work/main && npx jest test/cli
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSetupCode, startTestApp, type TestApp } from '@studiovault/testing';
import { createApiApp } from '../../apps/api/src/application';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'apps/cli/dist/studiovault.cjs');
const ADMIN = { email: 'ada@studio.example', name: 'Ada Admin', password: 'correct horse battery staple' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let testApp: TestApp;
let server: string;
let home: string;
let configFile: string;
/** A plain HTTP server that is not StudioVault; records what it was sent. */
let stranger: Server;
let strangerUrl: string;
const strangerSaw: IncomingHttpHeaders[] = [];

/** Runs the built CLI with a clean environment (no STUDIOVAULT_* from the caller). */
function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; node?: string } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STUDIOVAULT_') && k !== 'XDG_CONFIG_HOME') env[k] = v;
  Object.assign(env, { HOME: home, STUDIOVAULT_CONFIG: configFile, NO_COLOR: '1' }, opts.env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((done, fail) => {
    // Asynchronous on purpose: the API runs in this process and must keep answering.
    const child = spawn(opts.node ?? process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** stdout must be exactly one JSON document. */
function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

interface Config {
  server?: string;
  token?: string;
  tokenId?: string;
  tokenName?: string;
  email?: string;
}
const readConfig = async (path = configFile): Promise<Config> => JSON.parse(await readFile(path, 'utf8')) as Config;

const login = (extra: string[] = [], password = ADMIN.password) =>
  cli(['login', '--server', server, '--email', ADMIN.email, '--password-stdin', ...extra], { input: `${password}\n` });

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(CLI)).toBe(true);

  home = await mkdtemp(join(tmpdir(), 'sv-cli-'));
  configFile = join(home, 'conf', 'studiovault.json');

  testApp = await startTestApp(createApiApp);
  await testApp.app.listen(0, '127.0.0.1');
  server = `http://127.0.0.1:${(testApp.app.getHttpServer().address() as AddressInfo).port}`;
  await testApp
    .http()
    .post('/api/setup')
    .send({ ...ADMIN, setupCode: await readSetupCode(testApp.dataDir) })
    .expect(200);

  stranger = createServer((req, res) => {
    strangerSaw.push(req.headers);
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
  });
  await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', r));
  strangerUrl = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await testApp?.close();
  await new Promise((r) => (stranger ? stranger.close(r) : r(undefined)));
  if (home) await rm(home, { recursive: true, force: true });
});

describe('studiovault CLI against the real API', () => {
  let firstToken: string;

  it('is not logged in before login: exit 2 with a hint', async () => {
    const human = await cli(['whoami']);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: not logged in: run studiovault login --server URL \(NOT_LOGGED_IN\)\n$/);

    const machine = await cli(['projects', 'list', '--json']);
    expect(machine.code).toBe(2);
    expect(json(machine)).toEqual({ error: { code: 'NOT_LOGGED_IN', message: expect.stringContaining('not logged in') } });
  });

  it('logs in with --email and --password-stdin and stores the token in a 0600 file, never printing it', async () => {
    const run = await login();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Logged in to ${server} as Ada Admin <${ADMIN.email}> (admin).`);

    const config = await readConfig();
    expect(config.server).toBe(server);
    expect(config.token).toMatch(/^svt_/);
    expect(config.tokenName).toBe(`cli@${hostname()}`);
    expect(config.email).toBe(ADMIN.email);
    expect(run.stdout + run.stderr).not.toContain(config.token);
    expect(run.stdout + run.stderr).not.toContain(ADMIN.password);

    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    // Written atomically: no temporary file is left next to it.
    expect(await readdir(join(home, 'conf'))).toEqual(['studiovault.json']);

    // The stored token is a real token of that user.
    const session = await testApp.http().get('/api/auth/session').set('Authorization', `Bearer ${config.token}`).expect(200);
    expect(session.body.user.email).toBe(ADMIN.email);
    expect(session.body.via).toBe('token');
    firstToken = config.token!;
  });

  it('logs in again from the same workstation: replaces (and revokes) the earlier token; --json output has no secret', async () => {
    const run = await login(['--json']);
    expect(run.code).toBe(0);
    const out = json<{ server: string; user: { email: string; role: string }; token: Record<string, unknown>; config: string }>(run);
    expect(out.server).toBe(server);
    expect(out.user).toMatchObject({ email: ADMIN.email, role: 'admin' });
    expect(out.token.name).toBe(`cli@${hostname()}`);
    expect(out.token).not.toHaveProperty('token');
    expect(out.config).toBe(configFile);

    const config = await readConfig();
    expect(config.token).not.toBe(firstToken);
    expect(run.stdout + run.stderr).not.toContain(config.token);
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    const old = await testApp.http().get('/api/auth/session').set('Authorization', `Bearer ${firstToken}`);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('TOKEN_INVALID');
  });

  it('whoami: human and --json', async () => {
    const human = await cli(['whoami']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/User:\s+Ada Admin <ada@studio\.example>/);
    expect(human.stdout).toMatch(/Role:\s+admin/);
    expect(human.stdout).toContain(server);

    const machine = await cli(['whoami', '--json']);
    expect(machine.code).toBe(0);
    expect(json(machine)).toMatchObject({
      server,
      via: 'token',
      credentials: 'config',
      user: { email: ADMIN.email, name: ADMIN.name, role: 'admin' },
    });
  });

  it('creates projects (human and --json)', async () => {
    const human = await cli(['projects', 'create', 'Anna & Ben — Wedding']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Created project "Anna & Ben — Wedding" (anna-ben-wedding).');
    expect(human.stdout).toMatch(/Slug:\s+anna-ben-wedding/);

    const machine = await cli([
      'projects',
      'create',
      'Miller Family',
      '--slug',
      'miller-2026',
      '--type',
      'family',
      '--client',
      'The Millers',
      '--shoot-date',
      '2026-09-12',
      '--json',
    ]);
    expect(machine.code).toBe(0);
    expect(json(machine)).toMatchObject({
      name: 'Miller Family',
      slug: 'miller-2026',
      type: 'family',
      client: 'The Millers',
      shootDate: '2026-09-12',
      status: 'active',
    });
  });

  it('lists projects as a table and as JSON, with search and paging', async () => {
    const table = await cli(['projects', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SLUG\s+NAME\s+TYPE\s+STATUS\s+SHOOT DATE\s+CLIENT$/);
    // newest first
    expect(lines[1]).toMatch(/^miller-2026\s+Miller Family\s+family\s+active\s+2026-09-12\s+The Millers$/);
    expect(lines[2]).toMatch(/^anna-ben-wedding\s+Anna & Ben — Wedding\s+other\s+active\s+-\s+-$/);
    expect(lines[lines.length - 1]).toBe('2 projects');
    // columns line up: NAME starts at the same column on every row
    const nameCol = lines[0].indexOf('NAME');
    expect(lines[1].indexOf('Miller')).toBe(nameCol);
    expect(lines[2].indexOf('Anna')).toBe(nameCol);

    const all = await cli(['projects', 'list', '--json']);
    expect(all.code).toBe(0);
    const page = json<{ items: { slug: string }[]; total: number; limit: number; offset: number }>(all);
    expect(page.items.map((p) => p.slug)).toEqual(['miller-2026', 'anna-ben-wedding']);
    expect(page).toMatchObject({ total: 2, limit: 50, offset: 0 });

    const searched = json<{ items: { slug: string }[]; total: number }>(await cli(['projects', 'list', '--search', 'millers', '--json']));
    expect(searched.items.map((p) => p.slug)).toEqual(['miller-2026']);
    expect(searched.total).toBe(1);

    const paged = await cli(['projects', 'list', '--limit', '1', '--offset', '1']);
    expect(paged.code).toBe(0);
    expect(paged.stdout).toContain('anna-ben-wedding');
    expect(paged.stdout).not.toContain('miller-2026');
    expect(paged.stdout).toContain('2-2 of 2 projects');

    const firstPage = await cli(['projects', 'list', '--limit', '1']);
    expect(firstPage.stdout).toContain('1-1 of 2 projects; next page: --offset 1');

    const archived = await cli(['projects', 'list', '--status', 'archived']);
    expect(archived.code).toBe(0);
    expect(archived.stdout).toBe('No projects match.\n');
  });

  it('shows one project; an unknown slug is an error answered by the server (exit 1)', async () => {
    const human = await cli(['projects', 'show', 'miller-2026']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Name:\s+Miller Family/);
    expect(human.stdout).toMatch(/Shoot date:\s+2026-09-12/);

    const machine = await cli(['projects', 'show', 'miller-2026', '--json']);
    expect(json(machine)).toMatchObject({ slug: 'miller-2026', client: 'The Millers' });

    const missing = await cli(['projects', 'show', 'nope', '--json']);
    expect(missing.code).toBe(1);
    expect(json<{ error: { code: string } }>(missing).error.code).toBe('NOT_FOUND');
  });

  it('a duplicate slug: exit 1 and PROJECT_SLUG_TAKEN', async () => {
    const machine = await cli(['projects', 'create', 'Another Miller', '--slug', 'miller-2026', '--json']);
    expect(machine.code).toBe(1);
    const body = json<{ error: { code: string; message: string } }>(machine);
    expect(body.error.code).toBe('PROJECT_SLUG_TAKEN');
    expect(body.error.message).toEqual(expect.any(String));
    expect(machine.stderr).toBe('');

    const human = await cli(['projects', 'create', 'Another Miller', '--slug', 'miller-2026']);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: .+ \(PROJECT_SLUG_TAKEN\)\n$/);
  });

  it('usage errors exit 2 before anything is sent: bad --type, --limit, --shoot-date, --slug, --server', async () => {
    const badType = await cli(['projects', 'create', 'X', '--type', 'bogus', '--json']);
    expect(badType.code).toBe(2);
    const err = json<{ error: { code: string; message: string } }>(badType).error;
    expect(err.code).toBe('USAGE_ERROR');
    expect(err.message).toContain('wedding');

    const humanType = await cli(['projects', 'list', '--type', 'bogus']);
    expect(humanType.code).toBe(2);
    expect(humanType.stderr).toMatch(/^error: .*--type.*bogus.* \(USAGE_ERROR\)\n$/);

    for (const args of [
      ['projects', 'list', '--limit', '0'],
      ['projects', 'list', '--limit', 'ten'],
      ['projects', 'list', '--offset', '-1'],
      ['projects', 'create', 'X', '--shoot-date', '2026-02-30'],
      ['projects', 'create', 'X', '--slug', 'Not A Slug'],
      ['projects', 'list', '--server', 'nas.local:3210'],
      ['projects', 'frobnicate'],
      ['projects'],
    ]) {
      const run = await cli([...args, '--json']);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(json<{ error: { code: string } }>(run).error.code).toBe('USAGE_ERROR');
    }
    // nothing was created by the refused commands
    const page = json<{ total: number }>(await cli(['projects', 'list', '--json']));
    expect(page.total).toBe(2);
  });

  it('STUDIOVAULT_SERVER and STUDIOVAULT_TOKEN work without any config file', async () => {
    const { token } = await readConfig();
    const nowhere = join(home, 'none', 'config.json');
    const env = { STUDIOVAULT_CONFIG: nowhere, STUDIOVAULT_SERVER: server, STUDIOVAULT_TOKEN: token };
    const who = await cli(['whoami', '--json'], { env });
    expect(who.code).toBe(0);
    expect(json(who)).toMatchObject({ server, credentials: 'env', user: { email: ADMIN.email } });

    const list = await cli(['projects', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    expect(json<{ total: number }>(list).total).toBe(2);
    expect(existsSync(nowhere)).toBe(false);

    // --server works the same as STUDIOVAULT_SERVER
    const flag = await cli(['--server', server, 'projects', 'show', 'miller-2026', '--json'], {
      env: { ...env, STUDIOVAULT_SERVER: undefined },
    });
    expect(flag.code).toBe(0);
    expect(json(flag)).toMatchObject({ slug: 'miller-2026' });

    // an invalid token is the server's answer: exit 1
    const bogus = await cli(['whoami', '--json'], { env: { ...env, STUDIOVAULT_TOKEN: 'svt_not_a_real_token' } });
    expect(bogus.code).toBe(1);
    expect(json<{ error: { code: string } }>(bogus).error.code).toBe('TOKEN_INVALID');
  });

  it('sends the stored token only to the server it came from', async () => {
    const run = await cli(['whoami', '--server', strangerUrl, '--json']);
    expect(run.code).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(run).error).toEqual({
      code: 'NOT_LOGGED_IN',
      message: `not logged in to ${strangerUrl}: run studiovault login --server ${strangerUrl}`,
    });
    expect(strangerSaw).toHaveLength(0);
  });

  it('a server that is not StudioVault: exit 1 with a clear message', async () => {
    const run = await cli(['whoami', '--server', strangerUrl], { env: { STUDIOVAULT_TOKEN: 'svt_x' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the server at ${strangerUrl} answered HTTP 404`);
    expect(run.stderr).toContain('(UNEXPECTED_RESPONSE)');
  });

  it('a wrong password: exit 1 with INVALID_CREDENTIALS, the stored login untouched', async () => {
    const before = await readFile(configFile, 'utf8');
    const run = await login(['--json'], 'wrong password, sorry');
    expect(run.code).toBe(1);
    expect(json<{ error: { code: string } }>(run).error.code).toBe('INVALID_CREDENTIALS');
    expect(await readFile(configFile, 'utf8')).toBe(before);

    const human = await login([], 'still wrong');
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^error: .+ \(INVALID_CREDENTIALS\)\n$/);
    expect(human.stderr).not.toContain('still wrong');
  });

  it('an unreachable server: exit 3 naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const human = await cli(['projects', 'list', '--server', url], { env: { STUDIOVAULT_TOKEN: 'svt_x' } });
    expect(human.code).toBe(3);
    expect(human.stderr).toContain(`cannot reach the StudioVault server at ${url}`);
    expect(human.stderr).toContain('ECONNREFUSED');

    const machine = await login(['--json'].concat(['--server', url]));
    expect(machine.code).toBe(3);
    expect(json<{ error: { code: string; message: string } }>(machine).error).toMatchObject({
      code: 'SERVER_UNREACHABLE',
      message: expect.stringContaining(url),
    });
  });

  it('sends names in NFC (a Mac terminal may type NFD), so the catalog finds them', async () => {
    const nfd = 'Zoe\u0308 Portraits';
    const created = await cli(['projects', 'create', nfd, '--slug', 'zoe-portraits', '--json']);
    expect(created.code).toBe(0);
    expect(json<{ name: string }>(created).name).toBe('Zo\u00eb Portraits');
    const found = json<{ items: { slug: string }[] }>(await cli(['projects', 'list', '--search', 'zoe\u0308', '--json']));
    expect(found.items.map((p) => p.slug)).toEqual(['zoe-portraits']);
  });

  it('runs on Node 20 (the oldest supported) where one is installed', async () => {
    const node20 = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
      try {
        return existsSync(p) && execFileSync(p, ['--version']).toString().startsWith('v20.');
      } catch {
        return false;
      }
    });
    if (!node20) return; // nothing to check on this machine
    const run = await cli(['whoami', '--json'], { node: node20 });
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ user: { email: ADMIN.email } });
  });

  it('warns when the config file is readable by others', async () => {
    const copy = join(home, 'loose.json');
    await writeFile(copy, await readFile(configFile), { mode: 0o644 });
    const run = await cli(['whoami'], { env: { STUDIOVAULT_CONFIG: copy } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warning: the config file ${copy} can be read by other users`);
  });

  it('logout revokes the token, forgets it and keeps the server', async () => {
    const { token } = await readConfig();
    const run = await cli(['logout', '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toEqual({ server, loggedOut: true, tokenRevoked: true });

    const config = await readConfig();
    expect(config.token).toBeUndefined();
    expect(config.tokenId).toBeUndefined();
    expect(config.server).toBe(server);
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    const revoked = await testApp.http().get('/api/auth/session').set('Authorization', `Bearer ${token}`);
    expect(revoked.status).toBe(401);

    const who = await cli(['whoami']);
    expect(who.code).toBe(2);
    expect(who.stderr).toContain(`not logged in to ${server}: run studiovault login --server ${server}`);

    const again = await cli(['logout']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Not logged in');

    // login without --server uses the remembered one
    const relogin = await cli(['login', '--email', ADMIN.email, '--password-stdin'], { input: ADMIN.password });
    expect(relogin.code).toBe(0);
    expect((await readConfig()).token).toMatch(/^svt_/);
  });

  it('token names: a taken default name gets a unique one, a taken --token-name is refused', async () => {
    // Another config on the same workstation does not know the live "cli@<host>" token.
    const other = join(home, 'other', 'config.json');
    const run = await cli(['login', '--server', server, '--email', ADMIN.email, '--password-stdin', '--json'], {
      env: { STUDIOVAULT_CONFIG: other },
      input: ADMIN.password,
    });
    expect(run.code).toBe(0);
    const name = json<{ token: { name: string } }>(run).token.name;
    const prefix = `cli@${hostname()} `;
    expect(name.startsWith(prefix)).toBe(true);
    expect(name.slice(prefix.length)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect((await readConfig(other)).tokenName).toBe(name);
    // both logins are live
    const main = await cli(['whoami', '--json']);
    expect(main.code).toBe(0);

    const taken = await login(['--token-name', `cli@${hostname()}`, '--json']);
    expect(taken.code).toBe(1);
    expect(json<{ error: { code: string } }>(taken).error.code).toBe('TOKEN_NAME_TAKEN');
    const blank = await login(['--token-name', '  ', '--json']);
    expect(blank.code).toBe(2);
  });

  it('password: changes the own password with the current one (wrong one: exit 1, CURRENT_PASSWORD_WRONG)', async () => {
    const adminToken = (await readConfig()).token!;
    const email = 'cli-password@studio.example';
    await testApp
      .http()
      .post('/api/users')
      .auth(adminToken, { type: 'bearer' })
      .send({ email, name: 'Pat', role: 'viewer', password: 'old-secret-words-1' })
      .expect(201);
    const made = await testApp.http().post('/api/auth/token').send({ email, password: 'old-secret-words-1', tokenName: 'pat' }).expect(200);
    const env = { STUDIOVAULT_SERVER: server, STUDIOVAULT_TOKEN: made.body.token as string };

    const wrong = await cli(['password', '--password-stdin', '--json'], { env, input: 'not-the-old-one\nnew-secret-words-2\n' });
    expect(wrong.code).toBe(1);
    expect(json<{ error: { code: string } }>(wrong).error.code).toBe('CURRENT_PASSWORD_WRONG');
    const short = await cli(['password', '--password-stdin'], { env, input: 'old-secret-words-1\nshort\n' });
    expect(short.code).toBe(2);

    const ok = await cli(['password', '--password-stdin'], { env, input: 'old-secret-words-1\nnew-secret-words-2\n' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Password changed');
    expect(ok.stdout + ok.stderr).not.toContain('new-secret-words-2');
    await testApp.http().post('/api/auth/login').send({ email, password: 'old-secret-words-1' }).expect(401);
    await testApp.http().post('/api/auth/login').send({ email, password: 'new-secret-words-2' }).expect(200);
  });
});
