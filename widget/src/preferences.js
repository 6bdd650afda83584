// The preferences layer, loaded only when a visitor asks for it (widget-preferences.js): one
// switch per purpose, its vendors and their cookies, the policy and rulebook links, the
// visitor's last receipt to download, and the way to the service's own preferences page; and
// the re-opt-in step.

// Cookie lifetimes are ISO 8601 durations (P30D, P6M, PT30M); the visitor reads them in the
// layer's language ("30 days", "6 Monate", "1 an"). Anything else ("session") stays as written,
// and so does everything where the browser's Intl lacks unit formatting.
const DURATION =
  /^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const DURATION_UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];

function formatDuration(text, locale) {
  const match = DURATION.exec(text);
  if (!match) return text;
  try {
    const parts = DURATION_UNITS.map((unit, index) => match[index + 1] &&
      new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' })
        .format(Number(match[index + 1]))).filter(Boolean);
    return Intl.ListFormat ?
      new Intl.ListFormat(locale, { type: 'unit', style: 'long' }).format(parts) : parts.join(' ');
  } catch (error) {
    return text;
  }
}

function vendorDetails(view, purpose) {
  const vendors = view.config.vendors.filter((vendor) => purpose.vendors.indexOf(vendor.key) >= 0);
  return vendors.length > 0 && h('details', { class: 'cw-vendors' },
    h('summary', null, view.config.texts.vendors_heading + ' (' + vendors.length + ')'),
    h('ul', null, vendors.map((vendor) => h('li', null,
      link(vendor.privacy_policy_url, vendor.name), ' (' + vendor.country + ')',
      h('ul', { class: 'cw-cookies' }, vendor.cookies.map((cookie) => h('li', null,
        h('code', null, cookie.name),
        ' ' + formatDuration(cookie.duration, view.config.locale) + ' — ' + cookie.description)))))));
}

function purposeItem(view, purpose, initial, switches) {
  const id = 'cw-p-' + purpose.key;
  const locked = purpose.essential || view.gpcForcesOff(purpose);
  const toggle = h('input', {
    type: 'checkbox', role: 'switch', id, class: 'cw-switch', disabled: locked,
    'aria-describedby': id + '-d'
  });
  toggle.checked = purpose.essential || (!locked && initial[purpose.key]);
  if (!purpose.essential) switches[purpose.key] = toggle;
  return h('li', { class: 'cw-purpose' },
    h('div', { class: 'cw-row' }, h('label', { for: id }, purpose.name), toggle),
    h('p', { id: id + '-d', class: 'cw-small' },
      purpose.essential && h('strong', null, view.config.texts.always_on + '. '),
      purpose.description),
    vendorDetails(view, purpose));
}

// Everything else (every choice, its receipts, the person's data) is on the service's own
// preferences page. The link is real (keyboard, new tab: the sign-in page); a click signs a
// stored visitor straight in with a short-lived link the service makes for it.
function manageLink(view) {
  const fallback = view.base + '/preferences/?property=' + encodeURIComponent(view.property);
  const go = (url) => location.assign(url);
  return h('a', {
    href: fallback,
    click(event) {
      const visitorId = view.visitor();
      if (!visitorId || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      fetch(view.base + '/v1/preferences/link', {
        method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ property: view.property, visitor_id: visitorId })
      }).then((response) => (response.ok ? response.json() : Promise.reject()))
        .then((link) => go(link.url), () => go(fallback));
    }
  }, view.config.texts.manage_link || 'Manage all choices, receipts and your data');
}

// The preferences layer: a modal <dialog> (the browser traps focus and makes the page inert;
// Escape closes it without recording anything). `offCategories` come from a rulebook link.
function showPreferences(view, opener, offCategories) {
  const config = view.config;
  const texts = config.texts;
  const switches = {};
  const offer = (categories) => config.purposes.forEach((purpose) => {
    const hit = purpose.opt_out_categories.some((c) => categories.indexOf(c) >= 0);
    if (hit && switches[purpose.key]) switches[purpose.key].checked = false;
  });
  const receipt = view.receipt();
  const receiptUrl = receipt &&
    URL.createObjectURL(new Blob([receipt], { type: 'application/jose' }));
  let answered = false;
  const finish = (method) => {
    answered = true;
    const chosen = {};
    Object.keys(switches).forEach((key) => { chosen[key] = switches[key].checked; });
    dialog.close();
    view.choose(method, chosen);
  };
  const dialog = h('dialog', rootAttributes(view, {
    class: 'cw cw-prefs', 'aria-labelledby': 'cw-p-title', 'aria-modal': 'true'
  }),
  h('div', { class: 'cw-head' },
    h('h2', { id: 'cw-p-title', class: 'cw-title' }, texts.title),
    h('button', {
      type: 'button', class: 'cw-close', 'aria-label': texts.close || 'Close',
      click: () => dialog.close()
    }, '×')),
  // Only the middle scrolls: the answers stay in a footer the visitor always sees, however
  // many purposes there are and however small the screen (as vanilla-cookieconsent does).
  h('div', { class: 'cw-body' },
    view.gpcHonoured && h('p', { class: 'cw-note' }, texts.gpc_honoured),
    h('h3', null, texts.purposes_heading),
    h('ul', { class: 'cw-purposes' },
      config.purposes.map((purpose) => purposeItem(view, purpose, view.decisions(), switches))),
    h('p', { class: 'cw-links' },
      config.documents.map((doc) => link(doc.url, doc.title)),
      jurisdictionLinks(view, (target, categories) => offer(categories)),
      receiptUrl && h('a', { href: receiptUrl, download: 'consent-receipt.jws' },
        texts.download_receipt || 'Download receipt'),
      manageLink(view))),
  h('div', { class: 'cw-actions cw-foot' },
    button('primary', texts.reject_all, () => finish('reject_all')),
    button('primary', texts.accept_all, () => finish('accept_all')),
    button('secondary', texts.save, () => finish('custom'))));
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (receiptUrl) URL.revokeObjectURL(receiptUrl);
    if (!answered) view.displayed(false); // closed without an answer: nothing is awaited
    view.restoreFocus(opener);
  });
  offer(offCategories || []);
  document.body.append(dialog);
  dialog.showModal();
  view.displayed(true, true);
}

// Opting back in to a sale or sharing the visitor opted out of takes a second, explicit step
// where the rulebook says so (CCPA regulations §7028). Rare, so it waits here, not in the first
// layer; it is the banner's frame (view.layer) with the question and two answers.
const showConfirm = (view, confirm, cancel) => view.layer(view,
  h('p', { id: 'cw-description' }, view.config.texts.reoptin_confirm),
  h('div', { class: 'cw-actions' },
    button('primary', view.config.texts.confirm, confirm),
    button('secondary', view.config.texts.cancel || view.config.texts.close, cancel)));

// Hands the layers to the widget that loaded this file, without a global.
document.dispatchEvent(new CustomEvent('consent:preferences', {
  detail: { preferences: showPreferences, confirm: showConfirm }
}));
