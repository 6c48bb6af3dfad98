/**
 * A real OpenID provider (oidc-provider) for the tests, in a child process of its own: it is an ES module with a
 * Koa stack, which stays out of Jest's module registry. Usage:
 * `node oidc-provider-server.mjs <json>` where json is `{ client: {client_id, client_secret, redirect_uris},
 * accounts: {<login>: {<claims>}}, port? }`; prints `listening <port>` once it serves on 127.0.0.1 (issuer
 * `http://127.0.0.1:<port>`), and stops when its standard input closes or on SIGTERM. Sign-in uses its development
 * interactions: a form taking any account id of `accounts` as the login (any password), then a consent form.
 */
import * as http from 'node:http';
import Provider from 'oidc-provider';

const { client, accounts, port: wanted = 0 } = JSON.parse(process.argv[2]);

const server = http.createServer();
await new Promise((resolve) => server.listen(wanted, '127.0.0.1', resolve));
const { port } = server.address();

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: client.client_secret ? 'client_secret_basic' : 'none',
    },
  ],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'groups', 'org'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  cookies: { keys: ['simpletuner-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
server.on('request', provider.callback());
process.stdout.write(`listening ${port}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
