// The dashboard the management endpoint serves at `/`: one self-contained page (inline style and script, no
// request but to this endpoint's own JSON), so it ships in the package as this string and works offline. It
// polls /cluster/nodes and /cluster/events every second and computes rates from the counters' differences.
// The token, when the endpoint has one, is read from the URL's fragment (`/#token=...`), which browsers never
// send to a server, and passed as a bearer token. (Written without template literals: this is one.)

export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Casty cluster</title>
<style>
  :root { --bg: #0f1419; --panel: #171d24; --line: #26303b; --text: #d7dee6; --dim: #8593a3; --alive: #3fb950;
    --suspect: #d29922; --dead: #f85149; --left: #6e7681; --accent: #58a6ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 16px 24px; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; letter-spacing: .02em; }
  header .meta { color: var(--dim); font-size: 13px; }
  #status { margin-left: auto; font-size: 13px; color: var(--dim); }
  #status.bad { color: var(--dead); }
  main { padding: 20px 24px; display: grid; gap: 20px; grid-template-columns: minmax(0, 3fr) minmax(280px, 1fr); }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
  section h2 { margin: 0 0 12px; font-size: 12px; font-weight: 600; color: var(--dim); text-transform: uppercase; letter-spacing: .08em; }
  .summary { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 14px; }
  .pill { border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; font-size: 12px; color: var(--dim); }
  .pill b { color: var(--text); }
  .nodes { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); }
  .node { border: 1px solid var(--line); border-left: 4px solid var(--left); border-radius: 6px; padding: 10px 12px; background: #12171d; }
  .node[data-state="alive"] { border-left-color: var(--alive); }
  .node[data-state="suspect"] { border-left-color: var(--suspect); }
  .node[data-state="dead"] { border-left-color: var(--dead); opacity: .75; }
  .node[data-state="left"] { border-left-color: var(--left); opacity: .6; }
  .node .top { display: flex; align-items: center; gap: 8px; }
  .node .id { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .node .self { font-size: 11px; color: var(--accent); border: 1px solid var(--accent); border-radius: 4px; padding: 0 4px; }
  .badge { margin-left: auto; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; padding: 1px 8px; border-radius: 999px; }
  .badge.alive { background: rgba(63,185,80,.15); color: var(--alive); }
  .badge.suspect { background: rgba(210,153,34,.15); color: var(--suspect); }
  .badge.dead { background: rgba(248,81,73,.15); color: var(--dead); }
  .badge.left { background: rgba(110,118,129,.2); color: var(--left); }
  .node .addr { color: var(--dim); font-size: 12px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  .figures { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; margin-top: 8px; font-size: 12px; }
  .figures span { color: var(--dim); }
  .figures b { font-weight: 600; font-variant-numeric: tabular-nums; }
  svg.spark { width: 100%; height: 34px; margin-top: 8px; display: block; }
  .note { color: var(--dim); font-size: 12px; margin-top: 6px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); }
  th { color: var(--dim); font-weight: 500; font-size: 12px; }
  td.num, th.num { text-align: right; }
  .timeline { list-style: none; margin: 0; padding: 0; max-height: 560px; overflow-y: auto; }
  .timeline li { display: grid; grid-template-columns: 64px 70px 1fr; gap: 8px; padding: 5px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
  .timeline time { color: var(--dim); font-variant-numeric: tabular-nums; }
  .ev { font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; }
  .ev.up, .ev.alive { color: var(--alive); } .ev.suspect { color: var(--suspect); } .ev.dead, .ev.down { color: var(--dead); } .ev.left { color: var(--left); }
  .empty { color: var(--dim); font-size: 13px; }
  .stack { display: grid; gap: 20px; align-content: start; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>Casty cluster</h1>
  <span class="meta" id="self"></span>
  <span id="status">connecting...</span>
</header>
<main>
  <div class="stack">
    <section>
      <h2>Members</h2>
      <div class="summary" id="summary"></div>
      <div class="nodes" id="nodes"></div>
    </section>
    <section id="sharding-section">
      <h2>Shards and entities</h2>
      <div id="sharding"><p class="empty">No sharded type or singleton is registered on the nodes that answered.</p></div>
    </section>
    <section>
      <h2>Dead letters</h2>
      <div id="dead-letters"></div>
    </section>
  </div>
  <section>
    <h2>Membership events</h2>
    <ul class="timeline" id="timeline"></ul>
  </section>
</main>
<script>
"use strict";
(function () {
  var token = (/(?:^#|&)token=([^&]+)/.exec(location.hash) || [])[1];
  var headers = token ? { authorization: "Bearer " + decodeURIComponent(token) } : {};
  var previous = {};   // nodeId -> last stats, for rates
  var history = {};    // nodeId -> recent message rates, for the sparkline
  var lastSeq = 0;
  var events = [];
  var HISTORY = 60;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function fmt(n, digits) {
    if (n === undefined || n === null || isNaN(n)) return "-";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return n.toFixed(digits || 0);
  }
  function bytes(n) {
    if (n === undefined) return "-";
    var units = ["B", "KiB", "MiB", "GiB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(i === 0 ? 0 : 1) + " " + units[i];
  }
  function sum(o) { return Object.keys(o || {}).reduce(function (s, k) { return s + o[k]; }, 0); }
  function clock(ms) { var d = new Date(ms); return d.toLocaleTimeString([], { hour12: false }); }

  function get(path) {
    return fetch(path, { headers: headers, cache: "no-store" }).then(function (res) {
      if (res.status === 401) throw new Error("this endpoint needs its token: open the page at /#token=<token>");
      if (!res.ok) throw new Error(path + " answered " + res.status);
      return res.json();
    });
  }

  function rates(node) {
    var s = node.stats, p = previous[node.nodeId];
    if (!s) return undefined;
    var r;
    if (p && s.at > p.at && s.messagesProcessed >= p.messagesProcessed) {
      var dt = (s.at - p.at) / 1000;
      r = { messages: (s.messagesProcessed - p.messagesProcessed) / dt, asks: (s.asksStarted - p.asksStarted) / dt,
        dead: (sum(s.deadLetters) - sum(p.deadLetters)) / dt };
      var h = history[node.nodeId] || (history[node.nodeId] = []);
      h.push(r.messages);
      if (h.length > HISTORY) h.shift();
    }
    if (!p || s.at !== p.at) previous[node.nodeId] = s;
    return r;
  }

  function sparkline(values) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 " + HISTORY + " 34");
    svg.setAttribute("preserveAspectRatio", "none");
    if (!values || values.length < 2) return svg;
    var max = Math.max.apply(null, values.concat([1]));
    var points = values.map(function (v, i) { return (HISTORY - values.length + i) + "," + (32 - (v / max) * 30).toFixed(1); });
    var area = document.createElementNS(ns, "polygon");
    area.setAttribute("points", (HISTORY - values.length) + ",34 " + points.join(" ") + " " + (HISTORY - 1) + ",34");
    area.setAttribute("fill", "rgba(88,166,255,.15)");
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#58a6ff");
    line.setAttribute("stroke-width", "1.2");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(area);
    svg.appendChild(line);
    return svg;
  }

  var lastRates = {};
  function renderNodes(data) {
    document.getElementById("self").textContent = "seen from " + data.self + (data.ready ? "" : " (not ready)");
    var counts = {};
    data.nodes.forEach(function (n) { counts[n.state] = (counts[n.state] || 0) + 1; });
    var summary = document.getElementById("summary");
    summary.replaceChildren.apply(summary, ["alive", "suspect", "dead", "left"].map(function (s) {
      var p = el("span", { "class": "pill", "data-count": s }, [el("b", { text: String(counts[s] || 0) })]);
      p.appendChild(document.createTextNode(" " + s));
      return p;
    }));
    var cards = data.nodes.map(function (n) {
      var r = rates(n) || lastRates[n.nodeId];
      if (r) lastRates[n.nodeId] = r;
      var s = n.stats;
      var live = n.state === "alive" || n.state === "suspect";
      var figures = s && live ? el("div", { "class": "figures" }, [
        el("span", { text: "messages/s" }), el("b", { text: r ? fmt(r.messages, 1) : "..." }),
        el("span", { text: "asks/s" }), el("b", { text: r ? fmt(r.asks, 1) : "..." }),
        el("span", { text: "pending asks" }), el("b", { text: fmt(s.asksPending) }),
        el("span", { text: "dead letters" }), el("b", { text: fmt(sum(s.deadLetters)) }),
        el("span", { text: "net in / out" }), el("b", { text: s.traffic ? bytes(s.traffic.bytesRead) + " / " + bytes(s.traffic.bytesWritten) : "-" }),
        el("span", { text: "heap" }), el("b", { text: bytes(s.heapUsedBytes) }),
      ]) : el("div", { "class": "note", text: live ? (n.error ? "no figures: " + n.error : "waiting for figures...") :
        n.state === "dead" ? "declared down: it stopped answering probes" : "left the cluster" });
      return el("div", { "class": "node", "data-node": n.nodeId, "data-state": n.state }, [
        el("div", { "class": "top" }, [el("span", { "class": "id", text: n.nodeId }),
          n.self ? el("span", { "class": "self", text: "this node" }) : null,
          el("span", { "class": "badge " + n.state, text: n.state })]),
        el("div", { "class": "addr", text: n.address + "  \u00b7  incarnation " + n.incarnation }),
        figures,
        live && s ? sparkline(history[n.nodeId]) : null,
      ]);
    });
    var nodes = document.getElementById("nodes");
    nodes.replaceChildren.apply(nodes, cards);
    renderSharding(data.nodes);
    renderDeadLetters(data.nodes);
  }

  function renderSharding(nodes) {
    var withSharding = nodes.filter(function (n) { return n.stats && n.stats.sharding && n.stats.sharding.types.length > 0; });
    var box = document.getElementById("sharding");
    if (withSharding.length === 0) return;
    var types = [];
    withSharding.forEach(function (n) { n.stats.sharding.types.forEach(function (t) {
      if (types.every(function (x) { return x.typeName !== t.typeName; })) types.push({ typeName: t.typeName, singleton: t.singleton });
    }); });
    var sharded = types.filter(function (t) { return !t.singleton; });
    var singletons = types.filter(function (t) { return t.singleton; });
    var head = [el("th", { text: "node" }), el("th", { "class": "num", text: "shards owned" })];
    sharded.forEach(function (t) { head.push(el("th", { "class": "num", text: t.typeName + " entities" })); });
    head.push(el("th", { "class": "num", text: "moving" }), el("th", { text: "singletons here" }));
    var rows = withSharding.map(function (n) {
      var byType = {};
      n.stats.sharding.types.forEach(function (t) { byType[t.typeName] = t; });
      var cells = [el("td", { text: n.nodeId }), el("td", { "class": "num", text: fmt(n.stats.sharding.shardsOwned) })];
      sharded.forEach(function (t) { cells.push(el("td", { "class": "num", text: fmt((byType[t.typeName] || {}).activeEntities || 0) })); });
      cells.push(el("td", { "class": "num", text: fmt(n.stats.sharding.types.reduce(function (s, t) { return s + t.shardsMoving; }, 0)) }));
      cells.push(el("td", { text: singletons.filter(function (t) { return byType[t.typeName] && byType[t.typeName].shardsHeld > 0; })
        .map(function (t) { return t.typeName; }).join(", ") || "-" }));
      return el("tr", { "data-sharding-node": n.nodeId }, cells);
    });
    box.replaceChildren(el("table", {}, [el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)]));
  }

  function renderDeadLetters(nodes) {
    var reasons = ["stopped", "mailbox-full", "unroutable", "node-gone"];
    var rows = nodes.filter(function (n) { return n.stats; }).map(function (n) {
      var r = lastRates[n.nodeId];
      return el("tr", {}, [el("td", { text: n.nodeId })].concat(reasons.map(function (k) {
        return el("td", { "class": "num", text: fmt(n.stats.deadLetters[k] || 0) });
      })).concat([el("td", { "class": "num", text: r ? fmt(r.dead, 1) : "-" })]));
    });
    var head = [el("th", { text: "node" })].concat(reasons.map(function (k) { return el("th", { "class": "num", text: k }); }))
      .concat([el("th", { "class": "num", text: "per s" })]);
    document.getElementById("dead-letters").replaceChildren(el("table", {}, [el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)]));
  }

  function renderEvents(data) {
    data.events.forEach(function (e) { if (e.seq > lastSeq) { events.push(e); lastSeq = e.seq; } });
    if (events.length > 300) events = events.slice(events.length - 300);
    var names = { up: "up", suspect: "suspect", alive: "refuted", down: "down", left: "left" };
    var list = document.getElementById("timeline");
    list.replaceChildren.apply(list, events.slice().reverse().map(function (e) {
      return el("li", { "data-event": e.type, "data-event-node": e.nodeId }, [el("time", { text: clock(e.at) }),
        el("span", { "class": "ev " + e.type, text: names[e.type] || e.type }),
        el("span", { text: e.nodeId + " (incarnation " + e.incarnation + ")" })]);
    }));
  }

  var status = document.getElementById("status");
  function tick() {
    Promise.all([get("cluster/nodes"), get("cluster/events?after=" + lastSeq)]).then(function (r) {
      renderNodes(r[0]);
      renderEvents(r[1]);
      status.className = "";
      status.textContent = "updated " + clock(Date.now());
      document.body.setAttribute("data-updated", String(Date.now()));
    }, function (error) {
      status.className = "bad";
      status.textContent = String(error.message || error);
    }).then(function () { setTimeout(tick, 1000); });
  }
  tick();
})();
</script>
</body>
</html>
`;
