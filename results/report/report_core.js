/* dse report: draws the info record embedded in the page (see results/_report_info.py).
 *
 * Every number comes from Python; this file only lays it out with Plotly. WebGL traces
 * (scattergl, splom, parcoords) are used where they help and the browser has WebGL; otherwise
 * the same data is drawn with SVG traces. `?render=svg` or `?render=webgl` forces one.
 *
 * The page's script is the report_*.js parts concatenated in the order of
 * results/_report.py's APP_PARTS inside one function: they share its variables. This part:
 * the info record, formatting, header, status and tabs.
 */
  var info = JSON.parse(document.getElementById("dse-data").textContent);
  var query = new URLSearchParams(window.location.search);
  var GL_MIN_POINTS = 1500; // below this SVG draws as fast and is crisper
  var SVG_SAMPLE = 3000; // dominated points drawn per panel by SVG fallbacks of the big views
  var COLORS = {
    front: "#0072B2",
    dominated: "#9a9a9a",
    infeasible: "#D55E00",
    pair: "#0072B2",
    float32: "#000000",
    uniform: ["#E69F00", "#009E73", "#CC79A7", "#56B4E9"],
    selected: "#D55E00",
  };
  var PLOT_CONFIG = {
    responsive: true,
    displaylogo: false,
    toImageButtonOptions: { filename: info.study.name + "_report", scale: 2 },
  };

  var report = {
    started: performance.now(),
    info: info,
    webgl: hasWebGL(),
    firstDraw: null,
    errors: [],
    drawn: {},
    selected: null,
  };
  window.dseReport = report;
  var forced = query.get("render");
  report.glAllowed = forced ? forced === "webgl" : report.webgl;
  report.glScatter =
    report.glAllowed && (forced === "webgl" || info.trials.number.length >= GL_MIN_POINTS);

  var axes = {};
  info.axes.forEach(function (a) {
    axes[a.name] = a;
  });
  var objectives = info.study.objectives.map(function (o) {
    return o.name;
  });
  var trials = info.trials;
  var nTrials = trials.number.length;

  // -- formatting -------------------------------------------------------------------------

  function hasWebGL() {
    try {
      var canvas = document.createElement("canvas");
      return !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
    } catch (e) {
      return false;
    }
  }

  function axisLabel(name) {
    var a = axes[name] || { label: name, unit: "" };
    var unit = a.unit === "fraction" ? "%" : a.unit;
    return unit ? a.label + " (" + unit + ")" : a.label;
  }

  function d3Format(name) {
    var a = axes[name] || {};
    if (a.unit === "fraction") return ".2%";
    if (a.unit === "s" || a.unit === "J") return ".4~s";
    return ",.6~g";
  }

  var SI = [
    [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"],
  ];

  function si(value) {
    var abs = Math.abs(value);
    for (var i = 0; i < SI.length; i++) {
      if (abs >= SI[i][0] || i === SI.length - 1) {
        return Number((value / SI[i][0]).toPrecision(4)) + " " + SI[i][1];
      }
    }
    return String(value);
  }

  function formatValue(value, name) {
    if (value === null || value === undefined || value === "") return "";
    var v = typeof value === "number" ? value : Number(value);
    if (!isFinite(v)) return String(value);
    var a = axes[name] || {};
    if (a.unit === "fraction" || /_share$/.test(name)) return (100 * v).toFixed(2) + " %";
    if (a.unit === "s" || a.unit === "J" || /^(latency|energy)/.test(name)) {
      return si(v) + (a.unit || (/^latency/.test(name) ? "s" : "J"));
    }
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    return Number(v.toPrecision(6)).toLocaleString("en-US", { maximumFractionDigits: 6 });
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function betterIsLarger(name) {
    return (axes[name] || {}).direction === "maximize";
  }

  // -- header, status and tabs ------------------------------------------------------------

  function header() {
    var s = info.study;
    document.getElementById("title").textContent = "dse report: " + s.name;
    var dirs = s.objectives.map(function (o) {
      return o.name + (o.direction === "maximize" ? " \u2191" : " \u2193");
    });
    var parts = [
      s.drawn + " evaluated trials drawn",
      "front of " + s.front_size,
      "float32 accuracy " + formatValue(s.reference_accuracy, "accuracy"),
      "objectives: " + dirs.join(", "),
    ];
    if (s.duplicates) parts.push(s.duplicates + " repeated proposals (not drawn)");
    if (s.failed) parts.push(s.failed + " failed");
    document.getElementById("summary").textContent = parts.join(" \u00b7 ");
    if (s.message) {
      var banner = document.getElementById("status");
      banner.textContent = s.message;
      banner.hidden = false;
      banner.setAttribute("data-state", s.state);
    }
  }

  var views = {};
  var drawers = {};

  function setupTabs() {
    var nav = document.getElementById("tabs");
    var sections = document.querySelectorAll("section.view");
    var hide = {
      "view-matrix": objectives.length < 3,
      "view-parallel": objectives.length < 3,
      "view-sensitivity": !info.sensitivity || !info.sensitivity.length,
      "view-fidelity": !info.fidelity,
    };
    sections.forEach(function (section) {
      if (hide[section.id]) return;
      var name = section.id.replace("view-", "");
      var button = element("button", { role: "tab", "data-view": name, type: "button" },
        section.getAttribute("data-title"));
      button.addEventListener("click", function () {
        show(name);
      });
      nav.appendChild(button);
      views[name] = { section: section, button: button, drawn: false };
    });
  }

  function show(name) {
    Object.keys(views).forEach(function (key) {
      var view = views[key];
      var active = key === name;
      view.section.classList.toggle("active", active);
      view.button.setAttribute("aria-selected", active ? "true" : "false");
    });
    var view = views[name];
    if (!view.drawn && drawers[name]) {
      view.drawn = true;
      drawers[name]();
    } else {
      view.section.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
        Plotly.Plots.resize(gd);
      });
    }
    report.view = name;
  }
  report.show = show;
