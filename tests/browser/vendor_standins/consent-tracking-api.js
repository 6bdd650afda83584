'use strict';
// Stand-in for Shopify's Customer Privacy API: records each setTrackingConsent.
window.Shopify = window.Shopify || {};
window.Shopify.customerPrivacy = {
  setTrackingConsent(consent, callback) {
    window.__record('shopify', ['setTrackingConsent', consent]);
    callback({});
  }
};
