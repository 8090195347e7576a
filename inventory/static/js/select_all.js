// Select-all on a list's page: the header's checkbox ticks (or unticks) the rows of the
// page, and a status line says how many are ticked. Without JavaScript the header's
// checkbox stays hidden and each row is ticked by hand.
//
// Markup: <input type="checkbox" data-select-all="NAME" data-count="ID" hidden> in the
// header, rows' <input type="checkbox" name="NAME">, and <p id="ID" role="status"> whose
// data-none / data-one / data-many (with {count}) are the translated sentences.
(function () {
  "use strict";

  function setUp(master) {
    var form = master.form || master.closest("form");
    if (!form) return;
    var name = master.getAttribute("data-select-all");
    var status = document.getElementById(master.getAttribute("data-count") || "");
    function rows() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.type === "checkbox" && el.name === name && el !== master;
      });
    }
    function announce() {
      var boxes = rows();
      var ticked = boxes.filter(function (b) { return b.checked; }).length;
      master.checked = ticked > 0 && ticked === boxes.length;
      master.indeterminate = ticked > 0 && ticked < boxes.length;
      if (!status) return;
      var key = ticked === 0 ? "data-none" : ticked === 1 ? "data-one" : "data-many";
      status.textContent = (status.getAttribute(key) || "").replace("{count}", String(ticked));
    }
    master.hidden = false;
    var label = master.labels && master.labels[0];
    if (label) label.hidden = false;
    master.addEventListener("change", function () {
      rows().forEach(function (b) { b.checked = master.checked; });
      announce();
    });
    form.addEventListener("change", function (event) {
      if (event.target !== master && event.target.name === name) announce();
    });
    // A page restored from the browser's history keeps its ticks: count them.
    if (rows().some(function (b) { return b.checked; })) announce();
  }

  function start() {
    document.querySelectorAll("input[data-select-all]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
