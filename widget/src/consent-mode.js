// Google Consent Mode v2 (standards.md §2): a denied default before anything else, then an
// update from the visitor's decisions on every page load and every choice.

const CONSENT_TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
  'functionality_storage', 'personalization_storage', 'security_storage'];

// Uses the page's gtag when it has one; otherwise the standard stub that queues into dataLayer.
function gtag() {
  window.dataLayer = window.dataLayer || [];
  if (typeof window.gtag !== 'function') {
    window.gtag = function gtag() { window.dataLayer.push(arguments); };
  }
  window.gtag.apply(window, arguments);
}

function pushConsentDefault() {
  const state = { wait_for_update: 500 };
  CONSENT_TYPES.forEach((type) => {
    state[type] = type === 'security_storage' ? 'granted' : 'denied';
  });
  gtag('consent', 'default', state);
}

// A consent type is granted when any granted purpose lists it in its consent_mode.
function pushConsentUpdate(purposes, decisions) {
  const state = {};
  purposes.forEach((purpose) => purpose.consent_mode.forEach((type) => {
    state[type] = state[type] === 'granted' || decisions[purpose.key] ? 'granted' : 'denied';
  }));
  gtag('consent', 'update', state);
}
