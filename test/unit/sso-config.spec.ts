import { identityFrom } from '../../src/auth/sso-identity';
import { USER_LEVELS } from '../../src/common/permissions';
import { ConfigValidationError, loadAppConfig } from '../../src/config';
import { LEVEL_NAMES } from '../../src/config/sso-config';

const ISSUER = { SIMPLETUNER_ENTERPRISE_CONFIG: '', SIMPLETUNER_OIDC_ISSUER: 'https://id.example.com/realms/st' };

function problems(env: Record<string, string>): string[] {
  try {
    loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '', ...env });
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  return [];
}

describe('single sign-on settings', () => {
  it('knows the same levels as the service', () => {
    expect([...LEVEL_NAMES]).toEqual([...USER_LEVELS]);
  });

  it('is off while the issuer is unset', () => {
    expect(loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '' }).sso).toBeNull();
  });

  it('reads the map, the claims, and the redirect and cookie security from the public URL', () => {
    const { sso } = loadAppConfig({
      ...ISSUER,
      SIMPLETUNER_OIDC_CLIENT_ID: 'st',
      SIMPLETUNER_PUBLIC_URL: 'https://tuner.example.com/',
      SIMPLETUNER_OIDC_LEVEL_MAP: ' st-admins=admin, st-leads = lead ,',
      SIMPLETUNER_OIDC_ORG_CLAIM: 'team',
    });
    expect(sso).toMatchObject({
      clientId: 'st',
      clientSecret: undefined,
      redirectUrl: 'https://tuner.example.com/api/auth/oidc/callback',
      levelClaim: 'groups',
      orgClaim: 'team',
      secureCookies: true,
    });
    expect([...sso!.levelMap]).toEqual([
      ['st-admins', 'admin'],
      ['st-leads', 'lead'],
    ]);
  });

  it('names every bad or missing setting at boot', () => {
    expect(problems({ ...ISSUER, SIMPLETUNER_OIDC_LEVEL_MAP: 'st-admins=root' })).toEqual([
      expect.stringMatching(/^SIMPLETUNER_OIDC_LEVEL_MAP: must be group=level pairs/),
    ]);
    expect(problems(ISSUER)).toEqual([
      'SIMPLETUNER_OIDC_CLIENT_ID: needed with SIMPLETUNER_OIDC_ISSUER',
      'SIMPLETUNER_OIDC_REDIRECT_URL: needed with SIMPLETUNER_OIDC_ISSUER (or set SIMPLETUNER_PUBLIC_URL)',
    ]);
    expect(problems({ SIMPLETUNER_OIDC_ISSUER: 'id.example.com' })[0]).toMatch(/^SIMPLETUNER_OIDC_ISSUER: must be/);
  });
});

describe('the identity behind verified claims', () => {
  const sso = loadAppConfig({
    ...ISSUER,
    SIMPLETUNER_OIDC_CLIENT_ID: 'st',
    SIMPLETUNER_OIDC_REDIRECT_URL: 'http://127.0.0.1:8001/api/auth/oidc/callback',
    SIMPLETUNER_OIDC_LEVEL_MAP: 'st-admins=admin,st-leads=lead,st-researchers=researcher',
    SIMPLETUNER_OIDC_ORG_CLAIM: 'org',
  }).sso!;

  it.each([
    [{ sub: 's1', preferred_username: 'ada', email: 'a@x', groups: ['st-leads', 'st-admins'] }, 'ada', 'admin'],
    [{ sub: 's2', email: 'bo@x', groups: 'st-researchers' }, 'bo@x', 'researcher'],
    [{ sub: 's3', groups: ['elsewhere'] }, 's3', 'viewer'],
    [{ sub: 's4' }, 's4', 'viewer'],
  ])('%j → %s, %s', (claims, username, level) => {
    expect(identityFrom(claims, sso)).toMatchObject({ username, level });
  });

  it('keys the account by issuer and subject, and reads the organisation claim', () => {
    expect(identityFrom({ sub: 'abc', org: ['research', 'other'] }, sso)).toMatchObject({
      subject: 'https://id.example.com/realms/st#abc',
      orgName: 'research',
    });
  });
});
