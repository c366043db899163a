/**
 * Validation of MHL files against the ASC XSDs (vendored in libs/ascmhl/xsd) with xmllint,
 * offline (--nonet). Test helper: xmllint comes from Debian's libxml2-utils.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const XSD_DIR = join(__dirname, '..', '..', 'xsd');
export const GENERATION_XSD = join(XSD_DIR, 'ASCMHL.xsd');
export const CHAIN_XSD = join(XSD_DIR, 'ASCMHLDirectory__combined.xsd');

export interface XmllintResult {
  ok: boolean;
  output: string;
}

/** Runs `xmllint --noout --nonet --schema <xsd> <file>`; throws with install advice when xmllint is missing. */
export function xmllint(xsd: string, file: string): XmllintResult {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { encoding: 'utf8' });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'xmllint is not installed: run `apt-get install -y libxml2-utils` (as root) to validate ASC MHL files against the XSDs',
      );
    }
    throw r.error;
  }
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && output.includes(`${file} validates`), output };
}

/** Throws (failing the test) with xmllint's messages unless the file validates. */
export function assertValidAgainstXsd(xsd: string, file: string): string {
  const r = xmllint(xsd, file);
  if (!r.ok) throw new Error(`xmllint rejects ${file} against ${xsd}:\n${r.output}`);
  return r.output;
}
