import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ApiDateTime, ApiInt } from '../openapi';

export class ProviderTokenDto {
  /** The provider's API token (Replicate: `r8_…`); write-only, stored encrypted */
  @IsString()
  @Length(8, 512)
  @Matches(/^\S+$/, { message: 'token must not contain spaces' })
  @ApiProperty({ writeOnly: true, example: 'r8_0123456789abcdef' })
  token: string;
}

export class RotateWebhookSecretDto {
  /** Hours the replaced secret keeps verifying (0: at once no more) */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(720)
  @ApiInt({ required: false, default: 24, example: 24 })
  overlap_hours?: number;
}

/** Whether the provider accepts the token in force */
export class TokenValidationView {
  valid: boolean;
  /** The account the token belongs to */
  @ApiProperty({ required: false, example: 'ada' })
  username?: string;
  /** Why it is not valid */
  @ApiProperty({ required: false, example: 'Replicate refused the token (HTTP 401)' })
  error?: string;
}

/** The new webhook signing secret: shown this once */
export class RotatedWebhookSecretView {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  webhook_secret: string;
  /** Until when the replaced secret still verifies (null: there was none, or no overlap) */
  @ApiDateTime({ nullable: true })
  previous_valid_until: string | null;
}
