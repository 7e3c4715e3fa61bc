// The campaign form's email editor: GrapesJS with its newsletter preset (vendored
// under static/vendor/grapesjs/) over the form's plain "HTML content" textarea.
//
// The textarea stays the one thing the form submits, and the page works without
// this file: the textarea is the "HTML source" mode. In the visual mode this
// script keeps the textarea up to date with what the editor produces (the body
// with its CSS inlined by the preset, media queries kept in a <style> in the
// head, the original head otherwise untouched), but only once the member has
// changed something: opening the editor and saving a subject must not rewrite
// the HTML, which would void an approval for nothing. "Changed" is judged on the
// output itself (what the editor produces now against what it produced when the
// email was loaded), which holds whatever GrapesJS event a change came through.
//
// GrapesJS is loaded only when the visual mode is first shown. Its canvas needs
// a looser style-src on this page alone (docs/email-editor.md); scripts stay
// strict, so nothing here may use eval or inline script.
(function () {
  "use strict";

  var PRESET = "grapesjs-preset-newsletter";
  var loading = null;

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("did not load " + url)); };
      document.head.appendChild(script);
    });
  }

  function loadStylesheet(url) {
    if (document.querySelector('link[rel=stylesheet][href="' + url + '"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = url;
    document.head.appendChild(link);
  }

  function loadGrapes(root) {
    if (window.grapesjs && window[PRESET]) return Promise.resolve();
    if (loading) return loading;
    loadStylesheet(root.dataset.grapesjsCss);
    // GrapesJS and the preset are separate UMD files; the preset expects grapesjs first.
    loading = loadScript(root.dataset.grapesjs)
      .then(function () { return loadScript(root.dataset.preset); })
      .catch(function (error) { loading = null; throw error; });
    return loading;
  }

  function attributes(element) {
    return Array.prototype.map.call(element.attributes, function (a) {
      return " " + a.name + '="' + a.value.replace(/&/g, "&amp;").replace(/"/g, "&quot;") + '"';
    }).join("");
  }

  // A whole email document, split into what GrapesJS edits (the body and all CSS)
  // and what it leaves alone (the head's other elements, <html> and <body> attributes).
  function splitDocument(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var css = [];
    Array.prototype.forEach.call(doc.querySelectorAll("style"), function (style) {
      css.push(style.textContent);
      style.remove();
    });
    return { doc: doc, css: css.join("\n"), body: doc.body.innerHTML.trim() };
  }

  // The editor's email as a whole document again. The preset's command returns the
  // body with the CSS inlined and a trailing <style> holding what cannot be inlined
  // (media queries); that <style> goes back into the head.
  function produce(editor, original) {
    var inlined = editor.runCommand("gjs-get-inlined-html");
    var out = new DOMParser().parseFromString(inlined, "text/html");
    var styles = [];
    Array.prototype.forEach.call(out.querySelectorAll("style"), function (style) {
      if (style.textContent.trim()) styles.push(style.textContent.trim());
      style.remove();
    });
    var head = original.doc.head.innerHTML.trim();
    var styleBlock = styles.length ? "\n<style>\n" + styles.join("\n") + "\n</style>" : "";
    // The produced <body> carries the body's own CSS, inlined.
    return "<!doctype html>\n<html" + attributes(original.doc.documentElement) + ">\n<head>\n" +
      head + styleBlock + "\n</head>\n<body" + attributes(out.body) + ">\n" +
      out.body.innerHTML.trim() + "\n</body>\n</html>\n";
  }

  // Names GrapesJS leaves out, for screen readers (axe: frame-title, select-name).
  function label(editor) {
    var frame = editor.Canvas.getFrameEl();
    if (frame) frame.title = "The email, editable: double-click a text to change it";
    var states = editor.getContainer().querySelector("#gjs-clm-states");
    if (states) states.setAttribute("aria-label", "Style the block's state");
  }

  function mount(root) {
    if (root.dataset.mounted) return;
    root.dataset.mounted = "yes";
    var textarea = root.querySelector("textarea");
    var canvas = root.querySelector("[data-editor-canvas]");
    var source = root.querySelector("[data-editor-source]");
    var note = root.querySelector("[data-editor-note]");
    var problem = root.querySelector("[data-editor-error]");
    var buttons = root.querySelectorAll("[data-mode-button]");
    var form = textarea.form;
    var editor = null;
    var original = null;   // the document the editor was last loaded from
    var loadedFrom = null; // the textarea's value at that moment
    var baseline = null;   // what the editor produced right after loading it
    var touched = false;   // the output has differed from baseline since loading
    var mode = "source";
    var timer = null;

    function say(text) {
      note.textContent = text;
      note.hidden = !text;
    }

    function syncToTextarea() {
      clearTimeout(timer);
      timer = null;
      if (!editor || mode !== "visual" || baseline === null) return;
      var produced = produce(editor, original);
      if (!touched && produced === baseline) return; // nothing changed: keep the bytes
      touched = true;
      textarea.value = produced;
      loadedFrom = produced;
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(syncToTextarea, 300);
    }

    function loadIntoEditor() {
      original = splitDocument(textarea.value);
      loadedFrom = textarea.value;
      editor.setComponents(original.body);
      editor.setStyle(original.css);
      editor.UndoManager.clear();
      baseline = produce(editor, original);
      touched = false;
    }

    function create() {
      var preset = window[PRESET];
      if (preset && preset.default) preset = preset.default;
      original = splitDocument(textarea.value);
      loadedFrom = textarea.value;
      var options = {};
      options[PRESET] = {
        modalTitleImport: "Paste HTML",
        modalLabelImport: "Paste the body of an email; it replaces what the editor holds now.",
        textCleanCanvas: "Remove everything from the email, including the tracking image and footer?",
      };
      editor = window.grapesjs.init({
        container: canvas,
        height: "760px",
        fromElement: false,
        components: original.body,
        style: original.css,
        // Nothing is stored by GrapesJS: the form's textarea is the only copy.
        storageManager: false,
        // No uploads: images are linked by URL, as in any email.
        assetManager: { upload: false },
        // No calls home (connect-src is 'self'), and its icon font from our origin.
        telemetry: false,
        // GrapesJS's own canvas CSS (box-sizing, body margin) would otherwise be
        // inlined into every element of the email; the templates bring their own.
        protectedCss: "",
        cssIcons: root.dataset.fontawesomeCss,
        // Scripts and on* attributes in pasted HTML are dropped, never run in the canvas.
        parser: { optionsHtml: { allowScripts: false, allowUnsafeAttr: false } },
        plugins: [preset],
        pluginsOpts: options,
      });
      editor.onReady(function () {
        baseline = produce(editor, original);
        label(editor);
      });
      // Any of these may change the output; syncToTextarea compares before writing.
      editor.on("update component:update component:add component:remove rte:disable " +
                "style:property:update canvas:drop undo redo", schedule);
      return editor;
    }

    function show(next) {
      if (next === "visual") {
        say("Loading the visual editor…");
        loadGrapes(root).then(function () {
          // Visible first: GrapesJS measures its container when it starts.
          source.hidden = true;
          canvas.hidden = false;
          if (!editor) create();
          else if (textarea.value !== loadedFrom) loadIntoEditor();
          mode = "visual";
          editor.refresh();
          say(window.innerWidth < 760
            ? "The visual editor is easier on a wider screen; HTML source works anywhere."
            : "");
          pressed("visual");
        }).catch(function () {
          canvas.hidden = true;
          source.hidden = false;
          say("The visual editor did not load. Edit the HTML source, or reload the page to try again.");
          pressed("source");
        });
        return;
      }
      syncToTextarea();
      mode = "source";
      canvas.hidden = true;
      source.hidden = false;
      say("");
      pressed("source");
    }

    function pressed(which) {
      Array.prototype.forEach.call(buttons, function (button) {
        button.setAttribute("aria-pressed", button.dataset.modeButton === which ? "true" : "false");
      });
    }

    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        if (button.dataset.modeButton !== mode) show(button.dataset.modeButton);
      });
    });
    // Capture phase: the textarea holds the editor's latest HTML before anything
    // else reads the form.
    form.addEventListener("submit", syncToTextarea, true);
    // Constant Contact's limit, said before a long body travels: the server checks
    // it too (and a body too big to read gets a page of its own, with no form).
    form.addEventListener("submit", function (event) {
      var max = parseInt(root.dataset.maxLength, 10);
      var length = textarea.value.length > max ? Array.from(textarea.value).length : 0;
      if (!max || length <= max) { problem.hidden = true; return; }
      event.preventDefault();
      problem.textContent = "The HTML is " + length.toLocaleString("en-US") +
        " characters long; Constant Contact accepts at most " + max.toLocaleString("en-US") +
        ". Nothing was saved: shorten it and save again.";
      problem.hidden = false;
      problem.scrollIntoView({ block: "center" });
    });
    root.querySelector("[data-editor-modes]").hidden = false;
    show(root.dataset.mode === "visual" ? "visual" : "source");
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-email-editor]"), mount);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
