// zhenxing on the village cadre's phone (issue 19): the visit form's on-the-spot checks, the
// offline queue of visits (IndexedDB, each sent once under its idempotency key), the photo
// resized on the phone, the household's signature, and the cached pages cleared at sign-out
// and after the session's absolute limit. Plain JavaScript, no build step: this file is served
// as written (crates/web/src/pages/visits.rs) and tested in headless Chromium
// (crates/web/tests/browser.rs). Loaded on every signed-in page, it does nothing on pages that
// are not the round or a visit form but guard the sign-out.
'use strict';
(function () {
  const DB_NAME = 'zhenxing';
  const STORE = 'queue';
  const PHOTO_MAX_PIXELS = 1600;
  const PHOTO_QUALITY = 0.8;
  const RETRY_MS = 15000;
  const zh = (document.documentElement.lang || 'zh').startsWith('zh');
  const T = {
    waiting: ['条走访待发送', 'visit(s) waiting to send'],
    queued: ['走访已保存在手机上，联网后自动发送', 'the visit is kept on the phone and will be sent when online'],
    sent: ['已发送', 'sent'],
    refused: ['未被接受，请修改后重发或删除', 'not accepted: correct it and send again, or discard it'],
    conflict: ['有冲突，待裁决', 'in conflict: to decide'],
    open: ['打开修改', 'open and correct'],
    discard: ['删除', 'discard'],
    discardSure: ['删除这条未发送的走访？', 'discard this unsent visit?'],
    offline: ['当前无网络：可以继续走访，联网后自动发送', 'offline: go on visiting; visits are sent when back online'],
    signIn: ['登录已过期：请重新登录后发送', 'signed out: sign in again to send'],
    expired: ['登录已超过时限，手机上的户信息已清除：请联网重新登录', 'the session has reached its limit and the households kept on the phone are cleared: go online and sign in again'],
    signOutWaiting: ['还有走访未发送，退出后将从手机上删除。仍要退出吗？', 'some visits are not sent yet and will be deleted from this phone when you sign out. Sign out anyway?'],
    confirmWarnings: ['请核对标出的项目；确认无误，再点一次保存', 'check the fields marked; if they are right, tap save again'],
    photoNotImage: ['所选文件不是照片：请选JPEG或PNG图片', 'the file chosen is not a photo: choose a JPEG or PNG image'],
    waitingMark: ['待发送', 'waiting to send'],
    ready: ['本月名单和表单已保存在手机上，没有信号也能走访', "this month's round and forms are kept on the phone: visits work without signal"],
  };
  const t = (k) => T[k][zh ? 0 : 1];

  // ---- IndexedDB: the queue ------------------------------------------------------------
  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function withStore(mode, fn) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = fn(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  const allItems = async () => ((await withStore('readonly', (s) => s.getAll())) || [])
    .sort((a, b) => a.queuedAt - b.queuedAt);
  const putItem = (item) => withStore('readwrite', (s) => s.put(item));
  const deleteItem = (key) => withStore('readwrite', (s) => s.delete(key));
  async function queueExists() {
    if (!indexedDB.databases) return true;
    return (await indexedDB.databases()).some((d) => d.name === DB_NAME);
  }

  // ---- Sending ---------------------------------------------------------------------------
  const csrf = () => (document.querySelector('input[name=csrf]') || {}).value || '';
  let flushing = false;
  async function flush() {
    if (flushing || !(await queueExists())) return render();
    flushing = true;
    let stop = null;
    try {
      for (const item of await allItems()) {
        if (item.refused) continue;
        const body = new FormData();
        for (const [k, v] of item.fields) if (k !== 'csrf') body.append(k, v);
        body.append('csrf', csrf());
        if (item.photo) body.append('photo', item.photo, 'photo.jpg');
        if (item.signature) body.append('signature', item.signature, 'signature.png');
        let res;
        try {
          res = await fetch(item.url, { method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' } });
        } catch (e) {
          stop = 'offline';
          break;
        }
        if (res.status === 401 || res.status === 403 || res.redirected) { stop = 'signIn'; break; }
        const answer = await res.json().catch(() => null);
        if (res.ok && answer) {
          await deleteItem(item.key);
          sentLog.push({ item, answer });
        } else if ([400, 404, 409, 413, 422].includes(res.status)) {
          // Refused on its merits: kept, with the reason, for the cadre to correct or discard;
          // the rest of the queue goes on.
          item.refused = (answer && answer.problems) || [REFUSALS[res.status]];
          await putItem(item);
        } else {
          stop = 'offline';
          break;
        }
      }
    } finally {
      flushing = false;
    }
    await render(stop);
  }
  const sentLog = [];
  // What a refusal without a JSON answer means, by status.
  const REFUSALS = {
    400: { field: '', zh: '表单有误，请重新打开表单再填', en: 'the form is not valid: open it again and fill it in' },
    404: { field: '', zh: '该户不在您的辖区或已不存在', en: 'the household is not in your area or no longer exists' },
    409: { field: '', zh: '与已记录的走访冲突，请重新打开表单', en: 'it conflicts with a visit already recorded: open the form again' },
    413: { field: 'photo', zh: '照片或签字太大（每个最多5 MB）', en: 'the photo or signature is too large (5 MB each at most)' },
    422: { field: '', zh: '表单有误，请修改', en: 'the form has problems: correct them' },
  };

  async function render(stop) {
    const count = document.getElementById('queue-count');
    if (!count) return;
    const items = (await queueExists()) ? await allItems() : [];
    count.textContent = String(items.length);
    document.body.dataset.queue = String(items.length);
    // The round marks the households whose visit waits on the phone.
    for (const a of document.querySelectorAll('a.round-item')) {
      const waiting = items.some((i) => i.no === a.dataset.no && !i.refused);
      let mark = a.querySelector('.queued-mark');
      if (waiting && !mark) {
        mark = document.createElement('strong');
        mark.className = 'queued-mark';
        mark.textContent = ` · ${t('waitingMark')}`;
        a.append(mark);
      } else if (!waiting && mark) {
        mark.remove();
      }
    }
    const list = document.getElementById('queue-list');
    // Rebuilt only when what it shows changed: a retry that changes nothing leaves the list (and
    // the focus, and what a finger is about to tap) alone.
    const shown = JSON.stringify([items.map((i) => [i.key, i.refused]), sentLog.length]);
    if (list.dataset.shown === shown) return renderState(stop);
    list.dataset.shown = shown;
    list.textContent = '';
    for (const item of items) {
      const li = document.createElement('li');
      li.dataset.key = item.key;
      li.className = item.refused ? 'refused' : 'waiting';
      li.append(`${item.no} · ${item.day} · `);
      if (item.refused) {
        const why = document.createElement('strong');
        why.textContent = `${t('refused')}: ${item.refused.map((p) => (zh ? p.zh : p.en)).join('; ')}`;
        li.append(why, ' ');
        const open = document.createElement('a');
        open.href = `/visits/${encodeURIComponent(item.no)}?restore=${encodeURIComponent(item.key)}`;
        open.textContent = t('open');
        li.append(open, ' ');
      }
      const discard = document.createElement('button');
      discard.type = 'button';
      discard.className = 'link';
      discard.textContent = t('discard');
      discard.addEventListener('click', async () => {
        if (window.confirm(t('discardSure'))) { await deleteItem(item.key); render(); }
      });
      li.append(discard);
      list.append(li);
    }
    for (const { item, answer } of sentLog) {
      const li = document.createElement('li');
      li.className = 'sent';
      const link = document.createElement('a');
      link.href = answer.visit;
      link.textContent = `${item.no} · ${t('sent')}: ${answer.message}`;
      li.append(link);
      if (answer.status === 'conflict') li.append(` (${t('conflict')})`);
      list.append(li);
    }
    const message = document.getElementById('queue-message');
    if (message && !items.length && sentLog.length) message.textContent = '';
    renderState(stop);
  }

  function renderState(stop) {
    const state = document.getElementById('offline-state');
    if (state) state.textContent = stop === 'signIn' ? t('signIn') : (!navigator.onLine || stop === 'offline') ? t('offline') : '';
  }

  // ---- The form: checks, photo, signature, queueing ---------------------------------------
  function formValues(form) {
    const values = {};
    for (const [k, v] of new FormData(form)) {
      if (typeof v !== 'string' || k.startsWith('was.')) continue;
      values[k] = k in values ? `${values[k]},${v}` : v;
    }
    return values;
  }
  // Money as zhenxing_core::money::Fen::parse_non_negative reads it (full-width digits, a
  // currency sign, 元, thousands grouped by three, at most two decimals after trailing zeros).
  const MAX_VISIT_FEN = 10000000 * 100;
  function moneyFen(raw) {
    let s = raw.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
      .replace(/．/g, '.');
    s = s.replace(/^[¥￥]+/, '').replace(/元+$/, '').trim();
    const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(s);
    if (!m) return null;
    const frac = (m[2] || '').replace(/0+$/, '');
    if (frac.length > 2) return null;
    return Number(m[1].replace(/,/g, '')) * 100 + Number(`${frac}00`.slice(0, 2));
  }
  // The same loop as zhenxing_core::visit::run_checks, over the same definitions.
  function runChecks(checks, input, today) {
    const problems = [];
    const members = input.ages.length;
    const value = (name) => (input.values[name] || '').trim();
    const names = (pattern) => pattern.startsWith('m*.')
      ? Array.from({ length: members }, (_, i) => `m${i}.${pattern.slice(3)}`) : [pattern];
    for (const c of checks) {
      const fail = (field) => problems.push({ field, blocking: c.blocking, zh: c.zh, en: c.en });
      if (c.check === 'answered') {
        for (const n of names(c.fields)) if (!value(n)) fail(n);
      } else if (c.check === 'visit_day') {
        const d = input.visited_on.trim();
        const real = /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d))
          && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
        const ok = real && d <= today
          && (Date.parse(today) - Date.parse(d)) / 86400000 <= c.max_days_before;
        if (!ok) fail('visited_on');
      } else if (c.check === 'money') {
        for (const n of names(c.fields)) {
          const fen = moneyFen(value(n));
          if (fen === null || fen > MAX_VISIT_FEN) fail(n);
        }
      } else if (c.check === 'school_for_age') {
        input.ages.forEach((age, i) => {
          const n = `m${i}.school`;
          if (age >= c.min_age && age <= c.max_age && !c.allowed.includes(value(n))) fail(n);
        });
      } else if (c.check === 'age_for_school') {
        input.ages.forEach((age, i) => {
          const n = `m${i}.school`;
          if (value(n) === c.status && (age < c.min_age || age > c.max_age)) fail(n);
        });
      } else if (c.check === 'note_with_risk') {
        if (input.risks.length && !input.note.trim()) fail('note');
      }
    }
    return problems;
  }
  window.zhenxingVisitChecks = { runChecks };

  function checkInput(form) {
    const values = formValues(form);
    const ages = [...form.querySelectorAll('fieldset.member')].map((f) => Number(f.dataset.age));
    const risks = new FormData(form).getAll('risk');
    return { values, visited_on: values.visited_on || '', risks, note: values.note || '', ages };
  }
  function showProblems(form, problems) {
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const p of problems) {
      const line = form.querySelector(`.field-error[data-for="${CSS.escape(p.field)}"]`)
        || form.querySelector('.field-error[data-for=""]');
      if (line) line.textContent = [line.textContent, zh ? p.zh : p.en].filter(Boolean).join('; ');
    }
    if (problems.length) {
      const details = document.getElementById('changes');
      if (details && problems.some((p) => details.querySelector(`[data-for="${CSS.escape(p.field)}"]`))) details.open = true;
      const first = form.querySelector('.field-error:not(:empty)');
      if (first) first.scrollIntoView({ block: 'center' });
    }
  }

  async function resizePhoto(file) {
    if (!/^image\/(jpeg|png)$/.test(file.type)) throw new Error('not an image');
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_MAX_PIXELS / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', PHOTO_QUALITY));
  }

  function signaturePad() {
    const pad = document.getElementById('signature-pad');
    const canvas = document.getElementById('signature');
    if (!pad || !canvas) return () => null;
    pad.hidden = false;
    const g = canvas.getContext('2d');
    g.lineWidth = 2;
    g.lineCap = 'round';
    let drawing = false;
    let signed = false;
    const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
    canvas.addEventListener('pointerdown', (e) => {
      drawing = true;
      signed = true;
      g.beginPath();
      g.moveTo(...at(e));
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* a pointer that is gone */ }
    });
    canvas.addEventListener('pointermove', (e) => { if (drawing) { g.lineTo(...at(e)); g.stroke(); } });
    canvas.addEventListener('pointerup', () => { drawing = false; });
    document.getElementById('signature-clear').addEventListener('click', () => { g.clearRect(0, 0, canvas.width, canvas.height); signed = false; });
    return () => (signed ? new Promise((resolve) => canvas.toBlob(resolve, 'image/png')) : null);
  }

  async function restore(form, key) {
    const item = (await allItems()).find((i) => i.key === key);
    if (!item) return;
    const fields = new Map();
    for (const [k, v] of item.fields) fields.set(k, [...(fields.get(k) || []), v]);
    for (const el of form.elements) {
      if (!el.name || el.name === 'csrf' || el.name === 'key' || el.type === 'file' || el.type === 'submit') continue;
      const sent = fields.get(el.name) || [];
      if (el.type === 'radio' || el.type === 'checkbox') el.checked = sent.includes(el.value);
      else if (sent.length) el.value = sent[0];
    }
    form.dataset.restoring = key;
    document.getElementById('changes').open = true;
    showProblems(form, item.refused || []);
  }

  function setUpForm(form) {
    const checks = JSON.parse(form.dataset.checks || '[]');
    const signature = signaturePad();
    let warned = false;
    const params = new URLSearchParams(location.search);
    if (params.get('restore')) restore(form, params.get('restore'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const noChange = e.submitter && e.submitter.name === 'no_change';
      const input = checkInput(form);
      if (noChange) {
        // "No change" sends what the form was filled in with; only the observation is checked.
        for (const el of form.querySelectorAll('input[name^="was."]')) input.values[el.name.slice(4)] = el.value;
      }
      const problems = runChecks(checks, input, form.dataset.today);
      const photoInput = document.getElementById('photo');
      const file = photoInput && photoInput.files[0];
      let photo = null;
      if (file) {
        try { photo = await resizePhoto(file); } catch (err) { problems.push({ field: 'photo', blocking: true, zh: T.photoNotImage[0], en: T.photoNotImage[1] }); }
      }
      const blocking = problems.filter((p) => p.blocking);
      showProblems(form, problems);
      if (blocking.length) return;
      if (problems.length && !warned) {
        warned = true;
        const all = form.querySelector('.field-error[data-for=""]');
        if (all) all.textContent = t('confirmWarnings');
        return;
      }
      const fields = [];
      for (const [k, v] of new FormData(form)) if (typeof v === 'string' && k !== 'csrf') fields.push([k, v]);
      const key = self.crypto.randomUUID();
      const at = fields.findIndex(([k]) => k === 'key');
      if (at >= 0) fields[at] = ['key', key]; else fields.push(['key', key]);
      if (noChange) fields.push(['no_change', '1']);
      const item = {
        key,
        url: form.action,
        no: form.dataset.no,
        day: input.visited_on,
        fields,
        photo,
        signature: await signature(),
        queuedAt: Date.now(),
      };
      await putItem(item);
      if (form.dataset.restoring) await deleteItem(form.dataset.restoring);
      location.href = `/visits?queued=${encodeURIComponent(form.dataset.no)}`;
    });
  }

  // ---- The service worker, the cached pages and their limits ----------------------------
  // The round's pages being kept by the service worker (settled when it has answered).
  let precaching = Promise.resolve();
  async function clearCachedPages() {
    if (!('caches' in window)) return;
    for (const name of await caches.keys()) await caches.delete(name);
  }
  // Asks the service worker to stop keeping pages and to delete them, and waits (a little) for
  // it: a page it is still fetching would otherwise be kept again after sign-out.
  function stopWorker() {
    const worker = 'serviceWorker' in navigator && navigator.serviceWorker.controller;
    if (!worker) return Promise.resolve();
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      worker.postMessage({ type: 'stop' }, [channel.port2]);
      setTimeout(resolve, 3000);
    });
  }
  async function clearEverything() {
    await Promise.race([precaching, new Promise((resolve) => setTimeout(resolve, 10000))]);
    await stopWorker();
    await clearCachedPages();
    if ('serviceWorker' in navigator) for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    await new Promise((resolve) => { const req = indexedDB.deleteDatabase(DB_NAME); req.onsuccess = req.onerror = req.onblocked = () => resolve(); });
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  }

  async function setUpOffline(app) {
    const ends = Date.parse(app.dataset.sessionEnds || '');
    if (!('serviceWorker' in navigator)) return;
    const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    const worker = registration.active || registration.waiting || registration.installing;
    await navigator.serviceWorker.ready;
    const target = navigator.serviceWorker.controller || (await navigator.serviceWorker.ready).active || worker;
    if (!navigator.onLine || !target) return;
    const urls = ['/visits', '/tasks', ...[...document.querySelectorAll('a.round-item')].map((a) => a.getAttribute('href'))];
    const channel = new MessageChannel();
    precaching = new Promise((resolve) => {
      channel.port1.onmessage = (m) => {
        app.dataset.offlineReady = String(m.data.cached);
        const state = document.getElementById('offline-state');
        if (state && !state.textContent) state.textContent = t('ready');
        resolve();
      };
    });
    target.postMessage({ type: 'precache', urls, sessionEnds: Number.isNaN(ends) ? 0 : ends }, [channel.port2]);
  }

  document.addEventListener('DOMContentLoaded', async () => {
    const app = document.getElementById('visit-app');
    const form = document.getElementById('visit-form');
    const ends = app && Date.parse(app.dataset.sessionEnds || '');
    if (ends && !Number.isNaN(ends) && Date.now() > ends) {
      await clearCachedPages();
      const state = document.getElementById('offline-state');
      if (state) state.textContent = t('expired');
      return;
    }
    for (const out of document.querySelectorAll('form[action="/logout"]')) {
      out.addEventListener('submit', async (e) => {
        if (out.dataset.cleared) return;
        e.preventDefault();
        if (await queueExists()) {
          await flush();
          if ((await allItems()).length && !window.confirm(t('signOutWaiting'))) return;
        }
        await clearEverything();
        out.dataset.cleared = '1';
        out.submit();
      });
    }
    if (form) setUpForm(form);
    if (app) {
      const queued = new URLSearchParams(location.search).get('queued');
      const message = document.getElementById('queue-message');
      if (queued && message) message.textContent = `${queued}: ${t('queued')}`;
      document.getElementById('queue-send').addEventListener('click', () => flush());
      window.addEventListener('online', () => flush());
      window.addEventListener('offline', () => render('offline'));
      setInterval(() => flush(), RETRY_MS);
      await render();
      setUpOffline(app).catch(() => {});
      flush();
    }
  });
})();
