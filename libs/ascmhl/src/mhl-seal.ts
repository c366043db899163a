/**
 * Sealing a card folder in one call: read its `ascmhl/` history (if any), compare the files with
 * it, and write generation N+1 (or the first one) with the right action for every hash.
 */
import { HistoryCheck, NextGenerationInput, nextGeneration } from './mhl-history';
import { MediaHashHistory, readCardHistory } from './mhl-reader';
import { WrittenGeneration, writeGeneration } from './mhl-writer';

export interface SealResult {
  /** The history before this generation. */
  history: MediaHashHistory;
  /** How the files compared with that history; the generation records it (verified / failed / original). */
  check: HistoryCheck;
  written: WrittenGeneration;
}

/**
 * Writes the next generation of a card folder. It is written even when the check is not ok:
 * a failed verification is evidence to keep. The caller decides what `check.ok === false` means
 * for the card (at risk). Callers serialize seals per card folder.
 */
export async function sealCardFolder(cardFolder: string, input: NextGenerationInput): Promise<SealResult> {
  const history = await readCardHistory(cardFolder);
  const { generation, check } = nextGeneration(history, input);
  const written = await writeGeneration(cardFolder, generation);
  return { history, check, written };
}
