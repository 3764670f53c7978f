/* The public status page: times in the visitor's zone, readable titles on the day bars, and
 * the page keeping itself current. The HTML is the same for every visitor (it is cached), so
 * this happens in the browser: every data-refresh seconds the page is fetched again (a
 * conditional request: 304 while nothing changed) and its content replaced when it differs.
 * Without JavaScript a <meta http-equiv=refresh> in <noscript> reloads it instead.
 * window.nyxmonStatus counts the refreshes (the browser tests read it). */
(function () {
  "use strict";
  var stats = (window.nyxmonStatus = { refreshes: 0, replaced: 0 });

  /* The same text as nyxmon.web.pages.formatting.percent. */
  function percent(value) {
    if (value >= 100) return "100 %";
    return String(parseFloat(value.toFixed(2))) + " %";
  }

  function decorate(root) {
    var times = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var t = parseFloat(times[i].getAttribute("data-local"));
      if (isFinite(t)) times[i].textContent = new Date(t * 1000).toLocaleString();
    }
    var days = root.querySelectorAll(".bars [data-day]");
    for (var j = 0; j < days.length; j++) {
      var day = new Date(parseFloat(days[j].getAttribute("data-day")) * 1000);
      var pct = days[j].getAttribute("data-pct");
      days[j].title = day.toLocaleDateString(undefined, { timeZone: "UTC" }) + ": " +
        (pct === "" ? "no data" : percent(parseFloat(pct)) + " uptime");
    }
  }

  function refresh(page) {
    fetch(window.location.href, { cache: "no-cache", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        stats.refreshes += 1;
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".status-page");
        if (!fresh || fresh.getAttribute("data-version") === page.getAttribute("data-version")) return;
        page.replaceWith(fresh);
        decorate(fresh);
        stats.replaced += 1;
      })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { schedule(); });
  }

  function schedule() {
    var page = document.querySelector(".status-page[data-refresh]");
    if (!page) return;
    var seconds = Math.max(1, parseFloat(page.getAttribute("data-refresh")) || 60);
    setTimeout(function () { refresh(page); }, seconds * 1000);
  }

  function run() {
    decorate(document);
    schedule();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
