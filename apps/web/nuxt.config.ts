import { fileURLToPath } from 'node:url';

const fromRoot = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * The StudioVault portal: a static single-page app. `nuxt generate apps/web` writes it to
 * dist/apps/web/public, which the API serves at `/` (API under `/api`, same origin).
 */
export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  ssr: false,
  devtools: { enabled: false },
  telemetry: false,
  css: ['~/assets/main.css'],

  alias: {
    '@studiovault/api-client': fromRoot('libs/api-client/src/index.ts'),
    '@studiovault/contracts': fromRoot('libs/contracts/src/index.ts'),
  },

  // Public values only: the portal is a static bundle, anything here is visible to the browser.
  // NUXT_PUBLIC_API_BASE overrides it (empty: same origin as the portal).
  runtimeConfig: {
    public: {
      apiBase: '',
    },
  },

  app: {
    head: {
      title: 'StudioVault',
      htmlAttrs: { lang: 'en' },
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'robots', content: 'noindex' },
        { name: 'color-scheme', content: 'light' },
      ],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    },
  },

  nitro: {
    // One shell (index.html, plus 200.html/404.html) and the assets: the API answers every
    // portal path with index.html. A folder per page would make /setup redirect to /setup/.
    prerender: { crawlLinks: false, routes: ['/'] },
    output: {
      dir: fromRoot('dist/apps/web'),
      publicDir: fromRoot('dist/apps/web/public'),
    },
  },

  typescript: {
    typeCheck: false,
    strict: true,
  },
});
