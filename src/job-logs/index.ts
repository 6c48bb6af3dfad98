export { JobLogsModule } from './job-logs.module';
export { JobLogWriter } from './job-log-writer.service';
/** @public: what an append added (the job and its new text), for what reads the new text, such as progress. */
export type { AppendedLog } from './job-log-writer.service';
export { LOG_STREAM_PATH } from './job-logs.controller';
