import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiFoundResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppConfig } from '../config';
import { AuthenticationError } from '../common/errors';
import { ApiErrors } from '../openapi';
import { CurrentUser, MinLevel, Public } from './auth.decorators';
import type { AuthenticatedUser } from './authenticated-user';
import {
  clearSessionCookie,
  clearStateCookie,
  readCookie,
  SESSION_COOKIE,
  setSessionCookie,
  setStateCookie,
  STATE_COOKIE,
} from './session-cookie';
import { AuthConfigView, SessionView } from './session.view';
import { SessionsService } from './sessions.service';
import { SsoService } from './sso.service';
import { userView, UsersService } from './users.service';

const LOGIN_PATH = '/api/auth/oidc/login';

/** The query string as sent, every parameter kept (the provider adds `iss`, `session_state` and the like). */
const queryOf = (req: Request) => new URLSearchParams(req.originalUrl.split('?')[1] ?? '');

@ApiTags('Sign-in')
@Controller('api/auth')
export class SessionController {
  constructor(
    private readonly config: AppConfig,
    private readonly sso: SsoService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {}

  @Get('config')
  @Public()
  @ApiOperation({ summary: 'How people can sign in', description: 'API keys always; single sign-on when set up.' })
  @ApiOkResponse({ type: AuthConfigView })
  authConfig(): AuthConfigView {
    return { sso_enabled: this.sso.enabled, login_url: this.sso.enabled ? LOGIN_PATH : null };
  }

  @Get('oidc/login')
  @Public()
  @ApiOperation({
    summary: 'Sign in with single sign-on',
    description:
      'Redirects the browser to the OpenID provider (authorization code with PKCE, `state` and `nonce`); the ' +
      '`state` is also kept in a short-lived cookie that the callback checks.',
  })
  @ApiFoundResponse({ description: 'To the OpenID provider (`Location`)' })
  @ApiErrors('sso_not_configured', 'sso_provider_error')
  async login(@Res() res: Response): Promise<void> {
    const { url, state } = await this.sso.beginLogin();
    setStateCookie(res, this.config.sso!, state);
    res.redirect(302, url);
  }

  @Get('oidc/callback')
  @Public()
  @ApiOperation({
    summary: 'Where the OpenID provider sends the browser back',
    description:
      'Checks the `state` against this browser’s, exchanges the code, verifies the ID token, creates or updates the ' +
      'account (level and organisation from the claims) and sets the session cookie (HttpOnly, SameSite=Lax, ' +
      'Secure behind https, 12 h); then redirects to the dashboard.',
  })
  @ApiQuery({ name: 'state', required: false, type: String })
  @ApiQuery({ name: 'code', required: false, type: String })
  @ApiQuery({ name: 'error', required: false, type: String, description: 'The provider refused the sign-in' })
  @ApiFoundResponse({ description: 'To the dashboard, signed in (`Set-Cookie`)' })
  @ApiErrors(
    'invalid_oidc_state',
    'authentication_error',
    'permission_denied',
    'sso_not_configured',
    'conflict',
    'sso_provider_error',
  )
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const sso = this.config.sso;
    if (sso) clearStateCookie(res, sso);
    const { token } = await this.sso.completeLogin(queryOf(req), readCookie(req, STATE_COOKIE));
    setSessionCookie(res, sso!, token);
    res.redirect(302, '/');
  }

  @Get('session')
  @Public()
  @ApiOperation({
    summary: 'The browser session',
    description: 'Who is signed in with the session cookie, and the CSRF token its changes must send.',
  })
  @ApiOkResponse({ type: SessionView })
  @ApiErrors('authentication_error')
  async session(@Req() req: Request): Promise<SessionView> {
    const token = readCookie(req, SESSION_COOKIE);
    const caller = token ? await this.sessions.authenticate(token) : null;
    const user = caller ? await this.users.findById(caller.user.id) : null;
    if (!caller || !user) throw new AuthenticationError('No session: sign in first');
    return {
      user: userView(user),
      csrf_token: caller.csrfToken,
      expires_at: caller.user.session!.expiresAt.toISOString(),
    };
  }

  @Post('logout')
  @MinLevel('viewer')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out',
    description: 'Ends the session used (and its event streams) and clears its cookie; with an API key, nothing.',
  })
  @ApiNoContentResponse({ description: 'Signed out' })
  async logout(@CurrentUser() caller: AuthenticatedUser, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.end(caller);
    clearSessionCookie(res, this.config.sso);
  }
}
