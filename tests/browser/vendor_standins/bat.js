'use strict';
// Stand-in for Microsoft's UET tag (bat.js). The shop's snippet keeps calls in the flat
// window.uetq array until this loads, then builds `new UET({ ..., q: uetq })` and pushes
// 'pageLoad' on it. Commands read as UET reads them: ('consent', command, state) and
// ('event', action, params) take three items, anything else one.
window.UET = function UET(options) {
  const take = (items) => {
    for (let i = 0; i < items.length;) {
      const size = items[i] === 'consent' || items[i] === 'event' ? 3 : 1;
      window.__record('uet', items.slice(i, i + size));
      i += size;
    }
  };
  take(options.q || []);
  this.push = function () { take(Array.from(arguments)); };
};
