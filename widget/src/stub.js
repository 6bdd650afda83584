// The synchronous stub, /v1/stub.js?property=shop: the first script of the page, before any
// tag, without async or defer (a small external file, so a strict CSP needs no inline
// script). The widget itself loads asynchronously; until it has asked the service, this
// is what every tag meets:
// - Google Consent Mode's denied default (consent-mode.js, joined into this file), so
//   `consent default` is the first entry of dataLayer even when Google's own snippet runs
//   ungated right after ("advanced" consent mode, where Google requires the default before
//   any `js`, `config` or `event`);
// - the denied defaults of the platforms the property enables that take one before their
//   tag (platform-defaults.js). The service writes the enabled platforms' names where this
//   source says %PLATFORMS%: one per-property variant of one static file, so a change in the
//   admin reaches the stub without a change to the shop's pages;
// - for those platforms, the fetch of their adapters (widget-ads.js), in parallel with the
//   widget's own requests: the widget applies them with its first decisions (without the
//   stub, the widget fetches them itself, after the banner's answer);
// - `window.consent`, a queue of `open` and `on('change')` calls (`get` and `token` answer null) the widget adopts
//   when it loads (`a(api)` replays them on the widget's API; `d`: the platforms defaulted
//   here; `ads`: resolves to widget-ads.js's adapter, or null).
// - IAB's GPP stub (gpp-stub.js): `__gpp` with its queue, events and `__gppLocator` frame,
//   which the GPP bundle (widget-gpp.js) takes over once the widget has its answer.
if (!window.consent) {
  pushConsentDefault();
  installGppStub();
  const enabled = '%PLATFORMS%'.split(' ').filter(Boolean);
  const base = document.currentScript.src.replace(/\/v1\/stub\.js([?#].*)?$/, '');
  const calls = [];
  window.consent = {
    d: setPlatformDefaults(enabled),
    ads: enabled.length ? new Promise((resolve) => {
      document.addEventListener('consent:ads', (event) => resolve(event.detail), { once: true });
      const loader = document.createElement('script');
      loader.src = base + '/v1/widget-ads.js';
      loader.onerror = () => resolve(null); // the platforms keep their denied defaults
      document.head.appendChild(loader);
    }) : null,
    a: (api) => calls.splice(0).forEach((call) => { call.off = api[call[0]](call[1], call[2]); }),
    get: () => null,
    token: () => null, // no consent token before the widget has asked the service
    open: () => { calls.push(['open']); },
    on(event, listener) {
      const call = ['on', event, listener];
      calls.push(call);
      // Before the widget adopts the call it is still queued; after, the widget's own
      // unsubscribe is on it (`off`).
      return () => {
        const at = calls.indexOf(call);
        if (at >= 0) calls.splice(at, 1);
        else if (call.off) call.off();
      };
    }
  };
}
