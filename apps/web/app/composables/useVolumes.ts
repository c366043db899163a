import { unwrap, type Schemas } from '@studiovault/api-client';

export type Volume = Schemas['VolumeDto'];

export type VolumeHealth = 'ok' | 'warning' | 'problem' | 'unknown';

/**
 * The primary and mirror volumes, shared by the header indicator and the same-device banner.
 * "Two copies" only count as two media when the volumes are on different devices.
 */
export function useVolumes() {
  const api = useApi();
  const volumes = useState<Volume[] | null>('sv-volumes', () => null);
  const error = useState<string | null>('sv-volumes-error', () => null);

  const sameDevice = computed(() => (volumes.value ?? []).some((v) => v.sameDevice));
  /** An admin let two copies on one device count as verified (the server sets it on both volumes). */
  const sameDeviceOverride = computed(() => {
    const list = volumes.value ?? [];
    return list.length > 0 && list.every((v) => v.sameDeviceOverride);
  });

  const health = computed<VolumeHealth>(() => {
    const list = volumes.value;
    if (error.value || !list) return 'unknown';
    if (list.length < 2 || list.some((v) => v.state !== 'online')) return 'problem';
    if (sameDevice.value) return 'warning';
    return 'ok';
  });

  const summary = computed(() => {
    const list = volumes.value;
    if (error.value) return 'Volumes: unknown';
    if (!list) return 'Volumes…';
    if (list.length === 0) return 'No volumes';
    const down = list.filter((v) => v.state !== 'online');
    if (down.length) return down.map((v) => `${capitalize(v.role)} ${v.state}`).join(', ');
    if (list.length < 2) return 'Mirror missing';
    if (sameDevice.value) return 'Same device';
    return 'Volumes online';
  });

  async function load(): Promise<void> {
    try {
      volumes.value = unwrap(await api.GET('/api/volumes'));
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  return { volumes, error, sameDevice, sameDeviceOverride, health, summary, load };
}
