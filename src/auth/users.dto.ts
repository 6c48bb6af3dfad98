import { ApiProperty, OmitType, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsDateString, IsEmail, IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { ApiDateTime, ApiEnum, ApiUuid } from '../openapi';
import { USER_LEVELS, UserLevel } from './user.entity';

export class CreateUserDto {
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'username must be 1-64 letters, digits, dots, dashes or underscores' })
  @ApiProperty({ example: 'ada' })
  username: string;

  /** null or absent: no email */
  @IsOptional()
  @IsEmail()
  @ApiProperty({ type: String, format: 'email', nullable: true, example: 'ada@example.com' })
  email?: string | null;

  /** A lead creates researchers and viewers; only an admin creates leads and admins */
  @IsIn(USER_LEVELS)
  @ApiEnum(USER_LEVELS, 'UserLevel', { example: 'researcher' })
  level: UserLevel;

  /** The caller's organisation when absent; a lead only its own */
  @IsOptional()
  @IsUUID()
  @ApiUuid({ required: false })
  org_id?: string;
}

/** Fields left out keep their value. */
export class UpdateUserDto extends PartialType(OmitType(CreateUserDto, ['username'] as const)) {
  /** false: the user's keys stop working */
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

export class CreateOrgDto {
  @IsString()
  @Length(1, 128)
  @ApiProperty({ example: 'vision-team' })
  name: string;
}

export class CreateApiKeyDto {
  /** A label to recognise the key by */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @ApiProperty({ example: 'ci-pipeline' })
  name?: string;

  /** In the future; absent: the key does not expire */
  @IsOptional()
  @IsDateString()
  @ApiDateTime({ required: false })
  expires_at?: string;
}
