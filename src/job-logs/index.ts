export { JobLogsModule } from './job-logs.module';
export { JobLogWriter } from './job-log-writer.service';
export type { AppendedLog } from './job-log-writer.service';
export { LOG_STREAM_PATH } from './job-logs.controller';
