'use strict';
// Stand-in for Meta's fbevents.js: the shop's base code defined fbq with a queue (it returns
// early, defining nothing, when fbq already exists); this drains the queue and records
// every call.
(function () {
  const fbq = window.fbq;
  fbq.callMethod = function () { window.__record('fbq', arguments); };
  fbq.queue.splice(0).forEach((args) => fbq.callMethod.apply(fbq, args));
})();
