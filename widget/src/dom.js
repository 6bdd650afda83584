// Building the widget's elements, shared by both bundles. Every text from the service lands
// as text (never markup), and nothing sets inline styles, so a strict CSP needs no
// 'unsafe-inline'.

// Opt-out links the rulebook may require (standards.md §1.2) -> the categories they switch off.
const LINK_OPT_OUTS = {
  do_not_sell_or_share: ['sale', 'sharing', 'targeted_advertising'],
  limit_sensitive: ['sensitive_data']
};

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  Object.keys(attributes || {}).forEach((name) => {
    const value = attributes[name];
    if (typeof value === 'function') element.addEventListener(name, value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value != null) element.setAttribute(name, value);
  });
  [].concat(...children).forEach((child) => {
    if (child != null && child !== false) element.append(child);
  });
  return element;
}

const button = (kind, text, click) =>
  h('button', { type: 'button', class: 'cw-btn cw-' + kind, click }, text);

const link = (href, text) => h('a', { href, target: '_blank', rel: 'noopener' }, text);

// Both layers share the widget's root attributes: language and direction from the config.
const rootAttributes = (view, extra) =>
  Object.assign({ class: 'cw', lang: view.config.locale, dir: view.config.direction }, extra);

// The rulebook's links ("Do Not Sell or Share ..."): each opens the preferences with the
// purposes it names switched off, ready to save.
const jurisdictionLinks = (view, onClick) => view.config.jurisdiction.links.map((rule) =>
  button('link', rule.text, (event) => {
    onClick(event.currentTarget, LINK_OPT_OUTS[rule.key] || []);
  }));

