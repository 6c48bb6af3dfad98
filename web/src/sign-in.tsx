import { useState } from 'preact/hooks';

interface SignInProps {
  error: string | null;
  /** Where single sign-on starts; null when it is not set up. */
  ssoLoginUrl: string | null;
  onSignIn: (key: string) => Promise<void>;
}

/**
 * Single sign-on (when set up) is a plain navigation to the provider and back; the key is typed here and kept in
 * this tab's sessionStorage (the field has no name, so no form post carries it).
 */
export function SignIn({ error, ssoLoginUrl, onSignIn }: SignInProps) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onSignIn(key.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>SimpleTuner Cloud</h1>
      <p class="lead">Live operations: jobs, queue, approvals and workers.</p>
      {ssoLoginUrl && (
        <div class="card sso">
          {/* A navigation, not a form post: the page's policy allows no form submission (form-action 'none'). */}
          <button type="button" onClick={() => window.location.assign(ssoLoginUrl)}>
            Sign in with SSO
          </button>
          <p class="hint">With your organisation's account; or with an API key below.</p>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)} class="card">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="st_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" class="hint">
          Kept for this browser tab only and sent as a header. An admin finds the first key in the data folder
          (admin-api-key).
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="sign-in-error" role="alert">
          {error}
        </p>
      </form>
    </main>
  );
}
