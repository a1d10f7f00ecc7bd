/* The overview page's charts (Apache ECharts): the province map, which filters the page when a
   province is clicked (?province= in the URL), and the forecast fan. Data come from the page's
   <script type="application/json" id="overview-data"> block and /overview/forecast.json: no inline
   script or style, as the Content-Security-Policy asks. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("overview-data").textContent);
  var labels = data.labels;
  var belowK = labels.below_k;
  var charts = [];

  function params() {
    return new URLSearchParams(window.location.search);
  }

  function goToProvince(code) {
    var query = params();
    if (!code || code === data.selected) {
      query.delete("province");
    } else {
      query.set("province", code);
    }
    window.location.search = query.toString();
  }

  function shown(value, suffix) {
    return value === null || value === undefined ? belowK : value + (suffix || "");
  }

  function mapOption(colour, geoName) {
    var byVolume = colour === "volume";
    var values = data.provinces
      .map(function (p) { return byVolume ? p.volume : p.change; })
      .filter(function (v) { return v !== null && v !== undefined; });
    var high = values.length ? Math.max.apply(null, values.map(Math.abs)) : 1;
    return {
      tooltip: {
        trigger: "item",
        renderMode: "richText",
        formatter: function (item) {
          var p = item.data && item.data.province;
          if (!p) { return item.name; }
          return p.name + "\n" + labels.volume + ": " + shown(p.volume) + "\n" + labels.change + ": " +
            (p.change === null ? (p.volume === null ? belowK : "—") : (p.change > 0 ? "+" : "") + p.change + " %");
        }
      },
      visualMap: {
        type: "continuous",
        min: byVolume ? 0 : -Math.max(high, 1),
        max: Math.max(high, 1),
        calculable: false,
        orient: "horizontal",
        left: "left",
        bottom: 0,
        itemHeight: 120,
        inRange: { color: byVolume ? ["#eef4fb", "#0b5394"] : ["#2b8a3e", "#f8f9fa", "#c92a2a"] },
        outOfRange: { color: "#dee2e6" },
        text: [byVolume ? labels.volume : labels.change, ""]
      },
      series: [{
        type: "map",
        map: geoName,
        nameProperty: "code",
        roam: false,
        selectedMode: false,
        layoutCenter: ["50%", "48%"],
        layoutSize: "100%",
        boundingCoords: [[102.1, 23.45], [112.2, 8.3]],
        itemStyle: { borderColor: "#495057", borderWidth: 0.5, areaColor: "#dee2e6" },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd43b" } },
        label: { show: false },
        data: data.provinces.map(function (p) {
          var value = byVolume ? p.volume : p.change;
          var item = { name: p.code, value: value === null ? NaN : value, province: p };
          if (p.code === data.selected) {
            item.itemStyle = { borderColor: "#000", borderWidth: 2.5 };
          }
          return item;
        })
      }]
    };
  }

  function drawMap() {
    var box = document.getElementById("overview-map");
    if (!box || !window.echarts) { return; }
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    charts.push(chart);
    fetch(box.dataset.geo, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (geo) {
        window.echarts.registerMap("vn34", geo);
        var colour = box.dataset.colour || "volume";
        chart.setOption(mapOption(colour, "vn34"));
        box.dataset.ready = "true";
        chart.on("click", function (event) {
          if (event.data && event.data.province) { goToProvince(event.data.province.code); }
        });
        document.querySelectorAll("[data-colour]").forEach(function (button) {
          if (button === box) { return; }
          button.addEventListener("click", function () {
            colour = button.dataset.colour;
            box.dataset.colour = colour;
            chart.setOption(mapOption(colour, "vn34"), { replaceMerge: ["series", "visualMap"] });
            document.querySelectorAll("button[data-colour]").forEach(function (other) {
              var on = other === button;
              other.setAttribute("aria-pressed", on ? "true" : "false");
              other.classList.toggle("primary", on);
            });
            var query = params();
            query.set("map", colour);
            window.history.replaceState(null, "", "?" + query.toString());
          });
        });
      });
  }

  function fanOption(fan) {
    var history = fan.history;
    var points = fan.points;
    var days = history.map(function (h) { return h.date; }).concat(points.map(function (p) { return p.date; }));
    var pad = history.map(function () { return null; });
    function band(lower, upper) {
      return points.map(function (p) { return +(p[upper] - p[lower]).toFixed(2); });
    }
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { bottom: 0, data: [labels.history, labels.hidden, labels.mean, labels.band80, labels.band95] },
      grid: { left: 40, right: 16, top: 16, bottom: 56 },
      xAxis: { type: "category", data: days, boundaryGap: false },
      yAxis: { type: "value", min: 0 },
      series: [
        { name: labels.history, type: "line", data: history.map(function (h) { return h.value; }), symbol: "circle", symbolSize: 4, connectNulls: false, lineStyle: { color: "#343a40", width: 1.5 }, itemStyle: { color: "#343a40" } },
        // a day under k shows as a grey bar up to k, its count "< k": never a value, never a gap that looks like none
        { name: labels.hidden, type: "bar", data: history.map(function (h) { return h.value === null ? data.k : null; }), barWidth: "70%", itemStyle: { color: "#ced4da" }, tooltip: { valueFormatter: function () { return belowK; } } },
        { name: "lo95", type: "line", stack: "b95", data: pad.concat(points.map(function (p) { return p.lo95; })), lineStyle: { opacity: 0 }, showSymbol: false, silent: true, tooltip: { show: false } },
        { name: labels.band95, type: "line", stack: "b95", data: pad.concat(band("lo95", "hi95")), lineStyle: { opacity: 0 }, areaStyle: { color: "#a5d8ff", opacity: 0.6 }, itemStyle: { color: "#a5d8ff" }, showSymbol: false },
        { name: "lo80", type: "line", stack: "b80", data: pad.concat(points.map(function (p) { return p.lo80; })), lineStyle: { opacity: 0 }, showSymbol: false, silent: true, tooltip: { show: false } },
        { name: labels.band80, type: "line", stack: "b80", data: pad.concat(band("lo80", "hi80")), lineStyle: { opacity: 0 }, areaStyle: { color: "#4dabf7", opacity: 0.7 }, itemStyle: { color: "#4dabf7" }, showSymbol: false },
        { name: labels.mean, type: "line", data: pad.concat(points.map(function (p) { return p.mean; })), showSymbol: false, lineStyle: { color: "#0b5394", width: 2 }, itemStyle: { color: "#0b5394" } }
      ]
    };
  }

  function drawFan() {
    var box = document.getElementById("overview-fan");
    var note = document.getElementById("fan-note");
    if (!box || !window.echarts) { return; }
    fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (!result.ok) {
          box.classList.add("empty");
          box.textContent = result.body.message || labels.fan_error;
          box.dataset.ready = "empty";
          return;
        }
        var chart = window.echarts.init(box, null, { renderer: "canvas" });
        charts.push(chart);
        chart.setOption(fanOption(result.body));
        box.dataset.ready = "true";
        if (note) { note.dataset.model = result.body.model; }
      })
      .catch(function () {
        box.textContent = labels.fan_error;
        box.dataset.ready = "error";
      });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  drawMap();
  drawFan();
})();
