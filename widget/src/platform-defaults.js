// The ad tags that take a consent default before they load, and the queues they read it
// from. Each queue is created exactly as the vendor's own snippet creates it, so the snippet
// adopts it (`x = x || ...`) instead of replacing it. Shared by the synchronous stub (the
// denied defaults, before any tag) and widget-ads.js (the updates).
// - Microsoft UET consent mode: `window.uetq = window.uetq || []`, then
//   `uetq.push('consent', 'default' | 'update', { ad_storage })`.
//   https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_uet_consent
// - Microsoft Clarity consent v2: the snippet's `c[a] = c[a] || function () {
//   (c[a].q = c[a].q || []).push(arguments) }`, then `clarity('consentv2', { ad_Storage,
//   analytics_Storage })`; both keys are required, with a capital S.
//   https://learn.microsoft.com/en-us/clarity/setup-and-installation/clarity-consent-api-v2
// - TikTok pixel: the base code TikTok's Events Manager gives starts `var ttq = w[t] = w[t] ||
//   []` and queues `[method, ...args]` for each of its methods, `holdConsent`, `grantConsent`
//   and `revokeConsent` among them: `holdConsent()` keeps the pixel's cookies back until
//   `grantConsent()` or `revokeConsent()`.
//   https://ads.tiktok.com/help/article/how-to-use-cookies-with-tiktok-pixel
// - WP Consent API: plugins ask `wp_has_consent(category)`, which reads
//   `window.wp_consent_type` first; with 'optin' and nothing stored it answers no (with no
//   type at all it answers yes, so the type is set before any plugin asks).
//   https://wordpress.org/plugins/wp-consent-api/
// Meta's snippet returns early when `fbq` exists (`if (f.fbq) return`): nothing here ever
// defines `fbq`; the shop's snippet calls `fbq('consent', 'revoke')` before `init`.

const DENIED = 'denied';

const uet = (command, state) => (window.uetq = window.uetq || []).push('consent', command, state);

function clarity(state) {
  const queue = window.clarity = window.clarity ||
    function () { (queue.q = queue.q || []).push(arguments); };
  queue('consentv2', state);
}

// Called on the pixel once it is there, queued (as its snippet queues) before.
function tiktok(method) {
  const ttq = window.ttq = window.ttq || [];
  if (typeof ttq[method] === 'function') ttq[method]();
  else ttq.push([method]);
}

const PLATFORM_DEFAULTS = {
  microsoft_uet: () => uet('default', { ad_storage: DENIED }),
  microsoft_clarity: () => clarity({ ad_Storage: DENIED, analytics_Storage: DENIED }),
  tiktok_pixel: () => tiktok('holdConsent'),
  wp_consent: () => { window.wp_consent_type = 'optin'; }
};

// Sets the denied default of each named platform that takes one; returns their names.
const setPlatformDefaults = (names) => names.filter((name) => {
  const setDefault = PLATFORM_DEFAULTS[name];
  if (setDefault) setDefault();
  return !!setDefault;
});
