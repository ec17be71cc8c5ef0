// Interop: openid-client (https://github.com/panva/openid-client), a client
// nobody here wrote, runs against the real smartlaunch server (issue 4, item 7):
// discovery, the authorization code flow with PKCE (S256) and DPoP (RFC 9449,
// a WebCrypto key, server nonces), two refresh-token rotations, a FHIR read
// with a DPoP-bound token, and then refresh-token reuse: replaying the first
// (already used) refresh token ends the whole authorization, so the latest
// refresh token and access token stop working too.
//
// Run: cd interop && npm ci && node --test
// SMARTLAUNCH_BIN names a built smartlaunch binary; without it the test builds
// one from the repository root (interop/..) with `go build`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import * as client from 'openid-client';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const scope = 'openid fhirUser launch/patient offline_access patient/*.rs';
// Nothing listens here: the test plays the browser and stops at the redirect.
const redirectURI = 'http://127.0.0.1:49152/cb';

let tmp; // temporary directory: data directory and, if needed, the binary
let bin; // the smartlaunch binary
let server; // the child process
let base; // http://127.0.0.1:PORT

// Shared state of the flow, filled in step by step.
const s = {};

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'smartlaunch-interop-'));
  bin = process.env.SMARTLAUNCH_BIN;
  if (!bin) {
    bin = join(tmp, 'smartlaunch');
    execFileSync('go', ['build', '-o', bin, './cmd/smartlaunch'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const data = join(tmp, 'data');
  server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await listeningURL(server);
  await waitHealthy(base);

  const out = execFileSync(bin, [
    'client', 'add', '--data', data, '--type', 'public', '--name', 'openid-client interop',
    '--redirect-uri', redirectURI, '--scope', scope,
  ], { encoding: 'utf8' });
  s.clientId = JSON.parse(out).client_id;
  assert.ok(s.clientId, `client add printed no client_id: ${out}`);
}, { timeout: 120_000 });

after(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// listeningURL reads the server's first stdout line,
// "smartlaunch listening on 127.0.0.1:PORT".
function listeningURL(child) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const onExit = (code, signal) => reject(new Error(`smartlaunch exited before listening (code ${code}, signal ${signal})`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      const m = /^smartlaunch listening on (127\.0\.0\.1:\d+)$/.exec(line.trim());
      if (!m) return reject(new Error(`unexpected first line from smartlaunch: ${JSON.stringify(line)}`));
      // Keep draining stdout so the child never blocks on a full pipe.
      lines.on('line', () => {});
      resolve(`http://${m[1]}`);
    });
  });
}

// waitHealthy polls GET /healthz, a bounded number of times.
async function waitHealthy(url) {
  let last;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`smartlaunch never became healthy: ${last}`);
}

// Browser is the smallest browser the consent flow needs: manual redirects
// and a cookie jar of name=value pairs.
class Browser {
  jar = new Map();

  async request(url, { method = 'GET', form } = {}) {
    const headers = new Headers();
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    let body;
    if (form) {
      body = form;
      headers.set('content-type', 'application/x-www-form-urlencoded');
      // The pages sit behind Go's http.CrossOriginProtection.
      headers.set('origin', base);
      headers.set('sec-fetch-site', 'same-origin');
    }
    const res = await fetch(new URL(url, base), { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }
}

// redirectTo asserts a 303 and returns its Location resolved against base.
function redirectTo(res, pathname) {
  assert.equal(res.status, 303, `want 303 to ${pathname}, got ${res.status}`);
  const loc = new URL(res.headers.get('location'), base);
  assert.equal(loc.pathname, pathname, `redirected to ${loc.href}`);
  return loc;
}

function decodeEntities(v) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return v.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return named[e.toLowerCase()] ?? m;
  });
}

// inputs returns the <input> elements of an HTML page as attribute maps.
function inputs(html) {
  return [...html.matchAll(/<input\b([^>]*)>/gi)].map((m) => {
    const attrs = {};
    for (const a of m[1].matchAll(/([a-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/gi)) {
      attrs[a[1].toLowerCase()] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    }
    return attrs;
  });
}

// fhirRead GETs a FHIR URL through openid-client with DPoP. A 401 with a
// WWW-Authenticate challenge makes openid-client throw; it is returned as a
// status and the challenges instead.
async function fhirRead(accessToken, path) {
  try {
    const res = await client.fetchProtectedResource(s.config, accessToken, new URL(base + path), 'GET', undefined, undefined, { DPoP: s.dpop });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    if (err instanceof client.WWWAuthenticateChallengeError) {
      return { status: err.response?.status ?? err.status, challenges: err.cause, body: '' };
    }
    throw err;
  }
}

// grantError runs a token request that must fail and returns its OAuth error.
async function grantError(fn) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof client.ResponseBodyError, `want an OAuth error response, got ${err}`);
    return err;
  }
  assert.fail('the token request succeeded; want an error');
}

describe('openid-client against smartlaunch: code flow with PKCE and DPoP, rotation, reuse', () => {
  it('discovers the server', async () => {
    s.config = await client.discovery(new URL(base), s.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const md = s.config.serverMetadata();
    assert.equal(new URL(md.issuer).href, new URL(base).href);
    assert.ok(md.dpop_signing_alg_values_supported?.includes('ES256'),
      `dpop_signing_alg_values_supported: ${JSON.stringify(md.dpop_signing_alg_values_supported)}`);
    assert.ok(md.code_challenge_methods_supported?.includes('S256'));
    // Record what openid-client sends and gets, to show the DPoP nonce dance.
    s.log = [];
    s.config[client.customFetch] = async (url, options) => {
      const res = await fetch(url, options);
      const entry = { url: String(url), status: res.status, dpop: 'dpop' in options.headers, nonce: res.headers.get('dpop-nonce') };
      if (res.status === 400) entry.error = (await res.clone().json().catch(() => ({}))).error;
      s.log.push(entry);
      return res;
    };
    s.keyPair = await client.randomDPoPKeyPair('ES256');
    assert.equal(s.keyPair.privateKey.extractable, false, 'the DPoP private key stays inside WebCrypto');
    s.dpop = client.getDPoPHandle(s.config, s.keyPair);
  });

  it('authorizes with PKCE S256 through login and consent', async () => {
    s.verifier = client.randomPKCECodeVerifier();
    s.state = client.randomState();
    const authURL = client.buildAuthorizationUrl(s.config, {
      redirect_uri: redirectURI,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(s.verifier),
      code_challenge_method: 'S256',
      state: s.state,
      aud: `${base}/fhir`,
    });
    const b = new Browser();

    let res = await b.request(authURL);
    const login = redirectTo(res, '/login');
    res = await b.request(login);
    assert.equal(res.status, 200);
    const loginForm = inputs(await res.text());
    const requestID = loginForm.find((i) => i.name === 'request')?.value;
    assert.ok(requestID, 'login form has a request input');
    assert.ok(loginForm.some((i) => i.name === 'username') && loginForm.some((i) => i.name === 'password'));

    res = await b.request('/login', {
      method: 'POST',
      form: new URLSearchParams({ request: requestID, username: 'patient', password: 'patient-demo' }),
    });
    const consent = redirectTo(res, '/consent');
    res = await b.request(consent);
    assert.equal(res.status, 200);
    const consentForm = inputs(await res.text());
    const form = new URLSearchParams();
    form.set('request', consentForm.find((i) => i.name === 'request' && i.type === 'hidden')?.value ?? '');
    const granted = consentForm.filter((i) => i.name === 'scope' && i.type === 'checkbox' && 'checked' in i).map((i) => i.value);
    assert.deepEqual([...granted].sort(), scope.split(' ').sort(), 'consent offers every requested scope, checked');
    for (const sc of granted) form.append('scope', sc);
    form.set('decision', 'allow');

    res = await b.request('/consent', { method: 'POST', form });
    const cont = redirectTo(res, '/authorize/continue');
    assert.ok(cont.searchParams.get('proof'), 'continue URL carries a proof');
    res = await b.request(cont);
    assert.equal(res.status, 303);
    s.callback = new URL(res.headers.get('location'));
    assert.equal(s.callback.origin + s.callback.pathname, redirectURI);
    assert.equal(s.callback.searchParams.get('state'), s.state);
    assert.equal(s.callback.searchParams.get('iss'), s.config.serverMetadata().issuer);
    assert.ok(s.callback.searchParams.get('code'));
  });

  it('redeems the code with DPoP (server nonce retried by openid-client)', async () => {
    const tokens = await client.authorizationCodeGrant(s.config, s.callback, {
      pkceCodeVerifier: s.verifier,
      expectedState: s.state,
    }, undefined, { DPoP: s.dpop });
    assert.match(tokens.token_type, /^dpop$/i);
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'a refresh token (offline_access)');
    assert.ok(tokens.patient, `patient in the token response: ${JSON.stringify(Object.keys(tokens))}`);
    assert.ok(tokens.claims()?.sub, 'a validated id_token');
    // The server asked for a nonce (400 use_dpop_nonce with a DPoP-Nonce
    // header) and openid-client retried on its own with it.
    const token = s.log.filter((e) => e.url === s.config.serverMetadata().token_endpoint);
    assert.deepEqual(token.map((e) => [e.status, e.error ?? null, Boolean(e.nonce), e.dpop]),
      [[400, 'use_dpop_nonce', true, true], [200, null, true, true]], JSON.stringify(token));
    // The access token is an RFC 9068 JWT bound to our key (cnf.jkt).
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    assert.equal(payload.cnf?.jkt, await jwkThumbprint(s.keyPair.publicKey));
    s.patient = tokens.patient;
    s.refreshTokens = [tokens.refresh_token];
    s.accessToken = tokens.access_token;
  });

  async function refresh(n) {
    const tokens = await client.refreshTokenGrant(s.config, s.refreshTokens.at(-1), undefined, { DPoP: s.dpop });
    assert.match(tokens.token_type, /^dpop$/i);
    assert.ok(tokens.refresh_token, `refresh ${n} returned a refresh token`);
    assert.ok(!s.refreshTokens.includes(tokens.refresh_token), `refresh ${n} returned a new refresh token`);
    assert.notEqual(tokens.access_token, s.accessToken);
    s.refreshTokens.push(tokens.refresh_token);
    s.accessToken = tokens.access_token;
  }

  it('refreshes (1), rotating the refresh token', () => refresh(1));

  it('refuses a refresh with another DPoP key, and that changes nothing', async (t) => {
    // A public client's refresh token is bound to its DPoP key (RFC 9449 section 5).
    const other = client.getDPoPHandle(s.config, await client.randomDPoPKeyPair('ES256'));
    const err = await grantError(() => client.refreshTokenGrant(s.config, s.refreshTokens.at(-1), undefined, { DPoP: other }));
    assert.ok(['invalid_dpop_proof', 'invalid_grant'].includes(err.error), `${err.error}: ${err.error_description}`);
    t.diagnostic(`another key: ${err.error}: ${err.error_description}`);
  });

  it('refreshes (2) with the same refresh token, rotating it again', () => refresh(2));

  it('reads the Patient from the FHIR API with the DPoP-bound token', async () => {
    const res = await fhirRead(s.accessToken, `/fhir/Patient/${s.patient}`);
    assert.equal(res.status, 200, `GET /fhir/Patient/${s.patient}: ${res.status} ${JSON.stringify(res.challenges ?? res.body)}`);
    const patient = JSON.parse(res.body);
    assert.equal(patient.resourceType, 'Patient');
    assert.equal(patient.id, s.patient);
  });

  it('replaying the first (used) refresh token fails with invalid_grant', async (t) => {
    assert.equal(s.refreshTokens.length, 3, 'the code grant and two refreshes each gave a refresh token');
    const replay = await grantError(() => client.refreshTokenGrant(s.config, s.refreshTokens[0], undefined, { DPoP: s.dpop }));
    assert.equal(replay.error, 'invalid_grant', `${replay.error}: ${replay.error_description}`);
    t.diagnostic(`replay: ${replay.error}: ${replay.error_description}`);
  });

  it('after the replay the latest refresh token fails too (the authorization ended)', async (t) => {
    const latest = await grantError(() => client.refreshTokenGrant(s.config, s.refreshTokens.at(-1), undefined, { DPoP: s.dpop }));
    assert.equal(latest.error, 'invalid_grant', `latest refresh token: ${latest.error}: ${latest.error_description}`);
    t.diagnostic(`latest: ${latest.error}: ${latest.error_description}`);
  });

  it('after the replay the latest access token gets 401 invalid_token at the FHIR API', async () => {
    const res = await fhirRead(s.accessToken, `/fhir/Patient/${s.patient}`);
    assert.equal(res.status, 401, `latest access token at the FHIR API: ${res.status} ${res.body}`);
    const errors = (res.challenges ?? []).map((c) => c.parameters?.error);
    assert.ok(errors.includes('invalid_token'), `want error="invalid_token" in WWW-Authenticate: ${JSON.stringify(res.challenges)}`);
  });
});

// jwkThumbprint is the RFC 7638 SHA-256 thumbprint of an EC P-256 public key.
async function jwkThumbprint(publicKey) {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  return Buffer.from(digest).toString('base64url');
}
