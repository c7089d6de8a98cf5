// Live updates for the dashboard: server-sent events from /events; no libraries.
// The server sends the texts; this only puts them where the page marked them.
(function () {
  "use strict";

  function apply(snap) {
    var values = snap.values || {};
    var states = snap.states || {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var v = values[el.getAttribute("data-live")];
      if (v !== undefined && el.textContent !== v) {
        el.textContent = v;
        if (el.hasAttribute("data-quiet")) return;  // changes every second: no flash
        el.classList.remove("changed");
        void el.offsetWidth;
        el.classList.add("changed");
      }
    });
    document.querySelectorAll("[data-state]").forEach(function (el) {
      var v = states[el.getAttribute("data-state")];
      if (v !== undefined) el.setAttribute("data-status", v);
    });
    var list = document.querySelector("[data-kiosk-ids]");
    if (list && snap.kiosk_ids) {
      var shown = JSON.parse(list.getAttribute("data-kiosk-ids") || "[]");
      if (JSON.stringify(shown) !== JSON.stringify(snap.kiosk_ids)) {
        window.location.replace(window.location.pathname);  // a kiosk was paired or unpaired
      }
    }
  }

  function connect() {
    var badge = document.getElementById("live-state");
    var source = new EventSource("/events");
    source.addEventListener("snapshot", function (ev) {
      apply(JSON.parse(ev.data));
    });
    source.addEventListener("open", function () {
      if (badge) { badge.textContent = badge.getAttribute("data-on"); badge.classList.add("on"); }
    });
    source.addEventListener("error", function () {
      if (badge) { badge.textContent = badge.getAttribute("data-off"); badge.classList.remove("on"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (document.body.hasAttribute("data-live-page") && window.EventSource) connect();
  });
})();
