'use strict';
// Loads widget sources the way the served bundle does (plain scripts in one strict scope) and
// hands back the named top-level functions, so pure parts can be tested without a browser.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

function load(files, names, globals = {}) {
  const source = files
    .map((file) => fs.readFileSync(path.join(__dirname, '..', 'src', file), 'utf8'))
    .join('\n');
  const context = vm.createContext({ ...globals });
  return vm.runInContext(`'use strict';\n${source}\n;({${names.join(',')}})`, context);
}

module.exports = { load };
