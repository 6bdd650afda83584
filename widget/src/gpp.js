// The IAB GPP CMP API (standards.md §3.4), `__gpp(command, callback, parameter)`. Defined at
// once so callers never find it missing; the usnat section is filled in for US visitors.

function installGpp() {
  const state = {
    cmpStatus: 'loading', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
    fields: null, string: ''
  };
  const listeners = {};
  let nextListenerId = 1;

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
  const emit = (eventName, data) => Object.keys(listeners).forEach((id) => {
    listeners[id]({ eventName, listenerId: +id, data, pingData: ping() }, true);
  });
  const commands = {
    ping: (callback) => callback(ping(), true),
    addEventListener(callback) {
      const listenerId = nextListenerId++;
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

  const queued = typeof window.__gpp === 'function' && window.__gpp.queue;
  window.__gpp = function __gpp(command, callback, parameter) {
    if (typeof callback !== 'function') return;
    if (commands.hasOwnProperty(command)) commands[command](callback, parameter);
    else callback(null, false);
  };
  // Calls a stub queued before this script loaded run now, in order.
  if (Array.isArray(queued)) queued.forEach((args) => window.__gpp.apply(window, args));

  return {
    // fields: the usnat fields, or null where no GPP section applies (outside the US).
    update(fields) {
      state.signalStatus = 'not ready';
      emit('signalStatus', state.signalStatus);
      state.fields = fields;
      state.string = fields ? encodeUsnat(fields) : '';
      state.cmpStatus = 'loaded';
      emit('cmpStatus', state.cmpStatus);
      if (fields) emit('sectionChange', 'usnat');
      state.signalStatus = 'ready';
      emit('signalStatus', state.signalStatus);
    },
    display(visible) {
      state.cmpDisplayStatus = visible ? 'visible' : 'hidden';
      emit('cmpDisplayStatus', state.cmpDisplayStatus);
    },
    fail() {
      state.cmpStatus = 'error';
      emit('error', 'the consent service could not be reached');
    }
  };
}
