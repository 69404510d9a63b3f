/* dse report, part 3: scatter matrix and parallel coordinates, WebGL or SVG. */
  // -- scatter matrix and parallel coordinates (3+ objectives) ----------------------------

  function sample(indices, limit) {
    if (indices.length <= limit) return { kept: indices, sampled: false };
    var step = indices.length / limit, kept = [];
    for (var k = 0; k < limit; k++) kept.push(indices[Math.floor(k * step)]);
    return { kept: kept, sampled: true };
  }

  var MATRIX_GROUPS = [
    ["infeasible", COLORS.infeasible, 0.35, 4],
    ["dominated", COLORS.dominated, 0.45, 4],
    ["front", COLORS.front, 1, 6],
  ];

  function groupIndices(name) {
    return groups[name].concat(groups[name + "Proxy"]);
  }

  function drawMatrix() {
    var gd = document.getElementById("matrix-plot");
    var dims = objectives;
    var note = document.getElementById("matrix-note");
    if (report.glAllowed) {
      var traces = MATRIX_GROUPS.map(function (g) {
        var idx = groupIndices(g[0]);
        return {
          type: "splom",
          name: g[0],
          uid: "matrix-" + g[0],
          dimensions: dims.map(function (name) {
            var col = column(name);
            return { label: axisLabel(name), values: idx.map(function (i) { return col[i]; }) };
          }),
          customdata: idx.map(function (i) { return [trials.number[i]]; }),
          hovertemplate: "trial %{customdata[0]}<extra>" + g[0] + "</extra>",
          showupperhalf: false,
          diagonal: { visible: false },
          marker: { color: g[1], size: g[3], opacity: g[2] },
        };
      });
      note.textContent = "Every evaluated trial (WebGL). Blue: the front; grey: dominated; red: infeasible.";
      var splomLayout = { margin: { l: 80, r: 20, t: 20, b: 70 }, dragmode: "select",
        hovermode: "closest" };
      dims.forEach(function (name, k) {
        var a = axisLayout(name, axes[name].log);
        var axis = { type: a.type, tickformat: a.tickformat };
        splomLayout["xaxis" + (k ? k + 1 : "")] = axis;
        splomLayout["yaxis" + (k ? k + 1 : "")] = axis;
      });
      Plotly.newPlot(gd, traces, splomLayout, PLOT_CONFIG).then(function () { bindClick(gd); });
      return;
    }
    var n = dims.length, traces2 = [], layout = { margin: { l: 80, r: 20, t: 20, b: 70 },
      showlegend: true, hovermode: "closest", grid: { rows: n - 1, columns: n - 1,
        pattern: "independent" } };
    var anySampled = false;
    for (var r = 1; r < n; r++) {
      for (var c = 0; c < n - 1; c++) {
        var cell = (r - 1) * (n - 1) + c + 1;
        var xa = "x" + (cell === 1 ? "" : cell), ya = "y" + (cell === 1 ? "" : cell);
        var ax = axisLayout(dims[c], axes[dims[c]].log), ay = axisLayout(dims[r], axes[dims[r]].log);
        layout["xaxis" + (cell === 1 ? "" : cell)] = {
          title: { text: r === n - 1 ? axisLabel(dims[c]) : "" }, visible: c < r,
          type: ax.type, tickformat: ax.tickformat };
        layout["yaxis" + (cell === 1 ? "" : cell)] = {
          title: { text: c === 0 ? axisLabel(dims[r]) : "" }, visible: c < r,
          type: ay.type, tickformat: ay.tickformat };
        if (c >= r) continue;
        MATRIX_GROUPS.forEach(function (g) {
          var picked = g[0] === "front" ? { kept: groupIndices("front"), sampled: false }
            : sample(groupIndices(g[0]), SVG_SAMPLE);
          anySampled = anySampled || picked.sampled;
          var xs = column(dims[c]), ys = column(dims[r]);
          traces2.push({
            type: "scatter", mode: "markers", xaxis: xa, yaxis: ya, name: g[0],
            legendgroup: g[0], showlegend: cell === n,
            x: picked.kept.map(function (i) { return xs[i]; }),
            y: picked.kept.map(function (i) { return ys[i]; }),
            customdata: picked.kept.map(function (i) { return [trials.number[i]]; }),
            hovertemplate: "trial %{customdata[0]}<extra>" + g[0] + "</extra>",
            marker: { color: g[1], size: g[3], opacity: g[2] },
          });
        });
      }
    }
    note.textContent = "SVG rendering (no WebGL)" +
      (anySampled ? "; at most " + SVG_SAMPLE + " dominated and infeasible points per panel" : "") +
      ". Blue: the front; grey: dominated; red: infeasible.";
    Plotly.newPlot(gd, traces2, layout, PLOT_CONFIG).then(function () { bindClick(gd); });
  }

  function parallelDims() {
    return objectives.concat(["accuracy_drop", "compression_ratio"].filter(function (name) {
      return axes[name] && objectives.indexOf(name) < 0;
    }));
  }

  function finiteRange(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) {
      if (v !== null && isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    });
    return lo === Infinity ? [0, 1] : lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
  }

  function drawParallel() {
    var gd = document.getElementById("parallel-plot");
    var dims = parallelDims();
    var note = document.getElementById("parallel-note");
    var ranges = dims.map(function (name) { return finiteRange(column(name)); });
    if (report.glAllowed) {
      var state = new Array(nTrials);
      for (var i = 0; i < nTrials; i++) {
        state[i] = !trials.feasible[i] ? 0 : trials.pareto[i] ? 2 : 1;
      }
      var trace = {
        type: "parcoords",
        uid: "parallel",
        line: { color: state, cmin: 0, cmax: 2, colorscale: [[0, COLORS.infeasible],
          [0.5, "#c9c9c9"], [1, COLORS.front]] },
        dimensions: dims.map(function (name, k) {
          var range = betterIsLarger(name) ? ranges[k] : [ranges[k][1], ranges[k][0]];
          return { label: axisLabel(name), values: column(name), range: range,
            tickformat: d3Format(name).replace(".2%", ".1%") };
        }),
      };
      note.textContent = "Every evaluated trial (WebGL); better is up on every axis. Blue: the " +
        "front; grey: dominated; red: infeasible. Drag along an axis to filter.";
      Plotly.newPlot(gd, [trace], { margin: { l: 80, r: 80, t: 60, b: 30 } }, PLOT_CONFIG);
      return;
    }
    // SVG: one polyline per trial on axes scaled to [0, 1], better up.
    var traces = [], anySampled = false;
    [["dominated", "#c9c9c9", 0.5], ["front", COLORS.front, 0.9]].forEach(function (g) {
      var picked = g[0] === "front" ? { kept: groupIndices("front"), sampled: false }
        : sample(groupIndices("dominated").concat(groupIndices("infeasible")), SVG_SAMPLE);
      anySampled = anySampled || picked.sampled;
      var x = [], y = [];
      picked.kept.forEach(function (i) {
        dims.forEach(function (name, k) {
          var v = column(name)[i], r = ranges[k];
          var t = (v - r[0]) / (r[1] - r[0]);
          x.push(k);
          y.push(v === null ? null : betterIsLarger(name) ? t : 1 - t);
        });
        x.push(null);
        y.push(null);
      });
      traces.push({ type: "scatter", mode: "lines", name: g[0], x: x, y: y,
        line: { color: g[1], width: 1 }, opacity: g[2], hoverinfo: "skip" });
    });
    var annotations = [];
    dims.forEach(function (name, k) {
      var r = ranges[k], up = betterIsLarger(name);
      annotations.push({ x: k, y: 1.04, text: formatValue(up ? r[1] : r[0], name),
        showarrow: false, font: { size: 11 } });
      annotations.push({ x: k, y: -0.04, text: formatValue(up ? r[0] : r[1], name),
        showarrow: false, font: { size: 11 } });
    });
    note.textContent = "SVG rendering (no WebGL); better is up on every axis" +
      (anySampled ? "; at most " + SVG_SAMPLE + " dominated trials drawn" : "") + ".";
    Plotly.newPlot(gd, traces, {
      margin: { l: 40, r: 40, t: 40, b: 60 },
      xaxis: { tickvals: dims.map(function (_, k) { return k; }), ticktext: dims.map(axisLabel),
        showgrid: true, zeroline: false },
      yaxis: { visible: false, range: [-0.08, 1.08] },
      annotations: annotations,
    }, PLOT_CONFIG);
  }

  function bindClick(gd) {
    gd.on("plotly_click", function (event) {
      var p = event.points && event.points[0];
      if (p && p.customdata) select(p.customdata[0]);
    });
  }
