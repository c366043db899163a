import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AppConfig, CONFIG } from '@studiovault/config';
import { requestContext } from '@studiovault/common';
import { Role } from '@studiovault/contracts';
import { JobName } from './job-names';
import { JobHandler, JobQueue } from './job-queue';
import { ON_JOB } from './on-job.decorator';

/**
 * Finds every @OnJob method and binds it to its queue. Start-up fails when a job has no
 * handler or two, so a forgotten or doubled handler is found at boot, not at 3 a.m.
 */
@Injectable()
export class JobRunner {
  private readonly log = new Logger(JobRunner.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly queue: JobQueue,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  handlers(): Map<JobName, JobHandler> {
    const found = new Map<JobName, JobHandler[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance);
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = proto[method];
        const name = this.reflector.get<JobName | undefined>(ON_JOB, fn);
        if (!name) continue;
        const list = found.get(name) ?? [];
        list.push((data, meta) =>
          (instance[method] as (d: unknown, m: { id: string; retryCount: number }) => Promise<unknown>).call(instance, data, meta),
        );
        found.set(name, list);
      }
    }
    const out = new Map<JobName, JobHandler>();
    for (const name of Object.values(JobName)) {
      const list = found.get(name) ?? [];
      if (list.length !== 1) throw new Error(`Job ${name} has ${list.length} handlers; it needs exactly one`);
      out.set(name, list[0]);
    }
    return out;
  }

  async start(): Promise<void> {
    const handlers = this.handlers();
    await this.queue.start('worker');
    for (const [name, handler] of handlers) {
      await this.queue.work(name, this.config.worker.concurrency, (data, meta) =>
        requestContext.run(
          { requestId: `job:${meta.id}`, actor: { userId: 'system', email: 'system', role: Role.Admin, via: 'system' } },
          () => handler(data, meta),
        ),
      );
    }
    this.log.log(`Worker running ${handlers.size} job types, ${this.config.worker.concurrency} at a time each`);
  }
}
