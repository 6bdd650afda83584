// The shop platforms' consent APIs, which their own pixels, plugins and checkout read. Each
// bridge takes the platform's signals ({signal: granted}), the banner and the decisions; it
// returns false when the platform's API is not on the page (yet), to be told again later.

const SALE_OF_DATA_CATEGORIES = ['sale', 'sharing'];
let shopifyConsent = null;
let shopifyLoading = false;

// Shopify Customer Privacy API: `setTrackingConsent({ analytics, marketing, preferences,
// sale_of_data }, callback)` on `window.Shopify.customerPrivacy`, which Shopify's pixels,
// audiences and checkout obey. A theme loads it with `Shopify.loadFeatures([{ name:
// 'consent-tracking-api', version: '0.1' }], callback)`; a headless storefront loads it
// itself (Hydrogen: useCustomerPrivacy, which also adds the storefront's domains and token to
// every setTrackingConsent, and announces the API with `shopifyCustomerPrivacyApiLoaded`).
// `sale_of_data` also follows the US opt-out categories: a refused purpose with a sale or
// sharing category refuses it, whatever the mapping says.
// https://shopify.dev/docs/api/customer-privacy
// https://shopify.dev/docs/api/hydrogen/latest/hooks/usecustomerprivacy
function shopifyBridge(signals, config, decisions) {
  const optedOut = config.purposes.some((purpose) => decisions[purpose.key] !== true &&
    purpose.opt_out_categories.some((c) => SALE_OF_DATA_CATEGORIES.indexOf(c) >= 0));
  shopifyConsent = {
    analytics: !!signals.analytics,
    marketing: !!signals.marketing,
    preferences: !!signals.preferences,
    sale_of_data: !!signals.sale_of_data && !optedOut
  };
  const shop = window.Shopify;
  // The latest choice when the API answers: loaded once, while choices may come meanwhile.
  const tell = () => shop.customerPrivacy.setTrackingConsent(shopifyConsent, () => {});
  if (shop && shop.customerPrivacy) return tell();
  if (!shop || typeof shop.loadFeatures !== 'function') return false;
  if (shopifyLoading) return;
  shopifyLoading = true;
  shop.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (error) => {
    shopifyLoading = false;
    if (!error) tell();
  });
}

const WP_CATEGORIES = ['functional', 'preferences', 'statistics', 'statistics-anonymous',
  'marketing'];
let wpTypeAnnounced = false;

// WP Consent API (WordPress and WooCommerce plugins): the regime's consent type in
// `window.wp_consent_type` ('optin' where the law asks for consent first, else 'optout'),
// then `wp_set_consent(category, 'allow' | 'deny')` for each category (it dispatches
// `wp_listen_for_consent_change` to the plugins), and once, the `wp_consent_type_defined`
// event that plugins waiting for a late consent type listen for.
// https://wordpress.org/plugins/wp-consent-api/
function wpConsentBridge(signals, config) {
  if (typeof window.wp_set_consent !== 'function') return false;
  window.wp_consent_type = config.jurisdiction.regime === 'opt_in' ? 'optin' : 'optout';
  WP_CATEGORIES.forEach((category) => {
    window.wp_set_consent(category, signals[category] ? 'allow' : 'deny');
  });
  if (!wpTypeAnnounced) {
    wpTypeAnnounced = true;
    document.dispatchEvent(new CustomEvent('wp_consent_type_defined'));
  }
}
