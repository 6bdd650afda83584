'use strict';
// The usnat GPP string the widget makes, decoded by IAB's own library (@iabgpp/cmpapi, pinned in
// package.json) and compared field by field, for the visitors the law treats differently.
const test = require('node:test');
const assert = require('node:assert/strict');
const { GppModel, HeaderV1 } = require('@iabgpp/cmpapi');
const { load } = require('./load.js');

const { encodeUsnat, usnatFields, gppHeader, fibonacciBits, effectiveDecisions } = load(
  ['choice.js', 'usnat.js'],
  ['encodeUsnat', 'usnatFields', 'gppHeader', 'fibonacciBits', 'effectiveDecisions']
);

// The demo shop's purposes, as /v1/banner describes them in an opt-out regime.
const PURPOSES = [
  { key: 'necessary', essential: true, default: true, opt_out_categories: [] },
  { key: 'analytics', essential: false, default: true, opt_out_categories: [] },
  { key: 'marketing', essential: false, default: true, opt_out_categories: ['sale', 'sharing'] },
  {
    key: 'advertising', essential: false, default: true,
    opt_out_categories: ['sale', 'sharing', 'targeted_advertising']
  }
];
// The rulebook's values that decide the string: GPC is honoured in California and (since
// 2025-01-01) Texas, not in Virginia.
const JURISDICTIONS = {
  'US-CA': { code: 'US-CA', regime: 'opt_out', gpc_honoured: true },
  'US-VA': { code: 'US-VA', regime: 'opt_out', gpc_honoured: false },
  'US-TX': { code: 'US-TX', regime: 'opt_out', gpc_honoured: true }
};
const NOW = Date.UTC(2026, 11, 6);

// What the widget emits for a visitor: the decisions in effect (choice.js), then usnat.
function emitted(region, { refused = [], gpc = false } = {}) {
  const jurisdiction = Object.assign(
    { consent_lifetime_days: 365, reask_floor_months: 12 }, JURISDICTIONS[region]);
  const config = {
    jurisdiction, purposes: PURPOSES, policy: { version: 1, last_material_version: 1 }
  };
  const stored = refused.length ? {
    visitorId: '6f1c1d1e-8f0a-4c53-9a7e-2d7b3f1e9c10', receiptId: 'r', policyVersion: 1,
    at: NOW - 864e5,
    decisions: Object.fromEntries(PURPOSES.filter((p) => !p.essential)
      .map((p) => [p.key, !refused.includes(p.key)]))
  } : null;
  const fields = usnatFields(PURPOSES, effectiveDecisions(config, stored, gpc, NOW), gpc);
  return { fields: JSON.parse(JSON.stringify(fields)), string: encodeUsnat(fields) };
}

// IAB's reading of a GPP string: the header's sections and the usnat section's fields.
function decoded(string) {
  const model = new GppModel(string);
  return { sectionIds: model.getHeader().SectionIds, usnat: model.getSection('usnat') };
}

// Every field the widget sets must read back the same through IAB's decoder; the string IAB's
// encoder makes from those fields must be the widget's, character for character.
function assertFieldByField({ fields, string }) {
  const iab = decoded(string);
  assert.deepEqual(iab.sectionIds, [7]);
  for (const [name, value] of Object.entries(fields)) {
    assert.deepEqual(iab.usnat[name], value, `usnat.${name}`);
  }
  assert.equal(iab.usnat.GpcSegmentType, 1);
  const model = new GppModel();
  for (const [name, value] of Object.entries(fields)) model.setFieldValue('usnat', name, value);
  model.setFieldValue('usnat', 'GpcSegmentIncluded', true);
  assert.equal(model.encode(), string);
  return iab.usnat;
}

const NOTICES = ['SharingNotice', 'SaleOptOutNotice', 'SharingOptOutNotice',
  'TargetedAdvertisingOptOutNotice'];
const OPT_OUTS = ['SaleOptOut', 'SharingOptOut', 'TargetedAdvertisingOptOut'];
const values = (usnat, names) => names.map((name) => usnat[name]);

test('Fibonacci codes match the GPP spec examples', () => {
  const codes = [1, 2, 3, 4, 5, 7].map(fibonacciBits);
  assert.deepEqual(codes, ['11', '011', '0011', '1011', '00011', '01011']);
});

test("headers are the ones IAB's encoder makes, and its decoder reads their sections", () => {
  for (const ids of [[7], [2], [5, 6], [7, 8], [2, 6]]) {
    const header = new HeaderV1();
    header.setFieldValue('SectionIds', ids);
    assert.equal(gppHeader(ids), header.encode(), String(ids));
    assert.deepEqual(new HeaderV1(gppHeader(ids)).getFieldValue('SectionIds'), ids);
  }
});

test('the section says Version 2, the layout it is written in (16 and 3 entries)', () => {
  const usnat = assertFieldByField(emitted('US-CA'));
  assert.equal(usnat.Version, 2);
  assert.equal(usnat.SensitiveDataProcessing.length, 16);
  assert.equal(usnat.KnownChildSensitiveDataConsents.length, 3);
  assert.equal(usnat.MspaCoveredTransaction, 2); // valid (1 or 2), and not an MSPA transaction
});

test('reference strings, as IAB 3.2.0 encodes them', () => {
  assert.equal(emitted('US-CA').string, 'DBABLA~CVQqAAAAAACA.QA');
  assert.equal(emitted('US-CA', { gpc: true }).string, 'DBABLA~CVQVAAAAAACA.YA');
});

test('US-CA, no choice yet: notices given, nothing opted out, no GPC', () => {
  const usnat = assertFieldByField(emitted('US-CA'));
  assert.deepEqual(values(usnat, NOTICES), [1, 1, 1, 1]);
  assert.deepEqual(values(usnat, OPT_OUTS), [2, 2, 2]);
  assert.equal(usnat.Gpc, false);
});

test('US-CA after "Do Not Sell or Share": opted out of sale, sharing and targeted ads', () => {
  const usnat = assertFieldByField(emitted('US-CA', { refused: ['marketing', 'advertising'] }));
  assert.deepEqual(values(usnat, OPT_OUTS), [1, 1, 1]);
  assert.equal(usnat.Gpc, false);
});

test('US-CA with GPC: opted out by the signal, and the GPC subsection says so', () => {
  const usnat = assertFieldByField(emitted('US-CA', { gpc: true }));
  assert.deepEqual(values(usnat, OPT_OUTS), [1, 1, 1]);
  assert.equal(usnat.Gpc, true);
});

test('US-VA: the same notices; GPC is reported but the law gives it no effect there', () => {
  const usnat = assertFieldByField(emitted('US-VA', { gpc: true }));
  assert.deepEqual(values(usnat, NOTICES), [1, 1, 1, 1]);
  assert.deepEqual(values(usnat, OPT_OUTS), [2, 2, 2]);
  assert.equal(usnat.Gpc, true);
  assertFieldByField(emitted('US-VA'));
});

test('US-TX with GPC: honoured since 2025, so opted out', () => {
  const usnat = assertFieldByField(emitted('US-TX', { gpc: true }));
  assert.deepEqual(values(usnat, OPT_OUTS), [1, 1, 1]);
  assert.equal(usnat.Gpc, true);
});

test('one granted purpose carrying a category means no opt-out of it', () => {
  const fields = usnatFields(PURPOSES, { marketing: true, advertising: false }, false);
  assert.equal(fields.SaleOptOut, 2);
  assert.equal(fields.SharingOptOut, 2);
  assert.equal(fields.TargetedAdvertisingOptOut, 1);
  assertFieldByField({ fields: JSON.parse(JSON.stringify(fields)), string: encodeUsnat(fields) });
});

test('categories the property never uses are not applicable, notice and opt-out alike', () => {
  const fields = usnatFields([{ key: 'analytics', opt_out_categories: [] }], {}, false);
  assert.equal(fields.SaleOptOutNotice, 0);
  assert.equal(fields.SaleOptOut, 0);
  assert.equal(fields.SharingNotice, 0);
  assertFieldByField({ fields: JSON.parse(JSON.stringify(fields)), string: encodeUsnat(fields) });
});
