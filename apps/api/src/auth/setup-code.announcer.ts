import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SetupCodeService } from '@studiovault/auth';

/** At start, while no admin exists: makes the one-time setup code and logs it for whoever runs the server. */
@Injectable()
export class SetupCodeAnnouncer implements OnApplicationBootstrap {
  private readonly log = new Logger('Setup');

  constructor(private readonly setupCode: SetupCodeService) {}

  async onApplicationBootstrap(): Promise<void> {
    const code = await this.setupCode.prepare();
    if (code) this.log.warn(`No admin yet. First-run setup code: ${code} (also in ${this.setupCode.file})`);
  }
}
