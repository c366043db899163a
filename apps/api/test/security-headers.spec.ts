/** Response headers: CSP (with the portal's inline script by hash), framing, nosniff, referrer, no-store, no CORS on /files. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSetupCode, startTestApp, TestApp } from '@studiovault/testing';
import { JobQueue } from '@studiovault/jobs';
import { createApiApp } from '../src/application';
import { inlineScriptHashes } from '../src/ops/security-headers';
import { ADMIN } from './helpers';

const CONFIG_SCRIPT = 'window.__NUXT__={};window.__NUXT__.config={public:{apiBase:""}}';
const INDEX =
  '<!DOCTYPE html><html><head><script type="module" src="/_nuxt/entry.js" crossorigin></script>' +
  '<script id="unhead:payload" type="application/json">{"title":"StudioVault"}</script></head>' +
  `<body><div id="__nuxt"></div><script>${CONFIG_SCRIPT}</script></body></html>`;
const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

function directives(csp: string): Record<string, string[]> {
  return Object.fromEntries(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('security headers', () => {
  let t: TestApp;
  let webDir: string;
  let token: string;

  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), 'sv-web-'));
    await writeFile(join(webDir, 'index.html'), INDEX);
    await writeFile(join(webDir, 'app.js'), 'console.log(1)');
    t = await startTestApp((opts) => createApiApp({ ...opts, webDir }));
    await t.app.get(JobQueue).start('producer');
    await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, setupCode: await readSetupCode(t.dataDir) })
      .expect(200);
    token = (await t.http().post('/api/auth/token').send({ email: ADMIN.email, password: ADMIN.password, tokenName: 'h' }).expect(200)).body
      .token;
  });
  afterAll(async () => {
    await t.close();
    await rm(webDir, { recursive: true, force: true });
  });

  it('hashes only the inline scripts that run', () => {
    expect(inlineScriptHashes(webDir)).toEqual([sha256(CONFIG_SCRIPT)]);
    expect(inlineScriptHashes(undefined)).toEqual([]);
  });

  it('the portal: a strict CSP that allows its inline script by hash, no framing, nosniff, no referrer', async () => {
    for (const path of ['/', '/projects/some-slug', '/app.js']) {
      const res = await t.http().get(path).expect(200);
      const csp = directives(res.headers['content-security-policy'] as string);
      expect(csp['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'", sha256(CONFIG_SCRIPT)]);
      expect(csp['default-src']).toEqual(["'self'"]);
      expect(csp['style-src']).toEqual(["'self'"]);
      expect(csp['object-src']).toEqual(["'none'"]);
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      expect(csp['upgrade-insecure-requests']).toBeUndefined(); // plain HTTP on the LAN must keep working
      expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['cache-control']).not.toContain('no-store'); // the shell and assets may be cached
    }
  });

  it('every /api response, session and token ones included, is no-store and carries the same headers', async () => {
    const responses = [
      await t.http().get('/api/health'),
      await t.http().get('/api/setup'),
      await t.http().post('/api/auth/login').send({ email: ADMIN.email, password: ADMIN.password }),
      await t.http().post('/api/auth/token').send({ email: ADMIN.email, password: ADMIN.password, tokenName: 'h2' }),
      await t.http().get('/api/auth/session').auth(token, { type: 'bearer' }),
      await t.http().get('/api/tokens').auth(token, { type: 'bearer' }),
      await t.http().post('/api/auth/login').send({ email: ADMIN.email, password: 'wrong password' }),
      await t.http().get('/api/nope'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 401, 404]);
    for (const res of responses) {
      expect(res.headers['cache-control']).toMatch(/\bno-store\b/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('/files gives no Access-Control-Allow-Origin to another origin, preflight or not', async () => {
    const origin = 'https://evil.example';
    const preflight = await t
      .http()
      .options('/files')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, tus-resumable, upload-length, upload-metadata');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const authed = await t.http().options('/files').set('Origin', origin).set('Tus-Resumable', '1.0.0').auth(token, { type: 'bearer' });
    expect(authed.status).toBeLessThan(300);
    expect(authed.headers['tus-version']).toBeDefined(); // it reached tus
    expect(authed.headers['access-control-allow-origin']).toBeUndefined();
    const post = await t
      .http()
      .post('/files')
      .set('Origin', origin)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Length', '3')
      .auth(token, { type: 'bearer' });
    expect(post.status).toBe(400); // no cardId
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
    expect(post.headers['cache-control']).toBe('no-store');
    expect(post.headers['x-content-type-options']).toBe('nosniff');
  });
});
