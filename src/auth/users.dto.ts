import {
  IsBoolean,
  IsDateString,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';
import { USER_LEVELS, UserLevel } from './user.entity';

export class CreateUserDto {
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'username must be 1-64 letters, digits, dots, dashes or underscores' })
  username: string;

  @IsOptional()
  @IsEmail()
  email?: string;

  @IsIn(USER_LEVELS as unknown as string[])
  level: UserLevel;

  @IsOptional()
  @IsUUID()
  org_id?: string;
}

export class UpdateUserDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsEmail()
  email?: string | null;

  @IsOptional()
  @IsIn(USER_LEVELS as unknown as string[])
  level?: UserLevel;

  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  @IsOptional()
  @IsUUID()
  org_id?: string;
}

export class CreateOrgDto {
  @IsString()
  @Length(1, 128)
  name: string;
}

export class CreateApiKeyDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  name?: string;

  @IsOptional()
  @IsDateString()
  expires_at?: string;
}
