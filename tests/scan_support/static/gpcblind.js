'use strict';
// Fault 4: an ad partner's script tagged with the wrong purpose: it waits for analytics,
// which GPC does not switch off, so a GPC visitor's data is still shared.
document.cookie = 'gb_id=gb.' + Date.now() + '; Path=/; Max-Age=31536000';
