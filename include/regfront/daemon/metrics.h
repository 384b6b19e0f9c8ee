// regfront/daemon/metrics.h — Prometheus exposition: `regfrontd --metrics ADDR:PORT` serves
// http://ADDR:PORT/metrics (text format 0.0.4) from prometheus-cpp's HTTP server.
//
// The server's threads answer a scrape from a copy the control thread refreshes about once a
// second (publish(), a swap under a mutex): a scrape never reads the configuration, the
// snapshot or the workers, and never waits for the control thread. Names and labels: see
// docs/metrics.md.
//
//   StatusOr<std::unique_ptr<MetricsServer>> m = MetricsServer::start("127.0.0.1:9560");
//   MetricsServer::Families f;  f.gauge("regfront_workers", "Worker threads", {}, 1);
//   (*m)->publish(std::move(f));
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
    struct Sample {
      Labels labels;
      double value;
    };
    struct Family {
      std::string name, help;
      bool counter = false;
      std::vector<Sample> samples;
    };
    const std::vector<Family>& all() const { return families_; }

   private:
    Family& of(const std::string& name, const std::string& help, bool counter);
    std::vector<Family> families_;
  };

  // Listens on "ADDR:PORT" (IPv4, or [IPv6]:PORT); port 0 picks a free one (port()).
  static StatusOr<std::unique_ptr<MetricsServer>> start(const std::string& address);
  ~MetricsServer();
  void publish(Families f);
  int port() const;

 private:
  MetricsServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regfront::daemon
