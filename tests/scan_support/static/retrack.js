'use strict';
// Fault 2: a tracker tagged data-consent="analytics" (so it waits for consent), which sets its
// cookie again whenever the consent it waited for goes away.
(function () {
  const set = () => { document.cookie = 'rt_uid=rt.' + Date.now() + '; Path=/; Max-Age=31536000'; };
  set();
  document.addEventListener('consent:change', (event) => {
    if (!event.detail.decisions.analytics) set();
  });
})();
