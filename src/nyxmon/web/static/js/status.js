/* The public status page: times in the visitor's zone and readable titles on the day bars.
 * The HTML is the same for every visitor (it is cached), so this happens in the browser. */
(function () {
  "use strict";
  function run() {
    var times = document.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var t = parseFloat(times[i].getAttribute("data-local"));
      if (isFinite(t)) times[i].textContent = new Date(t * 1000).toLocaleString();
    }
    var days = document.querySelectorAll(".bars [data-day]");
    for (var j = 0; j < days.length; j++) {
      var day = new Date(parseFloat(days[j].getAttribute("data-day")) * 1000);
      var pct = days[j].getAttribute("data-pct");
      days[j].title = day.toLocaleDateString(undefined, { timeZone: "UTC" }) + ": " +
        (pct === "" ? "no data" : parseFloat(pct).toFixed(2) + " % uptime");
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
