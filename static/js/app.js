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

// The side navigation folds behind "Menu" on a phone (templates/base.html: a <details>).
// Wide screens show it whatever its state (CSS ::details-content); this keeps it open
// there for browsers without that, closed when the screen narrows, and keeps the
// summary's aria-expanded in step for screen readers.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 801px)");

  function syncMenu() {
    var menu = document.getElementById("nav-menu");
    if (!menu) return;
    if (wide.matches && !menu.open) menu.open = true;
    var toggle = menu.querySelector("summary");
    if (toggle) toggle.setAttribute("aria-expanded", menu.open ? "true" : "false");
  }
  function closeMenuOnPhone() {
    var menu = document.getElementById("nav-menu");
    if (menu && !wide.matches) menu.open = false;
    syncMenu();
  }
  // "toggle" does not bubble; capture sees it on its way down.
  document.addEventListener("toggle", function (event) {
    if (event.target && event.target.id === "nav-menu") syncMenu();
  }, true);
  wide.addEventListener("change", closeMenuOnPhone);
  document.addEventListener("DOMContentLoaded", syncMenu);
  // A boosted navigation swaps the body, menu included: the new page's starts closed.
  document.addEventListener("htmx:afterSettle", syncMenu);
  syncMenu();
})();

// Keyboard shortcuts: "/" searches the page, "g" then a letter goes to an area (the
// letters are the menu's data-nav-key, so a member only gets the areas they can use),
// "?" shows the list (the <dialog id="shortcuts-help"> in templates/base.html).
// None of them fire while typing in a field or with a modifier held.
(function () {
  "use strict";
  var pendingG = 0; // when "g" was pressed, 0 if not waiting for the second key
  var G_WINDOW_MS = 1500; // long enough to find the second key, short enough to forget a stray "g"

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"]), iframe');
  }
  function searchBox() {
    return document.querySelector(
      'main input[type="search"], main [role="search"] input:not([type="hidden"]), main input[name="q"]');
  }
  function openHelp() {
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && !dialog.open && dialog.showModal) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys
    var key = event.key;
    if (pendingG && Date.now() - pendingG < G_WINDOW_MS) {
      pendingG = 0;
      var link = document.querySelector('.sidenav a[data-nav-key="' + key.toLowerCase() + '"]');
      if (link) {
        event.preventDefault();
        link.click(); // a real click, so hx-boost navigates as it would for the mouse
      }
      return;
    }
    pendingG = 0;
    if (key === "/") {
      var box = searchBox();
      if (box) {
        event.preventDefault();
        box.focus();
        if (box.select) box.select();
      }
    } else if (key === "?") {
      event.preventDefault();
      openHelp();
    } else if (key === "g") {
      pendingG = Date.now();
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target && event.target.closest && event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) {
      closer.closest("dialog").close();
      return;
    }
    var opener = event.target && event.target.closest && event.target.closest("[data-open-shortcuts]");
    if (!opener) return;
    var menu = opener.closest("details");
    if (menu) menu.removeAttribute("open");
    openHelp();
  });
  function revealMenuItem() {
    document.querySelectorAll("[data-shortcuts-item]").forEach(function (item) { item.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", revealMenuItem);
  document.addEventListener("htmx:afterSettle", revealMenuItem);
})();

// A table or code block wider than the screen scrolls inside its own box (app.css); a
// keyboard user must be able to scroll it too, so a box that overflows and holds nothing
// focusable becomes focusable itself (Chromium does this natively, others don't).
(function () {
  "use strict";
  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  function markScrollers() {
    document.querySelectorAll("main table, main .table-wrap, main pre, main .chart-table").forEach(function (box) {
      var overflows = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      var scrolls = /(auto|scroll)/.test(window.getComputedStyle(box).overflowX + window.getComputedStyle(box).overflowY);
      if (overflows && scrolls && !box.querySelector(FOCUSABLE)) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scroll-box", ""); // ours to take back if it stops overflowing
        }
      } else if (box.hasAttribute("data-scroll-box")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-box");
      }
    });
  }
  var pending = 0;
  function later() {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(markScrollers);
  }
  document.addEventListener("DOMContentLoaded", markScrollers);
  document.addEventListener("htmx:afterSettle", later);
  window.addEventListener("resize", later);
})();
