import { ApiError, unwrap, type Schemas } from '@studiovault/api-client';
import { roleAtLeast, type Role } from '@studiovault/contracts';

export type Session = Schemas['SessionDto'];
export type RoleName = Schemas['Role'];

/** The signed-in session (user and CSRF token), or null. Shared by the whole app. */
export const useSessionState = () => useState<Session | null>('sv-session', () => null);

/**
 * Who is signed in, and the actions that change it. After a reload the session is recovered
 * from the httpOnly cookie with GET /auth/session, which also hands back the CSRF token.
 */
export function useSession() {
  const api = useApi();
  const state = useSessionState();
  const setup = useState<Schemas['SetupStatusDto'] | null>('sv-setup', () => null);
  const loaded = useState('sv-session-loaded', () => false);

  const user = computed(() => state.value?.user ?? null);
  const role = computed<RoleName | null>(() => user.value?.role ?? null);
  const needsSetup = computed(() => setup.value?.needsSetup === true);
  const version = computed(() => setup.value?.version ?? '');

  /** True when the signed-in person has at least `required`. */
  function can(required: RoleName): boolean {
    return role.value !== null && roleAtLeast(role.value as Role, required as Role);
  }

  /** Loads the setup status and the session once per page load (the middleware calls it). */
  async function ensureLoaded(): Promise<void> {
    if (loaded.value) return;
    const [status, session] = await Promise.all([unwrap(await api.GET('/api/setup')), fetchSession()]);
    setup.value = status;
    state.value = session;
    loaded.value = true;
  }

  async function fetchSession(): Promise<Session | null> {
    try {
      return unwrap(await api.GET('/api/auth/session'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  }

  async function refresh(): Promise<void> {
    state.value = await fetchSession();
  }

  async function completeSetup(body: Schemas['SetupDto']): Promise<void> {
    state.value = unwrap(await api.POST('/api/setup', { body }));
    setup.value = { needsSetup: false, version: version.value };
  }

  async function login(body: Schemas['LoginDto']): Promise<void> {
    state.value = unwrap(await api.POST('/api/auth/login', { body }));
  }

  async function acceptInvite(body: Schemas['AcceptInviteDto']): Promise<void> {
    state.value = unwrap(await api.POST('/api/auth/accept-invite', { body }));
  }

  async function resetPassword(body: Schemas['ResetPasswordDto']): Promise<void> {
    state.value = unwrap(await api.POST('/api/auth/reset-password', { body }));
  }

  async function logout(): Promise<void> {
    try {
      if (state.value) unwrap(await api.POST('/api/auth/logout'));
    } catch (err) {
      // Already signed out on the server (expired, revoked): the outcome is the same.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    }
    state.value = null;
  }

  return {
    session: state,
    user,
    role,
    needsSetup,
    version,
    can,
    ensureLoaded,
    refresh,
    completeSetup,
    login,
    acceptInvite,
    resetPassword,
    logout,
  };
}
