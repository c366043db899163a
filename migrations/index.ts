import { InitialCatalog1764150000000 } from './1764150000000-InitialCatalog';

/** Every migration, in order. The schema changes only through these. */
export const MIGRATIONS = [InitialCatalog1764150000000];
