/* The code page's "seconds left" (亮码): counts down each second from what the server said.
 *
 * Loaded by the code page only (never on the verifier, which runs no script). The panel is
 * swapped by htmx when the code changes; a new number then starts from its own value. Without
 * JavaScript the number stays as served and the page refreshes itself when the code changes.
 */
(function () {
  "use strict";

  var ends = new WeakMap(); // each number's element -> when it reaches zero (ms)
  // A panel still shown this long after its code ran out has not been replaced (the server or
  // the network in trouble; the panel keeps asking): its code is greyed out and said stale.
  var STALE_AFTER = 5000;

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-seconds]").forEach(function (el) {
      if (!ends.has(el)) ends.set(el, now + Number(el.getAttribute("data-seconds")) * 1000);
      var left = Math.max(0, Math.ceil((ends.get(el) - now) / 1000));
      if (el.textContent !== String(left)) el.textContent = String(left);
      var panel = el.closest(".code-panel");
      if (panel && now > ends.get(el) + STALE_AFTER && !panel.classList.contains("is-stale")) {
        panel.classList.add("is-stale");
        var said = panel.querySelector(".code-stale");
        if (said) said.hidden = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 250);
  });
})();
