// The preferences page works without this script; with it, the receipts' signatures can be
// checked right here, in the browser, against the published keys (WebCrypto Ed25519).
(function () {
  'use strict';
  var box = document.querySelector('.verify');
  if (!box || !window.crypto || !crypto.subtle) return;
  var result = box.querySelector('.verify-result');
  var bytes = function (b64url) {
    var b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(b64 + '==='.slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  };
  var getJson = function (url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(url + ' answered ' + r.status);
      return r.json();
    });
  };
  function check(jws, keys) {
    var parts = jws.split('.');
    var header = JSON.parse(new TextDecoder().decode(bytes(parts[0])));
    var jwk = keys.filter(function (k) { return k.kid === header.kid; })[0];
    if (!jwk) return Promise.resolve(false);
    return crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'Ed25519', false, ['verify'])
      .then(function (key) {
        return crypto.subtle.verify('Ed25519', key, bytes(parts[2]),
          new TextEncoder().encode(parts[0] + '.' + parts[1]));
      });
  }
  box.hidden = false;
  box.querySelector('button').addEventListener('click', function () {
    Promise.all([getJson(box.dataset.jwks), getJson(box.dataset.receipts)]).then(function (got) {
      var receipts = got[1].receipts;
      return Promise.all(receipts.map(function (r) { return check(r.jws, got[0].keys); }));
    }).then(function (results) {
      var bad = results.filter(function (ok) { return !ok; }).length;
      result.textContent = bad ? box.dataset.bad.replace('{bad}', bad).replace('{count}', results.length)
        : box.dataset.ok.replace('{count}', results.length);
      box.dataset.outcome = bad ? 'bad' : 'ok';
    }, function () {
      result.textContent = box.dataset.unsupported;
      box.dataset.outcome = 'unsupported';
    });
  });
})();
