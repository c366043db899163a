/**
 * The built server's process settings: umask 027 (no world bits on what it creates) and a
 * warning when it runs as root outside a container.
 *
 * This machine is itself a container (/.dockerenv): "outside a container" is a mount namespace
 * whose root is an overlay of / without /.dockerenv (needs root, as the tests run here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hardenServerProcess, inContainer } from '@studiovault/core';
import { createTestDatabase, type TestDatabase } from '@studiovault/testing';
import { freePort, NODE, REPO, requireBuild, SERVER_MAIN, startServer, waitForHealth } from './server-process';

const WARNING = 'StudioVault runs as root outside a container';

describe('server process: umask and the root warning', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'sv-process-'));
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const env = async (name: string) => ({
    PORT: String(await freePort()),
    DATABASE_URL: db.url,
    STUDIOVAULT_DATA_DIR: join(dir, name),
    STUDIOVAULT_PRIMARY_ROOT: join(dir, name, 'primary'),
    STUDIOVAULT_MIRROR_ROOT: join(dir, name, 'mirror'),
  });

  it('tells a container by its hints', () => {
    const probe = (files: string[], env: NodeJS.ProcessEnv = {}, cgroup = '0::/\n') => ({
      exists: (p: string) => files.includes(p),
      read: (p: string) => (p === '/proc/1/cgroup' ? cgroup : undefined),
      env,
    });
    expect(inContainer(probe([]))).toBe(false);
    expect(inContainer(probe(['/.dockerenv']))).toBe(true);
    expect(inContainer(probe(['/run/.containerenv']))).toBe(true);
    expect(inContainer(probe([], { container: 'podman' }))).toBe(true);
    expect(inContainer(probe([], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }))).toBe(true);
    expect(inContainer(probe([], {}, '12:pids:/kubepods/besteffort/pod1\n'))).toBe(true);
    const before = process.umask();
    try {
      expect(hardenServerProcess(probe([]), 0)).toContain(WARNING);
      expect(process.umask()).toBe(0o027);
      expect(hardenServerProcess(probe(['/.dockerenv']), 0)).toBeNull();
      expect(hardenServerProcess(probe([]), 1000)).toBeNull();
    } finally {
      process.umask(before);
    }
  });

  it('runs with umask 027; in a container (here) as root, without the warning', async () => {
    const e = await env('inside');
    const server = startServer(e);
    try {
      await waitForHealth(`http://127.0.0.1:${e.PORT}`, server);
      const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
      expect(status).toMatch(/^Umask:\s+0027$/m);
      expect(server.output()).not.toContain(WARNING);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 90_000);

  it('warns once when it runs as root outside a container', async () => {
    const e = await env('outside');
    const ov = join(dir, 'overlay');
    // A root file system like this one, without /.dockerenv: an overlay of / in a private mount namespace.
    const script = [
      'set -e',
      'mount --make-rprivate /',
      `mkdir -p ${ov}/upper ${ov}/work ${ov}/root`,
      `mount -t overlay overlay -o lowerdir=/,upperdir=${ov}/upper,workdir=${ov}/work ${ov}/root`,
      `rm -f ${ov}/root/.dockerenv ${ov}/root/run/.containerenv`,
      `for d in proc dev sys tmp work; do mount --rbind /$d ${ov}/root/$d; done`,
      `cd ${ov}/root`,
      `exec chroot ${ov}/root /bin/sh -c 'cd "$0" && exec "$1" "$2"' ${REPO} ${NODE} ${SERVER_MAIN}`,
    ].join('\n');
    execFileSync('unshare', ['-m', 'true']); // the machine allows mount namespaces
    const server = startServer(e, ['unshare', '-m', 'sh', '-c', script]);
    try {
      await waitForHealth(`http://127.0.0.1:${e.PORT}`, server);
      const lines = server.output().split('\n');
      expect(lines.filter((l) => l.includes(WARNING))).toHaveLength(1);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 90_000);
});
