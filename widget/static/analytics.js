'use strict';
// Stand-in for an analytics tag such as Google Analytics: it runs only once `analytics` is
// granted, sets cookies named as in the vendor list, and shows that it ran.
(function () {
  const year = 365 * 86400;
  const attributes = '; Path=/; Max-Age=' + 2 * year + '; SameSite=Lax';
  document.cookie = '_ga=GA1.1.' + Date.now() + attributes;
  document.cookie = '_ga_DEMO42=GS1.1.' + Date.now() + attributes;
  window.dataLayer = window.dataLayer || [];
  window.dataLayer.push({ event: 'demo_analytics_page_view' });
  document.documentElement.setAttribute('data-ran-analytics', '');
  document.getElementById('marker-analytics').textContent = 'ran';
  console.log('[demo] analytics stand-in ran');
})();
