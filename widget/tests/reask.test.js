'use strict';
// When the banner may ask again: calendar-month floors after a refusal (issue #12 statement 5)
// and material changes scoped to the purposes they touched (statement 6).
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { addMonths, staleKeys, askedKeys, choiceStatus, effectiveDecisions } = load(
  ['choice.js'],
  ['addMonths', 'staleKeys', 'askedKeys', 'choiceStatus', 'effectiveDecisions']
);

const plain = (value) => JSON.parse(JSON.stringify(value));
const utc = (...parts) => Date.UTC(...parts);

function config({ floor = 0, lifetime = 180, lastMaterial = 2, changedIn } = {}) {
  const purpose = (key, opt) => Object.assign(
    { key, essential: false, default: false, opt_out_categories: opt ? ['sale'] : [] },
    changedIn ? { changed_in: changedIn[key] === undefined ? null : changedIn[key] } : {});
  return {
    jurisdiction: {
      regime: 'opt_in', gpc_honoured: false, consent_lifetime_days: lifetime,
      reask_floor_months: floor
    },
    policy: { version: 3, last_material_version: lastMaterial },
    purposes: [
      { key: 'necessary', essential: true, default: true, opt_out_categories: [] },
      purpose('analytics'), purpose('marketing', true)
    ]
  };
}

const choice = (decisions, at, policyVersion = 2) =>
  ({ visitorId: 'v', receiptId: 'r', policyVersion, at, decisions });

test('calendar months end at the same day, clamped to the end of a shorter month', () => {
  assert.equal(addMonths(utc(2027, 0, 31, 12), 1), utc(2027, 1, 28, 12));
  assert.equal(addMonths(utc(2028, 0, 31, 12), 1), utc(2028, 1, 29, 12)); // leap year
  assert.equal(addMonths(utc(2027, 0, 31, 12), 6), utc(2027, 6, 31, 12));
  assert.equal(addMonths(utc(2027, 2, 1), 12), utc(2028, 2, 1));
  assert.equal(addMonths(utc(2027, 7, 31), 6), utc(2028, 1, 29));
  assert.equal(addMonths(utc(2027, 4, 5), 0), utc(2027, 4, 5));
});

test('a refusal is not asked about again before the floor, though its lifetime has run out', () => {
  const refusedAt = utc(2027, 0, 31, 12);
  const refusal = choice({ analytics: false, marketing: false }, refusedAt);
  const italy = config({ floor: 6, lifetime: 180 });
  assert.equal(choiceStatus(italy, refusal, utc(2027, 6, 31, 11)), 'current');
  assert.equal(choiceStatus(italy, refusal, utc(2027, 6, 31, 13)), 'expired');
});

test('365 days fall a day short of 12 months across 29 February; the floor does not', () => {
  const optOut = choice({ analytics: true, marketing: false }, utc(2027, 2, 1, 12));
  const california = config({ floor: 12, lifetime: 365 });
  assert.equal(choiceStatus(california, optOut, utc(2028, 2, 1, 11)), 'current');
  assert.equal(choiceStatus(california, optOut, utc(2028, 2, 1, 13)), 'expired');
});

test('inside the floor neither a material change nor a new purpose asks again', () => {
  const refusal = choice({ analytics: false }, utc(2027, 0, 1));
  const changed = config({ floor: 6, lastMaterial: 3 });
  assert.equal(choiceStatus(changed, refusal, utc(2027, 1, 1)), 'current');
  assert.equal(choiceStatus(changed, refusal, utc(2027, 6, 2)), 'expired');
});

test('inside the floor a material change to a granted purpose asks about that one alone', () => {
  const mixed = choice({ analytics: true, marketing: false }, utc(2027, 0, 1));
  const changed = config({ floor: 12, lastMaterial: 3 });
  assert.equal(choiceStatus(changed, mixed, utc(2027, 1, 1)), 'policy_changed');
  assert.deepEqual(plain(askedKeys(changed, mixed, utc(2027, 1, 1))), ['analytics']);
});

test('where the law wants fresh consent for a material change, a stale opt-out grant is off', () => {
  const grant = choice({ analytics: true, marketing: true }, utc(2027, 0, 1));
  const colorado = config({ lastMaterial: 3, changedIn: { marketing: 3 } });
  Object.assign(colorado.jurisdiction, { regime: 'opt_out', material_change_consent: true });
  colorado.purposes.forEach((purpose) => { purpose.default = true; });
  assert.deepEqual(plain(effectiveDecisions(colorado, grant, false, utc(2027, 0, 2))),
    { necessary: true, analytics: true, marketing: false });
  colorado.jurisdiction.material_change_consent = false; // Minnesota: notice, still on
  assert.equal(effectiveDecisions(colorado, grant, false, utc(2027, 0, 2)).marketing, true);
});

test('where the law wants fresh consent, a purpose a material change added since is off', () => {
  const grant = choice({ analytics: true }, utc(2027, 0, 1));
  const colorado = config({ lastMaterial: 3, changedIn: { marketing: 3 } });
  Object.assign(colorado.jurisdiction, { regime: 'opt_out', material_change_consent: true });
  colorado.purposes.forEach((purpose) => { purpose.default = true; });
  assert.equal(effectiveDecisions(colorado, grant, false, utc(2027, 0, 2)).marketing, false);
  const newcomer = choice({ analytics: true }, utc(2027, 0, 1), 3); // chose under version 3
  assert.equal(effectiveDecisions(colorado, newcomer, false, utc(2027, 0, 2)).marketing, true);
  colorado.jurisdiction.material_change_consent = false; // Minnesota: notice, still on
  assert.equal(effectiveDecisions(colorado, grant, false, utc(2027, 0, 2)).marketing, true);
});

test('an opt-out covers a purpose added since in a category it refused', () => {
  const optOut = choice({ analytics: true, marketing: false }, utc(2027, 0, 1));
  const california = config({ floor: 12, changedIn: {} });
  Object.assign(california.jurisdiction, { regime: 'opt_out' });
  california.purposes.forEach((purpose) => { purpose.default = true; });
  california.purposes.push(
    { key: 'ads', essential: false, default: true, opt_out_categories: ['sale', 'sharing'] },
    { key: 'chat', essential: false, default: true, opt_out_categories: [] });
  const decided = effectiveDecisions(california, optOut, false, utc(2027, 1, 1));
  assert.equal(decided.ads, false); // the visitor opted out of sale
  assert.equal(decided.chat, true); // no category of theirs: the opt-out default
});

test('grants are re-asked on expiry and material changes whatever the floor', () => {
  const grant = choice({ analytics: true, marketing: true }, utc(2027, 0, 1));
  assert.equal(choiceStatus(config({ floor: 12 }), grant, utc(2027, 6, 1)), 'expired');
  assert.equal(choiceStatus(config({ floor: 12, lastMaterial: 3 }), grant, utc(2027, 0, 2)),
    'policy_changed');
});

test('only the purposes a material change touched since the choice are stale', () => {
  const grant = choice({ analytics: true, marketing: true }, utc(2027, 0, 1));
  const touched = config({ lastMaterial: 3, changedIn: { marketing: 3, analytics: 1 } });
  assert.deepEqual(plain(staleKeys(touched, grant)), ['marketing']);
  assert.equal(choiceStatus(touched, grant, utc(2027, 0, 2)), 'policy_changed');
  // An opt-in grant the change touched is off until answered; the others still hold.
  assert.deepEqual(plain(effectiveDecisions(touched, grant, false, utc(2027, 0, 2))),
    { necessary: true, analytics: true, marketing: false });
});

test('a purpose no material change touched is never stale, whatever the policy says', () => {
  const grant = choice({ analytics: true, marketing: true }, utc(2027, 0, 1));
  const untouched = config({ lastMaterial: 3, changedIn: {} });
  assert.deepEqual(plain(staleKeys(untouched, grant)), []);
  assert.equal(choiceStatus(untouched, grant, utc(2027, 0, 2)), 'current');
});

test('without changed_in the last material version touches every purpose', () => {
  const grant = choice({ analytics: true, marketing: true }, utc(2027, 0, 1));
  const everything = staleKeys(config({ lastMaterial: 3 }), grant);
  assert.deepEqual(plain(everything), ['analytics', 'marketing']);
});

test('a new purpose is asked about alone', () => {
  const answered = choice({ analytics: true }, utc(2027, 0, 1));
  const status = choiceStatus(config({ changedIn: {} }), answered, utc(2027, 0, 2));
  assert.equal(status, 'incomplete');
  assert.deepEqual(plain(staleKeys(config({ changedIn: {} }), answered)), ['marketing']);
});
