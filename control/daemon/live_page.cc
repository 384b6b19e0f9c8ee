// The live page regfrontd serves at / with --metrics (see regfront/daemon/metrics.h): one
// Chart.js line chart per chart name of /series.json, redrawn every second; counters plotted
// as per-second rates, gauges as they are. A table under the charts holds each series' latest
// value and its number of points (what an operator reads at a glance, and what the e2e test
// checks in the DOM).
namespace regfront::daemon {

extern const char kLivePage[] = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>regfrontd: live</title>
<style>
 body { font-family: sans-serif; margin: 1em 2em; color: #222; }
 h1 { font-size: 1.3em; }
 #charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1.5em; }
 .chart h2 { font-size: 1em; margin: 0.2em 0; }
 table { border-collapse: collapse; margin-top: 2em; font-size: 0.9em; }
 td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.8em; text-align: left; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 #status { color: #a00; }
</style>
<script src="/chart.js"></script>
</head>
<body>
<h1>regfrontd — the last five minutes, every second</h1>
<p id="status"></p>
<div id="charts"></div>
<table id="latest"><thead><tr><th>chart</th><th>series</th><th>latest</th><th>total</th><th>points</th></tr></thead>
<tbody></tbody></table>
<script>
"use strict";
const charts = {};
const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function plotted(s) {
  // Counters: the rate between consecutive points; gauges: the values.
  if (!s.rate) return s.points.map(([t, v]) => ({x: t, y: v}));
  const out = [];
  for (let i = 1; i < s.points.length; i++) {
    const [t0, v0] = s.points[i - 1], [t1, v1] = s.points[i];
    if (t1 > t0) out.push({x: t1, y: Math.max(0, (v1 - v0) / (t1 - t0))});
  }
  return out;
}

function chartFor(name) {
  if (charts[name]) return charts[name];
  const div = document.createElement("div");
  div.className = "chart";
  div.innerHTML = "<h2></h2><canvas height=\"220\"></canvas>";
  div.querySelector("h2").textContent = name;
  document.getElementById("charts").appendChild(div);
  const c = {datasets: {}, chart: null, canvas: div.querySelector("canvas")};
  if (window.Chart) {
    c.chart = new Chart(c.canvas, {type: "line", data: {datasets: []},
      options: {animation: false, parsing: false, normalized: true,
                scales: {x: {type: "linear", title: {display: true, text: "seconds since start"}},
                         y: {beginAtZero: true}},
                elements: {point: {radius: 0}}}});
  }
  charts[name] = c;
  return c;
}

function update(data) {
  const rows = [];
  for (const s of data.series) {
    const c = chartFor(s.chart);
    const pts = plotted(s);
    if (c.chart) {
      let ds = c.datasets[s.name];
      if (!ds) {
        ds = {label: s.name, data: [], borderColor: palette[c.chart.data.datasets.length % palette.length],
              borderWidth: 1.5};
        c.datasets[s.name] = ds;
        c.chart.data.datasets.push(ds);
      }
      ds.data = pts;
    }
    const last = pts.length ? pts[pts.length - 1].y : 0;
    const total = s.points.length ? s.points[s.points.length - 1][1] : 0;
    rows.push([s.chart, s.name, last, total, pts.length]);
  }
  for (const name in charts) if (charts[name].chart) charts[name].chart.update("none");
  const body = document.querySelector("#latest tbody");
  body.textContent = "";
  for (const [chart, name, last, total, n] of rows) {
    const tr = document.createElement("tr");
    tr.dataset.chart = chart;
    tr.dataset.series = name;
    tr.dataset.latest = last;
    tr.dataset.total = total;
    tr.dataset.points = n;
    for (const [v, cls] of [[chart, ""], [name, ""], [last.toFixed(2), "num"], [String(total), "num"], [String(n), "num"]]) {
      const td = document.createElement("td");
      td.textContent = v;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  document.body.dataset.updated = String(Date.now());
  document.getElementById("status").textContent =
      window.Chart ? "" : "Chart.js is not installed (Debian libjs-chart.js): figures only.";
}

async function tick() {
  try {
    const r = await fetch("/series.json", {cache: "no-store"});
    update(await r.json());
  } catch (e) {
    document.getElementById("status").textContent = "regfrontd does not answer: " + e;
  }
  setTimeout(tick, 1000);
}
tick();
</script>
</body>
</html>
)html";

}  // namespace regfront::daemon
