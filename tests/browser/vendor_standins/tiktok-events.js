'use strict';
// Stand-in for TikTok's events.js: the shop's snippet turned window.ttq (an array, adopted if
// it was there already) into a queue of [method, ...args]; this records the queue in order,
// then makes each method record at once.
(function () {
  const ttq = window.ttq;
  ttq.splice(0).forEach((call) => window.__record('ttq', call));
  ['page', 'track', 'holdConsent', 'grantConsent', 'revokeConsent'].forEach((method) => {
    ttq[method] = function () { window.__record('ttq', [method].concat(Array.from(arguments))); };
  });
  ttq.push = (call) => window.__record('ttq', call);
})();
