'use strict';
// Stand-in for Amazon's consent library (amzn-consent.js): amznConsent(data) records what
// it is told; until then Amazon holds both signals DENIED.
window.amznConsent = function () { window.__record('amzn', arguments); };
window.__record('amzn', ['(loaded)']);
