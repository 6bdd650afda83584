// The first layer and the persistent "privacy choices" button. The second step of a re-opt-in
// is in the preferences bundle (it needs the frame below: view.layer).

// A first-layer-like dialog: the banner's frame around `children` (view.layer elsewhere).
const layer = (view, ...children) => h('div', rootAttributes(view, {
  id: 'cw-banner', class: 'cw cw-banner', role: 'dialog', tabindex: '-1',
  'aria-labelledby': 'cw-title', 'aria-describedby': 'cw-description',
  // Escape puts the banner away for this page without recording anything: not consent.
  keydown: (event) => { if (event.key === 'Escape') view.dismiss(); }
}), h('h2', { id: 'cw-title', class: 'cw-title' }, view.config.texts.title), children);

// The buttons are the rulebook's (`first_layer`, in its order): the button's key is also its
// text's key and the method it records. Answers share one class, so refusing is exactly as
// prominent as accepting wherever both are offered.
function showBanner(view, reason) {
  const texts = view.config.texts;
  const rule = view.config.jurisdiction;
  // A re-ask limited to some purposes names them; its answers apply to them alone.
  const asked = view.scope && view.config.purposes.filter((p) => view.scope.indexOf(p.key) >= 0);
  return layer(view,
    h('div', { id: 'cw-description' },
      (reason === 'policy_changed' || asked) && h('div', { class: 'cw-note' },
        reason === 'policy_changed' && texts.policy_changed,
        asked && h('ul', { class: 'cw-scope' }, asked.map((p) => h('li', null, p.name)))),
      view.gpcHonoured && h('p', { class: 'cw-note' }, texts.gpc_honoured),
      h('p', null, texts.description, ' ', link(view.config.policy.url, texts.policy_link))),
    rule.links.length > 0 &&
      h('p', { class: 'cw-links' }, jurisdictionLinks(view, view.openPreferences)),
    h('div', { class: 'cw-actions' }, rule.first_layer.map((key) => (key === 'customize' ?
      button('secondary', texts.customize, (event) => view.openPreferences(event.currentTarget)) :
      button('primary', texts[key], () => view.choose(key))))));
}

// Withdrawing must be as easy as giving: this stays on every page once the banner is away,
// with the opt-out status the law wants on the page (CCPA regulations §7025(c)(6)).
const reopenButton = (view) => h('button', rootAttributes(view, {
  type: 'button', class: 'cw cw-reopen', hidden: true,
  click: (event) => view.openPreferences(event.currentTarget)
}), view.config.texts.privacy_choices, view.gpcStatus && h('span', { class: 'cw-status' },
  view.config.texts.gpc_status || 'Opt-Out Request Honored'));
