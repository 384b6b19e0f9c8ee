// The metrics and live-page HTTP server (see regfront/daemon/metrics.h).
#include "regfront/daemon/metrics.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

namespace regfront::daemon {

extern const char kLivePage[];  // live_page.cc

MetricsServer::Families::Family& MetricsServer::Families::of(const std::string& name, const std::string& help,
                                                              bool counter) {
  for (Family& f : families_) {
    if (f.name == name) return f;
  }
  families_.push_back(Family{name, help, counter, false, {}});
  return families_.back();
}

void MetricsServer::Families::counter(const std::string& name, const std::string& help, Labels labels, double value) {
  of(name, help, true).samples.push_back(Sample{std::move(labels), value, {}});
}

void MetricsServer::Families::histogram(const std::string& name, const std::string& help, Labels labels,
                                       const std::vector<double>& bounds, const std::vector<std::uint64_t>& buckets,
                                       double sum) {
  Family& f = of(name, help, false);
  f.histogram = true;
  Sample s{std::move(labels), sum, {}};
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    s.buckets.emplace_back(i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity(), cumulative);
  }
  f.samples.push_back(std::move(s));
}

void MetricsServer::Families::gauge(const std::string& name, const std::string& help, Labels labels, double value) {
  of(name, help, false).samples.push_back(Sample{std::move(labels), value, {}});
}

namespace {

// Chart.js as Debian's libjs-chart.js installs it (the UMD build a <script> tag loads).
constexpr const char* kChartJsPaths[] = {"/usr/share/javascript/chart.js/chart.umd.js",
                                         "/usr/share/javascript/chart.js/chart.min.js",
                                         "/usr/share/javascript/chart.js/chart.js"};

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

void reply(mg_connection* conn, const char* mime, const std::string& body) {
  mg_send_http_ok(conn, mime, static_cast<long long>(body.size()));
  mg_write(conn, body.data(), body.size());
}

}  // namespace

struct MetricsServer::Impl {
  struct Series {
    std::string chart, name;
    bool rate = false;
    std::deque<std::pair<double, double>> points;  // (t, value), at most kHistory
    std::uint64_t last_seen = 0;                   // record() call that last touched it
  };

  mutable std::mutex mu;
  std::string exposition;                      // /metrics, serialised on publish
  std::map<std::string, Series> series;        // by chart + '\n' + name: /series.json
  std::uint64_t records = 0;
  std::string chart_js, chart_path;            // read once at start
  std::unique_ptr<CivetServer> server;

  class Page : public CivetHandler {
   public:
    explicit Page(Impl& i) : i_(i) {}
    bool handleGet(CivetServer*, mg_connection* conn) override {
      const mg_request_info* r = mg_get_request_info(conn);
      const std::string uri = r->local_uri != nullptr ? r->local_uri : "/";
      if (uri == "/" || uri == "/index.html") {
        reply(conn, "text/html; charset=utf-8", kLivePage);
      } else if (uri == "/metrics") {
        std::lock_guard<std::mutex> l(i_.mu);
        reply(conn, "text/plain; version=0.0.4; charset=utf-8", i_.exposition);
      } else if (uri == "/series.json") {
        reply(conn, "application/json", i_.series_json());
      } else if (uri == "/chart.js" && !i_.chart_js.empty()) {
        reply(conn, "text/javascript; charset=utf-8", i_.chart_js);
      } else {
        mg_send_http_error(conn, 404, "%s", "Not found\n");
      }
      return true;
    }

   private:
    Impl& i_;
  };
  Page page{*this};

  std::string series_json() const {
    std::lock_guard<std::mutex> l(mu);
    std::string out = "{\"chart_library\":" + json_string(chart_path) + ",\"series\":[";
    bool first = true;
    for (const auto& [key, s] : series) {
      out += first ? "" : ",";
      first = false;
      out += "{\"chart\":" + json_string(s.chart) + ",\"name\":" + json_string(s.name) +
             ",\"rate\":" + (s.rate ? "true" : "false") + ",\"points\":[";
      bool p1 = true;
      for (const auto& [t, v] : s.points) {
        out += (p1 ? "[" : ",[") + number(t) + "," + number(v) + "]";
        p1 = false;
      }
      out += "]}";
    }
    return out + "]}";
  }
};

MetricsServer::MetricsServer() : impl_(std::make_unique<Impl>()) {}
MetricsServer::~MetricsServer() {
  if (impl_->server) impl_->server->close();
}

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  for (const char* path : kChartJsPaths) {
    std::ifstream f(path, std::ios::binary);
    if (!f) continue;
    std::ostringstream s;
    s << f.rdbuf();
    m->impl_->chart_js = s.str();
    m->impl_->chart_path = path;
    break;
  }
  // Two server threads: a scrape is a copy and a write; the box has few cores.
  const std::vector<std::string> options = {"listening_ports", address, "num_threads", "2"};
  try {
    m->impl_->server = std::make_unique<CivetServer>(options);
  } catch (const std::exception& e) {
    return Status::invalid_argument("--metrics " + address + ": cannot listen: " + e.what());
  }
  m->impl_->server->addHandler("/", m->impl_->page);
  return m;
}

void MetricsServer::publish(Families f) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(f.all().size());
  for (const Families::Family& fam : f.all()) {
    prometheus::MetricFamily m;
    m.name = fam.name;
    m.help = fam.help;
    m.type = fam.histogram ? prometheus::MetricType::Histogram
             : fam.counter ? prometheus::MetricType::Counter
                           : prometheus::MetricType::Gauge;
    for (const Families::Sample& s : fam.samples) {
      prometheus::ClientMetric c;
      for (const auto& [k, v] : s.labels) c.label.push_back({k, v});
      if (fam.histogram) {
        c.histogram.sample_sum = s.value;
        c.histogram.sample_count = s.buckets.empty() ? 0 : s.buckets.back().second;
        for (const auto& [le, n] : s.buckets) c.histogram.bucket.push_back({n, le});
      } else if (fam.counter) {
        c.counter.value = s.value;
      } else {
        c.gauge.value = s.value;
      }
      m.metric.push_back(std::move(c));
    }
    out.push_back(std::move(m));
  }
  std::string text = prometheus::TextSerializer().Serialize(out);
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->exposition.swap(text);
}

void MetricsServer::record(double t, const std::vector<Point>& points) {
  std::lock_guard<std::mutex> l(impl_->mu);
  const std::uint64_t now = ++impl_->records;
  for (const Point& p : points) {
    Impl::Series& s = impl_->series[p.chart + '\n' + p.series];
    s.chart = p.chart;
    s.name = p.series;
    s.rate = p.rate;
    s.last_seen = now;
    s.points.emplace_back(t, p.value);
    if (s.points.size() > kHistory) s.points.pop_front();
  }
  std::erase_if(impl_->series, [&](const auto& kv) { return now - kv.second.last_seen >= kHistory; });
}

int MetricsServer::port() const {
  const std::vector<int> p = impl_->server->getListeningPorts();
  return p.empty() ? 0 : p.front();
}

const std::string& MetricsServer::chart_library() const { return impl_->chart_path; }

}  // namespace regfront::daemon
