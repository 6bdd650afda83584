'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { encodeUsnat, usnatFields, gppHeader, fibonacciBits } = load(
  ['usnat.js'],
  ['encodeUsnat', 'usnatFields', 'gppHeader', 'fibonacciBits']
);

// The demo shop's purposes, as /v1/banner describes them.
const PURPOSES = [
  { key: 'necessary', opt_out_categories: [] },
  { key: 'analytics', opt_out_categories: [] },
  { key: 'marketing', opt_out_categories: ['sale', 'sharing'] },
  { key: 'advertising', opt_out_categories: ['sale', 'sharing', 'targeted_advertising'] }
];

test('Fibonacci codes match the GPP spec examples', () => {
  const codes = [1, 2, 3, 4, 5, 7].map(fibonacciBits);
  assert.deepEqual(codes, ['11', '011', '0011', '1011', '00011', '01011']);
});

test('headers match the reference library (standards.md §3.1)', () => {
  assert.equal(gppHeader([7]), 'DBABLA');
  assert.equal(gppHeader([2]), 'DBABMA');
  assert.equal(gppHeader([5, 6]), 'DBABjw');
  assert.equal(gppHeader([7, 8]), 'DBABrw');
  assert.equal(gppHeader([2, 6]), 'DBACNYA');
});

test('opted out of sale, sharing and targeted ads with GPC on', () => {
  const fields = usnatFields(PURPOSES, { necessary: true, analytics: true }, true);
  assert.equal(encodeUsnat(fields), 'DBABLA~BVQVAAAAAACA.YA');
});

test('no opt-out and GPC off', () => {
  const all = { necessary: true, analytics: true, marketing: true, advertising: true };
  assert.equal(encodeUsnat(usnatFields(PURPOSES, all, false)), 'DBABLA~BVQqAAAAAACA.QA');
});

test('one granted purpose carrying a category means no opt-out of it', () => {
  const fields = usnatFields(PURPOSES, { marketing: true, advertising: false }, false);
  assert.equal(fields.SaleOptOut, 2);
  assert.equal(fields.SharingOptOut, 2);
  assert.equal(fields.TargetedAdvertisingOptOut, 1);
});

test('categories the property never uses are not applicable, notice and opt-out alike', () => {
  const fields = usnatFields([{ key: 'analytics', opt_out_categories: [] }], {}, false);
  assert.equal(fields.SaleOptOutNotice, 0);
  assert.equal(fields.SaleOptOut, 0);
  assert.equal(fields.SharingNotice, 0);
});
