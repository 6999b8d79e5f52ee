// The staff dashboard's charts (apps/ops/dashboard.py): each canvas names the json_script
// element that holds its data. Chart.js is ours, served beside this file (never a CDN).
"use strict";
(function () {
  const COLOURS = ["#417690", "#ba2121", "#79aec8", "#e8a33d", "#5b8c5a", "#8a5ba8"];

  function draw(canvas) {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    new Chart(canvas, {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, n) {
          return {
            label: series.label,
            data: series.data,
            backgroundColor: COLOURS[n % COLOURS.length],
            borderColor: COLOURS[n % COLOURS.length],
            tension: 0.2,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: spec.stacked },
          y: { stacked: spec.stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
