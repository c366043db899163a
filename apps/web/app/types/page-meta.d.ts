import type { Schemas } from '@studiovault/api-client';

declare module '#app' {
  interface PageMeta {
    /** Least role that may open the page; the global middleware enforces it. */
    role?: Schemas['Role'];
  }
}

export {};
