import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ApiEnum } from '../openapi';

/** The providers whose files API an upload can go to. */
export const UPLOAD_PROVIDERS = ['replicate', 'simulator'] as const;

/** `?filename=&provider=` of an upload. */
export class UploadQuery {
  /** The archive's file name, as the provider will show it (no path) */
  @IsString()
  @Length(1, 255)
  @Matches(/^[^/\\\p{Cc}]+$/u, { message: 'filename must be a file name without a path or control characters' })
  filename: string;

  /** Where the file goes; default the default provider (replicate when a token is configured, else simulator) */
  @IsOptional()
  @IsIn(UPLOAD_PROVIDERS)
  @ApiEnum(UPLOAD_PROVIDERS, 'UploadProvider', { required: false })
  provider?: string;
}
