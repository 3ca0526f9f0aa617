/* A switch of language keeps what was typed. The language form posts and the page comes back
 * in the other language, drawn anew: a form marked data-keep-on-language (by the form macro's
 * `keep`) is saved for that moment in the tab's sessionStorage and put back when the same page
 * comes back, then forgotten. "fields": the typed values go back into their fields (never an
 * ID number's field, whose page clears it, nor passwords or files). "step": a step-by-step form
 * asks the server for the step it was on, with what the earlier steps gathered (sent with
 * htmx as its own steps are, the CSRF token in the header every htmx request carries).
 * Leaving a step-by-step form part-filled (Back, a link, closing the tab) asks first, with
 * the browser's own question: its steps are not pages of the history, and what they gathered
 * would be lost. Not while a form is being sent (the last step leaves the page; the language
 * switch keeps the form, as above).
 * No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  var PREFIX = "jg-keep:";
  // Never kept: an ID number or a residence permit's (which carries one; their pages never
  // send one back either), and the form's token.
  var NEVER = /(^csrf_token$|resident_id$|permit_no$)/;

  function typed(form) {
    var pairs = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || NEVER.test(el.name)) return;
      if (el.type === "file" || el.type === "password" || el.type === "submit") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) {
          pairs.push([el.name, o.value]);
        });
        return;
      }
      pairs.push([el.name, el.value]);
    });
    return pairs;
  }

  document.addEventListener("submit", function (evt) {
    if (!evt.target.matches || !evt.target.matches("form.lang")) return;
    document.querySelectorAll("form[data-keep-on-language][id]").forEach(function (form) {
      try {
        var saved = { path: location.pathname, pairs: typed(form) };
        sessionStorage.setItem(PREFIX + form.id, JSON.stringify(saved));
      } catch (e) { /* storage full or off: the page comes back empty, as without script */ }
    });
  }, true);

  function putBack(form, pairs) {
    pairs.forEach(function (pair) {
      var el = form.elements.namedItem(pair[0]);
      if (!el) return;
      var many = el.length !== undefined && el.tagName !== "SELECT" ? el : [el];
      Array.prototype.forEach.call(many, function (one) {
        if (one.type === "hidden" || one.type === "file" || one.type === "password") return;
        if (NEVER.test(one.name)) return;
        if (one.type === "checkbox" || one.type === "radio") {
          if (one.value === pair[1]) one.checked = true;
        } else if (one.tagName === "SELECT" || !one.value) {
          one.value = pair[1];
        }
      });
    });
  }

  function askForStep(form, pairs) {
    if (!window.htmx) return;
    // A form of its own, out of sight, sent like the step's own form (its values, the header).
    var carrier = document.createElement("form");
    carrier.hidden = true;
    pairs.concat([["stay", "1"]]).forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      carrier.appendChild(input);
    });
    document.body.appendChild(carrier);
    window.htmx.ajax("POST", form.getAttribute("action"), {
      source: carrier, target: "#" + form.id, swap: "outerHTML"
    }).finally(function () { carrier.remove(); });
  }

  var STEPS = 'form[data-keep-on-language="step"]';
  var sending = false;

  function partFilled() {
    var form = document.querySelector(STEPS);
    if (!form || sending) return false;
    var step = form.elements.namedItem("step");
    return (step && parseInt(step.value, 10) > 1) || form.hasAttribute("data-touched");
  }

  document.addEventListener("input", function (evt) {
    var form = evt.target.form;
    if (form && form.matches(STEPS)) form.setAttribute("data-touched", "");
  });
  // Any form's own sending (htmx sends on the same event): a step comes back in its place,
  // and from then on leaving asks again; a send that leaves the page does not ask.
  document.addEventListener("submit", function () { sending = true; }, true);
  // The form's own answer that stayed on the page (another panel refreshing itself meanwhile
  // does not count: the last step's answer may still be leaving the page).
  ["htmx:afterSettle", "htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (evt) {
      if (evt.target.closest && evt.target.closest(STEPS)) sending = false;
    });
  });
  window.addEventListener("beforeunload", function (evt) {
    if (!partFilled()) return;
    evt.preventDefault();
    evt.returnValue = "";
  });

  // Every page that loads reads what was kept and forgets all of it: the page the switch
  // came back to puts its form's part back; anything else kept is dropped, not left lying.
  document.addEventListener("DOMContentLoaded", function () {
    var kept = {};
    try {
      Object.keys(sessionStorage).forEach(function (key) {
        if (key.indexOf(PREFIX) !== 0) return;
        kept[key.slice(PREFIX.length)] = JSON.parse(sessionStorage.getItem(key) || "null");
        sessionStorage.removeItem(key);
      });
    } catch (e) { return; }
    document.querySelectorAll("form[data-keep-on-language][id]").forEach(function (form) {
      var saved = kept[form.id];
      if (!saved || saved.path !== location.pathname) return;
      if (form.getAttribute("data-keep-on-language") === "step") askForStep(form, saved.pairs);
      else putBack(form, saved.pairs);
    });
  });
})();
