'use strict';
// Stand-in for the WP Consent API's script: what the consent type was when it loaded, each
// wp_set_consent(category, value) with the type at that moment, and wp_consent_type_defined.
window.__record('wp', ['loaded', window.wp_consent_type === undefined ? '(none)' : window.wp_consent_type]);
window.wp_set_consent = function (category, value) {
  window.__record('wp', ['set', category, value, window.wp_consent_type]);
};
document.addEventListener('wp_consent_type_defined', () => {
  window.__record('wp', ['type_defined', window.wp_consent_type]);
});
