// Draws the report pages' charts with the vendored Chart.js.
//
// Each chart is a <figure data-chart="<id of its json_script>" data-chartjs="<url>">
// holding a <canvas>; the data comes from the page's json_script element (never
// inline script: the CSP forbids it). Chart.js itself is loaded only when a page
// has a chart. Every series gets its own line dash, point shape and, for bars,
// fill pattern, so the charts read without colour; the table beside each chart
// has the same numbers.
(function () {
  "use strict";

  var COLOURS = ["#1f5fbf", "#c2410c", "#1c7c43", "#7e22ce", "#9a6400"];
  var DASHES = [[], [8, 4], [2, 3], [12, 4, 2, 4], [4, 4]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot"];
  var loading = null;
  // Chart data by json_script id, read from a boosted page's HTML before htmx
  // swaps it in: htmx (allowScriptTags: false) drops every <script> element of
  // the new page, the inert application/json ones included.
  var boostedData = {};

  function loadChartJs(url) {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.Chart); };
      script.onerror = function () { loading = null; reject(new Error("Chart.js did not load")); };
      document.head.appendChild(script);
    });
    return loading;
  }

  // A fill pattern per series (solid, stripes, dots, cross-hatch, bars), for bars.
  function pattern(index, colour) {
    var size = 8;
    var tile = document.createElement("canvas");
    tile.width = size; tile.height = size;
    var ctx = tile.getContext("2d");
    // The panel's colour behind the pattern: white, or dark in dark mode.
    ctx.fillStyle = window.getComputedStyle(document.documentElement).getPropertyValue("--panel").trim() || "#ffffff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 2;
    switch (index % 5) {
      case 0: ctx.fillRect(0, 0, size, size); break;
      case 1: ctx.beginPath(); ctx.moveTo(0, size); ctx.lineTo(size, 0); ctx.stroke(); break;
      case 2: ctx.beginPath(); ctx.arc(size / 2, size / 2, 1.8, 0, 2 * Math.PI); ctx.fill(); break;
      case 3: ctx.beginPath(); ctx.moveTo(0, 0); ctx.lineTo(size, size); ctx.moveTo(size, 0); ctx.lineTo(0, size); ctx.stroke(); break;
      default: ctx.fillRect(0, 0, size, size / 2);
    }
    return tile.getContext("2d").createPattern(tile, "repeat");
  }

  function formatter(percent) {
    return function (value) {
      if (value === null || value === undefined) return "—";
      return percent ? value.toFixed(1) + " %" : Number(value).toLocaleString();
    };
  }

  function config(spec) {
    var horizontal = spec.type === "hbar";
    var bars = spec.type === "bar" || horizontal;
    var format = formatter(spec.percent);
    var datasets = spec.datasets.map(function (set, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: bars ? pattern(i, colour) : colour,
        borderWidth: bars ? 1.5 : 2,
        borderDash: bars ? [] : DASHES[i % DASHES.length],
        pointStyle: POINTS[i % POINTS.length],
        pointRadius: bars ? 0 : (spec.labels.length > 60 ? 0 : 3),
        spanGaps: false,
        tension: 0.15
      };
    });
    var valueAxis = {
      beginAtZero: true,
      title: { display: !!spec.axis, text: spec.axis },
      ticks: { callback: format, precision: spec.percent ? undefined : 0 }
    };
    var categoryAxis = { ticks: { autoSkip: true, maxRotation: 0 } };
    if (horizontal) {
      // Long link addresses: show the end that tells them apart, cut to fit.
      categoryAxis.ticks.callback = function (value) {
        var label = this.getLabelForValue(value) || "";
        return label.length > 40 ? "…" + label.slice(-39) : label;
      };
    }
    return {
      type: bars ? "bar" : "line",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: { display: datasets.length > 1, labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ": " + format(horizontal ? ctx.parsed.x : ctx.parsed.y);
          } } }
        }
      }
    };
  }

  function draw(root) {
    // Claimed at once: DOMContentLoaded and htmx's first htmx:load both come on a
    // full page load, and a canvas can hold only one chart.
    var figures = Array.prototype.slice.call(
      (root || document).querySelectorAll("figure[data-chart]:not([data-state])"));
    if (!figures.length) return;
    figures.forEach(function (figure) { figure.setAttribute("data-state", "pending"); });
    loadChartJs(figures[0].getAttribute("data-chartjs")).then(function (Chart) {
      // Axis text and grid lines in the page's own colours, so they stay readable in
      // dark mode (app.css switches the custom properties with prefers-color-scheme).
      var css = window.getComputedStyle(document.documentElement);
      Chart.defaults.color = css.getPropertyValue("--muted").trim() || Chart.defaults.color;
      Chart.defaults.borderColor = css.getPropertyValue("--line").trim() || Chart.defaults.borderColor;
      figures.forEach(function (figure) {
        var id = figure.getAttribute("data-chart");
        var source = document.getElementById(id);
        var text = source ? source.textContent : boostedData[id];
        var canvas = figure.querySelector("canvas");
        try {
          if (!text || !canvas) throw new Error("no chart data");
          figure.chart = new Chart(canvas, config(JSON.parse(text)));
          figure.setAttribute("data-state", "drawn");
          figure.setAttribute("data-drawn", "true");
        } catch (error) {
          // The table beside it has the numbers; hide the empty canvas.
          figure.setAttribute("data-state", "failed");
          figure.classList.add("chart-failed");
        }
      });
    }).catch(function () {
      figures.forEach(function (figure) {
        figure.setAttribute("data-state", "failed");
        figure.classList.add("chart-failed");
      });
    });
  }

  // A boosted page's chart data, parsed (never run) from the response before the swap.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var html = event.detail && event.detail.serverResponse;
    boostedData = {};
    if (typeof html !== "string" || html.indexOf("application/json") === -1) return;
    var parsed = new DOMParser().parseFromString(html, "text/html");
    parsed.querySelectorAll('script[type="application/json"][id]').forEach(function (script) {
      boostedData[script.id] = script.textContent;
    });
  });
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // hx-boost swaps pages in without a load event.
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
