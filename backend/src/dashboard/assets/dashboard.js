// Behaviour every dashboard page shares, kept here rather than in inline handlers, which the
// Content-Security-Policy refuses (http/security-headers.ts).
(function () {
  'use strict';
  // A form marked data-reset-on-success empties once htmx's request succeeded (e.g. the
  // blacklist's "add" form, ready for the next IBAN).
  document.addEventListener('htmx:afterRequest', function (event) {
    const form = event.detail.elt;
    if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute('data-reset-on-success')) form.reset();
  });
})();
