'use strict';
// Stand-in for an ad pixel such as Meta's: it runs only once `advertising` and `marketing` are
// both granted, sets cookies named as in the vendor list, and shows that it ran.
(function () {
  const days90 = 90 * 86400;
  const attributes = '; Path=/; Max-Age=' + days90 + '; SameSite=Lax';
  document.cookie = '_fbp=fb.1.' + Date.now() + '.42' + attributes;
  document.cookie = '_gcl_au=1.1.' + Date.now() + attributes;
  window.dataLayer = window.dataLayer || [];
  window.dataLayer.push({ event: 'demo_ad_pixel_page_view' });
  document.documentElement.setAttribute('data-ran-ads', '');
  document.getElementById('marker-ads').textContent = 'ran';
  console.log('[demo] ad pixel stand-in ran');
})();
