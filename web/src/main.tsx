import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fetchAuthConfig, fetchMe, fetchSession, signOutSession } from './api';
import { Dashboard } from './dashboard';
import { type Credentials, forgetKey, loadKey, saveKey } from './session';
import { SignIn } from './sign-in';
import type { AuthConfig, AuthSession, User } from './api-types';
import './styles/base.css';
import './styles/shell.css';
import './styles/tables.css';
import './styles/views.css';
import './styles/form.css';

interface Session {
  credentials: Credentials;
  me: User;
}

const messageOf = (err: unknown) => (err instanceof ApiError ? err.fullMessage : String(err));

/** A key kept in this tab, checked again; else this browser's single sign-on session, if it has one. */
async function restore(): Promise<Session | null> {
  const key = loadKey();
  if (key) return { credentials: { kind: 'key', key }, me: await fetchMe<User>(key) };
  try {
    const session = await fetchSession<AuthSession>();
    return { credentials: { kind: 'session', csrfToken: session.csrf_token }, me: session.user };
  } catch {
    return null; // no session: the sign-in page
  }
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [ssoLoginUrl, setSsoLoginUrl] = useState<string | null>(null);

  // A reload of the tab keeps the session: the stored key or the session cookie is checked before anything shows.
  useEffect(() => {
    fetchAuthConfig<AuthConfig>()
      .then((c) => setSsoLoginUrl(c.login_url))
      .catch(() => undefined); // the key form is there anyway
    restore()
      .then(setSession)
      .catch((err: unknown) => {
        forgetKey();
        setError(messageOf(err));
      })
      .finally(() => setRestoring(false));
  }, []);

  const signIn = async (key: string) => {
    try {
      const me = await fetchMe<User>(key);
      saveKey(key);
      setError(null);
      setSession({ credentials: { kind: 'key', key }, me });
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const signOut = (message?: string) => {
    const credentials = session?.credentials;
    // Ends the session on the server too (a 401 here means it had ended already).
    if (credentials?.kind === 'session') void signOutSession(credentials.csrfToken).catch(() => undefined);
    forgetKey();
    setSession(null);
    setError(message ?? null);
  };

  if (restoring) return <p class="placeholder">Signing in…</p>;
  if (!session) return <SignIn error={error} ssoLoginUrl={ssoLoginUrl} onSignIn={signIn} />;
  return <Dashboard key={session.me.id} credentials={session.credentials} me={session.me} onSignOut={signOut} />;
}

const root = document.getElementById('app') as HTMLElement;
root.textContent = ''; // the static "Loading…" line: render() adds to what is there rather than replacing it
render(<App />, root);
