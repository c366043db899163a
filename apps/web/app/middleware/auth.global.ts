/** Pages anyone may open without a session. */
const PUBLIC_PATHS = new Set(['/login', '/setup', '/accept-invite', '/reset-password']);

/**
 * Every navigation: first-run setup comes first, then sign-in, then the page's role.
 * The server enforces all of this again; here it only spares people dead ends.
 */
export default defineNuxtRouteMiddleware(async (to) => {
  const { ensureLoaded, needsSetup, user, can } = useSession();
  const path = to.path.replace(/\/+$/, '') || '/';
  try {
    await ensureLoaded();
  } catch (err) {
    throw createError({ statusCode: 503, statusMessage: errorMessage(err), fatal: true });
  }

  if (needsSetup.value) {
    return path === '/setup' ? undefined : navigateTo('/setup', { replace: true });
  }
  if (path === '/setup') {
    return navigateTo(user.value ? '/projects' : '/login', { replace: true });
  }
  if (!user.value) {
    if (PUBLIC_PATHS.has(path)) return;
    const keep = path !== '/' && path !== '/logout';
    return navigateTo({ path: '/login', query: keep ? { redirect: to.fullPath } : {} }, { replace: true });
  }
  if (path === '/login' || path === '/accept-invite') {
    return navigateTo('/projects', { replace: true });
  }
  if (to.meta.role && !can(to.meta.role)) {
    return navigateTo('/projects', { replace: true });
  }
});
