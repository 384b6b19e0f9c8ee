// Prometheus exposition (see regfront/daemon/metrics.h).
#include "regfront/daemon/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <mutex>

namespace regfront::daemon {

MetricsServer::Families::Family& MetricsServer::Families::of(const std::string& name, const std::string& help,
                                                              bool counter) {
  for (Family& f : families_) {
    if (f.name == name) return f;
  }
  families_.push_back(Family{name, help, counter, {}});
  return families_.back();
}

void MetricsServer::Families::counter(const std::string& name, const std::string& help, Labels labels, double value) {
  of(name, help, true).samples.push_back(Sample{std::move(labels), value});
}

void MetricsServer::Families::gauge(const std::string& name, const std::string& help, Labels labels, double value) {
  of(name, help, false).samples.push_back(Sample{std::move(labels), value});
}

namespace {

// What a scrape returns: the last families published, copied under the mutex.
class Copy : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard<std::mutex> l(mu_);
    return families_;
  }
  void set(std::vector<prometheus::MetricFamily> f) {
    std::lock_guard<std::mutex> l(mu_);
    families_.swap(f);
  }

 private:
  mutable std::mutex mu_;
  std::vector<prometheus::MetricFamily> families_;
};

}  // namespace

struct MetricsServer::Impl {
  std::shared_ptr<Copy> copy = std::make_shared<Copy>();
  std::unique_ptr<prometheus::Exposer> exposer;
};

MetricsServer::MetricsServer() : impl_(std::make_unique<Impl>()) {}
MetricsServer::~MetricsServer() = default;

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  try {
    // One server thread: a scrape is a copy and a serialisation, and the box has few cores.
    m->impl_->exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return Status::invalid_argument("--metrics " + address + ": cannot listen: " + e.what());
  }
  m->impl_->exposer->RegisterCollectable(m->impl_->copy);
  return m;
}

void MetricsServer::publish(Families f) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(f.all().size());
  for (const Families::Family& fam : f.all()) {
    prometheus::MetricFamily m;
    m.name = fam.name;
    m.help = fam.help;
    m.type = fam.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    for (const Families::Sample& s : fam.samples) {
      prometheus::ClientMetric c;
      for (const auto& [k, v] : s.labels) c.label.push_back({k, v});
      if (fam.counter) {
        c.counter.value = s.value;
      } else {
        c.gauge.value = s.value;
      }
      m.metric.push_back(std::move(c));
    }
    out.push_back(std::move(m));
  }
  impl_->copy->set(std::move(out));
}

int MetricsServer::port() const {
  const std::vector<int> p = impl_->exposer->GetListeningPorts();
  return p.empty() ? 0 : p.front();
}

}  // namespace regfront::daemon
