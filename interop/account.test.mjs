// The connected-apps page (/account, the management_endpoint) in a real
// headless Chromium against the real smartlaunch server, in two languages
// (issue 8, "What must be shown": a headless-Chromium test of the page).
// The "Growth Chart" app of harness.mjs (offline_access among its scopes)
// is registered with the CLI; the patient (patient / patient-demo) signs in
// through the authorization flow, which leaves the browser signed in for
// /account as well (the same session cookie).
//
//   a) English (Accept-Language en-US): after an allowed request whose code
//      the app redeems, /account lists Growth Chart with its offline access
//      and plain-language scopes; "End access" → confirmation → "End
//      access" moves it under "Access that has ended" ("You ended this
//      access."), and at once its access token gets 401 at the FHIR API and
//      its refresh token invalid_grant;
//   b) Spanish (es-ES): a fresh authorization, then the page in Spanish with
//      the live app and the ended one from (a); the language switcher
//      (Deutsch) re-renders it in German.
//
// Screenshots: interop/artifacts/account-en.png and account-es.png.
// Run: cd interop && npm ci && node --test account.test.mjs
// SMARTLAUNCH_BIN and CHROMIUM_BIN as in fhirclient.test.mjs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  here, appId, appName, startServer, registerApp, listen, closeServer, launchBrowser, authorizeRequest, signIn,
} from './harness.mjs';

const artifacts = join(here, 'artifacts');

let srv; // {bin, data, base, restart, stop}
let base; // http://127.0.0.1:PORT
let app; // the app's redirect-URI server
let redirectURI; // http://127.0.0.1:APP_PORT/cb
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  srv = await startServer('smartlaunch-account-');
  base = srv.base;
  app = await listen((req, res) => {
    if (req.method !== 'GET' || new URL(req.url, 'http://x').pathname !== '/cb') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Growth Chart</title><p id="app">Growth Chart got the answer.</p>');
  });
  redirectURI = `http://127.0.0.1:${app.address().port}/cb`;
  registerApp(srv.bin, srv.data, redirectURI);
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await closeServer(app);
  if (srv) await srv.stop();
});

// withPage runs fn with a page in a fresh browser context in lang; on
// failure the message carries the page's URL and every 4xx/5xx response.
async function withPage(lang, fn) {
  const context = await browser.newContext({
    locale: lang, extraHTTPHeaders: { 'accept-language': lang }, viewport: { width: 800, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const log = [];
  page.on('response', (r) => { if (r.status() >= 400) log.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  try {
    return await fn(page);
  } catch (err) {
    err.message += `\nat ${page.url()}\nbrowser log:\n  ${log.join('\n  ') || '(empty)'}`;
    throw err;
  } finally {
    await context.close();
  }
}

// authorize runs a fresh authorization as the patient in page through to
// the app's redirect (every offered scope allowed), redeems the code from
// Node as the app and returns the token response.
async function authorize(page) {
  const req = authorizeRequest(base, redirectURI);
  await page.goto(req.url, { waitUntil: 'domcontentloaded' });
  await signIn(page, base);
  await page.click('button[name="decision"][value="allow"]');
  await page.waitForURL((u) => u.href.startsWith(`${redirectURI}?`), { waitUntil: 'domcontentloaded' });
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), req.state);
  assert.ok(q.get('code'), `no code: ${q}`);
  const tok = await token({
    grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectURI, client_id: appId, code_verifier: req.verifier,
  });
  assert.equal(tok.status, 200, `token: ${tok.status} ${JSON.stringify(tok.body)}`);
  assert.ok(tok.body.access_token && tok.body.refresh_token && tok.body.patient, JSON.stringify(tok.body));
  return tok.body;
}

async function token(form) {
  const res = await fetch(`${base}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

const readPatient = (tok) => fetch(`${base}/fhir/Patient/${tok.patient}`, { headers: { authorization: `Bearer ${tok.access_token}` } });

const text = async (loc) => (await loc.textContent()).replace(/\s+/g, ' ').trim();

// The live apps' cards and the history list.
const card = (page) => page.locator('article.app-card').filter({ has: page.getByRole('heading', { name: appName }) });
const ended = (page) => page.locator('ul.history li').filter({ hasText: appName });

describe('the connected-apps page in headless Chromium', () => {
  it('English: the app, its offline access and scopes; End access stops its tokens at once', async () => {
    await withPage('en-US', async (page) => {
      const tok = await authorize(page);
      const before = await readPatient(tok);
      assert.equal(before.status, 200, 'the access token works before access is ended');

      await page.goto(`${base}/account`, { waitUntil: 'domcontentloaded' });
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await text(page.locator('h1')), 'Your connected apps');
      const c = card(page);
      assert.equal(await c.count(), 1, 'one Growth Chart card');
      const body = await text(c);
      assert.ok(body.includes('Can get your data when you are not using it'), body);
      assert.ok(body.includes('See all of your health record'), body);
      await page.screenshot({ path: join(artifacts, 'account-en.png'), fullPage: true });

      await c.getByRole('link', { name: 'End access' }).click();
      await page.waitForURL((u) => /^\/account\/apps\/[^/]+\/end$/.test(u.pathname), { waitUntil: 'domcontentloaded' });
      assert.equal(await text(page.locator('h1')), "End Growth Chart's access to your health record?");
      await page.click('button.danger[type="submit"]');
      await page.waitForURL((u) => u.pathname === '/account', { waitUntil: 'domcontentloaded' });

      assert.equal(await card(page).count(), 0, 'Growth Chart still listed as connected');
      assert.equal(await text(page.locator('h2', { hasText: 'Access that has ended' })), 'Access that has ended');
      assert.ok((await text(ended(page))).includes('You ended this access.'), await text(ended(page)));

      // At once, everywhere: the app's tokens no longer work.
      const after = await readPatient(tok);
      assert.equal(after.status, 401, 'the access token after End access');
      const refresh = await token({ grant_type: 'refresh_token', refresh_token: tok.refresh_token, client_id: appId });
      assert.equal(refresh.status, 400, JSON.stringify(refresh.body));
      assert.equal(refresh.body.error, 'invalid_grant');
    });
  });

  it('Spanish, then German through the language switcher', async () => {
    await withPage('es-ES', async (page) => {
      await authorize(page); // a live app again
      await page.goto(`${base}/account`, { waitUntil: 'domcontentloaded' });
      assert.equal(await page.getAttribute('html', 'lang'), 'es');
      assert.equal(await text(page.locator('h1')), 'Sus aplicaciones conectadas');
      const c = card(page);
      assert.equal(await c.count(), 1);
      assert.equal(await text(c.locator('a.danger')), 'Terminar el acceso');
      assert.ok((await text(ended(page))).includes('Usted terminó este acceso.'), await text(ended(page)));
      await page.screenshot({ path: join(artifacts, 'account-es.png'), fullPage: true });

      await page.locator('nav.langs').getByRole('link', { name: 'Deutsch' }).click();
      await page.waitForURL((u) => u.searchParams.get('lang') === 'de', { waitUntil: 'domcontentloaded' });
      assert.equal(new URL(page.url()).pathname, '/account');
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
      assert.equal(await text(page.locator('h1')), 'Ihre verbundenen Apps');
    });
  });
});
