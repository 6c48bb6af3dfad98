import type { UserLevel } from './user.entity';

/** Who is calling: what every service needs to decide visibility and rights. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  level: UserLevel;
  orgId: string;
  /** The API key used; null when signed in with a browser session. */
  apiKeyId: string | null;
  /** The browser session used (single sign-on); a stream opened with it ends when it does. */
  session?: { id: string; expiresAt: Date };
  /** When the key used expires (null: never); a stream opened with it ends then, and it mints nothing longer-lived. */
  keyExpiresAt?: Date | null;
  /** Who minted the key used and who created the account (separation of duties). */
  keyCreatedBy?: string | null;
  userCreatedBy?: string | null;
}
