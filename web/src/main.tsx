import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fetchMe } from './api';
import { Dashboard } from './dashboard';
import { forgetKey, loadKey, saveKey } from './session';
import { SignIn } from './sign-in';
import type { User } from './api-types';
import './styles/base.css';
import './styles/shell.css';
import './styles/tables.css';
import './styles/views.css';
import './styles/form.css';

interface Session {
  key: string;
  me: User;
}

const messageOf = (err: unknown) => (err instanceof ApiError ? err.fullMessage : String(err));

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => loadKey() !== null);
  const [error, setError] = useState<string | null>(null);

  // A reload of the tab keeps the session: the stored key is checked again before anything is shown.
  useEffect(() => {
    const key = loadKey();
    if (!key) return;
    fetchMe<User>(key)
      .then((me) => setSession({ key, me }))
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
      setSession({ key, me });
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const signOut = (message?: string) => {
    forgetKey();
    setSession(null);
    setError(message ?? null);
  };

  if (restoring) return <p class="placeholder">Signing in…</p>;
  if (!session) return <SignIn error={error} onSignIn={signIn} />;
  return <Dashboard key={session.me.id} apiKey={session.key} me={session.me} onSignOut={signOut} />;
}

const root = document.getElementById('app') as HTMLElement;
root.textContent = ''; // the static "Loading…" line: render() adds to what is there rather than replacing it
render(<App />, root);
