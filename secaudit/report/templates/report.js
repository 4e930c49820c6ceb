(function () {
  "use strict";
  // Filters, sorts and pages the findings table from the data embedded in the page.
  // Every text from the report is inserted with textContent: it is attacker-controlled.
  var holder = document.getElementById("report-data");
  var table = document.getElementById("findings-table");
  if (!holder || !table) { return; }
  var D = JSON.parse(holder.textContent);
  var S = D.s, L = D.labels, ROWS = D.rows, PAGE = D.page_size, F = {};
  D.fields.forEach(function (name, i) { F[name] = i; });
  var has = Object.prototype.hasOwnProperty;

  function $(id) { return document.getElementById(id); }
  function label(key, fallback) { return has.call(L, key) ? L[key] : fallback; }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return has.call(values, key) ? String(values[key]) : whole;
    });
  }
  function css(key) { return key.replace("*", "-star"); }
  function grouped(n) { return n.toLocaleString("en-US"); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function addText(parent, text) { parent.appendChild(document.createTextNode(text)); }
  function fact(dl, name, value, cls) {
    add(dl, el("dt", null, name));
    add(dl, el("dd", cls || null, value));
  }
  function decisionKey(r) { return D.decisions[r[F.decision]]; }
  function segmentLine(parent, asset) {
    var segment = S[asset[2]];
    var text = segment || L.no_segment;
    if (segment && has.call(D.kinds, segment)) { text += " (" + D.kinds[segment] + ")"; }
    addText(parent, text + " · " + D.criticalities[String(asset[3])]);
  }

  function renderDetail(r) {
    var td = el("td");
    td.colSpan = 8;
    add(td, el("h4", null, L.why_it_matters));
    add(td, el("p", null, fill(L.why_intro, {
      score: S[r[F.score_text]], decision: L["decision." + decisionKey(r)]
    })));
    var factors = r[F.factors];
    if (factors.length) {
      var list = add(td, el("ul", "factors"));
      factors.forEach(function (f) {
        var name = S[f[0]];
        add(list, el("li", null, label("factor." + name, name) + ": " + label(name + "." + S[f[1]], S[f[1]]) + " (" +
          fill(L.points, { points: S[f[2]] }) + ")"));
      });
    } else {
      add(td, el("p", null, L.no_factors));
    }
    if (S[r[F.description]]) {
      add(td, el("h4", null, L.description));
      add(td, el("p", "prose", S[r[F.description]]));
    }
    add(td, el("h4", null, L.evidence));
    var evidence = r[F.evidence];
    evidence.forEach(function (e) {
      var box = add(td, el("div", "evidence"));
      add(add(box, el("p")), el("strong", null, S[e[1]]));
      var dl = add(box, el("dl", "facts"));
      fact(dl, L.evidence_kind, S[e[0]]);
      if (S[e[2]]) { fact(dl, L.location, S[e[2]], "mono"); }
      e[5].forEach(function (pair) { fact(dl, S[pair[0]], S[pair[1]], "mono"); });
      if (S[e[3]]) {
        add(box, el("div", "muted", L.observed));
        add(box, el("pre", null, S[e[3]]));
        if (e[4]) {
          add(box, el("p", "cut", fill(L.truncated_note, { shown: grouped(S[e[3]].length), total: grouped(e[4]) })));
        }
      }
    });
    if (!evidence.length) { add(td, el("p", null, L.none)); }
    add(td, el("h4", null, L.remediation));
    add(td, el("p", "prose", S[r[F.remediation]] || L.none));
    var assets = r[F.assets];
    add(td, el("h4", null, L.affected_assets + " (" + assets.length + ")"));
    var ul = add(td, el("ul", "assets"));
    assets.forEach(function (a) {
      var li = add(ul, el("li", null, S[a[0]] + " "));
      add(li, el("span", "mono muted", "[" + S[a[1]] + "]"));
      addText(li, (S[a[4]] ? " · " + S[a[4]] : "") + " · ");
      segmentLine(li, a);
    });
    add(td, el("h4", null, L.references));
    var refs = r[F.references];
    if (refs.length) {
      var rl = add(td, el("ul", "refs"));
      refs.forEach(function (ref) {
        var li = add(rl, el("li"));
        add(li, el("span", "mono", S[ref[0]] + ": " + S[ref[1]]));
        if (S[ref[2]]) {
          addText(li, " · ");
          add(li, el("span", "mono muted", S[ref[2]]));
        }
      });
    } else {
      add(td, el("p", null, L.none));
    }
    var dl = add(td, el("dl", "facts"));
    fact(dl, L.rule, S[r[F.rule_id]], "mono");
    var instances = r[F.instances];
    fact(dl, L.fingerprint, r[F.fingerprint] + (instances > 1 ? " (+" + (instances - 1) + ")" : ""), "mono");
    fact(dl, L.first_seen, S[r[F.first_seen]]);
    fact(dl, L.last_seen, S[r[F.last_seen]]);
    var tr = el("tr", "detail");
    tr.hidden = true;
    add(tr, td);
    return tr;
  }

  function renderRow(r) {
    var sev = D.severities[r[F.severity]], dec = decisionKey(r);
    var source = D.sources[r[F.source]], status = D.statuses[r[F.status]];
    var body = el("tbody", "finding sev-" + sev + "-row");
    body.id = "f-" + r[F.fingerprint];
    body.setAttribute("data-decision", dec);
    body.setAttribute("data-severity", sev);
    body.setAttribute("data-source", source);
    body.setAttribute("data-status", status);
    body.setAttribute("data-l", String(r[F.likelihood]));
    body.setAttribute("data-i", String(r[F.impact]));
    var tr = add(body, el("tr", "main"));
    add(tr, el("td", "num", String(r[F.rank])));
    add(add(tr, el("td")), el("span", "badge dec-" + css(dec), L["decision." + dec]));
    add(tr, el("td", "num", S[r[F.score_text]]));
    add(add(tr, el("td")), el("span", "badge sev-" + sev, L["severity." + sev]));
    var title = add(tr, el("td"));
    var toggle = add(title, el("button", "toggle", S[r[F.title]]));
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    add(title, el("br"));
    add(title, el("code", "muted", S[r[F.rule_id]]));
    var assets = r[F.assets], cell = add(tr, el("td"));
    addText(cell, S[assets[0][0]] + (assets.length > 1 ? " " + fill(L.more_assets, { n: assets.length - 1 }) : ""));
    add(cell, el("br"));
    segmentLine(add(cell, el("span", "muted")), assets[0]);
    add(tr, el("td", null, L["source." + source]));
    add(tr, el("td", "st-" + status, L["status." + status]));
    add(body, renderDetail(r));
    return body;
  }

  // Filtering and sorting work on row positions; only one page of rows is ever in the DOM.
  var selects = {};
  ["decision", "severity", "source", "segment", "status"].forEach(function (name) { selects[name] = $("f-" + name); });
  var search = $("f-search"), count = $("f-count"), info = $("p-info"), prev = $("p-prev"), next = $("p-next");
  var chip = $("f-cell"), empty = $("f-empty");
  var state = { cell: null, asset: null, page: 0, sort: "rank", ascending: true };
  var order = ROWS.map(function (_, i) { return i; });
  var view = order;
  var hay = [];

  function haystack(i) {
    if (hay[i] === undefined) {
      var r = ROWS[i], parts = [S[r[F.title]], S[r[F.rule_id]], r[F.fingerprint]];
      r[F.assets].forEach(function (a) { parts.push(S[a[0]], S[a[1]], S[a[2]], S[a[4]]); });
      r[F.evidence].forEach(function (e) { parts.push(S[e[1]], S[e[2]]); });
      parts.push(L["source." + D.sources[r[F.source]]], L["decision." + decisionKey(r)]);
      hay[i] = parts.join("\n").toLowerCase();
    }
    return hay[i];
  }

  function keep(i, needle, want) {
    var r = ROWS[i];
    if (want.decision && decisionKey(r) !== want.decision) { return false; }
    if (want.severity && D.severities[r[F.severity]] !== want.severity) { return false; }
    if (want.source && D.sources[r[F.source]] !== want.source) { return false; }
    if (want.status && D.statuses[r[F.status]] !== want.status) { return false; }
    if (want.segment) {
      var segment = want.segment === "*none*" ? "" : want.segment;
      if (!r[F.assets].some(function (a) { return S[a[2]] === segment; })) { return false; }
    }
    if (state.asset !== null && !r[F.assets].some(function (a) { return S[a[1]] === state.asset; })) {
      return false;
    }
    if (state.cell && (r[F.likelihood] !== state.cell[0] || r[F.impact] !== state.cell[1])) { return false; }
    return !needle || haystack(i).indexOf(needle) !== -1;
  }

  function apply() {
    var needle = search.value.trim().toLowerCase(), want = {};
    Object.keys(selects).forEach(function (name) { want[name] = selects[name].value; });
    view = order.filter(function (i) { return keep(i, needle, want); });
    state.page = 0;
    var chips = [];
    if (state.cell) {
      chips.push(L.likelihood + " " + state.cell[0] + " · " + L.impact + " " + state.cell[1]);
    }
    if (state.asset !== null) { chips.push(L.asset + ": " + state.asset); }
    chip.textContent = chips.join(" · ");
    chip.hidden = !chips.length;
    draw();
  }

  function clearRows() {
    Array.prototype.slice.call(table.tBodies).forEach(function (body) { table.removeChild(body); });
  }

  function draw() {
    clearRows();
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    if (state.page >= pages) { state.page = pages - 1; }
    var start = state.page * PAGE, fragment = document.createDocumentFragment();
    view.slice(start, start + PAGE).forEach(function (i) { fragment.appendChild(renderRow(ROWS[i])); });
    table.appendChild(fragment);
    count.textContent = String(view.length);
    info.textContent = fill(L.page_of, { page: state.page + 1, pages: pages });
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    empty.hidden = view.length !== 0;
  }

  var timer = null;
  search.addEventListener("input", function () {
    if (timer !== null) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; apply(); }, ROWS.length > 5000 ? 200 : 0);
  });
  Object.keys(selects).forEach(function (name) { selects[name].addEventListener("change", apply); });
  prev.addEventListener("click", function () { state.page -= 1; draw(); });
  next.addEventListener("click", function () { state.page += 1; draw(); });

  var cells = Array.prototype.slice.call(document.querySelectorAll(".heat button[data-l]"));
  function pressCell(target) {
    cells.forEach(function (b) { b.setAttribute("aria-pressed", b === target ? "true" : "false"); });
  }
  cells.forEach(function (button) {
    button.addEventListener("click", function () {
      var cell = [Number(button.getAttribute("data-l")), Number(button.getAttribute("data-i"))];
      var same = state.cell && state.cell[0] === cell[0] && state.cell[1] === cell[1];
      state.cell = same ? null : cell;
      pressCell(same ? null : button);
      apply();
      if (!same) { $("findings").scrollIntoView(); }
    });
  });

  function pick(name, value) {
    selects[name].value = value;
    apply();
    $("findings").scrollIntoView();
  }
  Array.prototype.forEach.call(document.querySelectorAll("#decision-cards button[data-decision]"), function (b) {
    b.addEventListener("click", function () { pick("decision", b.getAttribute("data-decision")); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#segment-table button[data-segment]"), function (b) {
    b.addEventListener("click", function () { pick("segment", b.getAttribute("data-segment") || "*none*"); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#asset-table button[data-asset]"), function (b) {
    b.addEventListener("click", function () {
      state.asset = b.getAttribute("data-asset");
      apply();
      $("findings").scrollIntoView();
    });
  });
  $("f-clear").addEventListener("click", function () {
    search.value = "";
    Object.keys(selects).forEach(function (name) { selects[name].value = ""; });
    state.cell = null;
    state.asset = null;
    pressCell(null);
    apply();
  });

  table.addEventListener("click", function (event) {
    var target = event.target;
    var toggle = target && target.closest ? target.closest("button.toggle") : null;
    if (!toggle) { return; }
    var detail = toggle.closest("tbody").querySelector("tr.detail");
    detail.hidden = !detail.hidden;
    toggle.setAttribute("aria-expanded", detail.hidden ? "false" : "true");
  });

  var SORT = {
    rank: function (r) { return r[F.rank]; },
    decision: function (r) { return r[F.decision]; },
    score: function (r) { return r[F.score]; },
    severity: function (r) { return r[F.severity]; },
    title: function (r) { return S[r[F.title]].toLowerCase(); },
    asset: function (r) { return S[r[F.assets][0][0]].toLowerCase(); },
    source: function (r) { return L["source." + D.sources[r[F.source]]]; },
    status: function (r) { return L["status." + D.statuses[r[F.status]]]; }
  };
  Array.prototype.forEach.call(table.tHead.querySelectorAll("button[data-sort]"), function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      var ascending = state.sort === key ? !state.ascending : true;
      state.sort = key;
      state.ascending = ascending;
      Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (th) { th.removeAttribute("aria-sort"); });
      button.parentNode.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var get = SORT[key], values = ROWS.map(get);
      order = order.slice().sort(function (a, b) {
        var x = values[a], y = values[b];
        var c = typeof x === "number" ? x - y : (x < y ? -1 : (x > y ? 1 : 0));
        if (c !== 0) { return ascending ? c : -c; }
        return ROWS[a][F.rank] - ROWS[b][F.rank];
      });
      apply();
    });
  });

  // Printing shows every finding with its details, whatever page or filter is on screen.
  window.addEventListener("beforeprint", function () {
    clearRows();
    var fragment = document.createDocumentFragment();
    order.forEach(function (i) { fragment.appendChild(renderRow(ROWS[i])); });
    table.appendChild(fragment);
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", draw);
}());
