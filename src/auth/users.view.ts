import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiUuid } from '../openapi';
import { USER_LEVELS, UserLevel } from './user.entity';

export class UserView {
  @ApiUuid()
  id: string;
  @ApiProperty({ example: 'ada' })
  username: string;
  @ApiProperty({ type: String, format: 'email', nullable: true, example: 'ada@example.com' })
  email: string | null;
  @ApiEnum(USER_LEVELS, 'UserLevel', { example: 'researcher' })
  level: UserLevel;
  @ApiUuid()
  org_id: string;
  is_active: boolean;
  /** Who created this user (null for the bootstrap admin and users made before this was recorded) */
  @ApiUuid({ nullable: true })
  created_by: string | null;
  @ApiDateTime()
  created_at: string;
}

export class UserListView {
  @ApiProperty({ type: [UserView] })
  users: UserView[];
}

export class OrgView {
  @ApiUuid()
  id: string;
  @ApiProperty({ example: 'vision-team' })
  name: string;
  @ApiDateTime()
  created_at: string;
}

export class OrgListView {
  @ApiProperty({ type: [OrgView] })
  orgs: OrgView[];
}

/** An API key's record; the key itself is never shown again after its creation. */
export class ApiKeyView {
  @ApiUuid()
  id: string;
  @ApiUuid()
  user_id: string;
  name: string | null;
  /** The key's first 11 characters, to recognise it */
  @ApiProperty({ example: 'st_a1B2c3D4' })
  prefix: string;
  /** The user who created the key (its owner, or a lead for a user it manages) */
  @ApiUuid({ nullable: true })
  created_by: string | null;
  @ApiDateTime({ nullable: true })
  expires_at: string | null;
  @ApiDateTime({ nullable: true })
  revoked_at: string | null;
  /** When the key last authenticated a request, to the minute */
  @ApiDateTime({ nullable: true })
  last_used_at: string | null;
  @ApiDateTime()
  created_at: string;
}

export class ApiKeyListView {
  @ApiProperty({ type: [ApiKeyView] })
  api_keys: ApiKeyView[];
}

/** A new key: the only time `key` is shown. */
export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ example: 'st_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6', pattern: '^st_[A-Za-z0-9]{32}$' })
  key: string;
}
