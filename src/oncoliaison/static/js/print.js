// Print the patient summary: first record the print in the audit log, then open the print dialog.
// Without JavaScript the form posts normally and the page explains how to print.
(function () {
  "use strict";
  document.querySelectorAll("form[data-print-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (button) { button.disabled = false; }
        if (response.status === 204) {
          window.print();
        } else {
          window.location.reload();
        }
      }).catch(function () {
        if (button) { button.disabled = false; }
        form.submit();
      });
    });
  });
})();
