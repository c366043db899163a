import type { StudioVaultClient } from '@studiovault/api-client';

/** The typed StudioVault client (see plugins/api.ts). */
export function useApi(): StudioVaultClient {
  return useNuxtApp().$api;
}
