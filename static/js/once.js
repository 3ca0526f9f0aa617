/* A form sent with htmx is sent once: while its request is in flight, and after an answer that
 * leads to another page (HX-Redirect: the browser is on its way there), its submit buttons are
 * disabled, so a second tap cannot send it again. An answer that shows the form again (its
 * errors, the next step) enables them. The server refuses a repeated step all the same (a
 * double tap without JavaScript, or a slow network): this only spares the user the surprise.
 * Nor is a posted page's form sent again by Back or a reload (below).
 * No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  function buttons(form) {
    // form.elements holds the buttons outside the form that name it (form="...") too.
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.type === "submit";
    });
  }

  function setBusy(form, busy) {
    buttons(form).forEach(function (button) {
      button.disabled = busy;
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.tagName === "FORM") setBusy(form, true);
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (!form || form.tagName !== "FORM" || !form.isConnected) return;
    var xhr = evt.detail.xhr;
    var leaving = xhr && xhr.getResponseHeader && xhr.getResponseHeader("HX-Redirect");
    if (!leaving) setBusy(form, false);
  });

  // A page that answers a posted form (a question asked first, a form drawn again with its
  // errors) stands in the history as its address asked with GET: Back to it, or a reload,
  // never posts the form again (pages are never stored, so the browser would ask to resend
  // it, or show an error). Asked with GET, a step's address leads to its page
  // (core.errors.page_of_step).
  if (document.body && document.body.hasAttribute("data-posted") && window.history.replaceState) {
    window.history.replaceState(window.history.state, "", window.location.href);
  }

  // Back to a page the browser kept as it was (its forms still busy): usable again.
  window.addEventListener("pageshow", function (evt) {
    if (!evt.persisted) return;
    document.querySelectorAll('form[aria-busy="true"]').forEach(function (form) {
      setBusy(form, false);
    });
  });
})();
