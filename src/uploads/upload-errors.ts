import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/errors';

/** The archive types an upload takes (the trainer unpacks zip, tar and gzipped tar). */
export const UPLOAD_CONTENT_TYPES = ['application/zip', 'application/x-tar', 'application/gzip'] as const;
export type UploadContentType = (typeof UPLOAD_CONTENT_TYPES)[number];

export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super('payload_too_large', HttpStatus.PAYLOAD_TOO_LARGE, `An upload may be at most ${limit} bytes`, {
      limit_bytes: limit,
    });
  }
}

class UnsupportedMediaTypeError extends AppError {
  constructor(received: string | undefined) {
    super(
      'unsupported_media_type',
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `An upload is a zip, tar or gzip archive (Content-Type ${UPLOAD_CONTENT_TYPES.join(', ')})`,
      { 'content-type': received ? received.slice(0, 100) : 'missing', accepted: [...UPLOAD_CONTENT_TYPES] },
    );
  }
}

/** The uploader went away before the upload was complete: nobody is left to answer. */
export class ClientGoneError extends AppError {
  constructor() {
    super('client_closed_request', 499, 'The client closed the connection before the upload was complete');
  }
}

/** The base type of a Content-Type header when an upload takes it, else a 415. */
export function uploadContentType(header: string | undefined): UploadContentType {
  const base = (header ?? '').split(';')[0].trim().toLowerCase();
  const known = UPLOAD_CONTENT_TYPES.find((t) => t === base);
  if (!known) throw new UnsupportedMediaTypeError(header);
  return known;
}
