#!/usr/bin/env node
// authlab's local identity provider: panva's oidc-provider (OpenID Certified), configured for
// development and tests. Not a mock: discovery, JWKS, the authorization endpoint with its
// login and consent pages, the token endpoint, userinfo and RP-initiated logout are the
// library's own.
//
//   node tools/oidc/provider.mjs            listens on 127.0.0.1:$OIDC_PORT (default 4400)
//
// Environment:
//   OIDC_PORT                  port on 127.0.0.1; 0 picks a free one (default 4400)
//   OIDC_CLIENT_ID             authlab's client id (default "authlab")
//   OIDC_CLIENT_SECRET         authlab's client secret (required)
//   OIDC_REDIRECT_URIS         authlab's callback URLs, comma-separated (required)
//   OIDC_POST_LOGOUT_URIS      where the provider may send the browser after logout
//
// A second client, "other-app", exists so the lab can show an ID token issued to someone
// else being refused. Signing keys are generated at every start. Users (password = login +
// "-password"): alice, bob.
//
// Prints `OIDC_PROVIDER_READY issuer=<url>` on stdout once it accepts requests.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const env = process.env;
const die = (message) => {
  console.error(`oidc provider: ${message}`);
  process.exit(2);
};
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const clientSecret = env.OIDC_CLIENT_SECRET || die('OIDC_CLIENT_SECRET is required');
const redirectUris = list(env.OIDC_REDIRECT_URIS);
if (redirectUris.length === 0) die('OIDC_REDIRECT_URIS is required');
const postLogoutUris = list(env.OIDC_POST_LOGOUT_URIS);

// The people who can sign in. `sub` is fixed: it is what a relying party links to.
const people = [
  { login: 'alice', sub: '7c1d6a52-0e7f-4f55-9a51-5d8f0c6b1a01', name: 'Alice Kim',
    email: 'alice@example.test' },
  { login: 'bob', sub: '7c1d6a52-0e7f-4f55-9a51-5d8f0c6b1a02', name: 'Bob Lee',
    email: 'bob@example.test' },
].map((p) => ({ ...p, password: `${p.login}-password` }));
const byLogin = new Map(people.map((p) => [p.login, p]));
const bySub = new Map(people.map((p) => [p.sub, p]));

const clients = [
  {
    client_id: env.OIDC_CLIENT_ID || 'authlab',
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    // A public client (no secret, PKCE only): the lab gets an ID token issued to it, which
    // authlab must refuse. Its redirect URI leads nowhere; the lab reads the code from it.
    client_id: 'other-app',
    redirect_uris: ['http://127.0.0.1:9/other-app/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
];

// Fresh keys at every start: an RSA key for RS256, the ID tokens' default algorithm.
const signingKey = {
  ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  use: 'sig',
  alg: 'RS256',
};

// Listen before building the provider, so that port 0 works (the issuer names the port).
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env.OIDC_PORT ?? 4400), HOST, resolve);
});
const issuer = `http://${HOST}:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  // Every authorization request must carry an S256 code_challenge.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // Put the profile and email claims in the ID token itself, not only at userinfo.
  conformIdTokenClaims: false,
  async findAccount(_ctx, sub) {
    const person = bySub.get(sub);
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: person.name,
          preferred_username: person.login,
          email: person.email,
          email_verified: true,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
});

// Browsers ask every site for an icon; this one has none to give.
provider.use(async (ctx, next) => {
  if (ctx.path === '/favicon.ico') {
    ctx.status = 204;
    return undefined;
  }
  return next();
});

// The built-in pages load a web font from the internet; without it they render the same.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});

// The development login page accepts any name; check the password in front of it. A wrong
// one shows the login page again with 401. A right one signs in as that person's `sub`.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)
      || !ctx.is('application/x-www-form-urlencoded')) {
    return next();
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > 16 * 1024) ctx.throw(413);
    chunks.push(chunk);
  }
  const form = querystring.parse(Buffer.concat(chunks).toString('utf8'));
  ctx.req.body = form;
  if (form.prompt !== 'login') return next();
  const person = typeof form.login === 'string' ? byLogin.get(form.login) : undefined;
  const given = Buffer.from(typeof form.password === 'string' ? form.password : '');
  const expected = Buffer.from(person?.password ?? '');
  if (!person || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    ctx.method = 'GET';
    await next();
    ctx.status = 401;
    return undefined;
  }
  form.login = person.sub;
  return next();
});

for (const event of ['grant.error', 'authorization.error', 'end_session.error', 'server_error']) {
  provider.on(event, (_ctx, err) => {
    const detail = err.error_detail ? ` (${err.error_detail})` : '';
    console.error(`oidc provider: ${event}: ${err.error ?? err.message}${detail}`);
  });
}

server.on('request', provider.callback());

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

console.log(`OIDC_PROVIDER_READY issuer=${issuer}`);
