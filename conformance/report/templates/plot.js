// report.html's evidence plots: SVG drawn in the browser from the page's JSON data block.
// Each entry: {id, test_case, requirements, t_s, channels: [{name, unit, values}], events:
// [[name, t]], panels: [{label, steps, channels: [index]}]} (conformance/report/html.py).
// Text from the data only ever goes through textContent, never through markup.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var W = 860, LEFT = 64, RIGHT = 14, TOP = 22, PANEL = 118, GAP = 12, BOTTOM = 30;
  var CHAR = 6.6;  // about the width of a character of the 11 px labels
  var block = document.getElementById("obsa-evidence");
  if (!block) return;
  var cases = JSON.parse(block.textContent);

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    var a = Math.abs(v);
    return (a !== 0 && (a >= 1e5 || a < 1e-3)) ? v.toExponential(3) : String(+v.toPrecision(6));
  }

  // round-number ticks (1, 2, 5 × 10^k) covering [lo, hi]
  function ticks(lo, hi, count, integer) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    var err = (hi - lo) / count / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    if (integer) step = Math.max(1, Math.round(step));
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
    }
    return out;
  }

  function range(c, panel) {
    var lo = Infinity, hi = -Infinity;
    panel.channels.forEach(function (k) {
      c.channels[k].values.forEach(function (v) {
        if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
      });
    });
    if (lo === Infinity) return [0, 1];
    if (lo === hi) return panel.steps ? [lo - 0.5, hi + 0.5] : [lo - (Math.abs(lo) || 1) * 0.05,
                                                             hi + (Math.abs(hi) || 1) * 0.05];
    var pad = (hi - lo) * 0.06;
    return [lo - pad, hi + pad];
  }

  // indices to draw: every sample, or the min and max of each pixel column of a long trace
  function reduce(t, v, x0, x1, pixels) {
    var n = t.length, idx = [];
    if (n <= 2 * pixels) { for (var i = 0; i < n; i++) idx.push(i); return idx; }
    var col = -1, lo = -1, hi = -1;
    function flush() {
      if (lo < 0) return;
      if (lo === hi) idx.push(lo); else if (lo < hi) idx.push(lo, hi); else idx.push(hi, lo);
    }
    for (var j = 0; j < n; j++) {
      var c = Math.floor((t[j] - x0) / (x1 - x0 || 1) * pixels);
      if (c !== col) { flush(); col = c; lo = hi = -1; }
      if (v[j] === null) { flush(); lo = hi = -1; idx.push(j); continue; }
      if (lo < 0 || v[j] < v[lo]) lo = j;
      if (hi < 0 || v[j] > v[hi]) hi = j;
    }
    flush();
    return idx;
  }

  function path(t, v, sx, sy, steps, idx) {
    var d = [], pen = false;
    idx.forEach(function (i) {
      if (v[i] === null) { pen = false; return; }
      var x = sx(t[i]).toFixed(1), y = sy(v[i]).toFixed(1);
      if (!pen) d.push("M" + x + " " + y);
      else if (steps) d.push("H" + x + "V" + y);
      else d.push("L" + x + " " + y);
      pen = true;
    });
    return d.join("");
  }

  function draw(holder, c) {
    var t = c.t_s, n = t.length;
    var x0 = t[0], x1 = t[n - 1] > t[0] ? t[n - 1] : t[0] + 1;
    var plotW = W - LEFT - RIGHT;
    var H = TOP + c.panels.length * (PANEL + GAP) - GAP + BOTTOM;
    var sx = function (x) { return LEFT + (x - x0) / (x1 - x0) * plotW; };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H});
    var cursor = el("line", {"class": "cursor", y1: TOP, y2: H - BOTTOM, visibility: "hidden"});
    var xt = ticks(x0, x1, 8, false);
    c.panels.forEach(function (panel, p) {
      var top = TOP + p * (PANEL + GAP), bottom = top + PANEL;
      var yr = range(c, panel);
      var sy = function (y) { return bottom - (y - yr[0]) / (yr[1] - yr[0]) * PANEL; };
      var g = el("g", {}, svg);
      ticks(yr[0], yr[1], 4, panel.steps).forEach(function (y) {
        el("line", {"class": "grid", x1: LEFT, x2: W - RIGHT, y1: sy(y), y2: sy(y)}, g);
        el("text", {x: LEFT - 5, y: sy(y) + 4, "text-anchor": "end"}, g, fmt(y));
      });
      xt.forEach(function (x) {
        el("line", {"class": "grid", x1: sx(x), x2: sx(x), y1: top, y2: bottom}, g);
        if (p === c.panels.length - 1) {
          el("text", {x: sx(x), y: bottom + 14, "text-anchor": "middle"}, g, fmt(x));
        }
      });
      el("rect", {"class": "axis", x: LEFT, y: top, width: plotW, height: PANEL}, g);
      el("text", {transform: "translate(12," + (top + PANEL / 2) + ") rotate(-90)",
                  "text-anchor": "middle"}, g, panel.label);
      var clip = c.id + "-clip-" + p;
      el("rect", {x: LEFT, y: top, width: plotW, height: PANEL},
         el("clipPath", {id: clip}, el("defs", {}, g)));
      var legend = [], lx = 0, ly = 0;
      panel.channels.forEach(function (k, j) {
        var ch = c.channels[k], colour = COLOURS[j % COLOURS.length];
        var line = el("path", {d: path(t, ch.values, sx, sy, panel.steps,
                                       reduce(t, ch.values, x0, x1, plotW)),
                               fill: "none", stroke: colour, "stroke-width": 1.2,
                               "clip-path": "url(#" + clip + ")"}, g);
        el("title", {}, line, ch.name + (ch.unit === "1" ? "" : " (" + ch.unit + ")"));
        var w = 20 + CHAR * ch.name.length;
        if (lx > 0 && lx + w > plotW - 12) { lx = 0; ly += 14; }  // wrap the legend
        legend.push([lx, ly, colour, ch.name]);
        lx += w;
      });
      var wide = legend.length ? Math.max.apply(null, legend.map(function (e) {
        return e[0] + 16 + CHAR * e[3].length; })) : 0;
      el("rect", {x: LEFT + 3, y: top + 3, width: wide + 6, height: ly + 15, fill: "#fff",
                  "fill-opacity": 0.75}, g);
      legend.forEach(function (e) {
        el("rect", {x: LEFT + 6 + e[0], y: top + 8 + e[1], width: 10, height: 3, fill: e[2]}, g);
        el("text", {x: LEFT + 19 + e[0], y: top + 13 + e[1]}, g, e[3]);
      });
      c.events.forEach(function (e, k) {
        var x = sx(e[1]);
        el("line", {"class": "event", x1: x, x2: x, y1: top, y2: bottom}, g);
        if (p === 0) {  // names alternate sides so close events stay readable
          var w = CHAR * e[0].length, right = k % 2 === 1;
          if (!right && x - w < 2) right = true;
          else if (right && x + w > W - 2) right = false;
          el("text", {"class": "event", x: right ? x + 3 : x - 3, y: TOP - 6,
                      "text-anchor": right ? "start" : "end"}, g, e[0]);
        }
      });
    });
    el("text", {x: LEFT + plotW / 2, y: H - 4, "text-anchor": "middle"}, svg, "t (s)");
    svg.appendChild(cursor);
    var readout = document.createElement("div");
    readout.className = "readout";
    svg.addEventListener("mousemove", function (ev) {
      var box = svg.getBoundingClientRect();
      var x = (ev.clientX - box.left) / box.width * W;
      var at = x0 + (x - LEFT) / plotW * (x1 - x0);
      var lo = 0, hi = n - 1;
      while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (t[mid] <= at) lo = mid; else hi = mid; }
      var i = Math.abs(t[hi] - at) < Math.abs(at - t[lo]) ? hi : lo;
      cursor.setAttribute("x1", sx(t[i])); cursor.setAttribute("x2", sx(t[i]));
      cursor.setAttribute("visibility", "visible");
      var parts = ["t = " + fmt(t[i]) + " s"];
      c.panels.forEach(function (panel) {
        panel.channels.forEach(function (k) {
          var ch = c.channels[k];
          parts.push(ch.name + " " + fmt(ch.values[i]) + (ch.unit === "1" ? "" : " " + ch.unit));
        });
      });
      readout.textContent = parts.join(" · ");
    });
    svg.addEventListener("mouseleave", function () {
      cursor.setAttribute("visibility", "hidden");
      readout.textContent = "";
    });
    holder.textContent = "";
    holder.appendChild(svg);
    holder.appendChild(readout);
  }

  var holders = Array.prototype.slice.call(document.querySelectorAll(".plot[data-index]"));
  function show(holder) {
    if (holder.getAttribute("data-drawn")) return;
    holder.setAttribute("data-drawn", "1");
    draw(holder, cases[+holder.getAttribute("data-index")]);
  }
  window.addEventListener("beforeprint", function () { holders.forEach(show); });
  if ("IntersectionObserver" in window) {  // draw a plot when it comes near the screen
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { seen.unobserve(e.target); show(e.target); }
      });
    }, {rootMargin: "800px"});
    holders.forEach(function (h) { seen.observe(h); });
  } else {
    holders.forEach(show);
  }
})();
