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
 */

// Document Properties (shared by every editor of the spreadsheet).
var TRIGGER_PROPERTY = 'PULSE_EDIT_TRIGGER';
var EDIT_ERROR_PROPERTY = 'PULSE_EDIT_REFRESH_ERROR';
// Document cache: set while the server's debounced refresh is still waiting, so edits in that window need no request.
var EDIT_PENDING_KEY = 'pulse-refresh-pending';

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('crm-pulse')
    .addItem('Refresh summary tabs', 'menuRefresh')
    .addItem('Show KPIs', 'showSidebar')
    .addItem('Post digest now', 'menuPostDigest')
    .addItem('Data issues', 'showDataIssues')
    .addSeparator()
    .addItem('Turn on refresh after edits', 'installEditTrigger')
    .addItem('Turn off refresh after edits', 'removeEditTrigger')
    .addToUi();
}

function onInstall() {
  onOpen();
}

function settings_() {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('PULSE_SERVER_URL');
  if (!url) {
    throw new Error('Set PULSE_SERVER_URL in Project Settings > Script Properties.');
  }
  // HTTPS only: identity tokens and data must not cross the network in clear (loopback is allowed for tests).
  if (!/^https:\/\//i.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/i.test(url)) {
    throw new Error('PULSE_SERVER_URL must start with https:// (it is ' + url + ').');
  }
  return { url: url.replace(/\/+$/, ''), secret: props.getProperty('PULSE_ADDON_SECRET') };
}

/** The authentication headers: the user's identity token, or the HMAC signature when a shared secret is set. */
function authHeaders_(secret, body) {
  if (!secret) {
    var token = ScriptApp.getIdentityToken();
    if (!token) {
      throw new Error('No Google identity token: the script needs the openid and userinfo.email scopes (appsscript.json).');
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
    return 'The crm-pulse server is busy (HTTP 429, too many requests); try again ' + (wait ? 'in ' + wait + ' s.' : 'in a minute.');
  }
  if (code === 502 || code === 503 || code === 504) {
    return 'The crm-pulse server could not be reached through its proxy (HTTP ' + code + '); it may be restarting — try again in a minute.';
  }
  var first = String(text || '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);
  return 'The crm-pulse server failed (HTTP ' + code + ')' + (first ? ': ' + first : '') + '.';
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
    throw PulseError_('Could not reach the crm-pulse server at ' + s.url + ': ' + e.message, 0);
  }
  var code = response.getResponseCode();
  var text = response.getContentText() || '';
  var data = parseJson_(text);
  if (code >= 400) {
    throw PulseError_(failureMessage_(code, data, text, response.getHeaders ? response.getHeaders() : {}), code, data);
  }
  if (data === null || typeof data !== 'object') {
    throw PulseError_('The crm-pulse server sent a reply that is not JSON (HTTP ' + code + '); check PULSE_SERVER_URL.', code);
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
  var msg = written.length ? 'Summary tabs refreshed: ' + written.join(', ') + '.' : 'The refresh wrote no tabs.';
  var refused = result.refused || {};
  Object.keys(refused).forEach(function (name) {
    msg += '\n' + name + ' left untouched: ' + refused[name];
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
  var answer = ui.alert('crm-pulse', 'Post the weekly digest to the configured Slack channels now?', ui.ButtonSet.YES_NO);
  if (answer !== ui.Button.YES) {
    return;
  }
  menu_(function () {
    var result = call_('digest', { action: 'post' });
    var message = result.message || 'The server did not say what happened to the digest (status ' + (result.status || 'unknown') + ').';
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
          throw new Error('There is no Pulse Data Issues tab yet. ' + (e.problem && e.problem.detail ? e.problem.detail : e.message) + ' Open Data issues again when it has finished.');
        }
        throw e;
      }
      sheet = book.getSheetByName('Pulse Data Issues');
      if (!sheet) {
        var why = (result.refused || {})['Pulse Data Issues'];
        throw new Error(why ? 'crm-pulse could not write the Pulse Data Issues tab: ' + why : 'The refresh finished but wrote no Pulse Data Issues tab. ' + refreshMessage_(result));
      }
    }
    book.setActiveSheet(sheet);
  });
}

function showSidebar() {
  var html = HtmlService.createHtmlOutputFromFile('Sidebar').setTitle('crm-pulse KPIs');
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
      SpreadsheetApp.getActive().toast('Refresh after edits is already on (another editor turned it on on ' + recorded.since + ').', 'crm-pulse', 8);
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
  SpreadsheetApp.getActive().toast('Summary tabs will refresh shortly after edits to the data tabs.', 'crm-pulse', 5);
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
      SpreadsheetApp.getActive().toast('Refresh after edits was turned on by another editor; only they can remove their trigger. It is now forgotten here, so you can turn it on for yourself.', 'crm-pulse', 10);
    } else {
      SpreadsheetApp.getActive().toast('Refresh after edits is off.', 'crm-pulse', 5);
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
    var message = 'Refresh after the edit in ' + name + ' failed at ' + new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC: ' + err.message;
    props.setProperty(EDIT_ERROR_PROPERTY, message);
    SpreadsheetApp.getActive().toast(message, 'crm-pulse', 10);
  }
}
