'use strict';
// widget-ads.js without a browser: which signal each platform gets from the decisions (a
// signal needs every purpose that maps it), and what each platform's surface is told.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load.js');

const plain = (value) => JSON.parse(JSON.stringify(value));

// A page: `window` with the platforms' globals the test puts there, a document that hands
// over widget-ads.js's adapter, and the listeners it registers.
function page(globals = {}) {
  const listeners = {};
  const window = Object.assign({
    addEventListener: (type, listener) => { listeners['window:' + type] = listener; }
  }, globals);
  let handedOver = null;
  const document = {
    addEventListener: (type, listener) => { listeners['document:' + type] = listener; },
    dispatchEvent: (event) => {
      if (event.type === 'consent:ads') handedOver = event.detail;
    }
  };
  function CustomEvent(type, init) {
    this.type = type;
    this.detail = init && init.detail;
  }
  const exported = load(['platform-defaults.js', 'bridges.js', 'adapters.js'], ['platformStates'],
    { window, document, CustomEvent, setTimeout });
  return { window, listeners, adapter: handedOver, platformStates: exported.platformStates };
}

function banner(platforms, { code = 'FR', regime = 'opt_in' } = {}) {
  return {
    platforms,
    jurisdiction: { code, regime },
    purposes: [
      { key: 'necessary', opt_out_categories: [], platform_signals: { wp_consent: ['functional'] } },
      {
        key: 'marketing',
        opt_out_categories: ['sale', 'sharing'],
        platform_signals: {
          meta_pixel: ['consent'], amazon_ads: ['amzn_user_data'], shopify: ['marketing']
        }
      },
      {
        key: 'advertising',
        opt_out_categories: ['sale'],
        platform_signals: {
          microsoft_uet: ['ad_storage'], meta_pixel: ['consent'],
          amazon_ads: ['amzn_ad_storage'], shopify: ['marketing', 'sale_of_data']
        }
      }
    ]
  };
}

test('a signal is granted only when every purpose that maps it is', () => {
  const { platformStates } = page();
  const config = banner(['meta_pixel', 'amazon_ads', 'microsoft_uet']);
  const states = plain(platformStates(config, { necessary: true, marketing: false, advertising: true }));
  assert.deepEqual(states, {
    meta_pixel: { consent: false },
    amazon_ads: { amzn_user_data: false, amzn_ad_storage: true },
    microsoft_uet: { ad_storage: true }
  });
  // A disabled platform gets nothing, whatever the purposes map.
  assert.deepEqual(plain(platformStates(banner([]), { advertising: true })), {});
});

test('a custom choice reaches each platform as its own surface takes it', () => {
  const calls = [];
  const { window, adapter } = page({
    uetq: [],
    fbq: (...args) => calls.push(['fbq', ...args]),
    amznConsent: (data) => calls.push(['amzn', data])
  });
  const apply = adapter(banner(['microsoft_uet', 'meta_pixel', 'amazon_ads']), null);
  // Without the stub the adapter sets the defaults itself, first.
  assert.deepEqual(plain(window.uetq), ['consent', 'default', { ad_storage: 'denied' }]);
  apply({ necessary: true, marketing: false, advertising: true });
  assert.deepEqual(plain(window.uetq.slice(3)), ['consent', 'update', { ad_storage: 'granted' }]);
  assert.deepEqual(plain(calls), [
    ['fbq', 'consent', 'revoke'],
    ['amzn', { countryCode: 'FR', enableAdStorage: true, enableUserData: false }]
  ]);
});

test('the defaults the stub already set are not set twice', () => {
  const { window, adapter } = page({ uetq: [] });
  adapter(banner(['microsoft_uet']), { d: ['microsoft_uet'] });
  assert.deepEqual(plain(window.uetq), []);
});

test("shopify's sale of data follows a refused sale or sharing purpose whatever it maps", () => {
  const told = [];
  const Shopify = { customerPrivacy: { setTrackingConsent: (consent) => told.push(consent) } };
  const { adapter } = page({ Shopify });
  const config = banner(['shopify']);
  config.purposes[2].platform_signals.shopify = ['marketing']; // sale_of_data mapped nowhere
  config.purposes[1].platform_signals.shopify = ['sale_of_data'];
  const apply = adapter(config, null);
  apply({ necessary: true, marketing: true, advertising: false });
  assert.deepEqual(plain(told.pop()), {
    analytics: false, marketing: false, preferences: false, sale_of_data: false
  });
  apply({ necessary: true, marketing: true, advertising: true });
  assert.deepEqual(plain(told.pop()), {
    analytics: false, marketing: true, preferences: false, sale_of_data: true
  });
});

test('a platform not on the page yet is told the latest decisions once the page has loaded', () => {
  const { window, listeners, adapter } = page();
  const apply = adapter(banner(['meta_pixel', 'amazon_ads']), null);
  apply({ necessary: true, marketing: true, advertising: true });
  apply({ necessary: true, marketing: false, advertising: false });
  const calls = [];
  window.fbq = (...args) => calls.push(['fbq', ...args]);
  window.amznConsent = (data) => calls.push(['amzn', data]);
  listeners['window:load']();
  assert.deepEqual(plain(calls), [
    ['fbq', 'consent', 'revoke'],
    ['amzn', { countryCode: 'FR', enableAdStorage: false, enableUserData: false }]
  ]);
  listeners['window:load'](); // told: nothing more
  assert.equal(calls.length, 2);
});

test('where the country is unknown Amazon keeps its denied default', () => {
  const calls = [];
  const { adapter } = page({ amznConsent: (data) => calls.push(data) });
  adapter(banner(['amazon_ads'], { code: 'unknown' }), null)({ advertising: true, marketing: true });
  assert.deepEqual(calls, []);
  adapter(banner(['amazon_ads'], { code: 'US-unknown' }), null)({ advertising: true, marketing: true });
  assert.deepEqual(plain(calls), [{ countryCode: 'US', enableAdStorage: true, enableUserData: true }]);
});
