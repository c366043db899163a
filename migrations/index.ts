import { InitialCatalog1764150000000 } from './1764150000000-InitialCatalog';
import { CatalogIndexes1795691727817 } from './1795691727817-CatalogIndexes';
import { Uploads1795700000000 } from './1795700000000-Uploads';
import { UploadOutcome1795710000000 } from './1795710000000-UploadOutcome';
import { OffsiteEngine1795720000000 } from './1795720000000-OffsiteEngine';
import { Recovery1795730000000 } from './1795730000000-Recovery';
import { LoginFailures1795740000000 } from './1795740000000-LoginFailures';
import { PasswordReset1795740000001 } from './1795740000001-PasswordReset';
import { FileNames1795770000000 } from './1795770000000-FileNames';
import { VolumeIdentity1795780000000 } from './1795780000000-VolumeIdentity';
import { OpenFinding1795800000000 } from './1795800000000-OpenFinding';
import { Alerts1795810000000 } from './1795810000000-Alerts';
import { Scrub1795820000000 } from './1795820000000-Scrub';

/** Every migration, in order. The schema changes only through these. */
export const MIGRATIONS = [
  InitialCatalog1764150000000,
  CatalogIndexes1795691727817,
  Uploads1795700000000,
  UploadOutcome1795710000000,
  OffsiteEngine1795720000000,
  Recovery1795730000000,
  LoginFailures1795740000000,
  PasswordReset1795740000001,
  FileNames1795770000000,
  VolumeIdentity1795780000000,
  OpenFinding1795800000000,
  Alerts1795810000000,
  Scrub1795820000000,
];
