// regfront/daemon/status.h — the data behind every `show`, gathered on the control thread: the
// workers' binding rows (a dump each worker answers between bursts), their counters, the
// resolver's state and the DPDK ports. It returns rows (regfront/cli/show.h); the CLI layer
// renders them.
//
// Rows carry what was used as text (number, username, realm), resolved against the snapshot the
// worker's rows refer to; a worker that has not adopted the current snapshot yet is waited for
// (bounded), and rows of another snapshot are left out rather than misread.
//
//   StatusGatherer status(sources);
//   cli::render_register_status(status.bindings(), json);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "regfront/cli/show.h"
#include "regfront/config/model.h"
#include "regfront/daemon/dns_registry.h"
#include "regfront/snapshot/publisher.h"
#include "regfront/worker/worker.h"

namespace regfront::daemon {

class DpdkBackend;

// A status row's reason as an engineer acts on it (cli::BindingRow::reason_text): from the
// worker's row, the realm it names, the registrar's last Retry-After and its resolver error.
// A wrong password ("auth failed") and a realm nothing answers ("no credential for realm X")
// read differently; a binding waiting for DNS or held by the keepalive says so.
std::string binding_reason_text(const reg::BindingStatus& b, const std::string& realm, std::uint32_t retry_after_s,
                                const std::string& dns_error);

class StatusGatherer {
 public:
  struct Sources {
    const std::vector<std::unique_ptr<worker::Worker>>& workers;
    const snapshot::Publisher& publisher;
    const config::Config& config;
    const DnsRegistry& dns;
    const DpdkBackend* dpdk;  // --io dpdk only
    std::uint32_t max_calls;  // call slots per worker (sizes a call dump)
  };
  explicit StatusGatherer(const Sources& s) : s_(s) {}

  // show sip-ua register status
  std::vector<cli::BindingRow> bindings() const;
  // show sip-ua register registrars
  std::vector<cli::RegistrarRow> registrars() const;
  // show sip-ua statistics
  cli::Statistics statistics() const;
  // show sip-ua calls
  std::vector<cli::CallRow> calls() const;
  // show dataplane: workers, then (--io dpdk) ports and the mbuf pool
  std::vector<cli::DataplaneRow> dataplane() const;
  std::vector<cli::PortRow> ports() const;
  cli::PoolRow pool() const;

 private:
  // Each worker's binding rows for the current snapshot (empty for a worker that did not answer
  // in time or answered for another snapshot).
  template <class F>
  void for_each_binding(F&& f) const;

  Sources s_;
};

}  // namespace regfront::daemon
