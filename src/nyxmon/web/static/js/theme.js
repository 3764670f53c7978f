/* NyxMon theme: light or dark, from the system preference unless the user chose one.
 * Loaded in <head> without defer, so the chosen theme applies before the first paint.
 * Any button with data-theme-toggle switches it; the choice is kept in localStorage. The
 * button is a toggle named "Dark mode": aria-pressed and its visible "on"/"off" say whether
 * dark mode is on now (templates/theme_toggle.html). */
(function () {
  "use strict";
  var KEY = "nyxmon-theme";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (e) {
      return null;
    }
  }

  function effective() {
    return stored() || (media && media.matches ? "dark" : "light");
  }

  function sync() {
    var dark = root.getAttribute("data-theme") === "dark";
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", dark ? "true" : "false");
      var words = buttons[i].querySelector(".theme-state");
      if (words) words.textContent = dark ? "on" : "off";
    }
  }

  function apply() {
    root.setAttribute("data-theme", effective());
    sync();
  }

  apply();
  if (media && media.addEventListener) {
    media.addEventListener("change", function () {
      if (!stored()) apply();
    });
  }
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    try {
      window.localStorage.setItem(KEY, next);
    } catch (e) {
      /* private mode: the switch lasts for this page only */
    }
    root.setAttribute("data-theme", next);
    sync();
  });
})();
