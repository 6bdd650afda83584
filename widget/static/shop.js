'use strict';
// The demo shop's own script: it shows what the widget decided, through its public API and
// DOM event, and offers a second way to reopen the preferences.
(function () {
  const state = document.getElementById('consent-state');
  document.addEventListener('consent:change', (event) => {
    const detail = event.detail;
    const granted = Object.keys(detail.decisions).filter((key) => detail.decisions[key]);
    state.textContent = 'Jurisdiction ' + detail.jurisdiction + ': granted ' + granted.join(', ') +
      (detail.receiptId ? '; receipt ' + detail.receiptId : '; no choice recorded yet') +
      (detail.gpc ? '; Global Privacy Control on' : '') + '.';
  });
  document.getElementById('open-preferences').addEventListener('click', () => {
    if (window.consent) window.consent.open();
  });
})();
