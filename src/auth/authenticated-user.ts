import type { UserLevel } from './user.entity';

/** Who is calling: what every service needs to decide visibility and rights. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  level: UserLevel;
  orgId: string;
  apiKeyId: string;
}
