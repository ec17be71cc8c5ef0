// Shared by consent.test.mjs and screenshots.mjs: the real smartlaunch
// server on 127.0.0.1:0 with a fresh data directory, the "Growth Chart"
// app registered with the CLI, a tiny local HTTP server for its redirect
// URI, PKCE, and Debian's Chromium through playwright-core. The same
// patterns as fhirclient.test.mjs (which keeps its own copy). Not a test
// file: `node --test` only picks up *.test.mjs.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..');

// The app the consent page asks about: a public client with a full
// description (publisher, links, code of conduct) and a fixed set of
// scopes, one from each group of the page and a query-based one.
export const appId = 'consent-test';
export const appName = 'Growth Chart';
export const appScope = 'launch/patient openid fhirUser offline_access patient/*.rs ' +
  'patient/Observation.rs?category=laboratory patient/MedicationRequest.c';
export const patientUser = { username: 'patient', password: 'patient-demo' };

// Debian's chromium as root, in a closed network (.library/env machines/go.md).
const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    timeout: 30_000,
  });
}

// startServer builds the binary unless SMARTLAUNCH_BIN names one, starts
// `smartlaunch serve` on 127.0.0.1:0 with a fresh data directory and waits
// for /healthz. It returns {bin, data, base, restart, stop}: restart stops
// the server (SIGTERM: it writes what it holds in memory, such as access
// counts) and starts it again on the same data directory, which sets a new
// base; stop stops it and removes the data directory.
export async function startServer(prefix) {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let bin = process.env.SMARTLAUNCH_BIN;
  if (!bin) {
    bin = join(tmp, 'smartlaunch');
    execFileSync('go', ['build', '-o', bin, './cmd/smartlaunch'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const data = join(tmp, 'data');
  let child;
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const srv = {
    bin,
    data,
    base: undefined,
    async restart() {
      await kill();
      child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--log-level', 'warn'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      srv.base = await listeningURL(child);
      await waitHealthy(srv.base);
    },
    async stop() {
      await kill();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  try {
    await srv.restart();
    return srv;
  } catch (err) {
    await srv.stop();
    throw err;
  }
}

// registerApp registers the "Growth Chart" app with the CLI, redirecting
// to redirectURI.
export function registerApp(bin, data, redirectURI) {
  const out = execFileSync(bin, [
    'client', 'add', '--data', data, '--id', appId, '--name', appName, '--type', 'public',
    '--redirect-uri', redirectURI, '--scope', appScope,
    '--publisher', 'Example Health Apps', '--client-uri', 'https://apps.example.org',
    '--policy-uri', 'https://apps.example.org/privacy', '--tos-uri', 'https://apps.example.org/terms',
    '--code-of-conduct', 'CARIN Alliance Code of Conduct', '--code-of-conduct-uri', 'https://www.carinalliance.com/',
  ], { encoding: 'utf8' });
  assert.equal(JSON.parse(out).client_id, appId, `client add: ${out}`);
}

// listen starts an HTTP server with handler on 127.0.0.1 (a free port).
export function listen(handler) {
  const srv = createServer(handler);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

export async function closeServer(srv) {
  if (!srv) return;
  srv.closeAllConnections();
  await new Promise((resolve) => srv.close(resolve));
}

// authorizeRequest makes a fresh authorization request: PKCE S256, a
// random state, aud = the FHIR base. It returns the /authorize URL and the
// verifier and state to check the answer with.
export function authorizeRequest(base, redirectURI, scope = appScope) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code', client_id: appId, redirect_uri: redirectURI, scope, state, aud: `${base}/fhir`,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  return { url: `${base}/authorize?${q}`, verifier, state };
}

// signIn fills the login page the browser is on and waits for the consent
// page.
export async function signIn(page, base, user = patientUser) {
  await page.waitForURL((u) => u.origin === base && u.pathname === '/login', { waitUntil: 'domcontentloaded' });
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.press('#password', 'Enter');
  await page.waitForURL((u) => u.origin === base && u.pathname === '/consent', { waitUntil: 'domcontentloaded' });
}

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
      lines.on('line', () => {}); // keep draining stdout
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
