/* dse report, part 6: bits per layer, hypervolume, sensitivity, fidelity, about. */
  // -- bits per layer, hypervolume, sensitivity, fidelity, about --------------------------

  function drawBits() {
    var gd = document.getElementById("bits-plot");
    var bits = info.bits;
    Plotly.newPlot(gd, [{
      type: "heatmap",
      z: bits.z,
      x: bits.numbers.map(function (n) { return "#" + n; }),
      y: bits.layers,
      customdata: bits.layers.map(function () { return bits.numbers; }),
      colorscale: "Viridis",
      colorbar: { title: { text: "bits/weight" } },
      hovertemplate: "trial %{customdata}<br>%{y}: %{z} bits per weight<extra></extra>",
      xgap: 1,
      ygap: 1,
    }], {
      margin: { l: 90, r: 20, t: 20, b: 70 },
      xaxis: { title: { text: "front point (trial), by " + axisLabel(objectives[0]) }, type: "category" },
      yaxis: { autorange: "reversed" },
    }, PLOT_CONFIG).then(function () {
      gd.on("plotly_click", function (event) {
        var p = event.points && event.points[0];
        if (p) select(Number(String(p.x).replace("#", "")));
      });
    });
  }

  function drawConvergence() {
    var hv = info.hypervolume;
    document.getElementById("hv-note").textContent = "Hypervolume of the feasible front after " +
      "each evaluation, from " + (hv.reference_kind === "study" ? "the study's reference point "
        : "a point just beyond the worst values seen ") + "(" + hv.reference.map(function (v, k) {
        return objectives[k] + " " + formatValue(v, objectives[k]);
      }).join(", ") + ").";
    Plotly.newPlot(document.getElementById("hv-plot"), [{
      type: hv.evaluations.length >= GL_MIN_POINTS && report.glAllowed ? "scattergl" : "scatter",
      mode: "lines",
      x: hv.evaluations,
      y: hv.hypervolume,
      line: { color: COLORS.front, shape: "hv" },
      name: "hypervolume",
    }], {
      margin: { l: 80, r: 20, t: 20, b: 60 },
      xaxis: { title: { text: "evaluations" } },
      yaxis: { title: { text: "hypervolume (objective units)" }, exponentformat: "power" },
    }, PLOT_CONFIG);
  }

  function drawSensitivity() {
    var groupsByKey = {};
    info.sensitivity.forEach(function (row) {
      var key = row.layer + " " + row.tensor + " " + row.kind +
        (row.granularity ? " (" + row.granularity + ")" : "");
      var x = row.kind === "shared" ? Math.log2(row.clusters) : row.bits;
      (groupsByKey[key] = groupsByKey[key] || []).push([x, row.accuracy_drop, row]);
    });
    var traces = Object.keys(groupsByKey).map(function (key) {
      var rows = groupsByKey[key].sort(function (a, b) { return a[0] - b[0]; });
      return {
        type: "scatter", mode: "lines+markers", name: key,
        x: rows.map(function (r) { return r[0]; }),
        y: rows.map(function (r) { return r[1]; }),
        customdata: rows.map(function (r) { return [r[2].clusters || r[2].bits]; }),
        hovertemplate: key + "<br>%{customdata[0]}: drop %{y:.2%}<extra></extra>",
      };
    });
    Plotly.newPlot(document.getElementById("sensitivity-plot"), traces, {
      margin: { l: 80, r: 20, t: 20, b: 60 },
      xaxis: { title: { text: "bits per weight (log2 k for shared weights)" } },
      yaxis: { title: { text: "accuracy drop, layer alone (%)" }, tickformat: ".1%" },
      hovermode: "closest",
    }, PLOT_CONFIG);
  }

  function drawFidelity() {
    var f = info.fidelity, p = f.points;
    var parts = ["Evaluator: " + f.kind + "."];
    if (f.calibration) {
      parts.push("Calibration, held out: Spearman " + Number(f.calibration.spearman).toFixed(3) +
        ", MAE " + formatValue(f.calibration.mae, "accuracy") + ".");
    }
    if (f.front_check) {
      parts.push("Front, search vs exact validation: Spearman " +
        Number(f.front_check.spearman).toFixed(3) + ".");
    }
    if (f.fell_back_to_exact) parts.push("The proxy fell back to exact scoring.");
    document.getElementById("fidelity-note").textContent = parts.join(" ");
    var lo = Math.min.apply(null, p.front_accuracy_search.concat(p.front_accuracy_exact, [1]));
    Plotly.newPlot(document.getElementById("fidelity-plot"), [
      { type: "scatter", mode: "markers", name: "exact scores", x: p.proxy_value,
        y: p.accuracy_exact, marker: { color: COLORS.dominated, size: 6 } },
      { type: "scatter", mode: "markers", name: "front (re-scored)", xaxis: "x2", yaxis: "y2",
        x: p.front_accuracy_search, y: p.front_accuracy_exact,
        marker: { color: COLORS.front, size: 7 } },
      { type: "scatter", mode: "lines", name: "exact = search", xaxis: "x2", yaxis: "y2",
        x: [lo, 1], y: [lo, 1], line: { color: "#888", dash: "dot", width: 1 }, hoverinfo: "skip" },
    ], {
      grid: { rows: 1, columns: 2, pattern: "independent" },
      margin: { l: 70, r: 20, t: 20, b: 60 },
      xaxis: { title: { text: "proxy value (degradation)" } },
      yaxis: { title: { text: "exact accuracy" }, tickformat: ".1%" },
      xaxis2: { title: { text: "accuracy seen by the search" }, tickformat: ".1%" },
      yaxis2: { title: { text: "exact validation accuracy" }, tickformat: ".1%" },
      hovermode: "closest",
    }, PLOT_CONFIG);
  }

  function setupAbout() {
    var s = info.study, facts = document.getElementById("about-facts");
    var rows = [
      ["study", s.name],
      ["state", s.state + (s.message ? ": " + s.message : "")],
      ["objectives", s.objectives.map(function (o) { return o.name + " (" + o.direction + ")"; }).join(", ")],
      ["constraints", s.constraints.map(function (c) {
        return (c.min !== null ? c.min + " <= " : "") + c.name + (c.max !== null ? " <= " + c.max : "");
      }).join(", ") || "none"],
      ["evaluated trials", s.complete + (s.budget ? " of a budget of " + s.budget : "")],
      ["front", s.front_size + " points"],
      ["float32 accuracy", formatValue(s.reference_accuracy, "accuracy")],
      ["seed", String(s.seed)],
      ["report written", info.generated_at],
    ];
    rows.forEach(function (r) {
      facts.appendChild(element("dt", {}, r[0]));
      facts.appendChild(element("dd", {}, r[1]));
    });
    document.getElementById("provenance").textContent = JSON.stringify(info.provenance, null, 2);
    document.getElementById("settings").textContent = JSON.stringify(info.settings, null, 2);
  }
