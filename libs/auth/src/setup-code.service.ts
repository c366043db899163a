import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';
import { UserEntity } from '@studiovault/catalog';
import { UsersService } from './users.service';

/** Letters and digits that cannot be mistaken for each other when typed from a console. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const GROUPS = 4;
const GROUP_LENGTH = 4;
export const SETUP_CODE_FILE = 'setup-code';

/**
 * First-run setup needs a one-time code that only someone who can read the server's console,
 * log or data folder knows, so the first host on the network cannot make itself the admin.
 * The code lives in `<data>/setup-code` (mode 0600) until setup is done, so a restart shows the
 * same code again; setup deletes it.
 */
@Injectable()
export class SetupCodeService {
  constructor(
    private readonly users: UsersService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  get file(): string {
    return join(this.config.dataDir, SETUP_CODE_FILE);
  }

  /**
   * The code to show at start, made on the first start: null once an admin exists or when the
   * headless admin variables create one.
   */
  async prepare(): Promise<string | null> {
    if (this.config.setup.adminEmail || !(await this.users.needsSetup())) {
      await this.discard();
      return null;
    }
    const existing = await this.read();
    if (existing) return existing;
    const code = newCode();
    await mkdir(this.config.dataDir, { recursive: true });
    try {
      await writeFile(this.file, `${code}\n`, { mode: 0o600, flag: 'wx' });
      return code;
    } catch (err) {
      // another replica sharing the data folder wrote it first
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await this.read()) ?? code;
      throw err;
    }
  }

  /** Creates the first admin if the code is the server's; the code is then used up. */
  async setup(input: { email: string; name: string; password: string }, code: string | undefined): Promise<UserEntity> {
    if (!(await this.users.needsSetup())) {
      throw new AppError(ErrorCode.SetupAlreadyDone, 'StudioVault is already set up; sign in instead');
    }
    if (!code?.trim()) {
      throw new AppError(ErrorCode.SetupCodeInvalid, "Setup needs the setup code from the server's console or log");
    }
    const expected = await this.read();
    if (!expected || !sameCode(expected, code)) {
      throw new AppError(
        ErrorCode.SetupCodeInvalid,
        `This setup code is wrong; the server printed the right one on its console and log (also in ${SETUP_CODE_FILE} under its data folder)`,
      );
    }
    const user = await this.users.setup(input);
    await this.discard();
    return user;
  }

  private async read(): Promise<string | null> {
    try {
      const text = (await readFile(this.file, 'utf8')).trim();
      return text || null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  private async discard(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

function newCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** Case, spaces and dashes do not matter; compared in constant time. */
function sameCode(expected: string, given: string): boolean {
  const norm = (s: string) => createHash('sha256').update(s.toUpperCase().replace(/[\s-]/g, '')).digest();
  return timingSafeEqual(norm(expected), norm(given));
}
