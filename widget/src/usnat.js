// IAB GPP string for the MSPA US National section (usnat, section 7), per standards.md §3.
// Pure functions: gpp.js calls them; widget/tests/usnat.test.js decodes what they make
// with IAB's own library (@iabgpp/cmpapi) and checks it field by field.

const USNAT_SECTION_ID = 7;

// Core segment fields in encoding order: [name, bits, repeat]. This is the layout of version 2
// of the section (usnat spec v2.0, October 2024: 16 sensitive-data and 3 known-child entries);
// version 1 had 12 and 2, so the Version field must say 2.
const USNAT_CORE_FIELDS = [
  ['Version', 6],
  ['SharingNotice', 2],
  ['SaleOptOutNotice', 2],
  ['SharingOptOutNotice', 2],
  ['TargetedAdvertisingOptOutNotice', 2],
  ['SensitiveDataProcessingOptOutNotice', 2],
  ['SensitiveDataLimitUseNotice', 2],
  ['SaleOptOut', 2],
  ['SharingOptOut', 2],
  ['TargetedAdvertisingOptOut', 2],
  ['SensitiveDataProcessing', 2, 16],
  ['KnownChildSensitiveDataConsents', 2, 3],
  ['PersonalDataConsents', 2],
  ['MspaCoveredTransaction', 2],
  ['MspaOptOutOptionMode', 2],
  ['MspaServiceProviderMode', 2]
];

// A purpose's opt-out category -> the [notice, opt-out] fields it sets.
const USNAT_OPT_OUTS = {
  sale: ['SaleOptOutNotice', 'SaleOptOut'],
  sharing: ['SharingOptOutNotice', 'SharingOptOut'],
  targeted_advertising: ['TargetedAdvertisingOptOutNotice', 'TargetedAdvertisingOptOut']
};

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const intBits = (value, width) => (value >>> 0).toString(2).padStart(width, '0');

// Fibonacci code of n >= 1 (1 -> "11", 2 -> "011", 4 -> "1011"): Zeckendorf bits, then "1".
function fibonacciBits(n) {
  const fibs = [1, 2];
  while (fibs[fibs.length - 1] <= n) fibs.push(fibs[fibs.length - 1] + fibs[fibs.length - 2]);
  let bits = '';
  for (let i = fibs.length - 1; i >= 0; i--) {
    const used = fibs[i] <= n;
    if (used) n -= fibs[i];
    if (used || bits) bits = (used ? '1' : '0') + bits;
  }
  return bits + '1';
}

// The reference library pads to a whole byte, then to a whole base64 character.
function bitsToBase64url(bits) {
  while (bits.length % 8) bits += '0';
  while (bits.length % 6) bits += '0';
  let out = '';
  for (let i = 0; i < bits.length; i += 6) out += BASE64URL[parseInt(bits.substr(i, 6), 2)];
  return out;
}

// Header: Type 3, Version 1, then the ascending section ids as a Range(Fibonacci): each run of
// consecutive ids is one group (start offset, then length - 1), a lone id a single offset.
function gppHeader(sectionIds) {
  const runs = [];
  sectionIds.forEach((id) => {
    const last = runs[runs.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else runs.push([id, id]);
  });
  let bits = intBits(3, 6) + intBits(1, 6) + intBits(runs.length, 12);
  let previous = 0;
  runs.forEach(([start, end]) => {
    bits += start === end ? '0' : '1';
    bits += fibonacciBits(start - previous) + (start === end ? '' : fibonacciBits(end - start));
    previous = end;
  });
  return bitsToBase64url(bits);
}

// The whole GPP string for a visitor to whom only usnat applies, GPC subsection included.
function encodeUsnat(fields) {
  let core = '';
  USNAT_CORE_FIELDS.forEach(([name, width, repeat]) => {
    const values = repeat ? fields[name] || [] : [fields[name]];
    for (let i = 0; i < (repeat || 1); i++) core += intBits(values[i] || 0, width);
  });
  const gpc = intBits(1, 2) + (fields.Gpc ? '1' : '0');
  return gppHeader([USNAT_SECTION_ID]) + '~' + bitsToBase64url(core) + '.' + bitsToBase64url(gpc);
}

// The usnat fields for the property's purposes and the visitor's decisions ({key: bool}).
// A category the property uses gets notice 1 and opt-out 1 (opted out) unless a granted
// purpose still carries it (2, did not opt out); a category it never uses stays 0 (N/A).
function usnatFields(purposes, decisions, gpc) {
  const fields = {};
  USNAT_CORE_FIELDS.forEach(([name, , repeat]) => {
    fields[name] = repeat ? new Array(repeat).fill(0) : 0;
  });
  Object.assign(fields, { Version: 2, MspaCoveredTransaction: 2, Gpc: !!gpc });
  Object.keys(USNAT_OPT_OUTS).forEach((category) => {
    const [notice, optOut] = USNAT_OPT_OUTS[category];
    const carriers = purposes.filter((p) => p.opt_out_categories.indexOf(category) >= 0);
    fields[notice] = carriers.length ? 1 : 0;
    fields[optOut] = !carriers.length ? 0 : carriers.some((p) => decisions[p.key]) ? 2 : 1;
  });
  fields.SharingNotice = fields.SharingOptOutNotice;
  return fields;
}
