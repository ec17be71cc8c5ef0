// The consent page in a real headless Chromium against the real smartlaunch
// server (issue 7, "What must be shown", first bullet). A public app,
// "Growth Chart", is registered with the CLI; its redirect URI is a tiny
// HTTP server on 127.0.0.1 run here, so the browser lands there and the
// test reads code, state or error from the URL. The patient signs in as
// patient / patient-demo; PKCE S256 and aud = the FHIR base.
//
//   a) English (Accept-Language en-US): the exact texts for a fixed request,
//      the long descriptions hidden in <details> until opened;
//   b) Spanish (es-ES): the same, and the language switcher (Deutsch) keeps
//      the request;
//   c) unticking patient/MedicationRequest.c and allowing yields a token
//      whose scope lacks it and has the rest;
//   d) Deny returns error=access_denied with the state to the app, no code;
//   e) a page on another origin (http://localhost:PORT) cannot frame the
//      login or consent page (frame-ancestors 'self');
//   f) a cross-site form POST to /login or /consent is refused with 403 and
//      changes nothing.
//
// Run: cd interop && npm ci && node --test consent.test.mjs
// SMARTLAUNCH_BIN and CHROMIUM_BIN as in fhirclient.test.mjs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  repoRoot, appName, appScope, startServer, registerApp, listen, closeServer, launchBrowser,
  authorizeRequest, signIn,
} from './harness.mjs';

// The page's own texts, per language, from the server's locale files; the
// scope texts (from the scopetext catalogs) are spelled out below.
const locale = (lang) => JSON.parse(readFileSync(join(repoRoot, 'internal/web/locales', `${lang}.json`), 'utf8'));
const tf = (format, arg) => format.replace('%s', arg);

// What the page must show for appScope, per language: each group's legend
// and, in page order, each scope's short and long text.
const scopeTexts = {
  en: {
    see: [
      ['patient/*.rs', 'See all of your health record',
        'The app can see all of your health record, including kinds of data added later. This covers only the record of the patient you chose for the app.'],
      ['patient/Observation.rs?category=laboratory', 'See your lab results',
        'The app can see your lab results. This covers only the record of the patient you chose for the app.'],
    ],
    change: [
      ['patient/MedicationRequest.c', 'Add your prescriptions',
        'The app can add your prescriptions. This covers only the record of the patient you chose for the app.'],
    ],
    other: [
      ['launch/patient', "Know which patient's record you chose",
        "The app learns which patient's record you picked when you opened it. It needs other permissions to see anything in that record."],
      ['openid', 'Know who you are', 'The app can confirm who is signed in. It learns which account you used to sign in.'],
      ['fhirUser', 'Know if you are a patient, a relative or a care provider',
        'The app learns which person you are in this health record system, such as a patient, a relative or a care provider. It can use this to show your own details.'],
      ['offline_access', "Keep access when you're not using it",
        'The app keeps the access you give it even when you are not using the app. This continues until you take access back.'],
    ],
  },
  es: {
    see: [
      ['patient/*.rs', 'Ver todo su historial médico',
        'La aplicación puede ver todo su historial médico, incluidos los tipos de datos que se añadan más adelante. Solo afecta al historial del paciente que usted eligió para la aplicación.'],
      ['patient/Observation.rs?category=laboratory', 'Ver sus resultados de laboratorio',
        'La aplicación puede ver sus resultados de laboratorio. Solo afecta al historial del paciente que usted eligió para la aplicación.'],
    ],
    change: [
      ['patient/MedicationRequest.c', 'Añadir sus recetas',
        'La aplicación puede añadir sus recetas. Solo afecta al historial del paciente que usted eligió para la aplicación.'],
    ],
    other: [
      ['launch/patient', 'Saber qué historial de paciente eligió',
        'La aplicación sabe qué historial de paciente eligió usted al abrirla. Necesita otros permisos para ver algo de ese historial.'],
      ['openid', 'Saber quién es usted', 'La aplicación puede confirmar quién ha iniciado sesión. Sabrá con qué cuenta entró usted.'],
      ['fhirUser', 'Saber si usted es paciente, familiar o profesional sanitario',
        'La aplicación sabe qué persona es usted en este sistema de historiales, por ejemplo un paciente, un familiar o un profesional sanitario. Puede usarlo para mostrar sus propios datos.'],
      ['offline_access', 'Mantener el acceso cuando usted no la usa',
        'La aplicación conserva el acceso que usted le da incluso cuando no la está usando. Esto continúa hasta que usted le retire el acceso.'],
    ],
  },
};

let srv; // {bin, data, base, restart, stop}: the smartlaunch server
let base; // http://127.0.0.1:PORT
let app; // the app's redirect-URI server
let redirectURI; // http://127.0.0.1:APP_PORT/cb
const received = []; // every query the app's /cb received
let other; // the other origin's server, reached as http://localhost:OTHER_PORT
let otherOrigin;
const otherPages = new Map(); // path -> HTML the other origin serves
let browser;

before(async () => {
  srv = await startServer('smartlaunch-consent-');
  base = srv.base;
  app = await listen((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method !== 'GET' || u.pathname !== '/cb') return void res.writeHead(404).end();
    received.push(u.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Growth Chart</title><p id="app">Growth Chart got the answer.</p>');
  });
  redirectURI = `http://127.0.0.1:${app.address().port}/cb`;
  other = await listen((req, res) => {
    const html = otherPages.get(new URL(req.url, 'http://x').pathname);
    if (req.method !== 'GET' || !html) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  });
  // localhost, not 127.0.0.1: another origin and another site.
  otherOrigin = `http://localhost:${other.address().port}`;
  registerApp(srv.bin, srv.data, redirectURI);
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await closeServer(app);
  await closeServer(other);
  if (srv) await srv.stop();
});

// withPage runs fn with a page in a fresh browser context in lang (the
// context's locale and its Accept-Language header); on failure the message
// carries the page's URL and every 4xx/5xx response.
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
    return await fn(page, context);
  } catch (err) {
    err.message += `\nat ${page.url()}\nbrowser log:\n  ${log.join('\n  ') || '(empty)'}`;
    throw err;
  } finally {
    await context.close();
  }
}

// toConsent starts a fresh authorization request in page and signs in; it
// returns the request ({url, verifier, state}) with the consent page's URL.
async function toConsent(page) {
  const req = authorizeRequest(base, redirectURI);
  await page.goto(req.url, { waitUntil: 'domcontentloaded' });
  await signIn(page, base);
  return { ...req, consentURL: page.url() };
}

// answer waits for the browser to land on the app's redirect URI and
// returns its query.
async function answer(page) {
  await page.waitForURL((u) => u.href.startsWith(`${redirectURI}?`), { waitUntil: 'domcontentloaded' });
  return new URL(page.url()).searchParams;
}

// shown reads the scope groups off the page: each fieldset's legend, and
// each item's scope value, short text and long text.
function shown(page) {
  return page.$$eval('form[action="/consent"] fieldset.scopes', (sets) => sets.map((fs) => ({
    legend: fs.querySelector('legend').textContent.trim(),
    items: [...fs.querySelectorAll('li')].map((li) => [
      li.querySelector('input[name="scope"]').value,
      li.querySelector('strong').textContent.trim(),
      li.querySelector('details > p').textContent.trim(),
    ]),
  })));
}

// checkTexts asserts the consent page in page shows exactly the texts
// expected in lang for appScope, and that each long text is hidden in a
// <details> until its summary is clicked.
async function checkTexts(page, lang) {
  const L = locale(lang);
  const want = scopeTexts[lang];
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  assert.equal((await page.textContent('h1')).trim(), tf(L['consent.title'], appName));
  assert.equal((await page.textContent('p.record')).trim(), `${L['consent.record']} Jill Tillman`);
  assert.deepEqual(await shown(page), [
    { legend: L['consent.group.see'], items: want.see },
    { legend: L['consent.group.change'], items: want.change },
    { legend: L['consent.group.other'], items: want.other },
  ]);
  // Every requested scope is offered, ticked by default (none is required).
  const boxes = page.locator('input[type="checkbox"][name="scope"]');
  assert.deepEqual((await boxes.evaluateAll((els) => els.map((e) => e.value))).sort(), appScope.split(' ').sort());
  assert.ok((await boxes.evaluateAll((els) => els.map((e) => e.checked))).every(Boolean), 'every box ticked');

  // Offline access is called out in plain words (the link to the
  // connected-apps page follows when the server has one).
  const notice = (await page.textContent('p.notice')).trim();
  assert.ok(notice.startsWith(tf(L['consent.offline'], L['consent.manage'])), `offline notice: ${notice}`);
  for (const a of await page.locator('p.notice a').all()) assert.equal((await a.textContent()).trim(), L['consent.manage']);

  assert.equal((await page.textContent('button[name="decision"][value="allow"]')).trim(), L['consent.allow']);
  assert.equal((await page.textContent('button[name="decision"][value="deny"]')).trim(), L['consent.deny']);

  // The long text, one click away, without JavaScript.
  for (const [scope, , long] of [...want.see, ...want.change, ...want.other]) {
    const li = page.locator('fieldset.scopes li').filter({ has: page.locator(`input[value="${scope}"]`) });
    const text = li.locator('details > p');
    assert.equal(await text.isVisible(), false, `${scope}: long text visible before opening`);
    assert.equal((await li.locator('summary').textContent()).trim(), L['consent.more']);
    await li.locator('summary').click();
    await text.waitFor({ state: 'visible' });
    assert.equal((await text.textContent()).trim(), long);
  }
}

// exchange redeems code at /token as the public app (client_id and the PKCE
// verifier) and returns the token response.
async function exchange(code, verifier) {
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: redirectURI, client_id: 'consent-test', code_verifier: verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  assert.equal(res.status, 200, `token: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const html = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

// postFrom serves, on the other origin, a page that auto-submits a form
// POST to url with fields, opens it in page and returns the response to the
// POST.
async function postFrom(page, path, url, fields) {
  otherPages.set(path, `<!doctype html><title>Win a prize</title><body onload="document.forms[0].submit()">
<form method="post" action="${html(url)}">${Object.entries(fields).map(([k, v]) =>
    `<input type="hidden" name="${html(k)}" value="${html(v)}">`).join('')}</form></body>`);
  const posted = page.waitForResponse((r) => r.url() === url && r.request().method() === 'POST');
  await page.goto(`${otherOrigin}${path}`);
  const res = await posted;
  await page.waitForURL(url, { waitUntil: 'domcontentloaded' }); // the answer's page, shown
  return res;
}

describe('the consent page in headless Chromium', () => {
  it('English: the expected texts for a fixed request', async () => {
    await withPage('en-US', async (page) => {
      await toConsent(page);
      // The brief's wording, literally, besides the locale files.
      assert.equal((await page.textContent('h1')).trim(), 'Allow Growth Chart to use your health record?');
      await checkTexts(page, 'en');
    });
  });

  it('Spanish: the expected texts, and the language switcher keeps the request', async () => {
    await withPage('es-ES', async (page) => {
      const { consentURL } = await toConsent(page);
      assert.equal((await page.textContent('h1')).trim(), '¿Permitir que Growth Chart use su historia clínica?');
      await checkTexts(page, 'es');

      const request = new URL(consentURL).searchParams.get('request');
      const de = locale('de');
      await page.locator('nav.langs').getByRole('link', { name: 'Deutsch' }).click();
      await page.waitForURL((u) => u.searchParams.get('lang') === 'de', { waitUntil: 'domcontentloaded' });
      assert.equal(new URL(page.url()).pathname, '/consent');
      assert.equal(new URL(page.url()).searchParams.get('request'), request);
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
      assert.equal((await page.textContent('h1')).trim(), tf(de['consent.title'], appName));
      assert.equal(await page.inputValue('form[action="/consent"] input[name="request"]'), request);
      assert.deepEqual((await shown(page)).map((g) => [g.legend, g.items.map((i) => i[0])]), [
        [de['consent.group.see'], scopeTexts.en.see.map((i) => i[0])],
        [de['consent.group.change'], scopeTexts.en.change.map((i) => i[0])],
        [de['consent.group.other'], scopeTexts.en.other.map((i) => i[0])],
      ]);
      assert.equal((await page.textContent('button[name="decision"][value="allow"]')).trim(), de['consent.allow']);
      assert.equal(await page.locator('nav.langs [aria-current="true"]').textContent(), 'Deutsch');
    });
  });

  it('unticking a scope and allowing: the token lacks it and has the rest', async (t) => {
    await withPage('en-US', async (page) => {
      const { verifier, state } = await toConsent(page);
      const box = page.locator('input[name="scope"][value="patient/MedicationRequest.c"]');
      await box.uncheck();
      assert.equal(await box.isChecked(), false);
      await page.click('button[name="decision"][value="allow"]');
      const q = await answer(page);
      assert.equal(q.get('state'), state);
      assert.equal(q.get('error'), null, `error: ${q.get('error')} ${q.get('error_description')}`);
      assert.ok(q.get('code'), `no code: ${q}`);
      const tok = await exchange(q.get('code'), verifier);
      t.diagnostic(`granted scope: ${tok.scope}`);
      const granted = tok.scope.split(' ');
      assert.ok(!granted.includes('patient/MedicationRequest.c'), `granted: ${tok.scope}`);
      assert.deepEqual(granted.sort(), appScope.split(' ').filter((s) => s !== 'patient/MedicationRequest.c').sort());
      assert.equal(tok.patient, 'f341c771-5aff-4858-9406-9d45e8a56246');
      assert.ok(tok.refresh_token, 'offline_access was left ticked: a refresh token');
    });
  });

  it('Deny: the app gets access_denied and its state, no code', async () => {
    await withPage('en-US', async (page) => {
      const { state } = await toConsent(page);
      await page.click('button[name="decision"][value="deny"]');
      const q = await answer(page);
      assert.equal(q.get('error'), 'access_denied');
      assert.equal(q.get('state'), state);
      assert.equal(q.get('code'), null);
    });
  });

  it('another origin cannot frame the login or consent page', async (t) => {
    await withPage('en-US', async (page) => {
      // The same pages render at the top level (the control).
      const req = authorizeRequest(base, redirectURI);
      await page.goto(req.url, { waitUntil: 'domcontentloaded' });
      await page.waitForURL((u) => u.pathname === '/login');
      const loginURL = page.url();
      await page.locator('#username').waitFor();
      await signIn(page, base);
      const consentURL = page.url();

      // A frame the other origin may show (the app's page, which sets no
      // policy) proves the check below can see into a rendered frame.
      otherPages.set('/frame.html', `<!doctype html><title>Framing</title>
<iframe name="login" src="${html(loginURL)}"></iframe>
<iframe name="consent" src="${html(consentURL)}"></iframe>
<iframe name="control" src="${html(`${redirectURI}?control=1`)}"></iframe>`);
      const framed = [loginURL, consentURL].map((u) => page.waitForResponse((r) => r.url() === u));
      const console = [];
      page.on('console', (m) => console.push(m.text()));
      await page.goto(`${otherOrigin}/frame.html`, { waitUntil: 'load' });
      for (const res of await Promise.all(framed)) {
        t.diagnostic(`framed ${new URL(res.url()).pathname}: ${res.status()}`);
        assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'self'/, res.url());
        assert.equal(res.headers()['x-frame-options'], 'SAMEORIGIN', res.url());
      }
      // The login page itself was served (200): the browser, obeying the
      // policy, refused to show it. (The consent page answers 403 in a
      // cross-site frame anyway: its SameSite=Lax cookies are not sent.)
      assert.equal((await framed[0]).status(), 200);
      const byName = (n) => page.frames().find((f) => f.name() === n);
      assert.equal(await byName('control').locator('#app').textContent(), 'Growth Chart got the answer.');
      for (const name of ['login', 'consent']) {
        const f = byName(name);
        assert.ok(f, `no ${name} frame`);
        t.diagnostic(`${name} frame: ${f.url()}`);
        // A blocked frame holds Chromium's error page: none of ours.
        const ours = await f.locator('#username, form[action="/consent"], nav.langs').count().catch(() => 0);
        assert.equal(ours, 0, `the ${name} page rendered inside another origin's frame`);
        assert.notEqual(f.url(), name === 'login' ? loginURL : consentURL);
      }
      t.diagnostic(`console: ${console.join(' | ')}`);
    });
  });

  it('a cross-site POST to /login or /consent is refused and changes nothing', async () => {
    await withPage('en-US', async (page, context) => {
      const req = authorizeRequest(base, redirectURI);
      await page.goto(req.url, { waitUntil: 'domcontentloaded' });
      await page.waitForURL((u) => u.pathname === '/login');
      const request = new URL(page.url()).searchParams.get('request');

      // Signing in from another site, with the right password: refused,
      // no session.
      const login = await postFrom(page, '/post-login.html', `${base}/login`,
        { request, username: 'patient', password: 'patient-demo' });
      assert.equal(login.status(), 403, `POST /login from ${otherOrigin}`);
      assert.equal(login.headers()['set-cookie'], undefined);
      assert.deepEqual((await context.cookies(base)).map((c) => c.name), []);
      // Nobody signed in for the request: its consent page is refused, and
      // it still starts at the login page.
      const refused = await page.goto(`${base}/consent?request=${encodeURIComponent(request)}`, { waitUntil: 'domcontentloaded' });
      assert.equal(refused.status(), 403, 'the consent page without signing in');
      await page.goto(`${base}/login?request=${encodeURIComponent(request)}`, { waitUntil: 'domcontentloaded' });
      await signIn(page, base);

      // Signed in, on the consent page: an answer posted from another site
      // is refused and decides nothing.
      const before = received.length;
      const consent = await postFrom(page, '/post-consent.html', `${base}/consent`,
        { request, decision: 'allow', scope: 'patient/*.rs' });
      assert.equal(consent.status(), 403, `POST /consent from ${otherOrigin}`);
      assert.equal(received.length, before, 'the app received an answer');
      await page.goto(`${base}/consent?request=${encodeURIComponent(request)}`, { waitUntil: 'domcontentloaded' });
      assert.equal((await page.textContent('h1')).trim(), 'Allow Growth Chart to use your health record?');
      // And the real answer still works.
      await page.click('button[name="decision"][value="deny"]');
      const q = await answer(page);
      assert.equal(q.get('error'), 'access_denied');
      assert.equal(q.get('state'), req.state);
    });
  });
});
