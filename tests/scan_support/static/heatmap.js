'use strict';
// Fault 3: an untagged session-recording script whose cookie no vendor in the list declares.
document.cookie = '_hjSessionUser_123=hj.' + Date.now() + '; Path=/; Max-Age=31536000';
