// After every htmx action: say what happened and keep keyboard focus on what changed.
//
// A response may name what it changed (the HX-Trigger-After-Settle event "oncoliaison:changed", sent by
// core.views.announce_change): its "announce" text goes to the page's live region, which screen readers read
// out, and focus moves to the element with id "focus" (or to the swapped-in content). Without it, when a swap
// removed the focused control, focus still moves to the new content rather than falling back to the page.
(function () {
  "use strict";
  var lastSwapped = null;

  function focusOn(el) {
    if (!el || !el.isConnected) { return; }
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) { el.setAttribute("tabindex", "-1"); }
    el.focus({ preventScroll: false });
  }

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region || !text) { return; }
    region.textContent = "";
    // a fresh text node a moment later, so the same sentence twice in a row is read twice
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    lastSwapped = event.target;
    if (focusLost() && !event.target.querySelector(".error-summary")) { focusOn(event.target); }
  });

  document.addEventListener("oncoliaison:changed", function (event) {
    var detail = event.detail || {};
    var target = detail.focus ? document.getElementById(detail.focus) : lastSwapped;
    if (target && (focusLost() || !target.contains(document.activeElement))) {
      if (!target.querySelector(".error-summary")) { focusOn(target); }
    }
    announce(detail.announce);
  });
})();
