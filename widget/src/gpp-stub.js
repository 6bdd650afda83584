// The IAB GPP CMP API stub (GPP CMP API v1.1, standards.md §3.4): `__gpp` must be a function
// from the first moment a vendor may call it, long before the CMP itself (widget-gpp.js) is
// there. Self-contained on purpose: the shop's synchronous stub file includes this file as it
// is, and the widget installs it too when the page has no stub of its own.
//
// It speaks the protocol of IAB's own stub, so either CMP can take over the other's stub:
// `__gpp()` (or `__gpp('queue')`) hands over the queued calls, `__gpp('events')` the listeners
// registered so far ({id, callback, parameter}); the generic commands answer at once.
// Vendors in iframes find the page by the `__gppLocator` frame and call by postMessage; the
// handler answers through whatever `__gpp` is current, the stub or the CMP.

function installGppStub() {
  if (window.__gpp) return;
  const queue = [];
  const events = [];
  const pingData = () => ({
    gppVersion: '1.1', cmpStatus: 'stub', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
    supportedAPIs: ['7:usnat'], cmpId: 0, sectionList: [], applicableSections: [0],
    gppString: '', parsedSections: {}
  });
  let lastId = 0;
  window.__gpp = (...call) => {
    const [command, callback, parameter] = call;
    if (!call.length || command === 'queue') return queue;
    if (command === 'events') return events;
    const answer = (eventName, listenerId, data) =>
      callback({ eventName, listenerId, data, pingData: pingData() }, true);
    if (command === 'ping') callback(pingData(), true);
    else if (command === 'addEventListener') {
      events.push({ id: ++lastId, callback, parameter });
      answer('listenerRegistered', lastId, true);
    } else if (command === 'removeEventListener') {
      const index = events.findIndex((event) => event.id === +parameter);
      answer('listenerRemoved', parameter, index >= 0 && !!events.splice(index, 1));
    } else if (/^(hasSection|getSection|getField)$/.test(command)) {
      callback(command === 'hasSection' ? false : null, true); // nothing to tell yet
    } else queue.push(call); // anything else waits for the CMP
  };

  // {__gppCall: {command, parameter, version, callId}} -> {__gppReturn: {returnValue, success,
  // callId}}, as a string when it came as one; an event listener hears one reply per event.
  window.addEventListener('message', (event) => {
    const text = typeof event.data === 'string';
    let call = null;
    try {
      call = (text ? JSON.parse(event.data) : event.data).__gppCall;
    } catch (error) {} // someone else's message
    if (call) {
      window.__gpp(call.command, (returnValue, success) => {
        const reply = { __gppReturn: { returnValue, success, callId: call.callId } };
        event.source.postMessage(text ? JSON.stringify(reply) : reply, '*');
      }, call.parameter, call.version);
    }
  });
  // The locator: a script in an iframe looks for an ancestor with a frame of this name. It goes
  // into the body as soon as there is one (this may run in the head).
  const locator = () => {
    if (!document.body) return setTimeout(locator, 10);
    const frame = document.createElement('iframe');
    frame.name = '__gppLocator';
    frame.style.display = 'none'; // through the CSSOM, which a strict CSP allows
    document.body.append(frame);
  };
  locator();
}
