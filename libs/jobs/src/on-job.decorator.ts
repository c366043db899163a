import { SetMetadata } from '@nestjs/common';
import { JobName } from './job-names';

export const ON_JOB = 'studiovault:on-job';

/** Marks a provider method as the handler of a job. */
export const OnJob = (name: JobName) => SetMetadata(ON_JOB, name);
