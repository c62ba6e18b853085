"""The HTML report's style and script, inline in every page (`report.html`).

The script only reads the page: it moves the current row (keys and clicks), copies the
current row's state list into the panel beside the table (`cloneNode`, never markup from
strings), and draws the arrows of stale checks and stale reads between table cells, from
each trace's `data-links` (numbers and two fixed words).  It adds no listener to markup and
builds no markup from text.  The page's Content-Security-Policy allows this script and this
style only, by their hashes."""

CSS = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d5dae3;
  --current: #e4efff; --current-edge: #2f6fde; --chg: #fff1a8; --check: #c62828;
  --read: #8a4fd0; --cycle: #f3ecff; --cycle-edge: #8a4fd0; --ok: #1b7f3b; --fail: #c62828;
  --unknown: #a06300; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1600px; padding: 1rem 1.5rem 3rem; color: var(--ink);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; background: #fff; }
h1 { font-size: 1.5rem; margin: .2rem 0 .5rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .4rem; border-bottom: 2px solid var(--line);
  padding-bottom: .2rem; }
h3 { display: inline; font-size: 1.05rem; margin: 0; }
h4 { font-size: .95rem; margin: 0 0 .4rem; }
code, pre, .changes, .kv, td.n { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: .85rem; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: .6rem; overflow-x: auto;
  white-space: pre-wrap; }
.path, .summary, .constants, .about, .message, .replay { color: var(--muted); }
.contents { list-style: none; padding: 0; margin: 0 0 .5rem; display: flex; flex-wrap: wrap;
  gap: .4rem 1.2rem; }
.status { font-size: .8rem; font-weight: 700; padding: .05rem .4rem; border-radius: .3rem;
  border: 1px solid currentColor; }
.st-passed { color: var(--ok); } .st-failed, .st-invalid { color: var(--fail); }
.st-incomplete, .st-interrupted, .st-not-checked { color: var(--unknown); }
.keys { background: #f4f6fa; border-left: 4px solid var(--current-edge); padding: .3rem .6rem;
  margin: .4rem 0; font-size: .85rem; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; vertical-align: top;
  text-align: left; }
thead th { background: #eef1f6; }
.verdicts td.mark { font-weight: 700; }
.v-ok td.mark { color: var(--ok); } .v-fail td.mark, .v-fail { color: var(--fail); }
.v-unknown td.mark { color: var(--unknown); }
.warnings { color: var(--unknown); }
section.trace { margin: 1rem 0 1.5rem; }
summary { cursor: pointer; padding: .3rem 0; }
.badge { font-size: .75rem; font-weight: 600; color: var(--muted); border: 1px solid var(--line);
  border-radius: .8rem; padding: .05rem .5rem; margin-left: .4rem; vertical-align: middle; }
.trace-body { display: grid; grid-template-columns: minmax(0, 1fr) 17rem; gap: 1rem;
  align-items: start; }
.lanes { position: relative; overflow: auto; max-height: 78vh; border: 1px solid var(--line); }
.legend { font-size: .8rem; color: var(--muted); margin: .2rem 0 .4rem; }
.legend .l-check { color: var(--check); font-weight: 700; }
.legend .l-read { color: var(--read); font-weight: 700; }
.legend .l-cycle { color: var(--cycle-edge); font-weight: 700; }
.swimlane { width: 100%; table-layout: fixed; }
.swimlane col.n { width: 3.5rem; } .swimlane col.state { width: 5.5rem; }
.swimlane thead th { position: sticky; top: 0; z-index: 4;
  box-shadow: inset 0 -1px 0 var(--line); }
.swimlane th.lane { text-align: center; overflow-wrap: anywhere; }
.swimlane td { overflow-wrap: anywhere; }
.swimlane td.state summary { color: var(--muted); font-size: .8rem; padding: 0; }
.swimlane td.state dl { min-width: 14rem; }
tr.step { cursor: pointer; }
td.n, th.n { white-space: nowrap; }
td.taken, td.init { background: #fbfcfe; }
td.taken { border-left: 4px solid var(--lane, #6b7a99); }
.lane-0 { --lane: #2f6fde; } .lane-1 { --lane: #d9822b; } .lane-2 { --lane: #1b998b; }
.lane-3 { --lane: #c2417f; } .lane-4 { --lane: #6a7f14; } .lane-5 { --lane: #7c5cd6; }
.lane-6 { --lane: #a1522d; } .lane-7 { --lane: #3d7ea6; }
.tr { display: block; font-weight: 700; }
.changes { list-style: none; margin: .15rem 0 0; padding: 0; }
.changes mark, .kv .changed dd { background: var(--chg); color: inherit; padding: 0 .15rem; }
.nochange { color: var(--muted); font-size: .85rem; }
.fails { display: block; color: var(--fail); font-weight: 700; }
.mark { display: block; margin-top: .25rem; font-size: .78rem; font-weight: 600;
  border-radius: .25rem; padding: .05rem .35rem; position: relative; z-index: 1; }
.m-check, .m-break { color: var(--check); border: 1.5px solid var(--check); background: #fff5f5; }
.m-read, .m-change { color: var(--read); border: 1.5px dashed var(--read); background: #faf5ff; }
.m-stale { color: #fff; background: var(--check); }
tr.current > th, tr.current > td { background-color: var(--current); }
tr.current > th.n { box-shadow: inset 4px 0 0 var(--current-edge); }
tr.current { outline: 2px solid var(--current-edge); outline-offset: -2px; }
tr.cycle > th.n { background-color: var(--cycle);
  box-shadow: inset -4px 0 0 var(--cycle-edge); }
tr.cycle.current > th.n { box-shadow: inset 4px 0 0 var(--current-edge),
  inset -4px 0 0 var(--cycle-edge); }
tr.cycle-start > td, tr.cycle-start > th { border-top: 2px dashed var(--cycle-edge); }
tr.cycle-end > td, tr.cycle-end > th { border-bottom: 2px dashed var(--cycle-edge); }
.cyc { display: block; color: var(--cycle-edge); font-size: .72rem; font-weight: 700; }
svg.arrows { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible;
  z-index: 3; }
svg.arrows path.check { stroke: var(--check); stroke-width: 2.5; fill: none;
  stroke-opacity: .85; }
svg.arrows path.read { stroke: var(--read); stroke-width: 2; fill: none;
  stroke-dasharray: 6 4; }
svg.arrows .ah-check path { fill: var(--check); } svg.arrows .ah-read path { fill: var(--read); }
.state-panel { position: sticky; top: .5rem; border: 1px solid var(--line);
  border-top: 4px solid var(--current-edge); padding: .5rem .7rem; background: #fff;
  max-height: calc(100vh - 1rem); overflow: auto; }
.kv { margin: 0; }
.kv > div { display: flex; gap: .5rem; justify-content: space-between;
  border-bottom: 1px dotted var(--line); }
.kv dt { color: var(--muted); } .kv dd { margin: 0; text-align: right; }
.notes li { margin: .2rem 0; }
.diagnostics { color: #5a1010; }
@media (max-width: 900px) { .trace-body { grid-template-columns: 1fr; }
  .state-panel { position: static; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .keys, .state-panel, .swimlane td.state summary { display: none; }
  .trace-body { display: block; }
  tr.current > th, tr.current > td { background-color: transparent; }
  tr.current { outline: none; }
  tr.step, .mark { break-inside: avoid; }
  section.trace { break-before: auto; }
  .swimlane thead th { position: static; }
  .lanes { max-height: none; overflow: visible; border: 0; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  var active = null;

  function rowsOf(trace) {
    return Array.prototype.slice.call(trace.querySelectorAll("table.swimlane tbody tr.step"));
  }

  function select(trace, k, scroll) {
    var rows = rowsOf(trace);
    if (!rows.length) { return; }
    k = Math.max(0, Math.min(rows.length - 1, k));
    rows.forEach(function (row, i) {
      row.classList.toggle("current", i === k);
      if (i === k) { row.setAttribute("aria-current", "step"); }
      else { row.removeAttribute("aria-current"); }
    });
    trace.setAttribute("data-current", String(k));
    showState(trace, rows[k]);
    if (scroll && rows[k].scrollIntoView) { rows[k].scrollIntoView({block: "nearest"}); }
    active = trace;
  }

  function showState(trace, row) {
    var panel = trace.querySelector(".state-panel");
    if (!panel) { return; }
    panel.querySelector(".sp-step").textContent = row.getAttribute("data-step");
    panel.querySelector(".sp-label").textContent = row.getAttribute("data-label");
    var source = row.querySelector("td.state dl");
    var copy = source ? source.cloneNode(true) : document.createElement("dl");
    panel.replaceChild(copy, panel.querySelector("dl"));
  }

  function current(trace) {
    return parseInt(trace.getAttribute("data-current") || "0", 10);
  }

  function firstOpenTrace() {
    var all = document.querySelectorAll("section.trace");
    for (var i = 0; i < all.length; i++) {
      if (all[i].querySelector("details").open) { return all[i]; }
    }
    return all.length ? all[0] : null;
  }

  var MOVES = {ArrowDown: 1, j: 1, ArrowUp: -1, k: -1};

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (!active) { active = firstOpenTrace(); }
    if (!active) { return; }
    var n = rowsOf(active).length;
    if (MOVES.hasOwnProperty(e.key)) { select(active, current(active) + MOVES[e.key], true); }
    else if (e.key === "Home") { select(active, 0, true); }
    else if (e.key === "End") { select(active, n - 1, true); }
    else { return; }
    e.preventDefault();
  });

  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr.step");
    if (!row) { return; }
    var trace = row.closest("section.trace");
    select(trace, rowsOf(trace).indexOf(row), false);
  });

  function point(base, el, where) {
    var r = el.getBoundingClientRect();
    return {x: r.left - base.left + r.width / 2, y: where === "top" ? r.top - base.top
            : r.bottom - base.top, w: r.width, left: r.left - base.left};
  }

  function endOf(trace, step, lane, cls) {
    var cell = document.getElementById(trace.id + "-s" + step + "-l" + lane);
    if (!cell) { return null; }
    return cell.querySelector(".mark." + cls) || cell;
  }

  function drawLinks(lanes) {
    var svg = lanes.querySelector("svg.arrows");
    var trace = lanes.closest("section.trace");
    var NS = svg.namespaceURI;
    Array.prototype.slice.call(svg.querySelectorAll(".link")).forEach(function (el) {
      svg.removeChild(el);
    });
    if (!lanes.offsetParent) { return; }
    var table = lanes.querySelector("table");
    svg.setAttribute("width", String(table.offsetWidth));
    svg.setAttribute("height", String(table.offsetHeight));
    var base = lanes.getBoundingClientRect();
    base = {left: base.left - lanes.scrollLeft, top: base.top - lanes.scrollTop};
    (lanes.getAttribute("data-links") || "").split(" ").forEach(function (spec) {
      var f = spec.split(",");
      if (f.length !== 5) { return; }
      var kind = f[0] === "check" ? "check" : "read";
      var from = endOf(trace, f[1], f[2], kind === "check" ? "m-check" : "m-read");
      var to = endOf(trace, f[3], f[4], kind === "check" ? "m-break" : "m-change");
      if (!from || !to) { return; }
      var a = point(base, from, "bottom"), b = point(base, to, "top");
      var bend = f[2] === f[4] ? Math.max(40, a.w / 2 + 20) : 0;
      var midY = (a.y + b.y) / 2;
      var path = document.createElementNS(NS, "path");
      path.setAttribute("class", "link " + kind);
      path.setAttribute("d", "M" + a.x + "," + a.y + " C" + (a.x + bend) + "," + midY + " " +
        (b.x + bend) + "," + midY + " " + b.x + "," + (b.y - 1));
      path.setAttribute("marker-end", "url(#" + trace.id + "-ah-" + kind + ")");
      svg.appendChild(path);
    });
  }

  function drawAll() {
    Array.prototype.slice.call(document.querySelectorAll("div.lanes")).forEach(drawLinks);
  }

  window.addEventListener("resize", drawAll);
  document.addEventListener("toggle", drawAll, true);
  window.addEventListener("beforeprint", function () {
    Array.prototype.slice.call(document.querySelectorAll("section.trace > details"))
      .forEach(function (d) { d.open = true; });
    drawAll();
  });
  window.addEventListener("afterprint", drawAll);
  active = firstOpenTrace();
  drawAll();
  window.addEventListener("load", drawAll);
})();
"""
