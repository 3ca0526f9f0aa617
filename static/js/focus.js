/* Keyboard focus after htmx swaps.
 *
 * When a form or a link the user acted on is swapped by htmx, focus would drop to <body> and a
 * keyboard or screen-reader user would start again from the top of the page. Instead focus
 * moves to the first field with an error, else the form's error notice, else the new content's
 * heading (the wizard's next step), else the new content itself. Swaps nobody asked for (the
 * code panel's refresh, a queue's polling) leave focus alone. The page title says "Error: "
 * while a form on the page shows an error summary. No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  var FOCUSABLE = "input, select, textarea, button, a[href]";
  var pending = null; // the request the user started (a submit or a click), until it settles

  function place(target) {
    if (!target.matches(FOCUSABLE)) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  function focusWithin(root) {
    var target =
      root.querySelector('[aria-invalid="true"]') ||
      root.querySelector(".error-summary, .form-error") ||
      root.querySelector("h1, h2");
    place(target || root);
  }

  function syncTitle() {
    var prefix = document.body.getAttribute("data-error-prefix") || "";
    var title = document.title;
    var shown = title.indexOf(prefix) === 0;
    if (document.querySelector(".error-summary")) {
      if (!shown) document.title = prefix + title;
    } else if (shown && prefix) {
      document.title = title.slice(prefix.length);
    }
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var trigger = evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent;
    pending = trigger && (trigger.type === "submit" || trigger.type === "click") ? evt.detail.xhr : null;
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    syncTitle();
    if (!pending || evt.detail.xhr !== pending) return;
    pending = null;
    var root = evt.target;
    if (!root || !root.isConnected) return;
    focusWithin(root);
  });

  // A link in an error summary focuses its field (a list of boxes: the first box).
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    evt.preventDefault();
    place(field.matches(FOCUSABLE) ? field : field.querySelector(FOCUSABLE) || field);
  });

  // A whole page with errors (a form sent without htmx): start at its first field in error.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) focusWithin(summary.closest("form") || summary);
  });
})();
