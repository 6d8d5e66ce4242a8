/**
 * crm-pulse add-on: a "crm-pulse" menu, a KPI sidebar and an installable edit trigger that asks the
 * crm-pulse server to refresh the summary tabs. The server URL is the Script Property PULSE_SERVER_URL
 * (https only, for example https://pulse.example.com).
 *
 * Authentication: by default each request carries the user's Google-signed identity token
 * (ScriptApp.getIdentityToken(), scopes openid + userinfo.email), which the server verifies against Google's
 * certificates and its e-mail allow-list — no secret is stored where editors can read it. Setups that cannot use
 * identity tokens set the Script Property PULSE_ADDON_SECRET instead: requests are then signed with HMAC-SHA256 over
 * "v1:<timestamp>:<body>".
 *
 * Language: every word a person reads here comes from PULSE_STRINGS (Strings.gs, generated from the server's message
 * catalogue) in the language the server's replies name (Content-Language), remembered in the Document Properties so
 * that onOpen — a simple trigger, which may not call the server — builds the menu in it. English before the first reply.
 */

// Document Properties (shared by every editor of the spreadsheet).
var TRIGGER_PROPERTY = 'PULSE_EDIT_TRIGGER';
var EDIT_ERROR_PROPERTY = 'PULSE_EDIT_REFRESH_ERROR';
// Document cache: set while the server's debounced refresh is still waiting, so edits in that window need no request.
var EDIT_PENDING_KEY = 'pulse-refresh-pending';
// Document Property: the language the server's last reply named ("en", "zh-CN").
var LANGUAGE_PROPERTY = 'PULSE_LANGUAGE';

function onOpen(e) {
  // AuthMode.NONE (the add-on not used in this spreadsheet yet) cannot read Document Properties: English.
  buildMenu_(e && e.authMode === ScriptApp.AuthMode.NONE ? 'en' : language_());
}

/** The crm-pulse menu in `language`. */
function buildMenu_(language) {
  var words = PULSE_STRINGS[language] || PULSE_STRINGS.en;
  SpreadsheetApp.getUi()
    .createMenu('crm-pulse')
    .addItem(words.menu_refresh, 'menuRefresh')
    .addItem(words.menu_kpis, 'showSidebar')
    .addItem(words.menu_digest, 'menuPostDigest')
    .addItem(words.menu_issues, 'showDataIssues')
    .addSeparator()
    .addItem(words.menu_trigger_on, 'installEditTrigger')
    .addItem(words.menu_trigger_off, 'removeEditTrigger')
    .addToUi();
}

/** The team's language: the one the server last named, English before its first reply or when it cannot be read. */
function language_() {
  try {
    var language = PropertiesService.getDocumentProperties().getProperty(LANGUAGE_PROPERTY);
    return language && PULSE_STRINGS[language] ? language : 'en';
  } catch (e) {
    return 'en';
  }
}

/** The words for `key` in the team's language, with its {name} placeholders filled from `params`. */
function t_(key, params) {
  var text = PULSE_STRINGS[language_()][key] || PULSE_STRINGS.en[key];
  return text.replace(/\{(\w+)\}/g, function (whole, name) {
    return params && name in params ? String(params[name]) : whole;
  });
}

/**
 * Remember the language a reply names (Content-Language); when it changed, rebuild the menu in it (not possible
 * from a trigger without a UI, which is fine: the next onOpen builds it).
 */
function rememberLanguage_(headers) {
  var language = null;
  Object.keys(headers || {}).forEach(function (name) {
    if (name.toLowerCase() === 'content-language') {
      language = String(headers[name]).trim();
    }
  });
  if (!language || !PULSE_STRINGS[language] || language === language_()) {
    return;
  }
  PropertiesService.getDocumentProperties().setProperty(LANGUAGE_PROPERTY, language);
  try {
    buildMenu_(language);
  } catch (e) {
    // No UI in this context (an edit trigger).
  }
}

function onInstall() {
  onOpen();
}

function settings_() {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('PULSE_SERVER_URL');
  if (!url) {
    throw new Error(t_('no_url'));
  }
  // HTTPS only: identity tokens and data must not cross the network in clear (loopback is allowed for tests).
  if (!/^https:\/\//i.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/i.test(url)) {
    throw new Error(t_('not_https', { url: url }));
  }
  return { url: url.replace(/\/+$/, ''), secret: props.getProperty('PULSE_ADDON_SECRET') };
}

/** The authentication headers: the user's identity token, or the HMAC signature when a shared secret is set. */
function authHeaders_(secret, body) {
  if (!secret) {
    var token = ScriptApp.getIdentityToken();
    if (!token) {
      throw new Error(t_('no_token'));
    }
    return { Authorization: 'Bearer ' + token };
  }
  var timestamp = String(Math.floor(Date.now() / 1000));
  var mac = Utilities.computeHmacSha256Signature('v1:' + timestamp + ':' + body, secret, Utilities.Charset.UTF_8);
  return { 'X-Pulse-Timestamp': timestamp, 'X-Pulse-Signature': 'v1=' + toHex_(mac) };
}

function toHex_(bytes) {
  return bytes
    .map(function (b) {
      var v = (b < 0 ? b + 256 : b).toString(16);
      return v.length === 1 ? '0' + v : v;
    })
    .join('');
}

/** An error from the server: `status` is the HTTP status (0 when unreachable), `problem` the problem+json body if any. */
function PulseError_(message, status, problem) {
  var err = new Error(message);
  err.status = status;
  err.problem = problem || null;
  return err;
}

/** The JSON in `text`, or null when it is not JSON (a proxy's HTML page, a plain-text 500). */
function parseJson_(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}

/** A sentence for a failed HTTP status, from the problem+json body when there is one, else from the status. */
function failureMessage_(code, data, text, headers) {
  if (data && typeof data === 'object' && (data.detail || data.title)) {
    return data.detail ? (data.title ? data.title + ': ' : '') + data.detail : data.title;
  }
  if (code === 429) {
    var wait = headers && (headers['Retry-After'] || headers['retry-after']);
    return wait ? t_('busy_wait', { wait: wait }) : t_('busy');
  }
  if (code === 502 || code === 503 || code === 504) {
    return t_('proxy', { code: code });
  }
  var first = String(text || '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
  return first ? t_('failed_text', { code: code, text: first }) : t_('failed', { code: code });
}

/** POST a signed JSON body to /addon/<path>; returns the parsed reply or throws a PulseError_ saying what went wrong. */
function call_(path, payload) {
  var s = settings_();
  var body = JSON.stringify(
    Object.assign({ spreadsheet_id: SpreadsheetApp.getActiveSpreadsheet().getId(), nonce: Utilities.getUuid() }, payload || {})
  );
  var headers = authHeaders_(s.secret, body);
  var response;
  try {
    response = UrlFetchApp.fetch(s.url + '/addon/' + path, {
      method: 'post',
      contentType: 'application/json',
      payload: body,
      muteHttpExceptions: true,
      headers: headers
    });
  } catch (e) {
    throw PulseError_(t_('unreachable', { url: s.url, error: e.message }), 0);
  }
  var code = response.getResponseCode();
  var text = response.getContentText() || '';
  var data = parseJson_(text);
  var replyHeaders = response.getHeaders ? response.getHeaders() : {};
  rememberLanguage_(replyHeaders);
  if (code >= 400) {
    throw PulseError_(failureMessage_(code, data, text, replyHeaders), code, data);
  }
  if (data === null || typeof data !== 'object') {
    throw PulseError_(t_('not_json', { code: code }), code);
  }
  return data;
}

/** Run a menu action; a failure becomes a dialog with the server's words, never a stack trace. */
function menu_(action) {
  try {
    action();
  } catch (e) {
    SpreadsheetApp.getUi().alert('crm-pulse', e.message, SpreadsheetApp.getUi().ButtonSet.OK);
  }
}

/** "Summary tabs refreshed: …" plus the tabs left untouched and why. */
function refreshMessage_(result) {
  var written = result.written || [];
  var msg = written.length ? t_('refreshed', { tabs: written.join(t_('tab_separator')) }) : t_('wrote_nothing');
  var refused = result.refused || {};
  Object.keys(refused).forEach(function (name) {
    msg += '\n' + t_('left_untouched', { tab: name, reason: refused[name] });
  });
  return msg;
}

function menuRefresh() {
  menu_(function () {
    var result = call_('refresh', { trigger: 'manual' });
    SpreadsheetApp.getActive().toast(refreshMessage_(result), 'crm-pulse', 8);
  });
}

function menuPostDigest() {
  var ui = SpreadsheetApp.getUi();
  var answer = ui.alert('crm-pulse', t_('confirm_digest'), ui.ButtonSet.YES_NO);
  if (answer !== ui.Button.YES) {
    return;
  }
  menu_(function () {
    var result = call_('digest', { action: 'post' });
    var message = result.message || t_('digest_silent', { status: result.status || t_('status_unknown') });
    if (result.status === 'posted' || result.status === 'already_posted') {
      SpreadsheetApp.getActive().toast(message, 'crm-pulse', 8);
    } else {
      ui.alert('crm-pulse', message, ui.ButtonSet.OK);
    }
  });
}

function showDataIssues() {
  menu_(function () {
    var book = SpreadsheetApp.getActiveSpreadsheet();
    var sheet = book.getSheetByName('Pulse Data Issues');
    if (!sheet) {
      var result;
      try {
        result = call_('refresh', { trigger: 'manual' });
      } catch (e) {
        if (e.status === 409) {
          throw new Error(t_('no_issues_tab_yet', { why: e.problem && e.problem.detail ? e.problem.detail : e.message }));
        }
        throw e;
      }
      sheet = book.getSheetByName('Pulse Data Issues');
      if (!sheet) {
        var why = (result.refused || {})['Pulse Data Issues'];
        throw new Error(why ? t_('issues_refused', { why: why }) : t_('issues_missing', { report: refreshMessage_(result) }));
      }
    }
    book.setActiveSheet(sheet);
  });
}

function showSidebar() {
  var html = HtmlService.createHtmlOutputFromFile('Sidebar').setTitle(t_('sidebar_title'));
  SpreadsheetApp.getUi().showSidebar(html);
}

/** Called from the sidebar: KPI cards for a period, plus the last failed refresh after edits (if any). */
function getKpis(period) {
  var result = call_('kpis', { period: period || 'last-month' });
  var failed = PropertiesService.getDocumentProperties().getProperty(EDIT_ERROR_PROPERTY);
  if (failed) {
    result.edit_refresh_error = failed;
  }
  return result;
}

/** This user's edit triggers of this add-on (ScriptApp only lists the current user's triggers). */
function myEditTriggers_() {
  return ScriptApp.getProjectTriggers().filter(function (t) {
    return t.getHandlerFunction() === 'onSheetChange';
  });
}

/**
 * One onEdit trigger per spreadsheet, whoever turns it on. Triggers are per user and invisible to other editors,
 * so the spreadsheet remembers in its Document Properties who installed it; a second editor is told it is on.
 */
function installEditTrigger() {
  var lock = LockService.getDocumentLock();
  lock.waitLock(20000);
  try {
    var props = PropertiesService.getDocumentProperties();
    var me = Session.getTemporaryActiveUserKey();
    var mine = myEditTriggers_();
    var recorded = parseJson_(props.getProperty(TRIGGER_PROPERTY) || '');
    if (recorded && recorded.user !== me) {
      mine.forEach(function (t) { ScriptApp.deleteTrigger(t); });
      SpreadsheetApp.getActive().toast(t_('trigger_taken', { since: recorded.since }), 'crm-pulse', 8);
      return;
    }
    // Keep exactly one onEdit trigger of ours (an older version also installed onChange, which has no range).
    var keep = null;
    mine.forEach(function (t) {
      if (!keep && t.getEventType() === ScriptApp.EventType.ON_EDIT) {
        keep = t;
      } else {
        ScriptApp.deleteTrigger(t);
      }
    });
    if (!keep) {
      keep = ScriptApp.newTrigger('onSheetChange').forSpreadsheet(SpreadsheetApp.getActiveSpreadsheet().getId()).onEdit().create();
    }
    props.setProperty(TRIGGER_PROPERTY, JSON.stringify({ user: me, trigger: keep.getUniqueId(), since: new Date().toISOString().slice(0, 10) }));
    props.deleteProperty(EDIT_ERROR_PROPERTY);
  } finally {
    lock.releaseLock();
  }
  SpreadsheetApp.getActive().toast(t_('trigger_on'), 'crm-pulse', 5);
}

/** Turn refresh-after-edits off: removes this user's trigger and the spreadsheet's record of it. */
function removeEditTrigger() {
  var lock = LockService.getDocumentLock();
  lock.waitLock(20000);
  try {
    var props = PropertiesService.getDocumentProperties();
    var recorded = parseJson_(props.getProperty(TRIGGER_PROPERTY) || '');
    var mine = myEditTriggers_();
    mine.forEach(function (t) { ScriptApp.deleteTrigger(t); });
    if (recorded && recorded.user !== Session.getTemporaryActiveUserKey() && !mine.length) {
      SpreadsheetApp.getActive().toast(t_('trigger_forgotten'), 'crm-pulse', 10);
    } else {
      SpreadsheetApp.getActive().toast(t_('trigger_off'), 'crm-pulse', 5);
    }
    props.deleteProperty(TRIGGER_PROPERTY);
    props.deleteProperty(EDIT_ERROR_PROPERTY);
  } finally {
    lock.releaseLock();
  }
}

/**
 * Installable onEdit trigger: tell the server that a data tab changed (it refreshes once after a quiet period).
 * Edits inside crm-pulse's own tabs are ignored. While the server's refresh is still waiting, further edits need no
 * request; a failed request is shown and remembered (the sidebar shows it), and never silences later edits.
 */
function onSheetChange(e) {
  var name = e && e.range ? e.range.getSheet().getName() : '';
  if (!name || name.indexOf('Pulse ') === 0) {
    return;
  }
  var cache = CacheService.getDocumentCache();
  if (cache.get(EDIT_PENDING_KEY)) {
    return;
  }
  var props = PropertiesService.getDocumentProperties();
  try {
    var result = call_('refresh', { trigger: 'edit' });
    var wait = Number(result.debounce_seconds || 0) - 5; // stop skipping a little before the server's refresh reads
    if (result.status === 'scheduled' && wait >= 1) {
      cache.put(EDIT_PENDING_KEY, '1', Math.floor(wait));
    }
    props.deleteProperty(EDIT_ERROR_PROPERTY);
  } catch (err) {
    var message = t_('edit_failed', { tab: name, time: new Date().toISOString().slice(0, 16).replace('T', ' '), error: err.message });
    props.setProperty(EDIT_ERROR_PROPERTY, message);
    SpreadsheetApp.getActive().toast(message, 'crm-pulse', 10);
  }
}
