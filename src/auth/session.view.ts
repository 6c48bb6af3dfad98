import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../openapi';
import { UserView } from './users.view';

export class AuthConfigView {
  /** Whether people can sign in with single sign-on (OpenID Connect) */
  sso_enabled: boolean;
  /** Where the browser goes to sign in with it (null when off) */
  @ApiProperty({ type: String, nullable: true, example: '/api/auth/oidc/login' })
  login_url: string | null;
}

export class SessionView {
  @ApiProperty({ type: UserView })
  user: UserView;
  /** Send it as X-CSRF-Token with every change made with this session */
  csrf_token: string;
  /** When the session ends (12 h after sign-in) */
  @ApiDateTime()
  expires_at: string;
}
