// regfront/daemon/metrics.h — `regfrontd --metrics ADDR:PORT`: an HTTP server (civetweb, the
// one prometheus-cpp uses) on a thread of its own, serving
//   /metrics      Prometheus text format 0.0.4 (prometheus-cpp's serializer);
//   /             a live page for a box without Grafana: the key series of the last five
//                 minutes, redrawn every second with Chart.js (Debian libjs-chart.js, read
//                 from /usr/share/javascript at start, served as /chart.js);
//   /series.json  what the page plots.
// Every request is answered from copies the control thread refreshes about once a second
// (publish() and record(), swaps under a mutex): it never reads the configuration, the
// snapshot or the workers, and never waits for the control thread. Names and labels: see
// docs/metrics.md.
//
//   StatusOr<std::unique_ptr<MetricsServer>> m = MetricsServer::start("127.0.0.1:9560");
//   MetricsServer::Families f;  f.gauge("regfront_workers", "Worker threads", {}, 1);
//   (*m)->publish(std::move(f));
//   (*m)->record(now_s, {{"REGISTERs sent/s", "registrar 1", sent_total, true}, …});
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "regfront/common/status.h"

namespace regfront::daemon {

class MetricsServer {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // One scrape's worth of samples, grouped by metric name in the order first added.
  class Families {
   public:
    void counter(const std::string& name, const std::string& help, Labels labels, double value);
    void gauge(const std::string& name, const std::string& help, Labels labels, double value);
    // A histogram: `buckets[i]` observations within (bounds[i-1], bounds[i]] (not cumulative),
    // one more for +Inf; serialised as name_bucket{le=…} (cumulative), name_sum and name_count.
    void histogram(const std::string& name, const std::string& help, Labels labels, const std::vector<double>& bounds,
                   const std::vector<std::uint64_t>& buckets, double sum);
    struct Sample {
      Labels labels;
      double value;
      std::vector<std::pair<double, std::uint64_t>> buckets;  // histograms: (le, cumulative count)
    };
    struct Family {
      std::string name, help;
      bool counter = false;
      bool histogram = false;
      std::vector<Sample> samples;
    };
    const std::vector<Family>& all() const { return families_; }

   private:
    Family& of(const std::string& name, const std::string& help, bool counter);
    std::vector<Family> families_;
  };

  // One point of a plotted series: the chart it belongs to, its name there, its value, and
  // whether the page plots its rate (a counter) or the value itself (a gauge).
  struct Point {
    std::string chart, series;
    double value;
    bool rate;
  };
  static constexpr std::size_t kHistory = 300;  // points kept per series (five minutes)

  // Listens on "ADDR:PORT" (IPv4, or [IPv6]:PORT); port 0 picks a free one (port()).
  static StatusOr<std::unique_ptr<MetricsServer>> start(const std::string& address);
  ~MetricsServer();
  void publish(Families f);
  // Appends one point per series at time `t` (seconds); a series not seen for kHistory points
  // is dropped.
  void record(double t, const std::vector<Point>& points);
  int port() const;
  // Where the page's chart library was found ("" = not installed: the page says so).
  const std::string& chart_library() const;

 private:
  MetricsServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regfront::daemon
