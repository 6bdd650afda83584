'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { encodeChoice, decodeChoice, choiceStatus, effectiveDecisions } = load(
  ['choice.js'],
  ['encodeChoice', 'decodeChoice', 'choiceStatus', 'effectiveDecisions']
);

// Values made in the sources' own realm compare by structure once copied out of it.
const plain = (value) => JSON.parse(JSON.stringify(value));
const NOW = Date.UTC(2026, 10, 23);
const DAY = 864e5;

function config({ regime = 'opt_in', gpcHonoured = false, lastMaterial = 2 } = {}) {
  const optIn = regime === 'opt_in';
  return {
    jurisdiction: { regime, gpc_honoured: gpcHonoured, consent_lifetime_days: 180 },
    policy: { version: 2, last_material_version: lastMaterial },
    purposes: [
      { key: 'necessary', essential: true, default: true, opt_out_categories: [] },
      { key: 'analytics', essential: false, default: !optIn, opt_out_categories: [] },
      { key: 'advertising', essential: false, default: !optIn, opt_out_categories: ['sale'] }
    ]
  };
}

function stored(decisions, { policyVersion = 2, at = NOW - DAY } = {}) {
  const visitorId = '6f1c1d1e-8f0a-4c53-9a7e-2d7b3f1e9c10';
  return { visitorId, receiptId: 'r', policyVersion, at, decisions };
}

test('a choice survives its cookie round trip', () => {
  const choice = stored({ analytics: true, advertising: false });
  assert.deepEqual(plain(decodeChoice(encodeChoice(choice))), choice);
});

test('a tampered or foreign cookie is no choice', () => {
  const foreign = ['', 'yes', '2|x|r|2|1|a:1', '1|not-a-uuid-at-all-not-a-uuid-at-all|r|2|1|a:1'];
  for (const value of foreign) {
    assert.equal(decodeChoice(value), null, value);
  }
});

test('the banner asks again after a material policy change, expiry or a new purpose', () => {
  const answered = { analytics: true, advertising: true };
  assert.equal(choiceStatus(config(), null, NOW), 'none');
  assert.equal(choiceStatus(config(), stored(answered), NOW), 'current');
  assert.equal(choiceStatus(config({ lastMaterial: 3 }), stored(answered), NOW), 'policy_changed');
  assert.equal(choiceStatus(config(), stored(answered, { at: NOW - 181 * DAY }), NOW), 'expired');
  assert.equal(choiceStatus(config(), stored({ analytics: true }), NOW), 'incomplete');
});

test('opt-in: nothing runs before a choice, a current grant runs, a stale grant lapses', () => {
  assert.deepEqual(plain(effectiveDecisions(config(), null, false, NOW)),
    { necessary: true, analytics: false, advertising: false });
  const grant = stored({ analytics: true, advertising: true });
  assert.equal(effectiveDecisions(config(), grant, false, NOW).analytics, true);
  assert.equal(effectiveDecisions(config({ lastMaterial: 3 }), grant, false, NOW).analytics, false);
});

test('opt-out: defaults run until refused, and a refusal outlives the policy change', () => {
  const refused = stored({ analytics: false, advertising: true });
  const changed = config({ regime: 'opt_out', lastMaterial: 3 });
  const decisions = effectiveDecisions(changed, refused, false, NOW);
  assert.deepEqual(plain(decisions), { necessary: true, analytics: false, advertising: true });
});

test('GPC switches off opt-out purposes only where the jurisdiction honours it', () => {
  const granted = stored({ analytics: true, advertising: true });
  const honoured = config({ regime: 'opt_out', gpcHonoured: true });
  assert.equal(effectiveDecisions(honoured, granted, true, NOW).advertising, false);
  assert.equal(effectiveDecisions(honoured, granted, true, NOW).analytics, true);
  const unhonoured = config({ regime: 'opt_out' });
  assert.equal(effectiveDecisions(unhonoured, granted, true, NOW).advertising, true);
});
