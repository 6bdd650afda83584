'use strict';
// The GPP CMP API v1.1 as vendors meet it: the stub (gpp-stub.js), the CMP that takes it over
// (gpp.js), their event order, listener isolation and the postMessage protocol for iframes;
// and interoperability with IAB's own CMP (@iabgpp/cmpapi), which must be able to take over our
// stub exactly as it takes over IAB's.
const test = require('node:test');
const assert = require('node:assert/strict');
const { CmpApi } = require('@iabgpp/cmpapi');
const { load } = require('./load.js');

// A page just big enough for the GPP files: a window with frames and message listeners, a body
// that keeps what is appended, DOM events, and timers that run at once (errors kept).
function page() {
  const messageListeners = [];
  const window = {
    frames: {},
    addEventListener(type, listener) {
      if (type === 'message') messageListeners.push(listener);
    }
  };
  const document = {
    appended: [],
    body: {
      append(element) {
        document.appended.push(element);
        if (element.name) window.frames[element.name] = element;
      }
    },
    createElement: (tag) => ({ tag, style: {} }),
    dispatchEvent(event) {
      document.handedOver = event.detail;
    }
  };
  const thrown = [];
  const globals = {
    window, document,
    CustomEvent: class {
      constructor(type, init) {
        this.type = type;
        this.detail = init.detail;
      }
    },
    setTimeout(callback) {
      try {
        callback();
      } catch (error) {
        thrown.push(error);
      }
    }
  };
  // A postMessage from an iframe on another origin; returns the replies it gets.
  const post = (data) => {
    const replies = [];
    const source = { postMessage: (message, origin) => replies.push({ message, origin }) };
    messageListeners.forEach((listener) => listener({ data, source }));
    return replies;
  };
  return { globals, window, document, thrown, post };
}

// The stub alone (as the shop's stub file installs it), in a fresh page.
function withStub() {
  const env = page();
  const { installGppStub } = load(['gpp-stub.js'], ['installGppStub'], env.globals);
  installGppStub();
  return env;
}

// The CMP bundle as the service serves it (stub, usnat, CMP), loaded into `env`; returns the
// installer it hands over.
function cmpBundle(env) {
  load(['gpp-stub.js', 'usnat.js', 'gpp.js'], [], env.globals);
  return env.document.handedOver;
}

// Calls __gpp and returns what the callback got (generic commands answer at once).
const call = (window, command, parameter) => {
  let answer = null;
  window.__gpp(command, (data, success) => { answer = { data, success }; }, parameter);
  return answer;
};
const plain = (value) => JSON.parse(JSON.stringify(value));

const CALIFORNIA = {
  jurisdiction: { code: 'US-CA' },
  purposes: [
    { key: 'necessary', opt_out_categories: [] },
    { key: 'advertising', opt_out_categories: ['sale', 'sharing', 'targeted_advertising'] }
  ]
};
const FRANCE = { jurisdiction: { code: 'FR' }, purposes: CALIFORNIA.purposes };
const GRANTED = { necessary: true, advertising: true };
const OPTED_OUT = { necessary: true, advertising: false };

// A listener that records the events it hears, by name (and data).
function recorder() {
  const heard = [];
  const listener = (event, success) => {
    assert.equal(success, true);
    heard.push(event.eventName + (typeof event.data === 'string' ? ':' + event.data : ''));
  };
  return { heard, listener };
}

test('the stub answers the generic commands at once and queues the rest', () => {
  const { window, document } = withStub();
  const ping = call(window, 'ping');
  assert.equal(ping.success, true);
  assert.deepEqual(plain(ping.data), {
    gppVersion: '1.1', cmpStatus: 'stub', cmpDisplayStatus: 'hidden',
    signalStatus: 'not ready', supportedAPIs: ['7:usnat'], cmpId: 0, sectionList: [],
    applicableSections: [0], gppString: '', parsedSections: {}
  });
  const registered = call(window, 'addEventListener');
  assert.equal(registered.data.eventName, 'listenerRegistered');
  assert.equal(registered.data.listenerId, 1);
  assert.equal(registered.data.pingData.cmpStatus, 'stub');
  assert.equal(call(window, 'hasSection', 'usnat').data, false);
  assert.equal(call(window, 'getSection', 'usnat').data, null);
  assert.equal(call(window, 'getField', 'usnat.SaleOptOut').data, null);
  assert.equal(call(window, 'vendorCommand', 'x'), null); // queued, not answered
  assert.equal(window.__gpp().length, 1);
  assert.equal(window.__gpp('queue')[0][0], 'vendorCommand');
  assert.equal(window.__gpp('events').length, 1);
  const removed = call(window, 'removeEventListener', 1);
  assert.deepEqual([removed.data.eventName, removed.data.data], ['listenerRemoved', true]);
  assert.equal(call(window, 'removeEventListener', 1).data.data, false);
  // The locator frame, hidden, for vendors in iframes.
  assert.equal(document.appended.length, 1);
  assert.equal(window.frames.__gppLocator.tag, 'iframe');
  assert.equal(window.frames.__gppLocator.style.display, 'none');
});

test('the stub stays out of the way of a __gpp already on the page', () => {
  const env = page();
  const theirs = () => {};
  env.window.__gpp = theirs;
  load(['gpp-stub.js'], ['installGppStub'], env.globals).installGppStub();
  assert.equal(env.window.__gpp, theirs);
  assert.equal(env.document.appended.length, 0);
});

test("IAB's own CMP takes over our stub: its queue, and its listeners hear the signal", () => {
  const { window } = withStub();
  const { heard, listener } = recorder();
  window.__gpp('addEventListener', listener);
  let queuedAnswer = null;
  window.__gpp('vendorCommand', (data, success) => { queuedAnswer = { data, success }; });
  globalThis.window = window; // IAB's library reads the page's window global
  try {
    const cmp = new CmpApi(1, 1);
    assert.deepEqual(queuedAnswer, { data: null, success: false }); // replayed: unknown there
    cmp.setCmpStatus('loaded');
    cmp.setSignalStatus('ready');
  } finally {
    delete globalThis.window;
  }
  assert.deepEqual(heard, ['listenerRegistered', 'cmpStatus:loaded', 'signalStatus:ready']);
});

test('our CMP takes over the stub: listeners hear loaded, the section, then ready', () => {
  const env = withStub();
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  const queued = [];
  env.window.__gpp('ping', () => {}); // answered by the stub
  env.window.__gpp('vendorCommand', (data, success) => queued.push([data, success]));
  const gpp = cmpBundle(env)([['update', CALIFORNIA, GRANTED, false]], false);
  assert.deepEqual(heard, [
    'listenerRegistered', 'cmpStatus:loaded', 'sectionChange:usnat', 'signalStatus:ready'
  ]);
  assert.deepEqual(queued, [[null, false]]); // run after the state is current
  const ping = call(env.window, 'ping').data;
  assert.equal(ping.cmpStatus, 'loaded');
  assert.equal(ping.cmpId, 1);
  assert.deepEqual(plain(ping.applicableSections), [7]);
  assert.equal(ping.gppString, 'DBABLA~CVQqAAAAAACA.QA');
  assert.equal(ping.parsedSections.usnat[0].Version, 2);
  assert.deepEqual(plain(ping.parsedSections.usnat[1]), { SubsectionType: 1, Gpc: false });
  assert.equal(call(env.window, 'getField', 'usnat.SaleOptOut').data, 2);
  assert.equal(call(env.window, 'hasSection', 'usnat').data, true);
  // The stub's locator frame stays the only one.
  assert.equal(env.document.appended.length, 1);

  gpp('update', CALIFORNIA, OPTED_OUT, false);
  assert.deepEqual(heard.slice(4), ['signalStatus:not ready', 'sectionChange:usnat',
    'signalStatus:ready']);
  assert.equal(call(env.window, 'getField', 'usnat.SaleOptOut').data, 1);
  // A new listener's id does not collide with the stub's.
  assert.equal(call(env.window, 'addEventListener').data.listenerId, 2);
});

test('outside the US no section applies, and the signal is ready at once', () => {
  const env = withStub();
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  cmpBundle(env)([['update', FRANCE, GRANTED, false]], false);
  assert.deepEqual(heard, ['listenerRegistered', 'cmpStatus:loaded', 'signalStatus:ready']);
  const ping = call(env.window, 'ping').data;
  assert.deepEqual(plain(ping.applicableSections), [-1]);
  assert.deepEqual(plain(ping.sectionList), []);
  assert.equal(ping.gppString, '');
  assert.equal(call(env.window, 'getSection', 'usnat').data, null);
});

test('a reopened layer: not ready, visible; closed unanswered: hidden, ready', () => {
  const env = withStub();
  const gpp = cmpBundle(env)([
    ['update', CALIFORNIA, GRANTED, false], ['display', true, false] // the banner at load
  ], false);
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  assert.equal(call(env.window, 'ping').data.signalStatus, 'ready'); // opt-out: ready at once
  gpp('display', false, false); // the banner dismissed
  gpp('display', true, true); // the visitor reopens the choices
  gpp('display', false, false); // and closes them without an answer
  assert.deepEqual(heard, ['listenerRegistered', 'cmpDisplayStatus:hidden',
    'signalStatus:not ready', 'cmpDisplayStatus:visible',
    'cmpDisplayStatus:hidden', 'signalStatus:ready']);
});

test('an answer: not ready, hidden, then the section and ready once it is recorded', () => {
  const env = withStub();
  const gpp = cmpBundle(env)([['update', CALIFORNIA, GRANTED, false]], false);
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  gpp('display', true, true);
  gpp('display', false, true); // "Save": the layer goes, the choice is on its way
  assert.equal(call(env.window, 'ping').data.signalStatus, 'not ready');
  gpp('update', CALIFORNIA, OPTED_OUT, false);
  assert.deepEqual(heard, ['listenerRegistered', 'signalStatus:not ready',
    'cmpDisplayStatus:visible', 'cmpDisplayStatus:hidden', 'sectionChange:usnat',
    'signalStatus:ready']);
});

test("one listener's exception neither stops the others nor the change; it is reported", () => {
  const env = withStub();
  const failure = new Error('a vendor bug');
  env.window.__gpp('addEventListener', (event) => {
    if (event.eventName !== 'listenerRegistered') throw failure;
  });
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  const gpp = cmpBundle(env)([['update', CALIFORNIA, GRANTED, false]], false);
  gpp('update', CALIFORNIA, OPTED_OUT, false);
  assert.deepEqual(heard.slice(-3), ['signalStatus:not ready', 'sectionChange:usnat',
    'signalStatus:ready']);
  assert.equal(call(env.window, 'getField', 'usnat.SaleOptOut').data, 1);
  assert.ok(env.thrown.length >= 3 && env.thrown.every((error) => error === failure));
});

test('iframes call through postMessage, as objects or as JSON strings', () => {
  const env = withStub();
  const stubbed = env.post({ __gppCall: { command: 'ping', callId: 'a', version: '1.1' } });
  assert.equal(stubbed.length, 1);
  assert.equal(stubbed[0].origin, '*');
  assert.equal(stubbed[0].message.__gppReturn.callId, 'a');
  assert.equal(stubbed[0].message.__gppReturn.success, true);
  assert.equal(stubbed[0].message.__gppReturn.returnValue.cmpStatus, 'stub');
  const subscribed = env.post(JSON.stringify({
    __gppCall: { command: 'addEventListener', callId: 'b', version: '1.1' }
  }));
  const gpp = cmpBundle(env)([['update', CALIFORNIA, GRANTED, false]], false);
  gpp('update', CALIFORNIA, OPTED_OUT, false);
  const replies = subscribed.map((reply) => JSON.parse(reply.message).__gppReturn);
  assert.ok(replies.every((reply) => reply.callId === 'b'));
  assert.deepEqual(replies.map((reply) => reply.returnValue.eventName), ['listenerRegistered',
    'cmpStatus', 'sectionChange', 'signalStatus', 'signalStatus', 'sectionChange',
    'signalStatus']);
  const field = env.post({
    __gppCall: { command: 'getField', parameter: 'usnat.SaleOptOut', callId: 'c' }
  });
  assert.deepEqual(plain(field[0].message), {
    __gppReturn: { returnValue: 1, success: true, callId: 'c' }
  });
  for (const foreign of ['not json', '{"other":1}', null, 7, { __tcfapiCall: {} }]) {
    assert.deepEqual(env.post(foreign), []);
  }
  assert.deepEqual(env.thrown, []);
});

test("on a page without a stub, the widget's placeholder queued the calls: all answered", () => {
  const env = page();
  // What the widget leaves: its own events and vendors' calls, in the order they happened.
  const { heard, listener } = recorder();
  let pinged = null;
  const calls = [
    ['call', 'addEventListener', listener],
    ['update', CALIFORNIA, GRANTED, false],
    ['call', 'ping', (data) => { pinged = data; }]
  ];
  env.window.__gpp = () => {}; // the placeholder
  cmpBundle(env)(calls, true);
  assert.deepEqual(heard, ['listenerRegistered', 'cmpStatus:loaded', 'sectionChange:usnat',
    'signalStatus:ready']);
  assert.equal(pinged.signalStatus, 'ready');
  // Now the full API, with the locator frame and the postMessage handler a stub brings.
  assert.equal(env.window.frames.__gppLocator.tag, 'iframe');
  assert.equal(env.post({ __gppCall: { command: 'ping', callId: 1 } })[0]
    .message.__gppReturn.returnValue.cmpStatus, 'loaded');
});

test('a service that cannot answer puts the API in error', () => {
  const env = withStub();
  const { heard, listener } = recorder();
  env.window.__gpp('addEventListener', listener);
  cmpBundle(env)([['fail']], false);
  assert.deepEqual(heard, ['listenerRegistered', 'cmpStatus:error',
    'error:the consent service could not be reached']);
  assert.equal(call(env.window, 'ping').data.cmpStatus, 'error');
});
