export * from './job-names';
export * from './job-queue';
export * from './job-runner';
export * from './jobs.module';
export * from './on-job.decorator';
