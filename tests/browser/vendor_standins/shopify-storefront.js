'use strict';
// Stand-in for what Shopify's storefront gives a theme: Shopify.loadFeatures, which loads
// the Customer Privacy API (consent-tracking-api) and then calls back. window.__vendorBase
// (set by the test page) is where the stand-ins are served.
window.Shopify = window.Shopify || {};
window.__record('shopify', ['(storefront)']);
window.Shopify.loadFeatures = function (features, callback) {
  window.__record('shopify', ['loadFeatures', features]);
  const api = document.createElement('script');
  api.src = window.__vendorBase + '/consent-tracking-api.js';
  api.onload = () => callback(false);
  api.onerror = () => callback(new Error('not loaded'));
  document.head.appendChild(api);
};
