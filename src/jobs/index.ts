export * from './job-status';
export * from './job.entity';
export * from './job-hooks';
export * from './job-transition.service';
export * from './jobs.module';
