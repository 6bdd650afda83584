// The visitor's stored choice and what it means on this page. Pure functions, mirroring the
// service's decision rule (consent_service/decisions.py) so the page and the integrations
// agree on what may run.

const DAY_MS = 864e5;

// Cookie value: "1|visitor|receipt|policyVersion|unixSeconds|key:1+key:0". Every character is
// allowed in a cookie value as is, so nothing needs escaping.
function encodeChoice(choice) {
  const pairs = Object.keys(choice.decisions).map((k) => k + ':' + (choice.decisions[k] ? 1 : 0));
  return ['1', choice.visitorId, choice.receiptId, choice.policyVersion,
    Math.floor(choice.at / 1000), pairs.join('+')].join('|');
}

function decodeChoice(value) {
  const parts = (value || '').split('|');
  if (parts.length !== 6 || parts[0] !== '1' || !/^[0-9a-f-]{36}$/.test(parts[1])) return null;
  const decisions = {};
  parts[5].split('+').forEach((pair) => {
    const match = /^([a-z0-9_-]+):([01])$/.exec(pair);
    if (match) decisions[match[1]] = match[2] === '1';
  });
  const policyVersion = parseInt(parts[3], 10);
  const at = parseInt(parts[4], 10) * 1000;
  if (!(policyVersion > 0) || !(at > 0)) return null;
  return { visitorId: parts[1], receiptId: parts[2], policyVersion, at, decisions };
}

// `at` plus whole calendar months in UTC, clamped to the month's end (Jan 31 + 1 = Feb 28/29),
// as the service counts them.
function addMonths(at, months) {
  const date = new Date(at);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0));
  date.setUTCDate(Math.min(day, last.getUTCDate()));
  return date.getTime();
}

// The non-essential purposes the stored choice no longer answers: new ones, and those a
// material change touched since (`changed_in`; a service without it names only the policy's
// last material version, which then touches every purpose).
const staleKeys = (config, stored) => config.purposes.filter((p) => !p.essential &&
  (!(p.key in stored.decisions) || stored.policyVersion <
    ('changed_in' in p ? p.changed_in : config.policy.last_material_version)))
  .map((p) => p.key);

const lapsed = (config, stored, now) =>
  now - stored.at > config.jurisdiction.consent_lifetime_days * DAY_MS;

// Whether a stored refusal or opt-out still holds off the questions about it: the rulebook's
// floor, that many calendar months after the choice (CA §1798.135(c)(4); the Garante's 6).
const inFloor = (config, stored, now) =>
  Object.keys(stored.decisions).some((key) => stored.decisions[key] === false) &&
  now < addMonths(stored.at, config.jurisdiction.reask_floor_months || 0);

// What a re-ask may be about: the stale purposes, but inside the floor only those granted
// (a material change to a granted purpose is asked about; nothing refused is asked again).
const askedKeys = (config, stored, now) => {
  const floor = inFloor(config, stored, now);
  return staleKeys(config, stored).filter((key) => !floor || stored.decisions[key]);
};

// Why the banner must ask (again), or 'current' when the stored choice still holds.
function choiceStatus(config, stored, now) {
  if (!stored) return 'none';
  if (!inFloor(config, stored, now) && lapsed(config, stored, now)) return 'expired';
  const asked = askedKeys(config, stored, now);
  if (!asked.length) return 'current';
  return asked.some((key) => key in stored.decisions) ? 'policy_changed' : 'incomplete';
}

// Where the jurisdiction honours it, GPC switches off every purpose with an opt-out category.
const gpcOverrides = (config, purpose, gpc) =>
  gpc && config.jurisdiction.gpc_honoured && purpose.opt_out_categories.length > 0;

// {purpose: bool} in effect: essential on; GPC off; a stored refusal always holds; a stored
// grant only while the choice has not lapsed and no material change touched its purpose since;
// otherwise the regime's default (never on where opt-in applies), except that a grant a
// material change made stale, or a purpose one added since the choice, stays off where the
// law wants fresh consent for it (CO 6.04(B)),
// and a new purpose stays off where the visitor opted out of one of its categories.
function effectiveDecisions(config, stored, gpc, now) {
  const stale = stored && !lapsed(config, stored, now) ? staleKeys(config, stored) : null;
  // An opt-out covers its categories: a purpose added since, in a category the stored choice
  // refused (sale, sharing, targeted advertising), stays off until the visitor says otherwise.
  const refused = [];
  config.purposes.forEach((p) => {
    if (stored && stored.decisions[p.key] === false) refused.push(...p.opt_out_categories);
  });
  const decisions = {};
  config.purposes.forEach((purpose) => {
    const given = stored ? stored.decisions[purpose.key] : undefined;
    let value = purpose.default;
    if (purpose.essential) value = true;
    else if (gpcOverrides(config, purpose, gpc)) value = false;
    else if (given === false || (given && stale && stale.indexOf(purpose.key) < 0)) value = given;
    else if (stale && config.jurisdiction.material_change_consent &&
      (given || stored.policyVersion < purpose.changed_in)) value = false;
    else if (given === undefined && purpose.opt_out_categories.some((c) => refused.includes(c))) {
      value = false;
    }
    decisions[purpose.key] = !!value;
  });
  return decisions;
}

// The service's snapshot ({key: "granted"|"denied"}) as booleans.
function fromReceipt(snapshot) {
  const decisions = {};
  Object.keys(snapshot).forEach((key) => { decisions[key] = snapshot[key] === 'granted'; });
  return decisions;
}

// The stored choice against what the service holds (GET /v1/visitors/<id>/choice): its latest
// receipt wins when it is another one (withdrawn on the preferences page, recorded by the
// shop's backend, chosen on another of the customer's browsers); an erased visitor is
// forgotten (null); otherwise the cookie stands.
function mergeChoice(stored, server) {
  if (server.status === 'erased') return null;
  return server.status !== 'recorded' || server.receipt_id === stored.receiptId ? stored : {
    visitorId: stored.visitorId, receiptId: server.receipt_id,
    policyVersion: server.policy_version, at: Date.parse(server.issued_at),
    decisions: fromReceipt(server.decisions)
  };
}

// A consent token's claims, unverified (the shop's servers verify it): enough to see when it
// ends and which receipt it rests on. Nothing (undefined) for no token or a malformed one.
function tokenClaims(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch (error) {} // not a token: none
}

// What the page-load look-up is told of the token held: the receipt it rests on while more
// than a third of its life is left (a new one comes only if that receipt is no longer the
// latest), else '' (a new one now).
const heldToken = (claims, now) =>
  claims && 3 * (claims.exp - now / 1e3) > claims.exp - claims.iat ? claims.receipt_id : '';
