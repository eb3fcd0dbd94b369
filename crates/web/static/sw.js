// zhenxing's service worker (issue 19): keeps the village cadre's round, her households' visit
// forms and her task list on the phone, so that visits can be recorded without signal. Pages
// are fetched from the network first and kept (by path) only when they are the cadre's own
// (HTML answered 200, not a redirect to the sign-in page); without network the kept copy is
// served, unless the session's absolute limit has passed, when everything kept is deleted.
// Nothing else of the site is touched. Sign-out clears it all (visit.js, and the server's
// Clear-Site-Data header).
'use strict';
const PAGES = 'zx-pages-v1';
const SHELL = 'zx-shell-v1';
const META = 'zx-meta-v1';
const SHELL_URLS = ['/static/style.css', '/static/visit.js', '/favicon.ico', '/manifest.webmanifest'];
// Set at sign-out (a 'stop' message): nothing is kept any more, so that a write still under
// way cannot bring back what sign-out deletes.
let stopped = false;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_URLS)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

function kept(url) {
  return url.origin === self.location.origin
    && (url.pathname === '/visits' || url.pathname === '/tasks' || /^\/visits\/[^/]+$/.test(url.pathname))
    && url.pathname !== '/visits/conflicts';
}

async function sessionEnds() {
  const hit = await caches.match('/__session', { cacheName: META });
  return hit ? Number(await hit.text()) : 0;
}

async function expired() {
  const ends = await sessionEnds();
  return ends > 0 && Date.now() > ends;
}

function offlinePage(status) {
  const body = '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
    + '<title>离线 · Offline</title><link rel="stylesheet" href="/static/style.css"><main><h1>没有网络 · Offline</h1>'
    + (status === 'expired'
      ? '<p>登录已超过时限，手机上的户信息已清除：请联网重新登录。</p><p>The session has reached its limit and the households kept on the phone are cleared: go online and sign in again.</p>'
      : '<p>这一页没有保存在手机上：请联网后再打开。</p><p>This page is not kept on the phone: open it again when online.</p>')
    + '<p><a href="/visits">走访名单 · The round</a></p></main></html>';
  return new Response(body, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

async function keep(path, response) {
  const type = response.headers.get('Content-Type') || '';
  if (!stopped && response.ok && !response.redirected && type.startsWith('text/html')) {
    await (await caches.open(PAGES)).put(path, response.clone());
    return true;
  }
  return false;
}

async function page(request, url) {
  try {
    const response = await fetch(request);
    // A part of the round (?show=…) or a page with a message is not the page to keep.
    if (!url.search) await keep(url.pathname, response);
    return response;
  } catch (err) {
    if (await expired()) {
      await caches.delete(PAGES);
      return offlinePage('expired');
    }
    return (await caches.match(url.pathname, { cacheName: PAGES })) || offlinePage('missing');
  }
}

async function shell(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && !stopped) await (await caches.open(SHELL)).put(url.pathname, response.clone());
    return response;
  } catch (err) {
    return (await caches.match(url.pathname, { cacheName: SHELL })) || Response.error();
  }
}

self.addEventListener('fetch', (e) => {
  const request = e.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL_URLS.includes(url.pathname)) e.respondWith(shell(request, url));
  else if (kept(url)) e.respondWith(page(request, url));
});

// The round page asks for its households' forms to be kept: fetched now, while online.
self.addEventListener('message', (e) => {
  const data = e.data || {};
  if (data.type === 'stop') {
    stopped = true;
    e.waitUntil((async () => {
      for (const name of await caches.keys()) await caches.delete(name);
      if (e.ports[0]) e.ports[0].postMessage({ stopped: true });
    })());
    return;
  }
  if (data.type !== 'precache' || stopped) return;
  e.waitUntil((async () => {
    await (await caches.open(META)).put('/__session', new Response(String(data.sessionEnds || 0)));
    let cached = 0;
    for (const path of (data.urls || []).slice(0, 2100)) {
      if (stopped) break;
      const url = new URL(path, self.location.origin);
      if (!kept(url)) continue;
      try {
        if (await keep(url.pathname, await fetch(url.pathname, { credentials: 'same-origin' }))) cached += 1;
      } catch (err) {
        break;
      }
    }
    if (e.ports[0]) e.ports[0].postMessage({ cached });
  })());
});
