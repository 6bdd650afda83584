// The first layer and the persistent "privacy choices" button.

function showBanner(view, reason) {
  const texts = view.config.texts;
  const rule = view.config.jurisdiction;
  const banner = h('div', rootAttributes(view, {
    id: 'cw-banner', class: 'cw cw-banner', role: 'dialog', tabindex: '-1',
    'aria-labelledby': 'cw-title', 'aria-describedby': 'cw-description',
    // Escape puts the banner away for this page without recording anything: not consent.
    keydown: (event) => { if (event.key === 'Escape') view.dismiss(); }
  }),
  h('h2', { id: 'cw-title', class: 'cw-title' }, texts.title),
  h('div', { id: 'cw-description' },
    reason === 'policy_changed' && h('p', { class: 'cw-note' }, texts.policy_changed),
    view.gpcHonoured && h('p', { class: 'cw-note' }, texts.gpc_honoured),
    h('p', null, texts.description, ' ', link(view.config.policy.url, texts.policy_link))),
  rule.links.length > 0 &&
    h('p', { class: 'cw-links' }, jurisdictionLinks(view, view.openPreferences)),
  // Refusing is exactly as prominent as accepting where the law asks for it on this layer.
  h('div', { class: 'cw-actions' },
    button('primary', texts.accept_all, () => view.choose('accept_all')),
    rule.reject_all_first_layer &&
      button('primary', texts.reject_all, () => view.choose('reject_all')),
    button('secondary', texts.customize, (event) => view.openPreferences(event.currentTarget))));
  document.body.append(banner);
  return banner;
}

// Withdrawing must be as easy as giving: this stays on every page once the banner is away.
const reopenButton = (view) => h('button', rootAttributes(view, {
  type: 'button', class: 'cw cw-reopen', hidden: true,
  click: (event) => view.openPreferences(event.currentTarget)
}), view.config.texts.privacy_choices);
