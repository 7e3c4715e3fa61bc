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

  // A boosted navigation (and a history restore) swaps only the body's contents, not
  // its attributes, so the page that arrives would keep the previous page's body
  // class: after "Create account and join" the app page kept the public pages'
  // narrow card layout until a reload. Take the class from the page that arrived.
  function adoptBodyClass(html) {
    if (!html || html.indexOf("<body") === -1) return;
    var arrived = new DOMParser().parseFromString(html, "text/html").body;
    if (arrived && arrived.className !== document.body.className) {
      document.body.className = arrived.className;
    }
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail;
    if (detail.target === document.body && detail.xhr) adoptBodyClass(detail.xhr.responseText);
  });
  document.addEventListener("htmx:historyCacheMissLoad", function (event) {
    if (event.detail.xhr) adoptBodyClass(event.detail.xhr.responseText);
  });

  // <input type="checkbox" data-check-all="FORM-ID"> ticks every row checkbox of that
  // form (the contacts table's bulk selection); htmx swaps keep working since the
  // listener is on the document.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var form = box && box.getAttribute && box.getAttribute("data-check-all");
    if (!form) return;
    document.querySelectorAll('input[type="checkbox"][form="' + form + '"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
