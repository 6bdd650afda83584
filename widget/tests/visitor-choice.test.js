'use strict';
// mergeChoice: the cookie's stored choice against what the service holds for the visitor
// (GET /v1/visitors/<id>/choice).
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { mergeChoice, encodeChoice, decodeChoice, choiceStatus, effectiveDecisions } = load(
  ['choice.js'],
  ['mergeChoice', 'encodeChoice', 'decodeChoice', 'choiceStatus', 'effectiveDecisions']
);

const plain = (value) => JSON.parse(JSON.stringify(value));
const VISITOR = '6f1c1d1e-8f0a-4c53-9a7e-2d7b3f1e9c10';
const NOW = Date.UTC(2026, 10, 23, 12);
const COOKIE = {
  visitorId: VISITOR, receiptId: 'r-cookie', policyVersion: 2, at: NOW - 864e5,
  decisions: { necessary: true, analytics: true, advertising: true }
};
const WITHDRAWAL = {
  status: 'recorded', receipt_id: 'r-withdrawal', issued_at: '2026-11-23T11:00:00.123Z',
  policy_version: 2,
  decisions: { necessary: 'granted', analytics: 'denied', advertising: 'denied' }
};
const CONFIG = {
  jurisdiction: { regime: 'opt_in', gpc_honoured: false, consent_lifetime_days: 180 },
  policy: { version: 2, last_material_version: 2 },
  purposes: [
    { key: 'necessary', essential: true, default: true, opt_out_categories: [] },
    { key: 'analytics', essential: false, default: false, opt_out_categories: [] },
    { key: 'advertising', essential: false, default: false, opt_out_categories: [] }
  ]
};

test("the service's newer receipt replaces the cookie's choice", () => {
  assert.deepEqual(plain(mergeChoice(COOKIE, WITHDRAWAL)), {
    visitorId: VISITOR, receiptId: 'r-withdrawal', policyVersion: 2,
    at: Date.parse('2026-11-23T11:00:00.123Z'),
    decisions: { necessary: true, analytics: false, advertising: false }
  });
});

test('an adopted withdrawal refuses what the cookie had granted', () => {
  const merged = mergeChoice(COOKIE, WITHDRAWAL);
  assert.equal(choiceStatus(CONFIG, merged, NOW), 'current');
  assert.deepEqual(plain(effectiveDecisions(CONFIG, merged, false, NOW)),
    { necessary: true, analytics: false, advertising: false });
});

test('the same receipt keeps the cookie as it is', () => {
  const same = Object.assign({}, WITHDRAWAL, { receipt_id: 'r-cookie' });
  assert.equal(mergeChoice(COOKIE, same), COOKIE);
});

test('nothing recorded keeps the cookie', () => {
  assert.equal(mergeChoice(COOKIE, { status: 'none' }), COOKIE);
});

test('an erased visitor is forgotten', () => {
  assert.equal(mergeChoice(COOKIE, { status: 'erased' }), null);
});

test('the adopted choice keeps the visitor id and survives its cookie round trip', () => {
  const merged = mergeChoice(COOKIE, WITHDRAWAL);
  assert.equal(merged.visitorId, VISITOR);
  // The cookie keeps whole seconds.
  const expected = Object.assign(plain(merged), { at: Date.parse('2026-11-23T11:00:00Z') });
  assert.deepEqual(plain(decodeChoice(encodeChoice(merged))), expected);
});

test('an old receipt from the service lapses as an old cookie would', () => {
  const old = Object.assign({}, WITHDRAWAL, {
    issued_at: '2025-01-01T00:00:00.000Z',
    decisions: { necessary: 'granted', analytics: 'granted', advertising: 'granted' }
  });
  const merged = mergeChoice(COOKIE, old);
  assert.equal(choiceStatus(CONFIG, merged, NOW), 'expired');
  assert.equal(effectiveDecisions(CONFIG, merged, false, NOW).analytics, false);
});
