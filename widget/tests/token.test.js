'use strict';
// The consent token as the widget reads it (unverified: only when it ends and which receipt it
// rests on), and what the page-load look-up is told of it: renew with a third of its life left.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const { tokenClaims, heldToken } = load(['choice.js'], ['tokenClaims', 'heldToken'], { atob });

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const IAT = 1767225600;
const CLAIMS = {
  schema: 'consent-service/consent-token/v1', property: 'demo-shop', receipt_id: 'r-1',
  decisions: { analytics: { allowed: true, reason: 'granted' } }, iat: IAT, exp: IAT + 900,
  // base64url's own characters ('-' and '_') must decode too
  note: '>>>???~~~'
};
const TOKEN = [b64url({ alg: 'Ed25519', typ: 'consent-token+jwt' }), b64url(CLAIMS), 'c2ln'].join('.');

test('a token is read back to its claims', () => {
  assert.match(TOKEN.split('.')[1], /[-_]/);
  assert.deepEqual(JSON.parse(JSON.stringify(tokenClaims(TOKEN))), CLAIMS);
});

test('no token, or something that is not one, reads as none', () => {
  for (const value of [null, undefined, '', 'consent', 'a.!!!.c', 'a.' + b64url('x').slice(1) + '.c']) {
    assert.equal(tokenClaims(value), undefined, String(value));
  }
});

test('the look-up is told the receipt while more than a third of the life is left', () => {
  assert.equal(heldToken(CLAIMS, IAT * 1e3), 'r-1');
  assert.equal(heldToken(CLAIMS, (IAT + 599) * 1e3), 'r-1');
});

test('with a third of its life left, or past its end, the look-up is asked for a new one', () => {
  assert.equal(heldToken(CLAIMS, (IAT + 600) * 1e3), '');
  assert.equal(heldToken(CLAIMS, (IAT + 901) * 1e3), '');
});

test('without a token the look-up is asked for one', () => {
  assert.equal(heldToken(undefined, IAT * 1e3), '');
});
