/* The parts of a page that refresh themselves (data-background-refresh: the code panel, a
 * pass, a queue) say so in their own requests (X-Background-Refresh), and only in those: a
 * link or a form inside them is a person's click. The server answers such a refresh that
 * meets its own trouble (5xx) with nothing, so the panel keeps what it shows and asks again
 * at its next turn, where a click gets the whole error page (core/errors.py).
 * A header set with hx-headers would reach the links inside too (htmx collects it from every
 * ancestor): hence this listener. No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-background-refresh")) {
      evt.detail.headers["X-Background-Refresh"] = "1";
    }
  });
})();
