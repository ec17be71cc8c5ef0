// Interop: SMART's own JavaScript client, fhirclient
// (https://github.com/smart-on-fhir/client-js), in a real headless Chromium
// against the real smartlaunch server (issue 6, item 5). A tiny app
// (fhirclient-app/) is served from 127.0.0.1 like any SMART app would be;
// Playwright drives the browser through the server's own login and consent
// pages. Each launch ends on the app's index.html, which reads the patient
// and its observations, refreshes its token and reads again, and prints the
// outcome into #result (or #error). A screenshot of the app after each launch
// goes to interop/artifacts/.
//
//   a) standalone launch: launch.html?iss=FHIR_BASE, the patient user;
//   b) EHR launch: a launch made through the EHR launch API
//      (POST /ehr/api/launches), opened at the launch_url it returns.
//
// Run: cd interop && npm ci && node --test
// SMARTLAUNCH_BIN names a built smartlaunch binary; without it the test builds
// one from the repository root (interop/..) with `go build`. CHROMIUM_BIN
// names the browser (default /usr/bin/chromium, Debian's package); Playwright
// never downloads one.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');
const artifacts = join(here, 'artifacts');
const clientId = 'fhirclient-interop'; // launch.html names it, as a real app would
const appScope = 'launch launch/patient openid fhirUser offline_access patient/*.rs';
const jill = 'f341c771-5aff-4858-9406-9d45e8a56246'; // the `patient` user's patient
const claudie = '64f4649d-8d2e-40ae-811d-7316accdf5ee';
// Debian's chromium as root, in a closed network (.library/env machines/go.md).
const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let tmp; // temporary directory: data directory and, if needed, the binary
let bin; // the smartlaunch binary
let data; // its data directory
let server; // the smartlaunch child process
let base; // http://127.0.0.1:PORT, the smartlaunch server
let fhirBase; // base + /fhir, the iss
let app; // the static server of fhirclient-app
let appOrigin; // http://127.0.0.1:APP_PORT
let browser; // Playwright's Chromium

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'smartlaunch-fhirclient-'));
  bin = process.env.SMARTLAUNCH_BIN;
  if (!bin) {
    bin = join(tmp, 'smartlaunch');
    execFileSync('go', ['build', '-o', bin, './cmd/smartlaunch'], { cwd: repoRoot, stdio: 'inherit' });
  }
  data = join(tmp, 'data');
  server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await listeningURL(server);
  fhirBase = `${base}/fhir`;
  await waitHealthy(base);

  // The app's port must be known before registration (exact redirect URIs),
  // so the static server listens first.
  app = await serveApp();
  appOrigin = `http://127.0.0.1:${app.address().port}`;

  const out = execFileSync(bin, [
    'client', 'add', '--data', data, '--type', 'public', '--id', clientId, '--name', 'fhirclient interop app',
    '--redirect-uri', `${appOrigin}/index.html`, '--launch-url', `${appOrigin}/launch.html`, '--scope', appScope,
  ], { encoding: 'utf8' });
  assert.equal(JSON.parse(out).client_id, clientId, `client add: ${out}`);

  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    timeout: 30_000,
  });
}, { timeout: 120_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (app) {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  }
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// serveApp serves fhirclient-app/ and fhirclient's browser build on
// 127.0.0.1 (a free port), GET only, a fixed list of files.
function serveApp() {
  const appDir = join(here, 'fhirclient-app');
  const build = join(here, 'node_modules', 'fhirclient', 'build');
  const files = {
    '/launch.html': [join(appDir, 'launch.html'), 'text/html; charset=utf-8'],
    '/index.html': [join(appDir, 'index.html'), 'text/html; charset=utf-8'],
    '/app.css': [join(appDir, 'app.css'), 'text/css; charset=utf-8'],
    '/fhir-client.js': [join(build, 'fhir-client.js'), 'text/javascript; charset=utf-8'],
    '/fhir-client.js.map': [join(build, 'fhir-client.js.map'), 'application/json'],
  };
  const srv = createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (req.method !== 'GET' || !f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': f[1], 'cache-control': 'no-store' }).end(readFileSync(f[0]));
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
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

// runApp opens url in a fresh browser context (no cookies, no storage),
// signs in as user on the server's login page if it appears, picks the
// first patient if the picker appears, allows on the consent page, and
// waits for the app's index.html to print #result or #error. It saves a
// screenshot of the app to artifacts/<name>.png and returns the result
// object; anything else fails with the app's error and the browser's log.
async function runApp(name, url, user) {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const log = [];
  page.on('console', (m) => {
    // Failed loads are logged with their URL below (a favicon is no news).
    if (!m.text().startsWith('Failed to load resource')) log.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const entry = `${r.status()} ${r.request().method()} ${r.url()}`;
    log.push(entry);
    r.text().then((t) => { log[log.indexOf(entry)] = `${entry}: ${t.trim().slice(0, 300)}`; }, () => {});
  });
  const visited = [];
  const fail = (msg) => assert.fail(`${msg}\nat ${page.url()} after ${visited.join(' -> ') || 'no server page'}` +
    `\nbrowser log:\n  ${log.join('\n  ') || '(empty)'}`);
  const screenshot = join(artifacts, `${name}.png`);
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    for (;;) {
      await page.waitForURL((u) => (u.origin === appOrigin && u.pathname === '/index.html') ||
        (u.origin === base && ['/login', '/pick', '/consent'].includes(u.pathname)), { waitUntil: 'domcontentloaded' })
        .catch((err) => fail(`never reached the server's pages or the app's index.html: ${err.message}`));
      const at = new URL(page.url());
      if (at.origin === appOrigin) break;
      if (visited.includes(at.pathname)) {
        const shown = await page.locator('.error, [role=alert]').allTextContents().catch(() => []);
        fail(`${at.pathname} shown twice: ${shown.join(' ') || '(no error shown)'}`);
      }
      visited.push(at.pathname);
      const before = page.url();
      if (at.pathname === '/login') {
        await page.fill('input[name="username"]', user.username);
        await page.fill('input[name="password"]', user.password);
        await page.press('input[name="password"]', 'Enter');
      } else if (at.pathname === '/pick') {
        await page.locator('input[name="patient"]').first().check();
        await page.click('form[action="/pick"] [type="submit"]');
      } else {
        await page.click('button[name="decision"][value="allow"]');
      }
      await page.waitForURL((u) => u.href !== before, { waitUntil: 'commit' })
        .catch((err) => fail(`${at.pathname}: the form led nowhere: ${err.message}`));
    }
    await page.locator('#result:not([hidden]), #error:not([hidden])').first().waitFor()
      .catch((err) => fail(`the app printed neither #result nor #error: ${err.message}`));
    await page.screenshot({ path: screenshot, fullPage: true });
    if (await page.locator('#error:not([hidden])').count()) {
      fail(`the app failed (screenshot ${screenshot}):\n${await page.textContent('#error')}`);
    }
    return { result: JSON.parse(await page.textContent('#result')), visited };
  } catch (err) {
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
}

// tokenFor gets a client_credentials access token with HTTP Basic.
async function tokenFor(id, secret, scope) {
  const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = await res.json().catch(() => ({}));
  assert.equal(res.status, 200, `client_credentials for ${id}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

describe('fhirclient in headless Chromium against smartlaunch', () => {
  it('standalone launch: the patient signs in, the app reads, refreshes and reads again', async (t) => {
    const { result, visited } = await runApp('standalone', `${appOrigin}/launch.html?iss=${encodeURIComponent(fhirBase)}`,
      { username: 'patient', password: 'patient-demo' });
    t.diagnostic(`pages: ${visited.join(' -> ')}; result: ${JSON.stringify(result)}`);
    assert.equal(result.patientId, jill);
    assert.ok(result.observationCount > 0, `observationCount ${result.observationCount}`);
    assert.equal(result.refreshed, true);
    assert.equal(result.fhirUser, `Patient/${jill}`);
  }, { timeout: 30_000 });

  it('EHR launch: a launch from the EHR launch API carries the patient to the app', async (t) => {
    // A confidential client allowed to create launches (the __launch scope).
    const out = execFileSync(bin, [
      'client', 'add', '--data', data, '--type', 'confidential-symmetric', '--id', 'launcher',
      '--redirect-uri', 'https://example.invalid/cb', '--scope', '__launch',
    ], { encoding: 'utf8' });
    const launcher = JSON.parse(out);
    assert.ok(launcher.client_secret, `client add printed no client_secret: ${out}`);
    const token = await tokenFor(launcher.client_id, launcher.client_secret, '__launch');

    const res = await fetch(`${base}/ehr/api/launches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, patient: claudie, user: 'clinician' }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST /ehr/api/launches: ${res.status} ${text}`);
    const created = JSON.parse(text);
    assert.ok(created.launch, `no launch id: ${text}`);
    const launchURL = new URL(created.launch_url);
    assert.equal(launchURL.origin + launchURL.pathname, `${appOrigin}/launch.html`, text);
    assert.equal(launchURL.searchParams.get('iss'), fhirBase, text);
    assert.equal(launchURL.searchParams.get('launch'), created.launch, text);

    const { result, visited } = await runApp('ehr', launchURL.href, { username: 'clinician', password: 'clinician-demo' });
    t.diagnostic(`pages: ${visited.join(' -> ')}; result: ${JSON.stringify(result)}`);
    assert.equal(result.patientId, claudie);
    assert.ok(result.observationCount > 0, `observationCount ${result.observationCount}`);
    assert.equal(result.refreshed, true);
    assert.match(result.fhirUser ?? '', /^Practitioner\//, 'the clinician is the fhirUser');
  }, { timeout: 30_000 });
});
