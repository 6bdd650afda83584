// The entry point: one <script src=".../v1/widget.js" data-property="shop" async> tag. It runs
// synchronously on load (Consent Mode default first of all), then fetches the banner for the
// visitor's region, applies the stored or default decisions, and asks when it must. Anything
// going wrong leaves every non-essential purpose refused: the widget fails closed.

const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 15) | 64;
  bytes[8] = (bytes[8] & 63) | 128;
  const hex = Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join('');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
    .join('-');
}

function readCookie(name) {
  const pair = document.cookie.split('; ').find((p) => p.slice(0, name.length + 1) === name + '=');
  return pair ? pair.slice(name.length + 1) : null;
}

function writeCookie(name, value, days) {
  document.cookie = name + '=' + value + '; Max-Age=' + Math.round(days * 86400) +
    '; Path=/; SameSite=Lax' +
    (location.protocol === 'https:' ? '; Secure' : '');
}

const storage = (action) => {
  try {
    return action(window.localStorage);
  } catch (error) {
    return null; // storage disabled: the receipt is simply not kept
  }
};

// Resolves once loaded or failed: an unstyled banner beats no banner.
const loadStyles = (href) => new Promise((resolve) => {
  const sheet = h('link', { rel: 'stylesheet', href });
  sheet.onload = sheet.onerror = resolve;
  document.head.append(sheet);
});

const domReady = () => new Promise((resolve) => {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', resolve);
  else resolve();
});

function requestJson(url, body) {
  const init = { credentials: 'omit' };
  if (body) {
    Object.assign(init, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
    });
  }
  return fetch(url, init).then((response) => {
    if (!response.ok) throw new Error('consent service answered ' + response.status);
    return response.json();
  });
}

function main() {
  // The synchronous stub (stub.js) leaves a queue of calls and has pushed the default.
  const stub = window.consent;
  if (stub && !stub.a) return; // the tag is on the page twice
  if (!stub) pushConsentDefault();
  const script = document.currentScript ||
    document.querySelector('script[data-property][src*="/v1/widget.js"]');
  const property = script && script.getAttribute('data-property');
  const base = script && script.src.replace(/\/v1\/widget\.js([?#].*)?$/, '');
  const gpc = navigator.globalPrivacyControl === true;
  // The shop may name the cookie its cookie policy lists (data-cookie); a safe name only.
  const named = script && script.getAttribute('data-cookie');
  const cookieName = named && /^[A-Za-z0-9_-]{1,64}$/.test(named) ? named : 'consent_' + property;
  const receiptKey = 'consent_receipt_' + property;
  // The consent token (README "Consent tokens"): the service's signed decisions, for the
  // shop's own servers, in a cookie of its own (data-token-cookie may name it).
  const namedToken = script && script.getAttribute('data-token-cookie');
  const tokenCookie = namedToken && /^[A-Za-z0-9_-]{1,64}$/.test(namedToken) ? namedToken :
    'consent_token_' + property;
  // A signed-in customer's page carries a token the shop's backend signed (data-identity-token)
  // for this browser's visitor id, read from the cookie or, before the first choice, chosen by
  // the backend (data-visitor-id): passed on once, so the service links this browser to them.
  const identityToken = script && script.getAttribute('data-identity-token');
  const offeredId = script && script.getAttribute('data-visitor-id');
  const newVisitorId = /^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[\da-f]{4}-[\da-f]{12}$/
    .test(offeredId) && offeredId; // a random (v4) id only
  const identityKey = 'consent_identified_' + property;
  const listeners = [];
  let config = null;
  let decisions = null;
  let stored = null;
  let banner = null;
  let reopen = null;
  let openWhenReady = false;
  let focusBeforeBanner = null;
  let status = 'none';
  // The GPP bundle's handle once loaded; until then what happens waits here, in order, and so
  // do vendors' calls where the page has no GPP stub of its own (the shop's stub file has one).
  let gpp = null;
  const gppCalls = [];
  const toGpp = (...call) => (gpp ? gpp(...call) : gppCalls.push(call));
  const ownGpp = !window.__gpp;
  if (ownGpp) window.__gpp = (...call) => toGpp('call', ...call);

  window.consent = {
    get: () => decisions && Object.assign({}, decisions),
    token: () => readCookie(tokenCookie),
    open: () => (config ? openPreferences(document.activeElement) : (openWhenReady = true)),
    on(event, listener) {
      if (event === 'change') listeners.push(listener);
      // Unsubscribes; a second call finds nothing (-1 >>> 0 is past the end) and does nothing.
      return () => listeners.splice(listeners.indexOf(listener) >>> 0, 1);
    }
  };
  // A bundle loaded on demand hands over what it offers by a DOM event, without a global.
  const lazy = (name, event) => new Promise((resolve, reject) => {
    document.addEventListener(event, (loaded) => resolve(loaded.detail), { once: true });
    const loader = h('script', { src: base + '/v1/' + name });
    loader.onerror = reject;
    document.head.append(loader);
  });
  // Loaded after the banner's answer, never before the banner. Should it fail, the page's stub
  // stays: no signal ever says "ready", so vendors that wait for GPP do nothing (fail closed).
  const loadGpp = () => lazy('widget-gpp.js', 'consent:gpp').then((install) => {
    gpp = install(gppCalls, ownGpp);
  }, () => {});
  if (stub) stub.a(window.consent); // the calls the stub queued
  if (!property) {
    toGpp('fail');
    return loadGpp();
  }

  // In development the service lets the page pick the region (?region=US-CA); in production
  // it ignores the parameter.
  const region = new URLSearchParams(location.search).get('region');
  const regionQuery = region ? '?region=' + encodeURIComponent(region) : '';
  const query = new URLSearchParams({ property });
  const lang = document.documentElement.lang;
  if (LOCALE.test(lang)) query.set('locale', lang);
  if (region) query.set('region', region);

  const allowed = (purposes) => purposes.every((key) => !!decisions && decisions[key] === true);
  const gpcForcesOff = (purpose) => gpcOverrides(config, purpose, gpc);

  let adapters = null; // widget-ads.js: the other platforms the property enables
  function apply(next, reason) {
    decisions = next;
    pushConsentUpdate(config.purposes, decisions);
    if (adapters) adapters(decisions);
    clearRefusedCookies(config.vendors, decisions);
    applyTags(document, allowed);
    toGpp('update', config, decisions, gpc);
    const detail = {
      decisions: Object.assign({}, decisions), reason, gpc,
      jurisdiction: config.jurisdiction.code, receiptId: stored ? stored.receiptId : null
    };
    listeners.slice().forEach((listener) => {
      try {
        listener(detail);
      } catch (error) {
        setTimeout(() => { throw error; }); // reported, but the other listeners still run
      }
    });
    document.dispatchEvent(new CustomEvent('consent:change', { detail }));
  }

  function restoreFocus(target) {
    const usable = target && target.isConnected && target !== document.body;
    (usable ? target : reopen).focus();
  }

  // What GPP reports: whether a layer shows (the banner, or `prefs`: the preferences layer
  // opened), and whether the visitor's answer is still to come (a layer they opened, a choice on
  // its way), when signals are "not ready".
  const displayed = (waiting, prefs) => toGpp('display', !!banner || !!prefs, waiting);

  // `waiting`: a choice follows.
  function closeBanner(waiting) {
    if (banner) {
      const hadFocus = banner.contains(document.activeElement);
      banner.remove();
      banner = null;
      reopen.hidden = false;
      if (hadFocus) restoreFocus(focusBeforeBanner);
    }
    displayed(waiting);
  }

  // The preferences layer (and the rarely needed re-opt-in step) is a second pair of files,
  // fetched the first time someone asks for it, so the first layer stays small. Should it fail
  // to load, the first layer (with its refuse button) comes back: a way out must always be there.
  let preferences = null;
  const layers = () => (preferences = preferences || Promise.all([
    lazy('widget-preferences.js', 'consent:preferences'),
    loadStyles(base + '/v1/widget-preferences.css')
  ]).then((loaded) => loaded[0], (error) => {
    preferences = null;
    throw error;
  }));
  function openPreferences(opener, offCategories) {
    layers().then((shown) => shown.preferences(view, opener, offCategories), () => {
      if (!banner) showFirstLayer('none');
    });
  }

  // Kept for exactly its life; none (an older service, an erased visitor) drops the one held,
  // which rests on a receipt that is no longer the visitor's latest.
  function keepToken(token) {
    const claims = tokenClaims(token);
    writeCookie(tokenCookie, claims ? token : '', claims ? (claims.exp - claims.iat) / 86400 : 0);
  }

  // Settles once the link is made or refused: a choice waits for it (see record()).
  function identify(visitorId) {
    const mark = identityToken && visitorId + identityToken.slice(-12);
    if (!mark || storage((local) => local.getItem(identityKey)) === mark) return Promise.resolve();
    return fetch(base + '/v1/identity', {
      method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ property, visitor_id: visitorId, identity_token: identityToken })
    }).then((response) => {
      if (response.ok) storage((local) => local.setItem(identityKey, mark));
    }).catch(() => {}); // linking is best effort: it never changes what this page may do
  }

  // `chosen` comes from the preferences layer; without it the first layer answers, and a
  // re-ask scoped to some purposes (view.scope) answers for them alone: the others keep their
  // stored values (recorded as a custom choice).
  function choose(method, chosen, confirmed) {
    closeBanner(true);
    const offered = config.purposes.filter((purpose) => !purpose.essential);
    const answer = method;
    const wanted = {};
    offered.forEach((purpose) => {
      const key = purpose.key;
      const keep = !chosen && view.scope && view.scope.indexOf(key) < 0 && answer !== 'acknowledge';
      if (keep) method = 'custom';
      wanted[key] = !gpcForcesOff(purpose) && (keep ? !!stored.decisions[key] :
        answer === 'accept_all' || (answer === 'acknowledge' && purpose.default) ||
        (answer === 'custom' && !!chosen[key]));
    });
    const hadGranted = stored && offered.some((purpose) => stored.decisions[purpose.key]);
    if (/^(reject_all|custom)$/.test(method) && hadGranted && !offered.some((p) => wanted[p.key])) {
      method = 'withdrawal';
    }
    const reoptin = config.jurisdiction.reoptin_confirmation && stored && offered.some((p) =>
      p.opt_out_categories.length && stored.decisions[p.key] === false && wanted[p.key]);
    if (reoptin && !confirmed) {
      // Nothing applies or is recorded before the second step; going back changes nothing.
      const back = () => {
        closeBanner();
        if (status !== 'current') showFirstLayer(status);
      };
      return layers().then((shown) =>
        showLayer(shown.confirm(view, () => choose(answer, chosen, true), back), true), back);
    }
    // Refusals take effect at once; grants only once the service has recorded them.
    const refusedNow = offered.filter((purpose) => decisions[purpose.key] && !wanted[purpose.key]);
    if (refusedNow.length) {
      const interim = Object.assign({}, decisions);
      refusedNow.forEach((purpose) => { interim[purpose.key] = false; });
      apply(interim, 'choice');
    }
    const body = { method };
    if (method === 'custom') body.decisions = wanted;
    if (reoptin) body.reoptin_confirmed = true;
    record(body);
  }

  // Records a choice with the service and, once recorded, keeps and applies it.
  function record(body) {
    const visitorId = stored ? stored.visitorId : newVisitorId || uuid4();
    Object.assign(body, {
      property, visitor_id: visitorId, policy_version: config.policy.version, gpc
    });
    // A signed-in customer's browser is linked first, so the receipt, and the consent.changed
    // event a shop's backend keys on customer_ref, are the customer's from the start.
    identify(visitorId)
      .then(() => requestJson(base + '/v1/consents' + regionQuery, body))
      .then((recorded) => {
        stored = {
          visitorId, receiptId: recorded.receipt_id, at: Date.now(),
          policyVersion: recorded.payload.policy.version,
          decisions: fromReceipt(recorded.payload.decisions)
        };
        status = 'current';
        view.scope = null;
        writeCookie(cookieName, encodeChoice(stored), cookieDays());
        keepToken(recorded.token);
        storage((local) => local.setItem(receiptKey, recorded.receipt));
        apply(effectiveDecisions(config, stored, gpc, Date.now()), 'choice');
      }).catch((error) => {
        // Say why on the page's console: a browser hides a refused origin's answer from the
        // page, so name the setting that allows it (the service's log names it too).
        if (window.console) {
          console.warn('consent widget: the choice was not recorded (' + error.message + '). If ' +
            'the service is up, add this page\'s origin ' + location.origin + ' to "Allowed ' +
            'origins" at ' + base + '/admin/properties/' + property);
        }
        // Not recorded, so nothing may rely on it: every non-essential purpose stays off here,
        // and the banner asks again on the next page.
        const refused = {};
        config.purposes.forEach((purpose) => { refused[purpose.key] = purpose.essential; });
        apply(refused, 'choice');
      });
  }

  const view = {
    choose, openPreferences, restoreFocus, gpcForcesOff, base, property, layer, displayed,
    decisions: () => decisions,
    visitor: () => stored && stored.visitorId,
    receipt: () => storage((local) => local.getItem(receiptKey)),
    dismiss: closeBanner
  };

  // The cookie outlives the choice's lifetime where a refusal must be remembered longer.
  const cookieDays = () => Math.max(config.jurisdiction.consent_lifetime_days,
    31 * (config.jurisdiction.reask_floor_months || 0));

  // `atLoad`: the banner a page load shows, which the visitor did not ask for.
  function showLayer(element, focus, atLoad) {
    focusBeforeBanner = document.activeElement;
    banner = element;
    document.body.append(banner);
    reopen.hidden = true;
    displayed(!atLoad);
    // Move focus in, unless the visitor is already busy elsewhere on the page.
    if (focus || !focusBeforeBanner || focusBeforeBanner === document.body) banner.focus();
  }

  const showFirstLayer = (reason, atLoad) => showLayer(showBanner(view, reason), false, atLoad);

  function start(body, held) {
    if (!body || !Array.isArray(body.purposes) || !body.policy || !body.policy.version) {
      throw new Error('the banner has no purposes or no policy in effect');
    }
    config = body;
    view.config = config;
    view.gpcHonoured = gpc && config.jurisdiction.gpc_honoured;
    view.gpcStatus = view.gpcHonoured && config.jurisdiction.gpc_status_display;
    const next = held ? mergeChoice(stored, held) : stored;
    if (next !== stored) {
      // The kept receipt is no longer the current one (or the visitor was erased).
      storage((local) => local.removeItem(receiptKey));
      writeCookie(cookieName, next ? encodeChoice(next) : '', next ? cookieDays() : 0);
      stored = next;
    }
    if (held && (held.token || !next)) keepToken(held.token);
    if (stored) identify(stored.visitorId);
    status = choiceStatus(config, stored, Date.now());
    if (/^(policy_changed|incomplete)$/.test(status)) view.scope = askedKeys(config, stored, Date.now());
    const effective = effectiveDecisions(config, stored, gpc, Date.now());
    apply(effective, 'load');
    watchTags(allowed);
    reopen = reopenButton(view);
    document.body.append(reopen);
    // GPC is an opt-out the service must know of (CCPA regulations §7025(c)): recorded, without
    // asking, when the stored choice grants what it switches off or, outside opt-in regimes,
    // when there is no choice yet. The recorded choice then answers the banner's question.
    const offered = config.purposes.filter((p) => !p.essential);
    const gpcUnrecorded = stored ? offered.some((p) => gpcForcesOff(p) && stored.decisions[p.key])
      : config.jurisdiction.regime !== 'opt_in';
    if (view.gpcHonoured && gpcUnrecorded) {
      const wanted = {};
      offered.forEach((p) => { wanted[p.key] = effective[p.key]; });
      status = 'current';
      record({ method: 'gpc', decisions: wanted });
    }
    if (status === 'current') reopen.hidden = false;
    else showFirstLayer(status, true);
    if (openWhenReady) openPreferences(document.activeElement);
  }

  // A stored choice is checked against the service's before anything applies: a withdrawal
  // on the preferences page, or consent the shop's backend recorded, wins over the cookie.
  // The same look-up renews the consent token when it nears its end (or is missing).
  stored = decodeChoice(readCookie(cookieName));
  const token = heldToken(tokenClaims(readCookie(tokenCookie)), Date.now());
  const loaded = [
    requestJson(base + '/v1/banner?' + query), loadStyles(base + '/v1/widget.css'), domReady(),
    stored && requestJson(base + '/v1/visitors/' + stored.visitorId + '/choice?' +
      new URLSearchParams({ property, token })),
    stub && stub.ads // the other platforms' adapters, which the stub fetches when enabled
  ];
  Promise.all(loaded)
    .then((results) => {
      adapters = results[4] && results[4](results[0], stub);
      start(results[0], results[3]);
      // Without the stub (README: put it first), the platforms the property enables get
      // their adapters late, but still before the next change.
      if (!stub && config.platforms.length) {
        lazy('widget-ads.js', 'consent:ads').then((install) => {
          adapters = install(config, null);
          adapters(decisions);
        }, () => {});
      }
    })
    .catch((error) => {
      toGpp('fail');
      if (window.console) console.warn('consent widget: failing closed:', error);
    })
    .then(loadGpp);
}

main();
