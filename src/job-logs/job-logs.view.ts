import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES } from '../common/job-status';
import { ApiEnum, ApiInt, ApiUuid } from '../openapi';

/** A read of a job's stored log. Offsets count bytes of the log as the provider wrote it (before redaction). */
export class JobLogView {
  @ApiUuid()
  job_id: string;
  /** Provider byte offset where `text` starts (a line start for a tail read) */
  @ApiInt({ minimum: 0 })
  offset: number;
  /** Provider byte offset where the next read continues (`?offset=` it) */
  @ApiInt({ minimum: 0 })
  next_offset: number;
  /** The log text, secrets redacted; `[… N bytes omitted …]` where the kept log skips its middle */
  text: string;
  /** The text crosses (or starts in) the omitted middle of a long log */
  truncated: boolean;
  /** The job has ended and this read reached the end of its log: nothing will follow */
  complete: boolean;
}

/** `log` on the log stream: new text; the message's `id:` is the offset after it (resume with Last-Event-ID). */
class LogStreamLogEvent {
  @ApiProperty({ enum: ['log'], description: 'Also the `event:` name' })
  type: 'log';
  /** Provider byte offset where `text` starts */
  @ApiInt({ minimum: 0 })
  offset: number;
  /** Provider byte offset after `text`, also the message's `id:` */
  @ApiInt({ minimum: 0 })
  next_offset: number;
  text: string;
}

/** `end` on the log stream: the job ended and every byte of its log was sent; the stream then closes. */
class LogStreamEndEvent {
  @ApiProperty({ enum: ['end'], description: 'Also the `event:` name' })
  type: 'end';
  @ApiUuid()
  job_id: string;
  /** null when the job was deleted while streamed */
  @ApiEnum(JOB_STATUSES, 'JobStatus', { nullable: true })
  status: string | null;
  /** Provider byte offset at the end of the log */
  @ApiInt({ minimum: 0 })
  next_offset: number;
}

/** `error` on the log stream: the key or the user lost the authority the stream was opened with; it then closes. */
class LogStreamErrorEvent {
  @ApiProperty({ enum: ['error'], description: 'Also the `event:` name' })
  type: 'error';
  @ApiProperty({ enum: ['authentication_error'] })
  error: 'authentication_error';
  message: string;
}

export const LOG_STREAM_EVENTS = {
  log: LogStreamLogEvent,
  end: LogStreamEndEvent,
  error: LogStreamErrorEvent,
} as const;
