// widget-ads.js: tells the ad and shop platforms a property enables (the banner's
// `platforms`) the visitor's choice. The widget loads it only for such properties and calls
// it on every change (the first decisions, a choice, a withdrawal, GPC), each time before it
// runs tagged scripts. Each purpose maps to platform signals (`platform_signals`); a signal
// is granted only when every purpose that maps to it is granted (a signal no purpose maps
// stays denied). Platforms without a default of their own before their tag (the stub sets
// the others') start denied here.

// {platform: {signal: granted}} for the enabled platforms.
function platformStates(config, decisions) {
  const states = {};
  config.platforms.forEach((platform) => { states[platform] = {}; });
  config.purposes.forEach((purpose) => {
    const granted = decisions[purpose.key] === true;
    const mapped = purpose.platform_signals;
    Object.keys(mapped).forEach((platform) => mapped[platform].forEach((signal) => {
      const state = states[platform];
      if (state) state[signal] = state[signal] !== false && granted;
    }));
  });
  return states;
}

const grantedOr = (granted) => (granted ? 'granted' : DENIED);

// Each returns false when the platform's script is not on the page (yet); see
// platform-defaults.js and bridges.js for each platform's documented surface.
const ADAPTERS = {
  microsoft_uet: (signals) => { uet('update', { ad_storage: grantedOr(signals.ad_storage) }); },
  microsoft_clarity: (signals) => clarity({
    ad_Storage: grantedOr(signals.ad_Storage), analytics_Storage: grantedOr(signals.analytics_Storage)
  }),
  // Meta pixel: `fbq('consent', 'grant' | 'revoke')` once the shop's snippet has defined fbq
  // (with `fbq('consent', 'revoke')` before its `init`, as Meta documents).
  // https://developers.facebook.com/docs/meta-pixel/implementation/gdpr
  meta_pixel(signals) {
    if (typeof window.fbq !== 'function') return false;
    window.fbq('consent', signals.consent ? 'grant' : 'revoke');
  },
  tiktok_pixel: (signals) => tiktok(signals.consent ? 'grantConsent' : 'revokeConsent'),
  // Amazon Consent Signal through Amazon's consent library (amzn-consent.js, which the shop
  // loads before its Ad Tag and which holds both signals DENIED until told):
  // `amznConsent({ countryCode, enableAdStorage, enableUserData })`, the country being the
  // visitor's jurisdiction's; where it is unknown, Amazon's denied default stays.
  // https://github.com/amzn/ads-pao-amznjs-gtm-template (Amazon's Ad Tag template)
  amazon_ads(signals, config) {
    const country = /^([A-Z]{2})(-|$)/.exec(config.jurisdiction.code);
    if (!country) return;
    if (typeof window.amznConsent !== 'function') return false;
    window.amznConsent({
      countryCode: country[1],
      enableAdStorage: !!signals.amzn_ad_storage,
      enableUserData: !!signals.amzn_user_data
    });
  },
  shopify: shopifyBridge,
  wp_consent: wpConsentBridge
};

// The widget's adapter for one banner; `stub`: the synchronous stub's queue object, when the
// page has it, which names the platforms it already set a default for. A platform whose script was not there is told again when the page has
// loaded, and when Hydrogen announces Shopify's API. One platform's exception never keeps
// the others (or the widget) from applying a choice: it is reported on the console.
document.dispatchEvent(new CustomEvent('consent:ads', {
  detail(config, stub) {
    const defaulted = stub ? stub.d : [];
    setPlatformDefaults(config.platforms.filter((name) => defaulted.indexOf(name) < 0));
    let latest = null;
    let missed = [];
    const tell = (names) => {
      const states = platformStates(config, latest);
      missed = names.filter((name) => {
        try {
          return ADAPTERS[name] && ADAPTERS[name](states[name], config, latest) === false;
        } catch (error) {
          setTimeout(() => { throw error; });
          return false;
        }
      });
    };
    const retry = () => { if (missed.length) tell(missed); };
    window.addEventListener('load', retry);
    document.addEventListener('shopifyCustomerPrivacyApiLoaded', retry);
    return (decisions) => {
      latest = decisions;
      tell(config.platforms);
    };
  }
}));
