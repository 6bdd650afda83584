// The IAB GPP CMP API v1.1 (standards.md §3.4), `__gpp(command, callback, parameter)`: its own
// bundle (widget-gpp.js, with gpp-stub.js and usnat.js), loaded once the banner's answer is in,
// in every region (vendors ask everywhere, and outside the US they must hear
// `applicableSections: [-1]`). Until then the page's stub (the shop's stub file or IAB's)
// answers and queues, and this takes over its queue and its listeners; a page without one had
// only the widget's placeholder, which queued every call, and gets the full stub (its locator
// frame and postMessage handler) now.
//
// Only usnat is emitted, with MspaCoveredTransaction 2 (the shop is not declared an MSPA
// signatory). The state sections (usca, usva, usco, usct ...) are the publisher's choice under
// the spec (implementation guidelines §2.2, §3.3-3.4: a CMP need not support every section, and
// applicableSections names the one the CMP determined applies); nothing there asks a CMP to add
// them beside usnat, so the widget does not.

// `calls`: what the widget did before this loaded, and the calls vendors made to its
// placeholder (`own`: the widget put one there), replayed in order so that listeners hear the
// same events as if the API had been there all along. Returns the widget's handle:
// update(config, decisions, gpc) after every change of decisions; display(visible, waiting) when
// a layer shows or goes (waiting: the visitor's answer is still to come); fail(); call(...).
function installGpp(calls, own) {
  if (own) window.__gpp = null; // the widget's placeholder: the full stub takes its place
  installGppStub(); // where the page has no stub of its own
  const state = {
    cmpStatus: 'loading', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
    fields: null, string: ''
  };
  const listeners = {};

  // The usnat section as GPP callers read it: the core segment, then the GPC subsection.
  const section = () => {
    if (!state.fields) return null;
    const core = Object.assign({}, state.fields);
    delete core.Gpc;
    return [core, { SubsectionType: 1, Gpc: state.fields.Gpc }];
  };
  const ping = () => ({
    gppVersion: '1.1',
    cmpStatus: state.cmpStatus,
    cmpDisplayStatus: state.cmpDisplayStatus,
    signalStatus: state.signalStatus,
    supportedAPIs: ['7:usnat'],
    cmpId: 1, // not a registered CMP (the MSPA has no registration)
    sectionList: state.fields ? [USNAT_SECTION_ID] : [],
    applicableSections: state.fields ? [USNAT_SECTION_ID] : [-1],
    gppString: state.string,
    parsedSections: state.fields ? { usnat: section() } : {}
  });
  // One vendor's exception must never keep the others (or the visitor's choice) from going on:
  // it is reported on the console, as window.consent's listeners' are.
  const emit = (eventName, data) => Object.keys(listeners).forEach((id) => {
    const listener = listeners[id];
    try {
      if (listener) listener({ eventName, listenerId: +id, data, pingData: ping() }, true);
    } catch (error) {
      setTimeout(() => { throw error; });
    }
  });
  // Changes a status and fires its event, only when it does change.
  const set = (key, value) => {
    if (state[key] !== value) emit(key, state[key] = value);
  };
  const commands = {
    ping: (callback) => callback(ping(), true),
    addEventListener(callback) {
      const listenerId = nextId++;
      listeners[listenerId] = callback;
      callback({ eventName: 'listenerRegistered', listenerId, data: true, pingData: ping() }, true);
    },
    removeEventListener(callback, listenerId) {
      const known = listenerId in listeners;
      delete listeners[listenerId];
      callback({ eventName: 'listenerRemoved', listenerId, data: known, pingData: ping() }, true);
    },
    hasSection: (callback, name) => callback(!!state.fields && name === 'usnat', true),
    getSection: (callback, name) => callback(name === 'usnat' ? section() : null, true),
    getField(callback, path) {
      const [name, field] = String(path).split('.');
      const segment = name === 'usnat' && state.fields ? state.fields : {};
      callback(field in segment ? segment[field] : null, true);
    }
  };

  // The stub's queue and listeners (IAB's stub hands them over the same way as ours).
  const stub = window.__gpp;
  const take = (...what) => {
    try {
      return stub(...what) || stub[what[0] || 'queue'] || []; // __gpp() is the queue
    } catch (error) {
      return []; // no stub, or none we know
    }
  };
  const queued = take();
  take('events').forEach((event) => { listeners[event.id] = event.callback; });
  let nextId = Math.max(0, ...Object.keys(listeners)) + 1;
  window.__gpp = function __gpp(command, callback, parameter) {
    if (typeof callback !== 'function') return;
    if (commands.hasOwnProperty(command)) commands[command](callback, parameter);
    else callback(null, false);
  };

  const handle = {
    update(config, decisions, gpc) {
      set('cmpStatus', 'loaded');
      set('signalStatus', 'not ready');
      // GPP's US sections are for US visitors; elsewhere no section applies.
      state.fields = /^US/.test(config.jurisdiction.code) ?
        usnatFields(config.purposes, decisions, gpc) : null;
      const string = state.fields ? encodeUsnat(state.fields) : '';
      if (string !== state.string) {
        state.string = string;
        emit('sectionChange', 'usnat');
      }
      set('signalStatus', 'ready');
    },
    // "not ready" first while the visitor has a say (a layer they opened, a choice on its way),
    // "ready" again once a layer goes without an answer (GPP CMP API, event order example 2).
    display(visible, waiting) {
      if (waiting) set('signalStatus', 'not ready');
      set('cmpDisplayStatus', visible ? 'visible' : 'hidden');
      if (!waiting && state.cmpStatus === 'loaded') set('signalStatus', 'ready');
    },
    fail() {
      set('cmpStatus', 'error');
      emit('error', 'the consent service could not be reached');
    },
    call: (...args) => window.__gpp(...args)
  };
  calls.forEach((call) => handle[call[0]].apply(null, call.slice(1)));
  // Calls queued before this loaded run now, in order, against the current state.
  queued.forEach((args) => window.__gpp.apply(window, args));
  return (method, ...args) => handle[method].apply(null, args);
}

document.dispatchEvent(new CustomEvent('consent:gpp', { detail: installGpp }));
