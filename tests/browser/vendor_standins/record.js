'use strict';
// Every stand-in records what the page asked of it, in order, into window.__vendorLog:
// [vendor, ...arguments]. Loaded first by each stand-in's page (a plain shared helper).
window.__vendorLog = window.__vendorLog || [];
window.__vendorBase = document.currentScript.src.replace(/\/[^/]*$/, '');
window.__record = function (vendor, args) {
  window.__vendorLog.push([vendor].concat(JSON.parse(JSON.stringify(Array.from(args)))));
};
