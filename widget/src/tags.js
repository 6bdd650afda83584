// What runs on the page: tagged scripts and iframes wait for their purposes, and the cookies
// of vendors whose every purpose is refused are deleted.

const TAGGED = 'script[type="text/plain"][data-consent],iframe[data-consent][data-src]';

// data-consent="analytics" or "analytics marketing": every listed purpose must be granted.
const tagPurposes = (element) => element.getAttribute('data-consent').trim().split(/\s+/);

// A copy of the inert script with its real type: only a new element executes.
function activateScript(inert) {
  const script = document.createElement('script');
  Array.prototype.forEach.call(inert.attributes, (attr) => {
    if (attr.name !== 'type') script.setAttribute(attr.name, attr.value);
  });
  if (inert.hasAttribute('data-type')) script.type = inert.getAttribute('data-type');
  script.nonce = inert.nonce; // browsers hide the attribute; the property keeps it
  script.async = false; // tagged scripts run in document order, as written
  script.text = inert.text;
  inert.parentNode.replaceChild(script, inert);
}

// Runs what `allowed(purposes)` permits; unloads iframes it no longer permits. A script that
// already ran cannot be stopped: its cookies go, and the next page load does not run it.
function applyTags(root, allowed) {
  const found = root.matches && root.matches(TAGGED) ? [root] : [];
  found.concat(Array.from(root.querySelectorAll(TAGGED))).forEach((element) => {
    const permitted = allowed(tagPurposes(element));
    if (element.tagName === 'SCRIPT') {
      if (permitted) activateScript(element);
    } else if (permitted && element.getAttribute('src') !== element.getAttribute('data-src')) {
      element.setAttribute('src', element.getAttribute('data-src'));
    } else if (!permitted && element.hasAttribute('src')) {
      element.setAttribute('src', 'about:blank');
    }
  });
}

// Tagged elements added later (single-page apps, tag managers) are handled as they arrive.
function watchTags(allowed) {
  new MutationObserver((mutations) => mutations.forEach((mutation) => {
    mutation.addedNodes.forEach((node) => {
      if (node.nodeType === 1) applyTags(node, allowed);
    });
  })).observe(document.documentElement, { childList: true, subtree: true });
}

// "_ga" names one cookie; "_ga_*" or "_pk_id.*" a family.
const cookiePattern = (name) =>
  new RegExp('^' + name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*') + '$');

// Deletes the first-party cookies of vendors none of whose purposes is granted (a vendor that
// also serves an essential purpose keeps its cookies). Third-party cookies are out of reach.
function clearRefusedCookies(vendors, decisions) {
  const patterns = [];
  vendors.forEach((vendor) => {
    if (vendor.purposes.some((key) => decisions[key])) return;
    vendor.cookies.forEach((cookie) => {
      if (cookie.domain === 'first-party') patterns.push(cookiePattern(cookie.name));
    });
  });
  // A cookie may have been set on this host or any parent domain (as analytics tags do).
  const labels = location.hostname.split('.');
  const domains = [''];
  for (let i = 0; i < labels.length - 1; i++) domains.push('; Domain=' + labels.slice(i).join('.'));
  document.cookie.split(';').forEach((pair) => {
    const name = pair.split('=')[0].trim();
    if (!name || !patterns.some((pattern) => pattern.test(name))) return;
    domains.forEach((domain) => {
      document.cookie = name + '=; Max-Age=0; Path=/' + domain;
    });
  });
}
