/* dse report, part 4: the front table, its filter grammar (results.parse_where's), CSV. */
  // -- the front table: the filter grammar, sorting, CSV download -------------------------

  var FILTER = /^\s*([A-Za-z_][A-Za-z0-9_.:]*)\s*(<=|>=|==|!=|<|>|=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;
  var SYNTAX = "expected NAME OP NUMBER, OP one of <=, >=, <, >, ==, !=, conditions joined by commas";
  var COMPARE = {
    "<=": function (a, b) { return a <= b; },
    ">=": function (a, b) { return a >= b; },
    "==": function (a, b) { return a === b; },
    "=": function (a, b) { return a === b; },
    "!=": function (a, b) { return a !== b; },
    "<": function (a, b) { return a < b; },
    ">": function (a, b) { return a > b; },
  };

  /* The same grammar as results.parse_where, with the same messages. */
  function parseWhere(text) {
    var valid = info.filter_names.slice().sort();
    var listing = "valid names: " + valid.join(", ");
    if (!text.trim()) return [];
    return text.split(",").map(function (part) {
      var m = FILTER.exec(part);
      if (!m) {
        var shown = part.trim() || "(nothing between two commas)";
        throw new Error("malformed condition '" + shown + "': " + SYNTAX + "; " + listing);
      }
      var name = m[1], value = Number(m[3]);
      if (valid.indexOf(name) < 0) {
        throw new Error("unknown name '" + name + "' in '" + part.trim() + "'; " + listing);
      }
      if (/^accuracy/.test(name) && Math.abs(value) > 1) {
        throw new Error("'" + part.trim() + "': accuracy figures are fractions (0.95 for 95 %, " +
          "0.01 for one percentage point)");
      }
      return { name: name, op: m[2], value: value };
    });
  }
  report.parseWhere = parseWhere;

  var table = { rows: info.front.rows, columns: info.front.columns, shown: [], sort: null,
    conditions: [] };
  var columnIndex = {};
  table.columns.forEach(function (c, k) { columnIndex[c] = k; });

  function numeric(cell) {
    return cell === "" || cell === undefined ? NaN : Number(cell);
  }

  function applyTable() {
    var rows = table.rows.filter(function (row) {
      return table.conditions.every(function (c) {
        var k = columnIndex[c.name];
        var v = k === undefined ? NaN : numeric(row[k]);
        return !isNaN(v) && COMPARE[c.op](v, c.value);
      });
    });
    if (table.sort) {
      var k = columnIndex[table.sort.column], sign = table.sort.descending ? -1 : 1;
      var isNumeric = rows.every(function (r) { return r[k] === "" || !isNaN(Number(r[k])); });
      rows = rows.slice().sort(function (a, b) {
        if (isNumeric) {
          var x = numeric(a[k]), y = numeric(b[k]);
          if (isNaN(x)) return isNaN(y) ? 0 : 1;
          if (isNaN(y)) return -1;
          return sign * (x - y);
        }
        return sign * String(a[k]).localeCompare(String(b[k]));
      });
    }
    table.shown = rows;
    renderTable();
  }

  function renderTable() {
    var el = document.getElementById("front-table");
    var head = el.querySelector("thead"), body = el.querySelector("tbody");
    var visible = info.table_columns;
    head.innerHTML = "";
    var tr = element("tr");
    visible.forEach(function (name) {
      var unit = axes[name] ? axes[name].unit : "";
      var th = element("th", { "data-col": name, class: /hash|fidelity/.test(name) ? "text" : "",
        title: axes[name] ? axisLabel(name) : name }, name + (unit && unit !== "fraction" &&
        unit !== "x" ? " (" + unit + ")" : ""));
      if (table.sort && table.sort.column === name) {
        th.appendChild(element("span", { class: "arrow" }, table.sort.descending ? " \u25bc" : " \u25b2"));
      }
      th.addEventListener("click", function () {
        var descending = table.sort && table.sort.column === name ? !table.sort.descending : false;
        table.sort = { column: name, descending: descending };
        applyTable();
      });
      tr.appendChild(th);
    });
    head.appendChild(tr);
    var fragment = document.createDocumentFragment();
    table.shown.forEach(function (row) {
      var number = row[columnIndex.number];
      var r = element("tr", { "data-number": number });
      if (String(report.selected) === number) r.className = "selected";
      visible.forEach(function (name) {
        var raw = row[columnIndex[name]];
        var text = /hash|fidelity/.test(name) ? raw : formatValue(raw, name);
        r.appendChild(element("td", { "data-col": name, "data-value": raw,
          class: /hash|fidelity/.test(name) ? "text" : "" }, text));
      });
      r.addEventListener("click", function () { select(Number(number)); });
      fragment.appendChild(r);
    });
    body.innerHTML = "";
    body.appendChild(fragment);
    var count = document.getElementById("row-count");
    count.textContent = table.shown.length + " of " + table.rows.length + " front points";
    var message = document.getElementById("filter-message");
    if (!message.classList.contains("error")) {
      message.textContent = table.conditions.length && !table.shown.length
        ? "no front point matches " + document.getElementById("filter").value.trim()
        : "";
    }
  }

  function csvCell(text) {
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function tableCsv() {
    var lines = [table.columns.map(csvCell).join(",")];
    table.shown.forEach(function (row) {
      lines.push(row.map(csvCell).join(","));
    });
    return lines.join("\n") + "\n";
  }
  report.tableCsv = tableCsv;

  function download() {
    var blob = new Blob([tableCsv()], { type: "text/csv" });
    var link = element("a", { download: info.study.name + "_pareto.csv" });
    link.href = URL.createObjectURL(blob);
    document.body.appendChild(link);
    link.click();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 1000);
  }

  function setupTable() {
    var input = document.getElementById("filter");
    var message = document.getElementById("filter-message");
    document.getElementById("filter-names").textContent =
      "names: " + info.filter_names.join(", ") + " (accuracy figures as fractions)";
    var first = info.study.objectives[0];
    table.sort = first ? { column: first.name, descending: first.direction === "maximize" } : null;
    function update() {
      try {
        table.conditions = parseWhere(input.value);
        message.className = "message";
        message.textContent = "";
      } catch (err) {
        message.className = "message error";
        message.textContent = err.message;
        return;
      }
      applyTable();
    }
    input.addEventListener("input", update);
    document.getElementById("download").addEventListener("click", download);
    drawers.table = applyTable;
    applyTable();
  }
