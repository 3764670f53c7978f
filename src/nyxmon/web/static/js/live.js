/* NyxMon live updates, in plain JavaScript (no build step).
 *
 * - Every element with id="live-<check id>" and data-check shows one check: its state badge
 *   ([data-field=state]), last result age ([data-field=age], data-at = POSIX seconds),
 *   duration, message, beats bar ([data-beats]), sparkline ([data-spark]) and 24 h uptime.
 *   The status stream (/events, Server-Sent Events) updates those in place at once.
 * - Everything else that a change can touch (counts, groups, incidents, the failure panel,
 *   tables, settings) is rendered on the server: a page's #live-refresh element (htmx) asks
 *   for it again when the stream reports a change that matters to that page. The overview
 *   refreshes when a state changed or checks were added or removed; the check page when its
 *   check has news. Refreshes are coalesced: one in flight, the last request queued, and a
 *   minimum spacing, so the final state is always fetched and a storm costs a few requests.
 * - Beats are fetched from /overview/beats for the elements on screen only, in batches.
 * - Ages and ongoing durations ([data-elapsed-since]) tick every second, on the server's
 *   clock (#page[data-now]); <time data-local> shows POSIX seconds in the browser's zone.
 * window.nyxmonLive keeps counters and the result-to-screen delays the browser tests report.
 */
(function () {
  "use strict";
  var LABELS = {
    up: "Up", down: "Down", degraded: "Degraded", flapping: "Flapping",
    maintenance: "Maintenance", pending: "Pending", paused: "Paused"
  };
  var BEAT_WORDS = { u: "up", g: "degraded", d: "down" };
  var UNITS = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  var MAX_BEATS = 30;
  var MAX_LAGS = 2000;
  var BEATS_MAX_AGE = 60000;
  var stats = (window.nyxmonLive = {
    events: 0, updates: 0, lags: [], connected: false, beatsLoaded: 0, source: null,
    refreshes: 0, catalogEvents: 0, duration: humanDuration
  });
  var skew = 0;

  function now() {
    return Date.now() / 1000 + skew;
  }

  function age(then, at) {
    var s = Math.max(0, at - then);
    if (s < 60) return Math.floor(s) + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  /* The same text as nyxmon.domain.durations.human_duration (a browser test compares them). */
  function humanDuration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    var left = Math.max(0, Math.floor(seconds));
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][1];
      if (left >= size || i === UNITS.length - 1) {
        var text = Math.floor(left / size) + " " + UNITS[i][0];
        if (i + 1 < UNITS.length) {
          var rest = Math.floor((left % size) / UNITS[i + 1][1]);
          if (rest) text += " " + rest + " " + UNITS[i + 1][0];
        }
        return text;
      }
    }
    return "—";
  }

  function millis(value) {
    if (value === null || value === undefined || !isFinite(value)) return "";
    return value < 10 ? value.toFixed(1) + " ms" : Math.round(value).toLocaleString() + " ms";
  }

  /* The same text as nyxmon.web.pages.formatting.percent. */
  function percent(value) {
    if (value === null || value === undefined) return "—";
    if (value >= 100) return "100 %";
    return String(parseFloat(value.toFixed(2))) + " %";
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function field(root, name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  /* -- ages, durations and local times -------------------------------------------------- */
  function tick() {
    var at = now();
    var els = document.querySelectorAll("[data-field=age][data-at]");
    for (var i = 0; i < els.length; i++) {
      setText(els[i], age(parseFloat(els[i].getAttribute("data-at")), at));
    }
    var spans = document.querySelectorAll("[data-elapsed-since]");
    for (var j = 0; j < spans.length; j++) {
      setText(spans[j], humanDuration(at - parseFloat(spans[j].getAttribute("data-elapsed-since"))));
    }
  }

  function localize(root) {
    var els = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < els.length; i++) {
      var t = parseFloat(els[i].getAttribute("data-local"));
      if (isFinite(t)) setText(els[i], new Date(t * 1000).toLocaleString());
    }
  }

  /* -- beats, sparkline, uptime -------------------------------------------------------- */
  function renderBeats(host, beats) {
    var bar = host.querySelector("[data-beats]");
    if (!bar) return;
    bar._beats = beats;
    var frag = document.createDocumentFragment();
    var counts = { u: 0, g: 0, d: 0 };
    for (var p = beats.length; p < MAX_BEATS; p++) {
      var empty = document.createElement("i");
      empty.className = "b b-n";
      frag.appendChild(empty);
    }
    for (var i = 0; i < beats.length; i++) {
      var b = beats[i];
      var el = document.createElement("i");
      el.className = "b b-" + b[1];
      el.title = new Date(b[0] * 1000).toLocaleString() + " · " + BEAT_WORDS[b[1]] + " · " + millis(b[2]);
      counts[b[1]] += 1;
      frag.appendChild(el);
    }
    bar.replaceChildren(frag);
    var words = [];
    if (counts.u) words.push(counts.u + " up");
    if (counts.g) words.push(counts.g + " degraded");
    if (counts.d) words.push(counts.d + " down");
    bar.setAttribute(
      "aria-label",
      beats.length ? "Last " + beats.length + " results: " + words.join(", ") : "No results yet"
    );
    bar.setAttribute("data-count", String(beats.length));
    renderSpark(host, beats);
  }

  function renderSpark(host, beats) {
    var svg = host.querySelector("[data-spark]");
    if (!svg) return;
    var ns = "http://www.w3.org/2000/svg";
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (beats.length < 2) return;
    var max = 1;
    for (var i = 0; i < beats.length; i++) max = Math.max(max, beats[i][2]);
    var step = 100 / (MAX_BEATS - 1);
    var offset = MAX_BEATS - beats.length;
    var points = [];
    for (var j = 0; j < beats.length; j++) {
      var x = (offset + j) * step;
      var y = 22 - (beats[j][2] / max) * 20;
      points.push(x.toFixed(1) + "," + y.toFixed(1));
    }
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    svg.appendChild(line);
    svg.setAttribute("data-points", String(beats.length));
  }

  function renderUptime(host, pct) {
    var cell = field(host, "uptime");
    if (!cell) return;
    setText(cell, percent(pct));
    cell.title = pct === null || pct === undefined
      ? "No results in the last 24 h yet"
      : "Uptime over the last 24 whole hours and this hour so far";
  }

  function merge(host, fetched) {
    var bar = host.querySelector("[data-beats]");
    var live = (bar && bar._beats) || [];
    var last = fetched.length ? fetched[fetched.length - 1][0] : 0;
    var newer = live.filter(function (b) { return b[0] > last + 0.0005; });
    return fetched.concat(newer).slice(-MAX_BEATS);
  }

  var pending = [];
  var timer = null;
  var observer = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (entries[i].isIntersecting) {
            observer.unobserve(entries[i].target);
            queue(entries[i].target.getAttribute("data-check"));
          }
        }
      }, { rootMargin: "300px 0px" })
    : null;

  function queue(id) {
    if (pending.indexOf(id) < 0) pending.push(id);
    if (!timer) timer = setTimeout(flush, 30);
  }

  function flush() {
    timer = null;
    var ids = pending.splice(0, 200);
    if (pending.length) timer = setTimeout(flush, 0);
    if (!ids.length) return;
    var query = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
    fetch("/overview/beats?" + query, {
      credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Object.keys(data.checks).forEach(function (id) {
          var host = document.getElementById("live-" + id);
          if (!host) return;
          var item = data.checks[id];
          renderBeats(host, merge(host, item.beats));
          renderUptime(host, item.uptime_24h);
          host._beatsAt = Date.now();
          stats.beatsLoaded += 1;
        });
      })
      .catch(function () { /* the next update or page view tries again */ });
  }

  function watch(root) {
    var hosts = root.querySelectorAll("[data-check]");
    for (var i = 0; i < hosts.length; i++) {
      var host = hosts[i];
      if (host._watched || !host.querySelector("[data-beats]")) continue;
      host._watched = true;
      if (observer) observer.observe(host);
      else queue(host.getAttribute("data-check"));
    }
  }

  /* -- server-rendered refreshes ------------------------------------------------------- */
  var refresher = document.getElementById("live-refresh");
  var pageCheck = refresher ? refresher.getAttribute("data-live-check") : null;
  var spacing = pageCheck ? 300 : 1000;
  var lastRefresh = 0;
  var refreshTimer = null;
  var removed = false;

  /* Ask #live-refresh for the page's server-rendered parts: now, or once the spacing since
   * the last request has passed; htmx queues the last request while one is in flight. */
  function refresh() {
    if (!refresher || removed || refreshTimer) return;
    var wait = Math.max(0, lastRefresh + spacing - Date.now());
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      lastRefresh = Date.now();
      var limit = document.getElementById("live-limit");
      if (limit) {
        var shown = document.querySelectorAll("#rows tr.check").length;
        limit.value = String(Math.min(1000, Math.max(parseInt(limit.defaultValue, 10) || 1, shown)));
      }
      if (window.htmx) window.htmx.trigger(refresher, "nyxmon:refresh");
    }, wait);
  }

  function seen(at) {
    var input = document.getElementById("live-seen");
    if (input && at && !(parseFloat(input.value) >= at)) input.value = String(at);
  }

  /* -- the status stream --------------------------------------------------------------- */
  function setState(host, state) {
    var classes = host.className.split(/\s+/).filter(function (c) { return c && c.indexOf("s-") !== 0; });
    classes.push("s-" + state);
    host.className = classes.join(" ");
    var badge = field(host, "state");
    if (badge) {
      badge.className = badge.className.split(/\s+/).filter(function (c) {
        return c && c.indexOf("s-") !== 0;
      }).concat(["s-" + state]).join(" ");
      setText(badge, LABELS[state] || state);
    }
    host.setAttribute("data-state", state);
  }

  function update(c) {
    var host = document.getElementById("live-" + c.id);
    if (!host) return;
    stats.updates += 1;
    setState(host, c.state);
    var at = c.last_result_at;
    if (at) {
      var ageEl = field(host, "age");
      if (ageEl) {
        ageEl.setAttribute("data-at", String(at));
        ageEl.setAttribute("datetime", new Date(at * 1000).toISOString());
        setText(ageEl, age(at, now()));
      }
      var seconds = c.last_duration;
      setText(field(host, "duration"), seconds === null ? "" : millis(seconds * 1000));
      setText(field(host, "message"), c.message || "");
      var bar = host.querySelector("[data-beats]");
      if (bar && bar._beats) {
        var beats = bar._beats;
        var last = beats.length ? beats[beats.length - 1][0] : 0;
        if (at > last + 0.0005) {
          var code = c.last_outcome === "ok" ? (c.last_degraded ? "g" : "u") : "d";
          renderBeats(host, beats.concat([[at, code, (seconds || 0) * 1000]]).slice(-MAX_BEATS));
        }
      }
      if (host._beatsAt && Date.now() - host._beatsAt > BEATS_MAX_AGE) queue(c.id);
      if (stats.lags.length < MAX_LAGS) stats.lags.push(Date.now() / 1000 - (at + (seconds || 0)));
    }
    host.dispatchEvent(new CustomEvent("nyxmon:status", { bubbles: true, detail: c }));
  }

  function onStatus(data) {
    var mine = false;
    for (var i = 0; i < data.checks.length; i++) {
      var c = data.checks[i];
      update(c);
      if (c.id === pageCheck) {
        mine = true;
        seen(c.last_result_at);
      }
    }
    if (pageCheck ? mine || (data.states_changed && !data.checks.length) : data.states_changed) {
      refresh();
    }
  }

  function indicate(text, on) {
    var els = document.querySelectorAll("[data-live-indicator]");
    for (var i = 0; i < els.length; i++) {
      setText(els[i], text);
      els[i].classList.toggle("on", on);
    }
  }

  function connect(page) {
    if (!window.EventSource || stats.source) return;
    var catalog = page.getAttribute("data-catalog");
    var states = page.getAttribute("data-states");
    var url = "/events";
    if (catalog !== null) url += "?catalog=" + encodeURIComponent(catalog) + "&states=" + encodeURIComponent(states);
    var source = (stats.source = new EventSource(url));
    var lost = false;
    source.addEventListener("open", function () {
      stats.connected = true;
      indicate("Live", true);
      if (lost) refresh(); // changes while the stream was down were not sent: ask anew
      lost = false;
    });
    source.addEventListener("error", function () {
      stats.connected = false;
      lost = true;
      indicate("Reconnecting…", false);
    });
    source.addEventListener("status", function (event) {
      stats.events += 1;
      onStatus(JSON.parse(event.data));
    });
    source.addEventListener("catalog", function (event) {
      var version = String(JSON.parse(event.data).version);
      stats.catalogEvents += 1;
      if (version !== page.getAttribute("data-catalog")) {
        page.setAttribute("data-catalog", version);
        refresh();
      }
    });
  }

  function start() {
    var page = document.getElementById("page");
    var serverNow = page ? parseFloat(page.getAttribute("data-now")) : NaN;
    if (isFinite(serverNow)) skew = serverNow - Date.now() / 1000;
    localize(document);
    watch(document);
    tick();
    if (page && page.hasAttribute("data-live")) connect(page);
    setInterval(tick, 1000);
  }

  // Forms that ask first (deleting a check): data-confirm holds the question.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt !== refresher) return;
    stats.refreshes += 1;
    if (event.detail.xhr && event.detail.xhr.status === 404 && pageCheck) {
      removed = true; // the check is gone: say so instead of asking again and again
      var notice = document.getElementById("check-removed");
      if (notice) notice.hidden = false;
      indicate("Removed", false);
    }
  });

  function settled() {
    // Swapped-in parts (filters, "load more", live refreshes): times, beats, ages anew.
    localize(document);
    watch(document);
    tick();
  }
  document.addEventListener("htmx:afterSettle", settled);
  document.addEventListener("htmx:oobAfterSwap", settled);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
