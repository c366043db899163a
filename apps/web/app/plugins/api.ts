import { createStudioVaultClient } from '@studiovault/api-client';

const SIGN_IN_PATHS = ['/api/auth/login', '/api/auth/session', '/api/setup', '/api/auth/accept-invite', '/api/auth/reset-password'];

/**
 * The one API client of the portal (the generated, typed client). It sends the session's
 * CSRF token on writes; the session cookie itself is httpOnly and travels on its own.
 */
export default defineNuxtPlugin(() => {
  const config = useRuntimeConfig();
  const router = useRouter();
  const session = useSessionState();

  const api = createStudioVaultClient({
    baseUrl: config.public.apiBase,
    csrfToken: () => session.value?.csrfToken,
  });

  // A session that ends under our feet (expired, revoked, account disabled) sends the person
  // back to sign-in instead of leaving every page showing "Sign in" errors.
  api.use({
    onResponse({ request, response }) {
      if (response.status !== 401 || !session.value) return;
      if (SIGN_IN_PATHS.includes(new URL(request.url, window.location.origin).pathname)) return;
      session.value = null;
      const here = router.currentRoute.value;
      if (here.path !== '/login') void router.replace({ path: '/login', query: { redirect: here.fullPath } });
    },
  });

  return { provide: { api } };
});
