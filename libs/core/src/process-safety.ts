import { existsSync, readFileSync } from 'node:fs';

/**
 * No world bits on what the server creates (volumes, staging, ASC MHL, restores on the NAS):
 * files 0640, folders 0750. The volume code also gives these modes explicitly.
 */
export const SERVER_UMASK = 0o027;

export interface ContainerProbe {
  exists(path: string): boolean;
  read(path: string): string | undefined;
  env: NodeJS.ProcessEnv;
}

const hostProbe: ContainerProbe = {
  exists: (p) => existsSync(p),
  read: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  env: process.env,
};

/** Whether this process runs in a container (Docker, Podman, Kubernetes, LXC, systemd-nspawn). */
export function inContainer(probe: ContainerProbe = hostProbe): boolean {
  if (probe.exists('/.dockerenv') || probe.exists('/run/.containerenv')) return true;
  if (probe.env.container) return true; // podman, systemd-nspawn, LXC set it
  if (probe.env.KUBERNETES_SERVICE_HOST) return true;
  const cgroup = probe.read('/proc/1/cgroup') ?? '';
  return /docker|kubepods|containerd|libpod|lxc/.test(cgroup);
}

/**
 * Run at the top of a server process's main(): restricts the modes of new files (umask), and
 * returns the warning to log once when it runs as root outside a container (root on the NAS
 * itself can write anywhere a bug or a crafted name would lead), or null.
 */
export function hardenServerProcess(probe: ContainerProbe = hostProbe, uid = process.getuid?.()): string | null {
  process.umask(SERVER_UMASK);
  if (uid !== 0 || inContainer(probe)) return null;
  return (
    'StudioVault runs as root outside a container: run it as a user of its own that owns the volume roots ' +
    '(or in the docker-compose/helm deployment); as root a fault can write anywhere on the NAS'
  );
}
