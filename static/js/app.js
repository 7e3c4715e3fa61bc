// Small progressive enhancements; every page works without this file.
// No inline handlers anywhere: the CSP forbids them, so behaviour hangs off data- attributes.
(function () {
  "use strict";

  // Close an open <details> menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // <button data-confirm="..."> asks before submitting its form.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = submitter && submitter.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      // Stop htmx (hx-boost) from submitting the form anyway.
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
