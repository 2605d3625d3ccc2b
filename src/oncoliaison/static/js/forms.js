// Move keyboard and screen-reader focus to a form's error summary, on page load and after an htmx swap,
// so people learn at once that something needs correcting (the summary links to each field).
(function () {
  "use strict";
  function focusSummary(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
      summary.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusSummary(event.target); });
})();
