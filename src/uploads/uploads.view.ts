import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import { UPLOAD_CONTENT_TYPES } from './upload-errors';
import type { Upload } from './upload.entity';
import { UPLOAD_PROVIDERS } from './uploads.dto';

/** A dataset archive kept at a provider, for a training job's `dataset.upload_id`. */
export class UploadView {
  @ApiUuid()
  upload_id: string;
  @ApiProperty({ example: 'dataset.zip' })
  filename: string;
  /** Bytes */
  @ApiInt({ example: 52428800 })
  size: number;
  /** Hex sha256 of the bytes as received */
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256: string;
  @ApiEnum(UPLOAD_CONTENT_TYPES, 'UploadContentType')
  content_type: string;
  @ApiEnum(UPLOAD_PROVIDERS, 'UploadProvider')
  provider: string;
  /** The uploader */
  @ApiUuid()
  user_id: string;
  /** The provider's URL of the file (Replicate: its `urls.get`), which a training job downloads */
  @ApiProperty({ example: 'https://api.replicate.com/v1/files/cneqzikepnug6xezperrr4z55o' })
  url: string;
  @ApiDateTime()
  created_at: string;
  /** When the provider drops the file (the simulator: a day after the upload); null when it never said */
  @ApiDateTime({ nullable: true })
  expires_at: string | null;
}

export class UploadListView {
  @ApiProperty({ type: [UploadView] })
  uploads: UploadView[];
  /** All uploads the caller may see */
  @ApiInt()
  total: number;
}

export class DeletedUploadView {
  @ApiUuid()
  upload_id: string;
  @ApiProperty({ enum: [true] })
  deleted: true;
}

export function uploadView(u: Upload): UploadView {
  return {
    upload_id: u.id,
    filename: u.filename,
    size: u.size,
    sha256: u.sha256,
    content_type: u.contentType,
    provider: u.provider,
    user_id: u.userId,
    url: u.url,
    created_at: u.createdAt.toISOString(),
    expires_at: u.expiresAt ? u.expiresAt.toISOString() : null,
  };
}
