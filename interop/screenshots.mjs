// Screenshots of the real consent page for the consent design documentation
// (issue 7, item 4): starts the real smartlaunch server like the tests,
// registers the same "Growth Chart" app (consent.test.mjs), signs in as the
// patient in headless Chromium and saves full-page PNGs at a phone width to
// docs/screenshots/consent-<lang>.png for en, es, fr and de, and of the
// connected-apps page (GET /account) to docs/screenshots/account-<lang>.png
// if the server has one.
//
// Run: cd interop && npm ci && node screenshots.mjs   (or npm run screenshots)
// SMARTLAUNCH_BIN and CHROMIUM_BIN as in the tests.

import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  repoRoot, appId, startServer, registerApp, listen, closeServer, launchBrowser, authorizeRequest, signIn,
} from './harness.mjs';

const out = join(repoRoot, 'docs', 'screenshots');
const langs = ['en', 'es', 'fr', 'de'];
const viewport = { width: 420, height: 900 }; // a large phone
const limit = 200 * 1024; // bytes per PNG

let srv;
let app;
let browser;
try {
  srv = await startServer('smartlaunch-screenshots-');
  // The app's redirect URI: a page of ours the browser lands on once.
  app = await listen((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>ok</p>'));
  const redirectURI = `http://127.0.0.1:${app.address().port}/cb`;
  registerApp(srv.bin, srv.data, redirectURI);
  browser = await launchBrowser();
  mkdirSync(out, { recursive: true });
  // So that the connected-apps page has something to show: the patient
  // allows Growth Chart once, and the app redeems its code and reads her
  // lab results. The consent pages below are new, unanswered requests.
  await connect(redirectURI);
  // The server counts data reads in memory and writes them now and then,
  // and when it stops: a restart makes the read show on the page.
  await srv.restart();

  const saved = [];
  let account = true; // until the server says it has no /account
  for (const lang of langs) {
    const context = await browser.newContext({
      locale: lang, extraHTTPHeaders: { 'accept-language': lang }, viewport, deviceScaleFactor: 1,
    });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(authorizeRequest(srv.base, redirectURI).url, { waitUntil: 'domcontentloaded' });
      await signIn(page, srv.base);
      const htmlLang = await page.getAttribute('html', 'lang');
      if (htmlLang !== lang) throw new Error(`asked for ${lang}, the consent page is in ${htmlLang}`);
      // As a person sees it on arrival: nothing opened, nothing focused.
      await page.evaluate(() => document.activeElement?.blur());
      saved.push(await shoot(page, `consent-${lang}.png`));

      if (account) {
        const res = await page.goto(`${srv.base}/account`, { waitUntil: 'domcontentloaded' });
        if (res.status() === 404) {
          account = false;
          console.log('notice: GET /account answers 404 (no connected-apps page yet): its screenshots are skipped');
        } else if (res.status() !== 200) {
          throw new Error(`GET /account: ${res.status()}`);
        } else {
          saved.push(await shoot(page, `account-${lang}.png`));
        }
      }
    } finally {
      await context.close();
    }
  }
  for (const [file, size] of saved) console.log(`${relative(repoRoot, file)}  ${(size / 1024).toFixed(0)} KB`);
  const big = saved.filter(([, size]) => size > limit);
  if (big.length) throw new Error(`larger than ${limit / 1024} KB: ${big.map(([f]) => f).join(', ')}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  await closeServer(app);
  if (srv) await srv.stop();
}

// connect answers one request with Allow in the browser (English), then,
// as the app, redeems the code and reads Observations with the token.
async function connect(redirectURI) {
  const context = await browser.newContext({ locale: 'en', extraHTTPHeaders: { 'accept-language': 'en' } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const req = authorizeRequest(srv.base, redirectURI);
    await page.goto(req.url, { waitUntil: 'domcontentloaded' });
    await signIn(page, srv.base);
    await page.click('button[name="decision"][value="allow"]');
    await page.waitForURL((u) => u.href.startsWith(`${redirectURI}?`), { waitUntil: 'domcontentloaded' });
    const code = new URL(page.url()).searchParams.get('code');
    if (!code) throw new Error(`no code: ${page.url()}`);
    const res = await fetch(`${srv.base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code, redirect_uri: redirectURI, client_id: appId, code_verifier: req.verifier,
      }),
    });
    const tok = await res.json();
    if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(tok)}`);
    const read = await fetch(`${srv.base}/fhir/Observation?patient=${tok.patient}&category=laboratory`, {
      headers: { authorization: `Bearer ${tok.access_token}`, accept: 'application/fhir+json' },
    });
    if (read.status !== 200) throw new Error(`FHIR read: ${read.status} ${await read.text()}`);
  } finally {
    await context.close();
  }
}

async function shoot(page, name) {
  const file = join(out, name);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  return [file, statSync(file).size];
}
