// homeiq-ai page: YAML checked as you type (through the page's /validate), live run progress.
"use strict";
(function () {
  var token = document.querySelector('meta[name="csrf-token"]').content;
  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value; // never innerHTML: findings quote what people wrote
    return el;
  }
  function show(box, answer) {
    box.replaceChildren();
    if (answer.error) { box.appendChild(text("p", "critical", answer.error)); return; }
    (answer.results || []).forEach(function (r) {
      box.appendChild(text("p", r.valid ? "" : "critical", (r.alias || "automation") + ": " + (r.valid ? "valid" : "not valid")));
      var list = document.createElement("ul");
      (r.errors || []).forEach(function (e) { list.appendChild(text("li", "critical", (e.path || "") + ": " + e.message)); });
      ((r.safety && r.safety.findings) || []).forEach(function (f) {
        list.appendChild(text("li", f.severity, f.severity + ": " + f.message + (f.path ? " (" + f.path + ")" : "")));
      });
      box.appendChild(list);
    });
    (answer.conflicts || []).forEach(function (c) { box.appendChild(text("p", "warning", "conflict: " + (c.message || JSON.stringify(c)))); });
  }
  document.querySelectorAll("textarea[data-validate]").forEach(function (area) {
    var box = document.getElementById(area.getAttribute("aria-describedby"));
    var timer = null;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(area.dataset.validate, {
          method: "POST", credentials: "same-origin",
          headers: { "content-type": "application/json", "x-csrf-token": token },
          body: JSON.stringify({ yaml: area.value })
        }).then(function (r) { return r.json(); }).then(function (a) { show(box, a); })
          .catch(function (e) { box.replaceChildren(text("p", "critical", "could not check: " + e)); });
      }, 400);
    });
  });
  var live = document.querySelector('[data-refresh="yes"]');
  if (live) setTimeout(function () { window.location.reload(); }, 2000);
})();
