/* dse report, part 2: the front on any pair of axes (report_core.js defines what it uses). */
  // -- the front on a pair of axes --------------------------------------------------------

  var groups = (function () {
    var out = { front: [], frontProxy: [], dominated: [], dominatedProxy: [], infeasible: [],
      infeasibleProxy: [] };
    for (var i = 0; i < nTrials; i++) {
      var proxy = trials.proxy[i] === 1;
      var key = !trials.feasible[i] ? "infeasible" : trials.pareto[i] ? "front" : "dominated";
      out[proxy ? key + "Proxy" : key].push(i);
    }
    return out;
  })();

  var TRACE_STYLES = [
    ["infeasible", "infeasible (exact)", "x", COLORS.infeasible, 5, 0.45],
    ["infeasibleProxy", "infeasible (proxy)", "x-open", COLORS.infeasible, 5, 0.45],
    ["dominated", "dominated (exact)", "circle", COLORS.dominated, 5, 0.5],
    ["dominatedProxy", "dominated (proxy)", "circle-open", COLORS.dominated, 5, 0.6],
    ["front", "front (exact)", "circle", COLORS.front, 8, 1],
    ["frontProxy", "front (proxy)", "circle-open", COLORS.front, 9, 1],
  ];

  function column(name) {
    return trials[name] || [];
  }

  function hoverTemplate() {
    var lines = ["<b>trial %{customdata[0]}</b>"];
    objectives.forEach(function (name, k) {
      lines.push(axisLabel(name) + ": %{customdata[" + (k + 1) + "]:" + d3Format(name) + "}");
    });
    return lines.join("<br>") + "<extra>%{fullData.name}</extra>";
  }

  function trialTrace(key, label, symbol, color, size, opacity, xName, yName) {
    var idx = groups[key];
    var xs = column(xName), ys = column(yName);
    var objectiveColumns = objectives.map(column);
    var x = new Array(idx.length), y = new Array(idx.length), custom = new Array(idx.length);
    for (var j = 0; j < idx.length; j++) {
      var i = idx[j];
      x[j] = xs[i];
      y[j] = ys[i];
      var row = [trials.number[i]];
      for (var k = 0; k < objectiveColumns.length; k++) row.push(objectiveColumns[k][i]);
      custom[j] = row;
    }
    var open = /-open$/.test(symbol);
    return {
      type: report.glScatter ? "scattergl" : "scatter",
      mode: "markers",
      name: label,
      uid: "trials-" + key,
      meta: "trials",
      x: x,
      y: y,
      customdata: custom,
      hovertemplate: hoverTemplate(),
      marker: {
        symbol: symbol,
        color: color,
        size: size,
        opacity: opacity,
        line: { width: open ? 1.5 : 0, color: color },
      },
    };
  }

  /* Indices of the points no other point beats on both axes (feasible trials only). */
  function pairFront(xName, yName) {
    var xs = column(xName), ys = column(yName);
    var sx = betterIsLarger(xName) ? -1 : 1, sy = betterIsLarger(yName) ? -1 : 1;
    var candidates = [];
    for (var i = 0; i < nTrials; i++) {
      if (trials.feasible[i] && isFinite(xs[i]) && isFinite(ys[i]) && xs[i] !== null &&
        ys[i] !== null) candidates.push(i);
    }
    candidates.sort(function (a, b) {
      return sx * xs[a] - sx * xs[b] || sy * ys[a] - sy * ys[b];
    });
    var kept = [], best = Infinity;
    candidates.forEach(function (i) {
      if (sy * ys[i] < best) {
        kept.push(i);
        best = sy * ys[i];
      }
    });
    return kept;
  }

  function pairTrace(xName, yName) {
    var kept = pairFront(xName, yName);
    var xs = column(xName), ys = column(yName);
    return {
      type: "scatter",
      mode: "lines",
      name: "front of these two axes",
      uid: "pair-front",
      x: kept.map(function (i) { return xs[i]; }),
      y: kept.map(function (i) { return ys[i]; }),
      // Sorted best-x first, the attainment boundary turns at (next x, this y).
      line: { color: COLORS.pair, width: 1.2, dash: "dot", shape: "hv" },
      hoverinfo: "skip",
    };
  }

  function baselineTraces(xName, yName) {
    var traces = [];
    var symbols = ["triangle-up", "square", "diamond", "hexagon", "pentagon", "triangle-down"];
    var positions = ["top left", "bottom right", "top right"];
    var uniform = 0;
    info.baselines.forEach(function (b, k) {
      var x = b.values[xName], y = b.values[yName];
      if (x === undefined || y === undefined || x === null || y === null) return;
      var isFloat = b.number === null;
      var color = isFloat ? COLORS.float32 : COLORS.uniform[uniform % COLORS.uniform.length];
      var symbol = isFloat ? "star" : symbols[uniform % symbols.length];
      if (!isFloat) uniform += 1;
      traces.push({
        type: "scatter",
        mode: "markers+text",
        name: b.label,
        uid: "baseline-" + k,
        meta: "baseline",
        x: [x],
        y: [y],
        text: [b.label],
        textposition: isFloat ? "top center" : positions[(uniform - 1) % 3],
        textfont: { size: 11, color: color },
        marker: { symbol: symbol, size: 13, color: color, line: { width: 1, color: "#fff" } },
        hovertemplate: "<b>" + b.label + "</b>" + (isFloat ? "" : " (trial " + b.number + ")") +
          "<br>" + axisLabel(xName) + ": %{x:" + d3Format(xName) + "}<br>" +
          axisLabel(yName) + ": %{y:" + d3Format(yName) + "}<extra></extra>",
      });
    });
    return traces;
  }

  function selectedTrace(xName, yName) {
    var point = report.selected === null ? null : info.points[String(report.selected)];
    var x = [], y = [];
    if (point) {
      var i = trials.number.indexOf(point.number);
      if (i >= 0) {
        x = [column(xName)[i]];
        y = [column(yName)[i]];
      }
    }
    return {
      type: "scatter",
      mode: "markers",
      name: "selected",
      uid: "selected",
      x: x,
      y: y,
      showlegend: false,
      hoverinfo: "skip",
      marker: { symbol: "circle-open", size: 18, color: COLORS.selected, line: { width: 2.5 } },
    };
  }

  function axisLayout(name, log) {
    var a = axes[name] || {};
    var layout = { title: { text: axisLabel(name) }, type: log ? "log" : "linear",
      zeroline: false, automargin: true };
    if (a.unit === "fraction") layout.tickformat = log ? "" : ".1%";
    else if (a.unit === "s" || a.unit === "J") layout.tickformat = "~s";
    return layout;
  }

  var front = { xName: null, yName: null };

  function defaultAxes() {
    var costs = info.study.objectives.filter(function (o) { return o.direction === "minimize"; });
    var gains = info.study.objectives.filter(function (o) { return o.direction === "maximize"; });
    var x = costs.length ? costs[0].name : objectives[1] || objectives[0];
    var y = gains.length ? gains[0].name : objectives[0];
    if (x === y) y = objectives.find(function (n) { return n !== x; }) || x;
    return [query.get("x") || x, query.get("y") || y];
  }

  function frontTraces() {
    var xName = front.xName, yName = front.yName;
    var traces = TRACE_STYLES.filter(function (s) {
      return groups[s[0]].length;
    }).map(function (s) {
      return trialTrace(s[0], s[1], s[2], s[3], s[4], s[5], xName, yName);
    });
    traces.push(pairTrace(xName, yName));
    traces = traces.concat(baselineTraces(xName, yName));
    traces.push(selectedTrace(xName, yName));
    return traces;
  }

  function frontLayout() {
    return {
      margin: { l: 70, r: 20, t: 20, b: 60 },
      xaxis: axisLayout(front.xName, document.getElementById("x-log").checked),
      yaxis: axisLayout(front.yName, document.getElementById("y-log").checked),
      hovermode: "closest",
      legend: { orientation: "h", y: -0.16 },
      uirevision: front.xName + "|" + front.yName,
    };
  }

  function drawFront() {
    var gd = document.getElementById("front-plot");
    var first = !gd.classList.contains("js-plotly-plot");
    var started = performance.now();
    var drawing = first
      ? Plotly.newPlot(gd, frontTraces(), frontLayout(), PLOT_CONFIG)
      : Plotly.react(gd, frontTraces(), frontLayout(), PLOT_CONFIG);
    return drawing.then(function () {
      if (first) {
        gd.on("plotly_click", function (event) {
          var p = event.points && event.points[0];
          if (p && p.customdata) select(p.customdata[0]);
        });
      }
      window.requestAnimationFrame(function () {
        var now = performance.now();
        report.drawn.front = { ms: now - started, traces: gd.data.length };
        if (report.firstDraw === null) report.firstDraw = now;
        document.body.setAttribute("data-front-drawn", String(++frontDraws));
      });
    });
  }
  var frontDraws = 0;

  function setupFront() {
    var xSel = document.getElementById("x-axis"), ySel = document.getElementById("y-axis");
    info.axes.forEach(function (a) {
      var label = a.label + (a.objective ? "" : " *");
      xSel.appendChild(element("option", { value: a.name }, label));
      ySel.appendChild(element("option", { value: a.name }, label));
    });
    var pair = defaultAxes();
    front.xName = xSel.value = axes[pair[0]] ? pair[0] : info.axes[0].name;
    front.yName = ySel.value = axes[pair[1]] ? pair[1] : info.axes[1].name;
    document.getElementById("x-log").checked = !!(axes[front.xName] || {}).log;
    document.getElementById("y-log").checked = !!(axes[front.yName] || {}).log;
    function change() {
      var xChanged = xSel.value !== front.xName, yChanged = ySel.value !== front.yName;
      front.xName = xSel.value;
      front.yName = ySel.value;
      if (xChanged) document.getElementById("x-log").checked = !!axes[front.xName].log;
      if (yChanged) document.getElementById("y-log").checked = !!axes[front.yName].log;
      drawFront();
    }
    xSel.addEventListener("change", change);
    ySel.addEventListener("change", change);
    document.getElementById("x-log").addEventListener("change", drawFront);
    document.getElementById("y-log").addEventListener("change", drawFront);
    document.getElementById("render-note").textContent =
      (report.glScatter ? "WebGL" : "SVG") + " rendering" +
      (report.webgl ? "" : " (no WebGL in this browser)") +
      "; * measured against the float32 model or not an objective";
    drawers.front = drawFront;
  }
