/**
 * crm-pulse add-on: a "crm-pulse" menu, a KPI sidebar and an installable edit trigger that asks the
 * crm-pulse server to refresh the summary tabs. Every request is signed with HMAC-SHA256 over
 * "v1:<timestamp>:<body>" using the shared secret stored in Script Properties (PULSE_ADDON_SECRET);
 * the server URL is the Script Property PULSE_SERVER_URL (for example https://pulse.example.com).
 */

var EDIT_DEBOUNCE_SECONDS = 60;

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('crm-pulse')
    .addItem('Refresh summary tabs', 'menuRefresh')
    .addItem('Show KPIs', 'showSidebar')
    .addItem('Post digest now', 'menuPostDigest')
    .addItem('Data issues', 'showDataIssues')
    .addSeparator()
    .addItem('Turn on refresh after edits', 'installEditTrigger')
    .addToUi();
}

function onInstall() {
  onOpen();
}

function settings_() {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('PULSE_SERVER_URL');
  var secret = props.getProperty('PULSE_ADDON_SECRET');
  if (!url || !secret) {
    throw new Error('Set PULSE_SERVER_URL and PULSE_ADDON_SECRET in Project Settings > Script Properties.');
  }
  return { url: url.replace(/\/+$/, ''), secret: secret };
}

function toHex_(bytes) {
  return bytes
    .map(function (b) {
      var v = (b < 0 ? b + 256 : b).toString(16);
      return v.length === 1 ? '0' + v : v;
    })
    .join('');
}

/** POST a signed JSON body to /addon/<path>; returns the parsed reply or throws its problem detail. */
function call_(path, payload) {
  var s = settings_();
  var body = JSON.stringify(
    Object.assign({ spreadsheet_id: SpreadsheetApp.getActiveSpreadsheet().getId(), nonce: Utilities.getUuid() }, payload || {})
  );
  var timestamp = String(Math.floor(Date.now() / 1000));
  var mac = Utilities.computeHmacSha256Signature('v1:' + timestamp + ':' + body, s.secret, Utilities.Charset.UTF_8);
  var response = UrlFetchApp.fetch(s.url + '/addon/' + path, {
    method: 'post',
    contentType: 'application/json',
    payload: body,
    muteHttpExceptions: true,
    headers: { 'X-Pulse-Timestamp': timestamp, 'X-Pulse-Signature': 'v1=' + toHex_(mac) }
  });
  var code = response.getResponseCode();
  var data = JSON.parse(response.getContentText() || '{}');
  if (code >= 400) {
    throw new Error((data.title || 'Error') + ': ' + (data.detail || code));
  }
  return data;
}

function menuRefresh() {
  var result = call_('refresh', { trigger: 'manual' });
  var refused = Object.keys(result.refused || {});
  var msg = 'Summary tabs refreshed: ' + (result.written || []).join(', ');
  if (refused.length) {
    msg += '\nLeft untouched (not created by crm-pulse): ' + refused.join(', ');
  }
  SpreadsheetApp.getActive().toast(msg, 'crm-pulse', 8);
}

function menuPostDigest() {
  var ui = SpreadsheetApp.getUi();
  var answer = ui.alert('crm-pulse', 'Post the weekly digest to the configured Slack channels now?', ui.ButtonSet.YES_NO);
  if (answer !== ui.Button.YES) {
    return;
  }
  call_('digest', { action: 'post' });
  SpreadsheetApp.getActive().toast('Digest posted.', 'crm-pulse', 5);
}

function showDataIssues() {
  var sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Pulse Data Issues');
  if (!sheet) {
    var result = call_('refresh', { trigger: 'manual' });
    sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Pulse Data Issues');
    if (!sheet) {
      SpreadsheetApp.getUi().alert('No Pulse Data Issues tab yet: ' + JSON.stringify(result.refused || {}));
      return;
    }
  }
  SpreadsheetApp.getActiveSpreadsheet().setActiveSheet(sheet);
}

function showSidebar() {
  var html = HtmlService.createHtmlOutputFromFile('Sidebar').setTitle('crm-pulse KPIs');
  SpreadsheetApp.getUi().showSidebar(html);
}

/** Called from the sidebar: KPI cards for a period. */
function getKpis(period) {
  return call_('kpis', { period: period || 'last-month' });
}

function installEditTrigger() {
  var id = SpreadsheetApp.getActiveSpreadsheet().getId();
  var exists = ScriptApp.getProjectTriggers().some(function (t) {
    return t.getHandlerFunction() === 'onSheetChange';
  });
  if (!exists) {
    ScriptApp.newTrigger('onSheetChange').forSpreadsheet(id).onEdit().create();
    ScriptApp.newTrigger('onSheetChange').forSpreadsheet(id).onChange().create();
  }
  SpreadsheetApp.getActive().toast('Summary tabs will refresh about a minute after edits.', 'crm-pulse', 5);
}

/** Installable trigger: many edits within a minute cause one request (the server debounces too). */
function onSheetChange(e) {
  var name = e && e.range ? e.range.getSheet().getName() : '';
  if (name.indexOf('Pulse ') === 0) {
    return;
  }
  var cache = CacheService.getDocumentCache();
  if (cache.get('pulse-refresh-pending')) {
    return;
  }
  cache.put('pulse-refresh-pending', '1', EDIT_DEBOUNCE_SECONDS);
  call_('refresh', { trigger: 'edit' });
}
