'use strict';
// Stand-in for Google's gtag.js: records the commands dataLayer held when it loaded.
window.__record('gtag', [window.dataLayer.map((entry) => Array.from(entry).slice(0, 2))]);
