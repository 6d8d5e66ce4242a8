// Runs sheets/addon/Code.gs (or the Sidebar's script) in Node with the Apps Script services it uses emulated.
// Input (stdin, JSON): {code, url, secret, spreadsheet_id, sheets, ui_answer, steps, sidebar, document_properties}.
// `code` is every script file of the project joined (Apps Script files share one global scope).
// `steps` is JavaScript run in the same context as the script; it may call asUser(name, fn), edit(tab),
// setUrl(url) and, for the sidebar, sidebar.succeed(data) / sidebar.fail(message).
// Output (stdout, JSON): what a person would have seen and what was sent: toasts, alerts, menus, fetches, triggers,
// dom, sidebarTitle.
'use strict';
const crypto = require('crypto');
const vm = require('vm');
const { spawnSync } = require('child_process');

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = { toasts: [], alerts: [], menus: [], fetches: [], errors: [], triggers: [], documentProperties: {}, dom: {} };

// UrlFetchApp.fetch is synchronous in Apps Script: a child Node process makes the request.
const FETCH_CHILD = `
let data = '';
process.stdin.on('data', (c) => (data += c));
process.stdin.on('end', async () => {
  const req = JSON.parse(data);
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const headers = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    process.stdout.write(JSON.stringify({ code: res.status, text: await res.text(), headers }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String((e.cause && e.cause.code) || e.message) }));
  }
});`;

const state = {
  url: input.url,
  user: 'alice',
  sheets: new Set(input.sheets || []),
  triggers: (input.triggers || []).map((t, i) => Object.assign({ id: 1000 + i }, t)), // {id, user, handler, type}
  docProps: Object.assign({}, input.document_properties || {}),
  cache: {},
  nextTrigger: 1,
};

function props(store) {
  return {
    getProperty: (k) => (k in store ? store[k] : null),
    setProperty: (k, v) => { store[k] = String(v); },
    deleteProperty: (k) => { delete store[k]; },
  };
}

function sheet(name) {
  return { getName: () => name };
}

const ui = {
  ButtonSet: { OK: 'OK', YES_NO: 'YES_NO' },
  Button: { YES: 'YES', NO: 'NO', OK: 'OK' },
  alert(title, message) {
    out.alerts.push(message === undefined ? String(title) : String(message));
    return input.ui_answer || 'YES';
  },
  // Each menu added to the UI: its title and item captions ('---' for a separator).
  createMenu(title) {
    const items = [];
    const m = {
      addItem: (caption) => { items.push(String(caption)); return m; },
      addSeparator: () => { items.push('---'); return m; },
      addToUi: () => { out.menus.push({ title: String(title), items }); },
    };
    return m;
  },
  showSidebar() {},
};

const spreadsheet = {
  getId: () => input.spreadsheet_id,
  getSheetByName: (name) => (state.sheets.has(name) ? sheet(name) : null),
  setActiveSheet: (s) => { out.activeSheet = s.getName(); return s; },
  toast: (message) => { out.toasts.push(String(message)); },
};

function triggerObject(t) {
  return {
    getHandlerFunction: () => t.handler,
    getEventType: () => t.type,
    getUniqueId: () => String(t.id),
    _t: t,
  };
}

const services = {
  SpreadsheetApp: { getUi: () => ui, getActiveSpreadsheet: () => spreadsheet, getActive: () => spreadsheet },
  PropertiesService: {
    getScriptProperties: () => props({ PULSE_SERVER_URL: state.url, PULSE_ADDON_SECRET: input.secret }),
    getDocumentProperties: () => props(state.docProps),
  },
  CacheService: {
    getDocumentCache: () => ({
      get: (k) => (state.cache[k] && state.cache[k].until > Date.now() ? state.cache[k].value : null),
      put: (k, v, seconds) => { state.cache[k] = { value: String(v), until: Date.now() + 1000 * (seconds || 600) }; },
      remove: (k) => { delete state.cache[k]; },
    }),
  },
  LockService: { getDocumentLock: () => ({ waitLock() {}, tryLock: () => true, releaseLock() {} }) },
  Session: { getTemporaryActiveUserKey: () => 'key-' + state.user },
  ScriptApp: {
    getIdentityToken: () => input.identity_token || null,
    EventType: { ON_EDIT: 'ON_EDIT', ON_CHANGE: 'ON_CHANGE' },
    AuthMode: { NONE: 'NONE', LIMITED: 'LIMITED', FULL: 'FULL' },
    // Like Apps Script: only the current user's triggers of this project.
    getProjectTriggers: () => state.triggers.filter((t) => t.user === state.user).map(triggerObject),
    deleteTrigger: (o) => { state.triggers = state.triggers.filter((t) => t.id !== o._t.id); },
    newTrigger(handler) {
      const b = {
        forSpreadsheet: () => b,
        onEdit: () => { b.type = 'ON_EDIT'; return b; },
        onChange: () => { b.type = 'ON_CHANGE'; return b; },
        create: () => {
          const t = { id: state.nextTrigger++, user: state.user, handler, type: b.type };
          state.triggers.push(t);
          return triggerObject(t);
        },
      };
      return b;
    },
  },
  Utilities: {
    Charset: { UTF_8: 'UTF-8' },
    getUuid: () => crypto.randomUUID(),
    // Apps Script returns Java bytes: signed, -128..127.
    computeHmacSha256Signature: (value, key) =>
      Array.from(crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(value, 'utf8')).digest()).map((b) => (b > 127 ? b - 256 : b)),
  },
  UrlFetchApp: {
    fetch(url, options) {
      const headers = Object.assign({ 'content-type': options.contentType || 'application/x-www-form-urlencoded' }, options.headers || {});
      const child = spawnSync(process.execPath, ['-e', FETCH_CHILD], {
        input: JSON.stringify({ url, method: (options.method || 'get').toUpperCase(), headers, body: options.payload }),
        encoding: 'utf8',
        env: Object.assign({}, process.env, { NO_PROXY: '127.0.0.1,localhost' }),
      });
      const res = JSON.parse(child.stdout || '{"error": "no response"}');
      const path = url.replace(/^https?:\/\/[^/]+/, '');
      if (res.error) {
        out.fetches.push({ path, code: 0 });
        throw new Error('Address unavailable: ' + url + ' (' + res.error + ')');
      }
      out.fetches.push({ path, code: res.code, body: JSON.parse(options.payload), headers: Object.keys(options.headers || {}) });
      if (res.code >= 400 && !options.muteHttpExceptions) {
        throw new Error('Request failed for ' + url + ' returned code ' + res.code);
      }
      return { getResponseCode: () => res.code, getContentText: () => res.text, getHeaders: () => res.headers };
    },
  },
  HtmlService: { createHtmlOutputFromFile: () => ({ setTitle(title) { out.sidebarTitle = String(title); return this; } }) },
};

// The sidebar: a small DOM of the elements its script uses, and google.script.run recording the call.
const elements = {};
function element(id) {
  if (!elements[id]) elements[id] = { id, innerHTML: '', textContent: '', disabled: false, value: input.period || 'last-month' };
  return elements[id];
}
const sidebar = { calls: [] };
const run = {
  withSuccessHandler(f) { sidebar.success = f; return run; },
  withFailureHandler(f) { sidebar.failure = f; return run; },
  getKpis(period) { sidebar.calls.push(period); },
};
sidebar.succeed = (data) => sidebar.success(data);
sidebar.fail = (message) => sidebar.failure(new Error(message));

const context = Object.assign({}, services, {
  console,
  out,
  sidebar,
  document: { getElementById: element },
  google: { script: { run } },
  setUrl: (url) => { state.url = url; },
  asUser: (name, fn) => {
    const before = state.user;
    state.user = name;
    try { return fn(); } finally { state.user = before; }
  },
  // A person edits a cell in `tab`: every installable onEdit trigger runs once, as the user who installed it.
  edit: (tab) => {
    state.triggers.filter((t) => t.type === 'ON_EDIT').forEach((t) => {
      const before = state.user;
      state.user = t.user;
      try {
        context[t.handler]({ range: { getSheet: () => sheet(tab) }, source: spreadsheet, triggerUid: String(t.id) });
      } catch (e) {
        out.errors.push('trigger ' + t.handler + ': ' + e.message);
      } finally {
        state.user = before;
      }
    });
  },
});
vm.createContext(context);
vm.runInContext(input.code, context, { filename: input.sidebar ? 'Sidebar.html' : 'Code.gs' });
try {
  vm.runInContext(input.steps || '', context, { filename: 'steps.js' });
} catch (e) {
  out.errors.push(e.message);
}
out.triggers = state.triggers.map((t) => ({ user: t.user, handler: t.handler, type: t.type }));
out.documentProperties = state.docProps;
out.sidebarCalls = sidebar.calls;
Object.keys(elements).forEach((id) => {
  out.dom[id] = { innerHTML: elements[id].innerHTML, textContent: elements[id].textContent, disabled: elements[id].disabled };
});
process.stdout.write(JSON.stringify(out));
