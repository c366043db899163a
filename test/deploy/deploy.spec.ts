/**
 * Structural checks of the deployment files: the Dockerfiles, nginx config,
 * docker-compose.yml, .env.example and the Helm chart.
 *
 * No Docker engine, cluster or helm binary is assumed: the files are parsed
 * and checked against the promises the deployment makes (non-root, health
 * checks, two bind-mounted pools, no secrets in files, strict values schema).
 * `docker compose config` runs only where the compose plugin is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '../..');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Variables the application validates at boot (the documented set). */
const DOCUMENTED_APP_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'STUDIOVAULT_DATA_DIR',
  'STUDIOVAULT_PRIMARY_ROOT',
  'STUDIOVAULT_MIRROR_ROOT',
  'STUDIOVAULT_ADMIN_EMAIL',
  'STUDIOVAULT_ADMIN_PASSWORD',
  'STUDIOVAULT_ADMIN_PASSWORD_FILE',
  'STUDIOVAULT_SECRET_KEY',
  'STUDIOVAULT_SECRET_KEY_FILE',
  'STUDIOVAULT_MIGRATIONS_RUN',
  'STUDIOVAULT_WORKER_IN_PROCESS',
  'STUDIOVAULT_WEB_DIR',
  'STUDIOVAULT_COOKIE_SECURE',
  'LOG_LEVEL',
];

/**
 * Names declared in libs/config (the one place that reads process.env), with
 * the `_FILE` variants of those that have one. Empty if the file has moved.
 */
function declaredAppVariables(): string[] {
  const file = join(ROOT, 'libs/config/src/environment.ts');
  if (!existsSync(file)) return [];
  const names: string[] = [];
  for (const chunk of readFileSync(file, 'utf8').split('@EnvVar(').slice(1)) {
    const name = /^\s+([A-Z][A-Z0-9_]*)\??!?:/m.exec(chunk)?.[1];
    if (!name) continue;
    names.push(name);
    if (/fileVariant:\s*true/.test(chunk)) names.push(`${name}_FILE`);
  }
  return names;
}

const APP_VARIABLES = new Set([...DOCUMENTED_APP_VARIABLES, ...declaredAppVariables()]);

/** Passed to the containers but read by the runtime, not the application. */
const RUNTIME_VARIABLES = new Set(['TZ', 'NODE_OPTIONS']);

/** Variables that only docker-compose.yml reads (interpolation, image config). */
const COMPOSE_ONLY_VARIABLES = new Set([
  'STUDIOVAULT_IMAGE',
  'STUDIOVAULT_WEB_IMAGE',
  'STUDIOVAULT_VERSION',
  'STUDIOVAULT_PRIMARY_POOL',
  'STUDIOVAULT_MIRROR_POOL',
  'STUDIOVAULT_APPDATA_DIR',
  'STUDIOVAULT_UID',
  'STUDIOVAULT_GID',
  'STUDIOVAULT_HTTP_BIND',
  'STUDIOVAULT_HTTP_PORT',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'STUDIOVAULT_WORKER_CONCURRENCY',
  'TZ',
]);

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|_KEY$)/;

// ---------------------------------------------------------------------------
// Dockerfile parsing
// ---------------------------------------------------------------------------

interface Instruction {
  cmd: string;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

interface Dockerfile {
  stages: Stage[];
}

/** Parse a Dockerfile into stages; ARG defaults are substituted in FROM and USER. */
function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (current !== '' && line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  let stageArgs: Record<string, string> = {};
  const substitute = (s: string, vars: Record<string, string>): string =>
    s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a?: string, b?: string) => {
      const name = (a ?? b) as string;
      return name in vars ? vars[name] : m;
    });
  const parseArg = (args: string, into: Record<string, string>, fallback: Record<string, string>): void => {
    const [name, ...rest] = args.split('=');
    const value = rest.join('=').replace(/^"(.*)"$/, '$1');
    into[name.trim()] = rest.length > 0 ? value : (fallback[name.trim()] ?? '');
  };

  for (const line of logical) {
    const m = /^(\w+)\s*(.*)$/s.exec(line);
    if (!m) continue;
    const cmd = m[1].toUpperCase();
    const args = m[2];
    if (cmd === 'ARG' && stages.length === 0) {
      parseArg(args, globalArgs, {});
      continue;
    }
    if (cmd === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(args);
      if (!from) throw new Error(`unparsable FROM: ${line}`);
      stages.push({ image: substitute(from[1], globalArgs), name: from[2], instructions: [] });
      stageArgs = {};
      continue;
    }
    if (stages.length === 0) continue; // parser directives etc.
    if (cmd === 'ARG') parseArg(args, stageArgs, globalArgs);
    const value = cmd === 'USER' ? substitute(args, stageArgs) : args;
    stages[stages.length - 1].instructions.push({ cmd, args: value });
  }
  return { stages };
}

const finalStage = (df: Dockerfile): Stage => df.stages[df.stages.length - 1];
const instructionsOf = (stage: Stage, cmd: string): Instruction[] => stage.instructions.filter((i) => i.cmd === cmd);

/** The external base images (FROM lines that are not earlier stages), resolved. */
function externalBases(df: Dockerfile): string[] {
  const names = new Set<string>();
  const out: string[] = [];
  for (const s of df.stages) {
    if (!names.has(s.image)) out.push(s.image);
    if (s.name) names.add(s.name);
  }
  return out;
}

function isRootUser(user: string): boolean {
  const [u, g] = user.trim().split(':');
  return u === '' || u === '0' || u === 'root' || g === '0' || g === 'root';
}

const NODE_24 = /^node:24([.-]|$)/;

// ---------------------------------------------------------------------------
// .env.example and compose interpolation
// ---------------------------------------------------------------------------

function parseEnvFile(text: string): { entries: Array<[string, string]>; map: Record<string, string> } {
  const entries: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`.env.example: unparsable line: ${line}`);
    entries.push([m[1], m[2].replace(/^(["'])(.*)\1$/, '$2')]);
  }
  return { entries, map: Object.fromEntries(entries) };
}

/** Docker Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $$. */
function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
      const set = name in env;
      const val = env[name];
      if (op === ':-') return set && val !== '' ? val : (arg ?? '');
      if (op === '-') return set ? val : (arg ?? '');
      if (op === ':?' || op === '?') {
        if (!set || (op === ':?' && val === '')) throw new Error(`required variable ${name} is missing: ${arg}`);
        return val;
      }
      return set ? val : '';
    })
    .replace(/\$\$/g, '$');
}

/** Names of every ${VAR...} referenced in a text (ignores $$-escaped ones). */
function referencedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
  return names;
}

function durationSeconds(d: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms|us)/g;
  let matched = '';
  for (const m of d.matchAll(re)) {
    matched += m[0];
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : m[2] === 'ms' ? n / 1000 : n / 1e6;
  }
  if (matched !== d) throw new Error(`not a duration: ${d}`);
  return total;
}

// ---------------------------------------------------------------------------
// Dockerfiles
// ---------------------------------------------------------------------------

describe('Dockerfiles', () => {
  const files = ['docker/Dockerfile', 'docker/web.Dockerfile'];

  describe.each(files)('%s', (file) => {
    const df = parseDockerfile(read(file));

    it('is multi-stage, every stage named', () => {
      expect(df.stages.length).toBeGreaterThanOrEqual(2);
      const names = df.stages.map((s) => s.name);
      for (const n of names) expect(n).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(new Set(names).size).toBe(names.length);
    });

    it('runs the final stage as a non-root user', () => {
      const users = instructionsOf(finalStage(df), 'USER');
      expect(users.length).toBeGreaterThan(0);
      const last = users[users.length - 1].args;
      expect(isRootUser(last)).toBe(false);
      // Numeric, so Kubernetes can verify runAsNonRoot.
      expect(last).toMatch(/^\d+(:\d+)?$/);
    });

    it('declares a HEALTHCHECK in the final stage', () => {
      const hc = instructionsOf(finalStage(df), 'HEALTHCHECK');
      expect(hc).toHaveLength(1);
      expect(hc[0].args).toMatch(/\bCMD\b/);
      expect(hc[0].args).not.toMatch(/^NONE/);
    });

    it('bakes no secrets into the image', () => {
      for (const stage of df.stages) {
        for (const i of stage.instructions.filter((x) => x.cmd === 'ENV' || x.cmd === 'ARG')) {
          expect(i.args).not.toMatch(/(PASSWORD|SECRET|TOKEN|DATABASE_URL)/);
        }
      }
    });

    it('builds with Node 24', () => {
      const nodeBases = externalBases(df).filter((image) => image.startsWith('node:'));
      expect(nodeBases.length).toBeGreaterThan(0);
      for (const image of nodeBases) expect(image).toMatch(NODE_24);
    });
  });

  describe('docker/Dockerfile (api and worker)', () => {
    const df = parseDockerfile(read('docker/Dockerfile'));
    const runtime = finalStage(df);
    const stageByName = (name: string): Stage | undefined => df.stages.find((s) => s.name === name);

    it('uses node:24-bookworm-slim for every stage', () => {
      for (const image of externalBases(df)) expect(image).toBe('node:24-bookworm-slim');
    });

    it('runs node under tini so SIGTERM reaches it', () => {
      const entrypoint = instructionsOf(runtime, 'ENTRYPOINT');
      expect(entrypoint).toHaveLength(1);
      expect(JSON.parse(entrypoint[0].args)).toEqual(['/usr/bin/tini', '--']);
      const cmd = JSON.parse(instructionsOf(runtime, 'CMD')[0].args) as string[];
      expect(cmd).toEqual(['node', '--initial-old-space-size=128', 'dist/apps/api/src/main.js']);
      expect(runtime.instructions.some((i) => i.cmd === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args))).toBe(true);
    });

    it('copies only dist and production node_modules from the build stages', () => {
      const copiesFrom = instructionsOf(runtime, 'COPY')
        .map((i) => /--from=(\S+)\s+(\S+)/.exec(i.args))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ stage: m[1], src: m[2] }));
      const sources = copiesFrom.map((c) => c.src).sort();
      expect(sources).toEqual(['/app/dist', '/app/node_modules', '/app/package.json']);

      const nodeModules = copiesFrom.find((c) => c.src === '/app/node_modules');
      const depsStage = stageByName(nodeModules?.stage ?? '');
      expect(depsStage).toBeDefined();
      const install = instructionsOf(depsStage as Stage, 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(install).toMatch(/npm ci\b[^\n]*--omit=dev/);

      const build = stageByName(copiesFrom.find((c) => c.src === '/app/dist')?.stage ?? '');
      expect(
        instructionsOf(build as Stage, 'RUN')
          .map((i) => i.args)
          .join('\n'),
      ).toMatch(/npm run build/);
    });

    it('has a health check script that exists and probes /api/health', () => {
      expect(instructionsOf(runtime, 'HEALTHCHECK')[0].args).toContain('/api/health');
      const copy = instructionsOf(runtime, 'COPY').find((i) => i.args.includes('studiovault-healthcheck'));
      expect(copy).toBeDefined();
      const src = (copy as Instruction).args.split(/\s+/).filter((a) => !a.startsWith('--'))[0];
      expect(existsSync(join(ROOT, src))).toBe(true);
    });

    it('prepares the pool and data mount points for the app user', () => {
      const runs = instructionsOf(runtime, 'RUN')
        .map((i) => i.args)
        .join('\n');
      for (const dir of ['/data', '/pools/primary', '/pools/mirror']) expect(runs).toContain(dir);
      expect(instructionsOf(runtime, 'EXPOSE').map((i) => i.args)).toContain('3210');
    });
  });

  describe('docker/web.Dockerfile (portal)', () => {
    const df = parseDockerfile(read('docker/web.Dockerfile'));
    const runtime = finalStage(df);

    it('serves the built portal from unprivileged nginx', () => {
      expect(runtime.image).toMatch(/^nginxinc\/nginx-unprivileged:/);
      const copies = instructionsOf(runtime, 'COPY').map((i) => i.args);
      expect(copies.some((c) => /--from=\S+\s+\/app\/dist\/apps\/web\/public\s+\/usr\/share\/nginx\/html/.test(c))).toBe(true);
      expect(copies.some((c) => /^docker\/nginx\.conf\s+\/etc\/nginx\/templates\/\S+\.conf\.template$/.test(c))).toBe(true);
    });
  });

  it('.dockerignore keeps secrets, dependencies and VCS data out of the build context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const p of ['.env', '.git', '**/node_modules', 'dist']) expect(lines).toContain(p);
    // The healthcheck script and nginx config are needed in the context.
    expect(lines).not.toContain('docker');
    expect(lines).not.toContain('docker/');
  });
});

// ---------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------

describe('docker/nginx.conf', () => {
  const conf = read('docker/nginx.conf');
  const code = conf
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n');

  /** Body of `location <spec> { ... }` (no nested blocks in this file). */
  const location = (spec: string): string => {
    const escaped = spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const m = new RegExp(`location\\s+${escaped}\\s*\\{([^}]*)\\}`).exec(code);
    if (!m) throw new Error(`no location ${spec}`);
    return m[1];
  };

  it('has balanced braces', () => {
    // ${VAR} template placeholders are not nginx blocks.
    let depth = 0;
    for (const ch of code.replace(/\$\{[A-Za-z0-9_]+\}/g, '')) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
  });

  it('substitutes only the intended template variables', () => {
    expect([...referencedVariables(conf)].sort()).toEqual(['NGINX_LOCAL_RESOLVERS', 'STUDIOVAULT_API_UPSTREAM']);
  });

  it('streams tus uploads without a size limit or buffering', () => {
    const files = location('^~ /files');
    expect(files).toMatch(/client_max_body_size\s+0;/);
    expect(files).toMatch(/proxy_request_buffering\s+off;/);
    expect(files).toMatch(/proxy_buffering\s+off;/);
    expect(files).toMatch(/proxy_pass\s+\$sv_api_upstream;/);
  });

  it('compose and the chart hand STUDIOVAULT_METRICS_TOKEN to the API (it guards /metrics)', () => {
    const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as JsonObject;
    const api = (compose.services as Record<string, JsonObject>).api;
    expect((api.environment as JsonObject).STUDIOVAULT_METRICS_TOKEN).toBe('${STUDIOVAULT_METRICS_TOKEN}');
    const deployment = read('helm/studiovault/templates/api-deployment.yaml');
    expect(deployment).toMatch(
      /- name: STUDIOVAULT_METRICS_TOKEN\s+valueFrom:\s+secretKeyRef:[\s\S]*?key: STUDIOVAULT_METRICS_TOKEN\s+optional: true/,
    );
    expect(read('helm/studiovault/templates/secret.yaml')).toMatch(/STUDIOVAULT_METRICS_TOKEN: \{\{ \. \| quote \}\}/);
  });

  it('proxies /api and /metrics to the API and serves the SPA with an index.html fallback', () => {
    expect(location('^~ /api/')).toMatch(/proxy_pass\s+\$sv_api_upstream;/);
    expect(location('= /metrics')).toMatch(/proxy_pass\s+\$sv_api_upstream;/);
    expect(location('/')).toMatch(/try_files\s+\$uri\s+\$uri\/\s+\/index\.html;/);
    expect(location('= /healthz')).toMatch(/return\s+200/);
    expect(code).toMatch(/listen\s+8080\b/);
  });
});

// ---------------------------------------------------------------------------
// Container health check script
// ---------------------------------------------------------------------------

describe('docker/healthcheck.cjs', () => {
  let server: Server;
  let port: number;
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/api/health' || req.url === '/api/health/live' ? status : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const run = (env: Record<string, string>, args: string[] = []): Promise<number | null> =>
    new Promise((res) => {
      const child = spawn(process.execPath, [join(ROOT, 'docker/healthcheck.cjs'), ...args], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      child.on('exit', (code) => res(code));
    });

  it('exits 0 when the API is healthy and 1 when it is not', async () => {
    status = 200;
    expect(await run({ PORT: String(port) })).toBe(0);
    expect(await run({ PORT: String(port) }, ['/api/health/live'])).toBe(0);
    status = 503;
    expect(await run({ PORT: String(port) })).toBe(1);
    expect(await run({ PORT: String(port) }, ['/nope'])).toBe(1);
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await run({ PORT: String(freePort) })).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// docker-compose.yml and .env.example
// ---------------------------------------------------------------------------

describe('.env.example', () => {
  const { entries, map } = parseEnvFile(read('.env.example'));

  it('lists each variable once', () => {
    const names = entries.map(([k]) => k);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('contains only documented application variables or compose-only ones', () => {
    const unknown = entries.map(([k]) => k).filter((k) => !APP_VARIABLES.has(k) && !COMPOSE_ONLY_VARIABLES.has(k));
    expect(unknown).toEqual([]);
  });

  it('holds placeholders, not real secrets', () => {
    const secrets = entries.filter(([k]) => SECRET_NAME.test(k));
    expect(secrets.map(([k]) => k).sort()).toEqual([
      'POSTGRES_PASSWORD',
      'STUDIOVAULT_ADMIN_PASSWORD',
      'STUDIOVAULT_METRICS_TOKEN',
      'STUDIOVAULT_SECRET_KEY',
    ]);
    // The metrics token is optional and empty (a known placeholder would open /metrics to anyone who read this file).
    for (const [k, v] of secrets) expect(v).toMatch(k === 'STUDIOVAULT_METRICS_TOKEN' ? /^$/ : /^change-me/);
    // Placeholders that satisfy the app's length rules (32+ and 12+ characters).
    expect(map.STUDIOVAULT_SECRET_KEY.length).toBeGreaterThanOrEqual(32);
    expect(map.STUDIOVAULT_ADMIN_PASSWORD.length).toBeGreaterThanOrEqual(12);
  });
});

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');
  const compose = parseYaml(text, { merge: true }) as JsonObject;
  const services = compose.services as Record<string, JsonObject>;
  const { map: exampleEnv } = parseEnvFile(read('.env.example'));
  const envOf = (service: string): Record<string, string> => {
    const env = services[service].environment;
    if (!isObject(env)) throw new Error(`${service}: environment must be a mapping`);
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  };
  const names = Object.keys(services);
  const KNOWN_NON_ROOT_IMAGES = [/^nginxinc\/nginx-unprivileged:/];

  it('defines postgres, api, worker and web', () => {
    expect(names.sort()).toEqual(['api', 'postgres', 'web', 'worker']);
  });

  it.each(['postgres', 'api', 'worker', 'web'])('%s: health check, restart policy, non-root, bounded logs', (name) => {
    const svc = services[name];
    const hc = svc.healthcheck as JsonObject;
    expect(isObject(hc)).toBe(true);
    expect(hc.disable).toBeUndefined();
    expect(Array.isArray(hc.test) && (hc.test[0] === 'CMD' || hc.test[0] === 'CMD-SHELL')).toBe(true);
    for (const k of ['interval', 'timeout', 'start_period']) durationSeconds(String(hc[k]));
    expect(svc.restart).toBe('unless-stopped');

    const user = svc.user === undefined ? undefined : interpolate(String(svc.user), exampleEnv);
    const image = interpolate(String(svc.image), exampleEnv);
    if (user === undefined) expect(KNOWN_NON_ROOT_IMAGES.some((re) => re.test(image))).toBe(true);
    else expect(isRootUser(user)).toBe(false);

    expect((svc.logging as JsonObject | undefined)?.options).toMatchObject({ 'max-size': expect.any(String) });
    expect(svc.cap_drop).toEqual(['ALL']);
  });

  it('starts services only after their dependencies are healthy', () => {
    const deps = (name: string): JsonObject => services[name].depends_on as JsonObject;
    expect(Object.keys(deps('api'))).toEqual(['postgres']);
    expect(Object.keys(deps('worker')).sort()).toEqual(['api', 'postgres']);
    expect(Object.keys(deps('web'))).toEqual(['api']);
    for (const name of names) {
      for (const dep of Object.values((services[name].depends_on as JsonObject | undefined) ?? {})) {
        expect((dep as JsonObject).condition).toBe('service_healthy');
      }
    }
  });

  it.each(['api', 'worker'])('%s: mounts the two pools as separate bind mounts that must already exist', (name) => {
    const volumes = services[name].volumes as JsonObject[];
    const byTarget = (t: string): JsonObject => {
      const v = volumes.find((x) => x.target === t);
      if (!v) throw new Error(`${name}: nothing mounted at ${t}`);
      return v;
    };
    const primary = byTarget('/pools/primary');
    const mirror = byTarget('/pools/mirror');
    for (const v of [primary, mirror]) {
      expect(v.type).toBe('bind');
      expect((v.bind as JsonObject).create_host_path).toBe(false);
    }
    expect(String(primary.source)).toMatch(/^\$\{STUDIOVAULT_PRIMARY_POOL:-\/\S+\}$/);
    expect(String(mirror.source)).toMatch(/^\$\{STUDIOVAULT_MIRROR_POOL:-\/\S+\}$/);
    expect(interpolate(String(primary.source), {})).not.toBe(interpolate(String(mirror.source), {}));

    const env = envOf(name);
    expect(env.STUDIOVAULT_PRIMARY_ROOT).toBe('/pools/primary');
    expect(env.STUDIOVAULT_MIRROR_ROOT).toBe('/pools/mirror');
    expect(volumes.some((v) => v.target === env.STUDIOVAULT_DATA_DIR)).toBe(true);
  });

  it.each(['api', 'worker'])('%s: DATABASE_URL points at the postgres service', (name) => {
    const raw = envOf(name).DATABASE_URL;
    expect(raw).toBeDefined();
    const url = new URL(interpolate(raw, exampleEnv));
    expect(url.protocol).toMatch(/^postgres(ql)?:$/);
    expect(url.hostname).toBe('postgres');
    expect(names).toContain(url.hostname);
    expect(decodeURIComponent(url.password)).toBe(exampleEnv.POSTGRES_PASSWORD);
    expect(decodeURIComponent(url.username)).toBe(exampleEnv.POSTGRES_USER);
    expect(url.pathname).toBe(`/${exampleEnv.POSTGRES_DB}`);
  });

  it('runs the API with migrations and without in-process jobs, and the worker separately', () => {
    const api = envOf('api');
    const worker = envOf('worker');
    expect(api.STUDIOVAULT_WORKER_IN_PROCESS).toBe('false');
    expect(api.STUDIOVAULT_MIGRATIONS_RUN).toBe('true');
    expect(worker.STUDIOVAULT_MIGRATIONS_RUN).toBe('false');
    expect(api.NODE_ENV).toBe('production');
    expect(services.worker.command).toEqual(['node', '--initial-old-space-size=128', 'dist/apps/worker/src/main.js']);
    expect(services.worker.healthcheck).toMatchObject({ test: ['CMD', 'node', 'dist/apps/worker/src/healthcheck.js'] });
    expect(String((services.api.healthcheck as JsonObject).test)).toContain('/api/health');
    expect(envOf('web').STUDIOVAULT_API_UPSTREAM).toBe(`api:${api.PORT}`);
  });

  it.each(['api', 'worker'])('%s: passes only variables the application knows', (name) => {
    const unknown = Object.keys(envOf(name)).filter((k) => !APP_VARIABLES.has(k) && !RUNTIME_VARIABLES.has(k));
    expect(unknown).toEqual([]);
  });

  it('writes no secret values into the file', () => {
    for (const name of names) {
      for (const [key, value] of Object.entries(envOf(name))) {
        if (SECRET_NAME.test(key) && !key.endsWith('_FILE')) {
          // Only a reference to .env, and never with an inline default.
          expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^\$\{[A-Z_]+(:\?[^}]*)?\}$/) });
        }
        if (key === 'DATABASE_URL') {
          // Mark each ${VAR...} so the URL's own ':' and '@' can be found.
          const marked = value.replace(/\$\{([A-Za-z0-9_]+)[^}]*\}/g, '%%$1%%');
          const password = /^[a-z]+:\/\/[^:@]*:([^@]*)@/.exec(marked)?.[1];
          expect(password).toBe('%%POSTGRES_PASSWORD%%');
        }
      }
    }
    // No inline default for any secret-like variable anywhere in the file.
    const code = text
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    expect(code).not.toMatch(/\$\{[A-Z_]*(PASSWORD|SECRET|TOKEN|_KEY)[A-Z_]*:?-/);
    expect(code).not.toMatch(/change-me/i);
    expect(services.api.env_file).toBeUndefined();
  });

  it('publishes only the portal; the API and Postgres stay internal', () => {
    expect(services.web.ports).toHaveLength(1);
    expect(interpolate(String((services.web.ports as Json[])[0]), exampleEnv)).toMatch(/:8080$/);
    for (const name of ['postgres', 'api', 'worker']) expect(services[name].ports).toBeUndefined();
  });

  it('gives in-flight uploads and jobs time to finish on stop', () => {
    const grace = (name: string): number => durationSeconds(String(services[name].stop_grace_period));
    expect(grace('api')).toBeGreaterThanOrEqual(60);
    expect(grace('worker')).toBeGreaterThanOrEqual(120);
    expect(grace('web')).toBeGreaterThanOrEqual(60);
    expect(grace('postgres')).toBeGreaterThanOrEqual(30);
  });

  it('keeps the catalog in a named volume on Postgres 15 or later', () => {
    const pg = services.postgres;
    expect(String(pg.image)).toMatch(/^postgres:(1[5-9]|[2-9]\d)(\.\d+)?-alpine$/);
    expect(pg.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(compose.volumes as JsonObject)).toContain('postgres-data');
    expect(String((pg.healthcheck as JsonObject).test)).toContain('pg_isready');
  });

  it('documents every variable it reads in .env.example', () => {
    const missing = [...referencedVariables(text)].filter((v) => !(v in exampleEnv));
    expect(missing).toEqual([]);
    // And interpolates cleanly with the example values.
    expect(() => interpolate(text, exampleEnv)).not.toThrow();
  });

  const composeAvailable = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  (composeAvailable ? it : it.skip)('passes `docker compose config` (when the compose plugin is installed)', () => {
    const res = spawnSync('docker', ['compose', '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Helm chart
// ---------------------------------------------------------------------------

describe('helm/studiovault', () => {
  const CHART = 'helm/studiovault';
  const chart = parseYaml(read(`${CHART}/Chart.yaml`)) as JsonObject;
  const values = parseYaml(read(`${CHART}/values.yaml`)) as JsonObject;
  const schema = JSON.parse(read(`${CHART}/values.schema.json`)) as JsonObject;
  const templateDir = join(ROOT, CHART, 'templates');
  const templates = readdirSync(templateDir).map((f) => ({
    file: f,
    text: readFileSync(join(templateDir, f), 'utf8'),
  }));

  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  const validate: ValidateFunction = ajv.compile(schema);
  const errorsOf = (v: unknown): string[] =>
    validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);

  it('has a valid Chart.yaml', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('studiovault');
    expect(chart.type).toBe('application');
    expect(String(chart.version)).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(typeof chart.appVersion).toBe('string');
    expect(String(chart.appVersion)).toMatch(/^\d+\.\d+\.\d+/);
    expect(String(chart.description).length).toBeGreaterThan(10);
  });

  it('has the expected templates', () => {
    const files = templates.map((t) => t.file);
    for (const f of [
      '_helpers.tpl',
      'NOTES.txt',
      'api-deployment.yaml',
      'api-service.yaml',
      'worker-deployment.yaml',
      'web-deployment.yaml',
      'web-service.yaml',
      'ingress.yaml',
      'secret.yaml',
      'configmap.yaml',
      'pvc.yaml',
    ]) {
      expect(files).toContain(f);
    }
  });

  describe('values.schema.json', () => {
    it('is a draft-07 schema that rejects unknown keys at the top level and on key objects', () => {
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(schema.additionalProperties).toBe(false);
      const props = schema.properties as Record<string, JsonObject>;
      const defs = schema.definitions as Record<string, JsonObject>;
      const resolveRef = (s: JsonObject): JsonObject => (typeof s.$ref === 'string' ? defs[s.$ref.replace('#/definitions/', '')] : s);
      for (const key of ['image', 'config', 'secrets', 'database', 'storage', 'api', 'worker', 'web', 'ingress']) {
        expect({ key, additionalProperties: resolveRef(props[key]).additionalProperties }).toEqual({
          key,
          additionalProperties: false,
        });
      }
    });

    it('accepts the default values.yaml', () => {
      expect(errorsOf(values)).toEqual([]);
    });

    it('accepts a realistic production configuration', () => {
      const v = clone(values);
      (v.database as JsonObject).existingSecret = 'studiovault-db-app';
      (v.secrets as JsonObject).existingSecret = 'studiovault-secrets';
      (v.api as JsonObject).replicaCount = 3;
      (v.worker as JsonObject).replicaCount = 4;
      ((v.storage as JsonObject).primary as JsonObject).existingClaim = 'nvme-rwx';
      (v.ingress as JsonObject).enabled = true;
      (v.ingress as JsonObject).tls = [{ secretName: 'sv-tls', hosts: ['vault.example.com'] }];
      (v.config as JsonObject).adminEmail = 'ops@example.com';
      expect(errorsOf(v)).toEqual([]);
    });

    // [what, path to set, value]: each must make validation fail.
    const rejected: Array<[string, string, Json]> = [
      ['a top-level typo', 'ingres', { enabled: true }],
      ['a typo in api', 'api.replicaCout', 2],
      ['a typo in a storage pool', 'storage.primary.existingclaim', 'x'],
      ['a typo in database', 'database.URL', 'postgres://x'],
      ['replicaCount as a string', 'api.replicaCount', 'two'],
      ['a negative worker replicaCount', 'worker.replicaCount', -1],
      ['ingress.enabled as a string', 'ingress.enabled', 'yes'],
      ['an unknown pull policy', 'image.pullPolicy', 'Sometimes'],
      ['an unknown log level', 'config.logLevel', 'verbose'],
      ['a metrics token too short to be secret', 'secrets.metricsToken', 'short'],
      ['a secret key shorter than 32 characters', 'secrets.secretKey', 'short'],
      ['a database URL that is not postgres', 'database.url', 'mysql://db/x'],
      ['an invalid volume access mode', 'storage.mirror.accessModes', ['ReadWriteAll']],
      ['a service port out of range', 'api.service.port', 70000],
    ];
    it.each(rejected)('rejects %s (%s)', (_what, path, value) => {
      const v = clone(values);
      const keys = path.split('.');
      let node: JsonObject = v;
      for (const key of keys.slice(0, -1)) node = node[key] as JsonObject;
      node[keys[keys.length - 1]] = value;
      expect(errorsOf(v).length).toBeGreaterThan(0);
    });
  });

  it('references only .Values paths that exist in values.yaml', () => {
    const missing: string[] = [];
    for (const { file, text } of templates) {
      for (const m of text.matchAll(/\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = m[1].slice(1).split('.');
        let node: Json | undefined = values;
        for (const key of path) node = isObject(node) ? node[key] : undefined;
        if (node === undefined) missing.push(`${file}: .Values.${path.join('.')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has balanced template blocks and only includes defined templates', () => {
    const defined = new Set<string>();
    for (const { text } of templates) for (const m of text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)) defined.add(m[1]);
    for (const { file, text } of templates) {
      const actions = [...text.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|[\s\S]*?)\s*-?\}\}/g)].map((m) => m[1].trim());
      const opened = actions.filter((a) => /^(if|range|with|define|block)\b/.test(a)).length;
      const closed = actions.filter((a) => /^end\b/.test(a)).length;
      expect({ file, opened }).toEqual({ file, opened: closed });
      for (const m of text.matchAll(/include\s+"([^"]+)"/g))
        expect({ file, include: m[1], defined: defined.has(m[1]) }).toEqual({ file, include: m[1], defined: true });
    }
  });

  it('sets only variables the application knows on the API and worker', () => {
    const configMap = (templates.find((t) => t.file === 'configmap.yaml') as { text: string }).text;
    const dataKeys = [...configMap.split(/^data:$/m)[1].matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
    expect(dataKeys).toContain('STUDIOVAULT_PRIMARY_ROOT');
    const envNames = templates
      .filter((t) => /^(api|worker)-deployment\.yaml$|^_helpers\.tpl$/.test(t.file))
      .flatMap((t) => [...t.text.matchAll(/- name: ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1]));
    expect(envNames).toEqual(expect.arrayContaining(['DATABASE_URL', 'STUDIOVAULT_SECRET_KEY', 'STUDIOVAULT_MIGRATIONS_RUN']));
    const unknown = [...dataKeys, ...envNames].filter((k) => !APP_VARIABLES.has(k) && !RUNTIME_VARIABLES.has(k));
    expect(unknown).toEqual([]);
  });

  it('runs every pod as non-root with health probes on the documented endpoints', () => {
    const api = values.api as JsonObject;
    const worker = values.worker as JsonObject;
    const web = values.web as JsonObject;
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
    expect((values.podSecurityContext as JsonObject).runAsUser).not.toBe(0);
    expect(web.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101 });
    expect(values.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false });
    expect(api.livenessProbe).toMatchObject({ httpGet: { path: '/api/health/live' } });
    expect(api.readinessProbe).toMatchObject({ httpGet: { path: '/api/health' } });
    expect(worker.livenessProbe).toMatchObject({ exec: { command: ['node', 'dist/apps/worker/src/healthcheck.js'] } });
    expect(typeof api.replicaCount).toBe('number');
    expect(typeof worker.replicaCount).toBe('number');

    const byFile = (f: string): string => (templates.find((t) => t.file === f) as { text: string }).text;
    for (const f of ['api-deployment.yaml', 'worker-deployment.yaml']) {
      expect(byFile(f)).toContain('toYaml .Values.podSecurityContext');
      expect(byFile(f)).toContain('toYaml .Values.containerSecurityContext');
    }
    expect(byFile('web-deployment.yaml')).toContain('toYaml .Values.web.podSecurityContext');
    expect(byFile('api-deployment.yaml')).toMatch(/livenessProbe:[\s\S]*readinessProbe:/);
  });

  it('shares the two pools as ReadWriteMany volumes and uses an external Postgres', () => {
    const storage = values.storage as JsonObject;
    for (const pool of ['primary', 'mirror']) {
      expect((storage[pool] as JsonObject).accessModes).toEqual(['ReadWriteMany']);
      expect((storage[pool] as JsonObject).existingClaim).toBe('');
    }
    expect(values.database).toMatchObject({ url: '', existingSecret: '', existingSecretKey: 'uri' });
    const helpers = (templates.find((t) => t.file === '_helpers.tpl') as { text: string }).text;
    expect(helpers).toMatch(/mountPath: \/pools\/primary/);
    expect(helpers).toMatch(/mountPath: \/pools\/mirror/);
    expect(helpers).toContain('fail "An external Postgres is required');
  });

  it('renders YAML-shaped templates (after stripping template actions)', () => {
    // Not a helm render: replaces each action with a scalar so that gross
    // YAML errors (tabs, broken flow collections) in the static parts show up.
    for (const { file, text } of templates.filter((t) => t.file.endsWith('.yaml'))) {
      expect({ file, tabs: /\t/.test(text) }).toEqual({ file, tabs: false });
      // Keep the first branch of each if/else; drop lines that are only an action.
      const skipping: boolean[] = [];
      const kept: string[] = [];
      for (const line of text.split('\n')) {
        const action = /^\s*\{\{-?\s*([\s\S]*?)\s*-?\}\}\s*$/.exec(line)?.[1];
        if (action === undefined) {
          if (!skipping.includes(true)) kept.push(line.replace(/\{\{-?[\s\S]*?-?\}\}/g, 'x'));
        } else if (/^(if|range|with)\b/.test(action)) skipping.push(false);
        else if (/^else\b/.test(action)) skipping[skipping.length - 1] = true;
        else if (/^end\b/.test(action)) skipping.pop();
      }
      const stripped = kept.join('\n');
      for (const doc of parseAllDocuments(stripped)) {
        expect({ file, errors: doc.errors.map((e) => e.message) }).toEqual({ file, errors: [] });
      }
    }
  });
});
