'use strict';
// Cookie lifetimes in the preferences layer: ISO 8601 durations read in the visitor's language.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { formatDuration } = load(['dom.js', 'preferences.js'], ['formatDuration'], {
  document: { dispatchEvent() {} },
  CustomEvent: class {},
  Intl
});
const plain = (text) => text.replace(/\u00a0/g, ' ');

test('single units read as words in the layer language', () => {
  assert.equal(formatDuration('P30D', 'en'), '30 days');
  assert.equal(formatDuration('P6M', 'de'), '6 Monate');
  assert.equal(plain(formatDuration('P1Y', 'fr')), '1 an');
  assert.equal(formatDuration('PT30M', 'en'), '30 minutes');
});

test('combined units are listed, minutes told apart from months', () => {
  assert.equal(formatDuration('P1Y6M', 'en'), '1 year, 6 months');
  assert.equal(formatDuration('P1DT12H', 'de'), '1 Tag, 12 Stunden');
});

test('anything that is not a duration is shown as the property wrote it', () => {
  for (const text of ['session', 'P', 'PT', 'P1', '13 months', '']) {
    assert.equal(formatDuration(text, 'en'), text);
  }
});
