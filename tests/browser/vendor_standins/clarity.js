'use strict';
// Stand-in for Microsoft Clarity's tag: replays the calls its snippet queued on
// window.clarity.q, then records every later call.
(function () {
  const queued = (window.clarity && window.clarity.q) || [];
  window.clarity = function () { window.__record('clarity', arguments); };
  queued.forEach((args) => window.__record('clarity', args));
  window.__record('clarity', ['(loaded)']);
})();
