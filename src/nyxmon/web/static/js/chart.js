/* The check page's latency chart: uPlot (vendored) over the API's series endpoint.
 * Buttons with data-window pick 1h .. 90d; the chart follows the theme and the width, and
 * the live feed: a new result of its check (js/live.js's nyxmon:status event) loads the
 * window again, at most every RELOAD_MS, the last one always. The chart element's
 * data-points holds how many points have data and data-runs how many results they sum
 * (the browser tests read them). */
(function () {
  "use strict";
  var host = document.getElementById("latency-chart");
  if (!host || !window.uPlot) return;
  var note = document.getElementById("chart-note");
  var url = host.getAttribute("data-series-url");
  var plot = null;
  var last = null;
  var HEIGHT = 260;
  var KEY = "nyxmon-chart-window";
  var RELOAD_MS = 3000;
  var check = host.getAttribute("data-chart-check");
  var current = null;
  var lastLoad = 0;
  var reloadTimer = null;

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function ms(value) {
    return value === null || value === undefined ? "—" : value.toFixed(value < 10 ? 1 : 0) + " ms";
  }

  function column(points, key) {
    return points.map(function (p) { return p[key] === null ? null : p[key] * 1000; });
  }

  function draw(data) {
    last = data;
    var points = data.points;
    var xs = points.map(function (p) { return p.start; });
    var withData = points.filter(function (p) { return p.count > 0; }).length;
    var grid = { stroke: css("--border"), width: 1 };
    var axis = { stroke: css("--fg-soft"), grid: grid, ticks: grid };
    var opts = {
      width: Math.max(280, host.clientWidth),
      height: HEIGHT,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
      series: [
        {},
        { label: "avg", stroke: css("--accent"), width: 2, value: function (u, v) { return ms(v); } },
        { label: "p95", stroke: css("--degraded"), width: 1.5, dash: [6, 4], value: function (u, v) { return ms(v); } },
        { label: "max", stroke: css("--muted"), width: 1, value: function (u, v) { return ms(v); } }
      ],
      axes: [axis, Object.assign({}, axis, { size: 64, values: function (u, vals) { return vals.map(function (v) { return v + " ms"; }); } })]
    };
    if (plot) plot.destroy();
    plot = new window.uPlot(
      opts,
      [xs, column(points, "duration_avg"), column(points, "duration_p95"), column(points, "duration_max")],
      host
    );
    var runs = points.reduce(function (sum, p) { return sum + p.count; }, 0);
    host.setAttribute("data-points", String(withData));
    host.setAttribute("data-runs", String(runs));
    host.setAttribute("data-window", data.window);
    if (note) {
      var step = data.step >= 3600 ? data.step / 3600 + " h" : data.step / 60 + " min";
      note.textContent = withData
        ? withData + " of " + points.length + " intervals of " + step + " have results (average, 95th percentile and maximum latency)."
        : "No results in this window yet.";
    }
  }

  function load(win, quiet) {
    current = win;
    lastLoad = Date.now();
    var buttons = document.querySelectorAll("[data-window]");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].tagName === "BUTTON") {
        buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-window") === win ? "true" : "false");
      }
    }
    if (note && !quiet) note.textContent = "Loading the last " + win + "…";
    fetch(url + "?window=" + encodeURIComponent(win), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(draw)
      .catch(function (err) {
        if (note) note.textContent = "The chart could not be loaded (" + err.message + ").";
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-window]");
    if (!button) return;
    var win = button.getAttribute("data-window");
    try {
      window.localStorage.setItem(KEY, win);
    } catch (e) {
      /* not remembered in private mode */
    }
    load(win);
  });
  document.addEventListener("nyxmon:status", function (event) {
    if (!current || reloadTimer || !event.detail || event.detail.id !== check) return;
    reloadTimer = setTimeout(function () {
      reloadTimer = null;
      load(current, true);
    }, Math.max(0, lastLoad + RELOAD_MS - Date.now()));
  });
  window.addEventListener("resize", function () {
    if (plot) plot.setSize({ width: Math.max(280, host.clientWidth), height: HEIGHT });
  });
  // Redraw with the other theme's colours when it changes.
  new MutationObserver(function () { if (last) draw(last); }).observe(document.documentElement, {
    attributes: true, attributeFilter: ["data-theme"]
  });
  var remembered = null;
  try {
    remembered = window.localStorage.getItem(KEY);
  } catch (e) {
    remembered = null;
  }
  if (!remembered || !document.querySelector('button[data-window="' + remembered + '"]')) remembered = null;
  load(remembered || host.getAttribute("data-window") || "24h");
})();
