/* dse report, part 5: one front point's detail, as front_layers.csv has its layers. */
  // -- one point's detail -----------------------------------------------------------------

  var LAYER_HEADERS = {
    layer: "layer",
    weights_kind: "weights", weights_bits: "bits", weights_integer_bits: "I",
    weights_exponent_bits: "E", weights_mantissa_bits: "M", weights_clusters: "k",
    weights_granularity: "granularity", weights_codebook: "codebook",
    activations_kind: "activations", activations_bits: "bits", activations_integer_bits: "I",
    activations_exponent_bits: "E", activations_mantissa_bits: "M",
    accumulator_bits: "accumulator bits", accumulator_integer_bits: "I",
    lut: "LUT", ff: "FF", dsp: "DSP", bram: "BRAM 18K", latency: "latency", energy: "energy",
    weight_bits: "weight bits",
  };

  function layerHeader(name) {
    if (/_share$/.test(name)) return "% of " + (LAYER_HEADERS[name.replace(/_share$/, "")] || name);
    return LAYER_HEADERS[name] || name.replace(/_/g, " ");
  }

  function layerTable(point) {
    var columns = info.layer_columns.filter(function (c) {
      return c !== "number" && c !== "config_hash" && point.layers.some(function (row) {
        return row[c] !== undefined && row[c] !== null;
      });
    });
    var tableEl = element("table", { class: "data", id: "layer-table" });
    var head = element("tr");
    columns.forEach(function (c) {
      head.appendChild(element("th", { "data-col": c, class: /kind|layer|granularity|codebook/.test(c)
        ? "text" : "" }, layerHeader(c)));
    });
    tableEl.appendChild(element("thead")).appendChild(head);
    var body = tableEl.appendChild(element("tbody"));
    point.layers.forEach(function (row) {
      var tr = element("tr", { "data-layer": row.layer });
      columns.forEach(function (c) {
        var v = row[c];
        var text = typeof v === "number" && !/_bits$|_clusters$/.test(c) ? formatValue(v, c)
          : v === null || v === undefined ? "" : String(v);
        tr.appendChild(element("td", { "data-col": c, "data-value": v === null || v === undefined
          ? "" : String(v), class: typeof v === "string" ? "text" : "" }, text));
      });
      body.appendChild(tr);
    });
    return tableEl;
  }

  function fact(container, label, value, attrs) {
    var span = element("span", attrs || {});
    span.appendChild(element("b", {}, label + ": "));
    span.appendChild(document.createTextNode(value));
    container.appendChild(span);
  }

  function select(number) {
    var point = info.points[String(number)];
    var detail = document.getElementById("detail");
    detail.innerHTML = "";
    detail.hidden = false;
    if (!point) {
      detail.appendChild(element("h2", {}, "Trial " + number));
      detail.appendChild(element("p", { class: "note" }, "Trial " + number + " is not on the " +
        "front: the report keeps per-layer detail for front points only."));
      return;
    }
    report.selected = point.number;
    var title = element("h2", { id: "detail-title", "data-number": point.number },
      "Trial " + point.number);
    var proxy = String(point.fidelity || "").indexOf("proxy") === 0;
    title.appendChild(element("span", { class: "badge " + (proxy ? "proxy" : "exact") },
      proxy ? "scored by a proxy" : "scored exactly"));
    detail.appendChild(title);
    var facts = element("div", { class: "facts" });
    fact(facts, "configuration", point.config_hash || "", { "data-field": "config_hash" });
    fact(facts, "fidelity", point.fidelity || "");
    objectives.forEach(function (name) {
      fact(facts, name, formatValue(point.values[name], name),
        { "data-field": name, "data-value": String(point.values[name]) });
    });
    var acc = point.accuracy;
    [["search", "accuracy seen by the search"], ["exact", "exact accuracy (check)"],
      ["exact_validation", "exact accuracy, validation"], ["test", "exact accuracy, test"]]
      .forEach(function (pair) {
        if (acc[pair[0]] !== null && acc[pair[0]] !== undefined) {
          fact(facts, pair[1], formatValue(acc[pair[0]], "accuracy"),
            { "data-field": "accuracy_" + pair[0], "data-value": String(acc[pair[0]]) });
        }
      });
    if (acc.proxy_value !== null && acc.proxy_value !== undefined) {
      fact(facts, "proxy value", formatValue(acc.proxy_value, "proxy_value"),
        { "data-field": "proxy_value", "data-value": String(acc.proxy_value) });
    }
    detail.appendChild(facts);
    var command = element("div", { class: "facts" });
    command.appendChild(element("b", {}, "export: "));
    var code = command.appendChild(element("code", { class: "command", id: "export-command" },
      point.command));
    var copy = command.appendChild(element("button", { class: "small", type: "button" }, "copy"));
    copy.addEventListener("click", function () {
      var range = document.createRange();
      range.selectNodeContents(code);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        document.execCommand("copy");
      } catch (e) {
        /* selected: the user copies it */
      }
    });
    detail.appendChild(command);
    var wrap = element("div", { class: "layers-wrap" });
    wrap.appendChild(layerTable(point));
    detail.appendChild(wrap);
    if (!info.study.hardware) {
      detail.appendChild(element("p", { class: "note" }, "This study prices weight memory only: " +
        "add a hardware objective or constraint for per-layer LUT, FF, DSP, BRAM, latency and energy."));
    }
    var gd = document.getElementById("front-plot");
    if (gd.classList.contains("js-plotly-plot")) {
      var sel = selectedTrace(front.xName, front.yName);
      var k = gd.data.findIndex(function (t) { return t.uid === "selected"; });
      if (k >= 0) Plotly.restyle(gd, { x: [sel.x], y: [sel.y] }, [k]);
    }
    document.querySelectorAll("#front-table tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-number") === String(point.number));
    });
    detail.setAttribute("data-number", point.number);
  }
  report.select = select;
