// The data behind every `show` (see regfront/daemon/status.h).
#include "regfront/daemon/status.h"

#include <time.h>

#include <algorithm>
#include <map>

#include "regfront/common/clock.h"
#include "regfront/daemon/addresses.h"
#include "regfront/daemon/dpdk_backend.h"

namespace regfront::daemon {

std::string binding_reason_text(const reg::BindingStatus& b, const std::string& realm, std::uint32_t retry_after_s,
                                const std::string& dns_error) {
  if (b.state == reg::BindingState::waiting_dns) return "DNS: " + (dns_error.empty() ? std::string("not resolved yet") : dns_error);
  if (b.state == reg::BindingState::held) return "registrar down";
  switch (b.reason) {
    case reg::FailReason::none: return "";
    case reg::FailReason::timeout: return "timeout";
    case reg::FailReason::unreachable: return "unreachable";
    case reg::FailReason::rejected: return "rejected " + std::to_string(b.last_code);
    case reg::FailReason::retry_after:
      return std::to_string(b.last_code) + " Retry-After " + std::to_string(retry_after_s);
    case reg::FailReason::auth_failed: return "auth failed";
    case reg::FailReason::no_credential:
      return realm.empty() ? "no credential" : "no credential for realm " + realm;
    case reg::FailReason::response_too_large: return "response too large";
    case reg::FailReason::build_error: return "request too large";
  }
  return "";
}

template <class F>
void StatusGatherer::for_each_binding(F&& f) const {
  const reg::Snapshot* snap = s_.publisher.current();
  if (snap == nullptr) return;
  std::vector<reg::BindingStatus> buf;
  for (const auto& w : s_.workers) {
    // The worker adopts the current snapshot before it serves a dump; wait for that so the
    // indices it reports refer to `snap`.
    for (int i = 0; i < 2000 && !w->exited() && w->adopted_version() != snap->version; ++i) {
      const timespec ts{0, 1000000};
      nanosleep(&ts, nullptr);
    }
    std::uint64_t version = 0;
    if (!w->dump(buf, version, snap->plans[w->id()].size()) || version != snap->version) continue;
    for (const reg::BindingStatus& b : buf) f(*snap, b, w->dumped_tables());
  }
}

std::vector<cli::BindingRow> StatusGatherer::bindings() const {
  std::vector<cli::BindingRow> rows;
  for_each_binding([&](const reg::Snapshot& snap, const reg::BindingStatus& b, const reg::StatusTables& t) {
    cli::BindingRow r;
    r.number = snap.number(snap.endpoints[b.endpoint]);
    // A binding that left the configuration (its registrar removed or re-addressed: a ghost
    // slot; its endpoint removed: a ghost endpoint) is shown while it unregisters, and no
    // longer once that is done.
    const bool leaving = b.registrar >= reg::kRegistrarSlots || snap.find_endpoint(r.number) != b.endpoint;
    if (leaving && b.state == reg::BindingState::unregistered) return;
    r.registrar = snap.registrars[b.registrar].index;
    r.dial_peer = snap.endpoints[b.endpoint].dial_peer;
    r.state = std::string(reg::state_name(b.state));
    if (b.seconds_left > 0 && b.state != reg::BindingState::registered) r.state += "*";  // still registered
    r.granted = b.granted;
    r.seconds_left = b.seconds_left;
    r.last_code = b.last_code;
    if (b.reason != reg::FailReason::none) r.reason = std::string(reg::reason_name(b.reason));
    if (b.credential != reg::kNoEntry) r.username = snap.username(snap.credentials[b.credential]);
    // The id comes from the snapshot the binding was answered under; realm ids can shift when
    // the configuration's realms change, so never index past this snapshot's table.
    const int x = r.registrar >= 1 && r.registrar <= reg::kRegistrarSlots ? r.registrar - 1 : b.registrar % reg::kRegistrarSlots;
    if (b.realm < snap.realms.names.size()) {
      r.realm = snap.realms.names[b.realm];
    } else if (b.realm == reg::kUnknownRealm) {
      r.realm.assign(t.unknown_realm[x], t.unknown_realm_len[x]);
    }
    if (b.sent_to < reg::kAddressIds && t.address_len[x][b.sent_to] != 0) {
      const sockaddr_storage& a = t.address[x][b.sent_to];
      r.address = ip_text(a) + ":" + std::to_string(port_of(a));
    }
    if (b.algorithm != 0) r.algorithm = std::string(auth::algorithm_name(static_cast<auth::Algorithm>(b.algorithm - 1)));
    r.next_attempt_s = b.next_attempt_ms < 0 ? -1 : (b.next_attempt_ms + 999) / 1000;
    r.reason_text = binding_reason_text(b, r.realm, t.retry_after_s[x], s_.dns.entry(x).last_error);
    rows.push_back(std::move(r));
  });
  return rows;
}

std::vector<cli::RegistrarRow> StatusGatherer::registrars() const {
  std::uint32_t registered[reg::kRegistrarSlots] = {}, total[reg::kRegistrarSlots] = {},
                inflight[reg::kRegistrarSlots] = {}, held[reg::kRegistrarSlots] = {};
  for_each_binding([&](const reg::Snapshot&, const reg::BindingStatus& b, const reg::StatusTables&) {
    if (b.registrar >= reg::kRegistrarSlots) return;  // leaving a removed registrar
    ++total[b.registrar];
    if (b.state == reg::BindingState::held) ++held[b.registrar];
    if (b.seconds_left > 0) ++registered[b.registrar];
    if (b.state == reg::BindingState::registering || b.state == reg::BindingState::unregistering) ++inflight[b.registrar];
  });
  const reg::Snapshot* snap = s_.publisher.current();
  std::vector<cli::RegistrarRow> rows;
  const std::uint64_t now = monotonic_ms();
  for (const auto& [index, r] : s_.config.sip_ua.registrars) {
    if (index < 1 || index > reg::kRegistrarSlots) continue;
    const int slot = index - 1;
    const DnsRegistry::Entry& dns = s_.dns.entry(slot);
    cli::RegistrarRow row;
    row.index = index;
    row.address = r.address.host + (r.address.port ? ":" + std::to_string(r.address.port) : "");
    if (const auto& a = s_.dns.addresses()[slot]) row.resolved = ip_text(a->addr) + ":" + std::to_string(port_of(a->addr));
    row.active = snap != nullptr && snap->registrars[slot].present;
    row.registered = registered[slot];
    row.total = total[slot];
    row.inflight = inflight[slot];
    row.rate = s_.config.sip_ua.registration_rate;
    row.dns_error = dns.last_error;
    row.resolved_by = dns.method;
    row.target_switches = dns.switches;
    for (std::size_t i = 0; i < dns.targets.size(); ++i) {
      const DnsRegistry::Target& t = dns.targets[i];
      cli::RegistrarTargetRow tr;
      tr.priority = t.priority;
      tr.weight = t.weight;
      tr.host = t.host;
      tr.address = ip_text(t.addr) + ":" + std::to_string(port_of(t.addr));
      tr.in_use = i == dns.failover.current();
      tr.down_for_s = (dns.failover.down_for_ms(i, now) + 999) / 1000;
      row.targets.push_back(std::move(tr));
    }
    // The latest failure any worker saw towards this registrar.
    std::uint64_t when = 0;
    for (const auto& w : s_.workers) {
      const reg::RegistrarCounters& c = w->counters().registrar[slot];
      if (c.last_failure_ms.get() > when) {
        when = c.last_failure_ms.get();
        row.last_failure_code = static_cast<std::uint16_t>(c.last_failure_code.get());
      }
    }
    if (when != 0) row.last_failure_ago_s = static_cast<std::int64_t>((now - std::min(now, when)) / 1000);
    // The OPTIONS keepalive, as the one worker that sends it sees it.
    if (r.keepalive_profile != 0 && snap != nullptr && snap->registrars[slot].keepalive_up_ms != 0) {
      row.keepalive_profile = r.keepalive_profile;
      row.held = held[slot];
      const std::size_t w = snap->registrars[slot].keepalive_worker;
      if (w < s_.workers.size()) {
        const reg::RegistrarCounters& c = s_.workers[w]->counters().registrar[slot];
        const auto st = static_cast<reg::KeepaliveState>(c.keepalive_state.get());
        row.keepalive_state = st == reg::KeepaliveState::down ? "down" : st == reg::KeepaliveState::up ? "up" : "";
        if (st != reg::KeepaliveState::none) {
          row.keepalive_since_s = static_cast<std::int64_t>((now - std::min(now, c.keepalive_since_ms.get())) / 1000);
        }
        row.keepalive_last_code = static_cast<std::uint16_t>(c.keepalive_last_code.get());
      }
    }
    rows.push_back(row);
  }
  return rows;
}

cli::Statistics StatusGatherer::statistics() const {
  cli::Statistics st;
  const reg::Snapshot* snap = s_.publisher.current();
  for (int slot = 0; snap != nullptr && slot < reg::kRegistrarSlots; ++slot) {
    if (!snap->registrars[slot].present) continue;
    cli::RegistrarStatistics r;
    r.index = snap->registrars[slot].index;
    for (std::size_t i = 0; i < reg::kRegistrarCounterCount; ++i) {
      std::uint64_t v = 0;
      for (const auto& w : s_.workers) v += reg::registrar_counter(w->counters().registrar[slot], i);
      r.counters.emplace_back(reg::kRegistrarCounterInfo[i].name, v);
      st.help.emplace(std::string("registrar:") + reg::kRegistrarCounterInfo[i].name, reg::kRegistrarCounterInfo[i].help);
    }
    for (int c = 0; c < 400; ++c) {
      std::uint64_t v = 0;
      for (const auto& w : s_.workers) v += w->counters().registrar[slot].by_code[c].get();
      if (v != 0) r.responses.emplace_back(c + 300, v);
    }
    st.registrars.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < reg::kWorkerCounterCount; ++i) {
    std::uint64_t v = 0;
    for (const auto& w : s_.workers) v += reg::worker_counter(w->counters(), i);
    st.dataplane.emplace_back(reg::kWorkerCounterInfo[i].name, v);
    st.help.emplace(std::string("dataplane:") + reg::kWorkerCounterInfo[i].name, reg::kWorkerCounterInfo[i].help);
  }
  for (std::size_t i = 0; i < call::kCallCounterCount; ++i) {
    std::uint64_t v = 0;
    for (const auto& w : s_.workers) v += call::call_counter(w->call_counters(), i);
    st.calls.emplace_back(call::kCallCounterInfo[i].name, v);
    st.help.emplace(std::string("calls:") + call::kCallCounterInfo[i].name, call::kCallCounterInfo[i].help);
  }
  // Calls per dial peer: the workers' rows, summed by tag.
  std::map<std::uint32_t, cli::DialPeerStatistics> peers;
  for (const auto& w : s_.workers) {
    const call::DialPeerCounters& d = w->call_counters().dial_peers;
    for (std::size_t i = 0; i < call::DialPeerCounters::kRows; ++i) {
      const call::DialPeerCounters::Row& row = d.rows[i];
      const std::uint32_t tag = row.tag.load(std::memory_order_acquire);
      if (tag == 0 && i != 0) continue;
      if (i == 0 && row.attempts.get() == 0) continue;
      cli::DialPeerStatistics& p = peers[tag];
      p.tag = tag;
      p.attempts += row.attempts.get();
      p.answered += row.answered.get();
      p.failed += row.failed.get();
    }
  }
  for (const auto& [tag, p] : peers) st.dial_peers.push_back(p);
  // Calls per registrar: placed through it, and answered.
  for (cli::RegistrarStatistics& r : st.registrars) {
    std::uint64_t placed = 0, answered = 0;
    for (const auto& w : s_.workers) {
      placed += w->call_counters().via_registrar[r.index - 1].get();
      answered += w->call_counters().answered_via_registrar[r.index - 1].get();
    }
    r.counters.emplace_back("calls_placed", placed);
    r.counters.emplace_back("calls_answered", answered);
  }
  return st;
}

std::vector<cli::CallRow> StatusGatherer::calls() const {
  std::vector<cli::CallRow> rows;
  const reg::Snapshot* snap = s_.publisher.current();
  std::vector<call::CallStatus> buf;
  for (const auto& w : s_.workers) {
    if (!w->dump_calls(buf, s_.max_calls)) continue;
    for (const call::CallStatus& c : buf) {
      cli::CallRow r;
      r.calling = c.calling;
      r.called = c.called;
      r.direction = c.direction == call::CallDirection::outbound ? "outbound" : "inbound";
      r.state = std::string(call::call_state_name(c.state));
      r.dial_peer = c.dial_peer_tag;
      if (c.registrar < reg::kRegistrarSlots && snap != nullptr) r.registrar = snap->registrars[c.registrar].index;
      r.cseq_offset = c.cseq_offset;
      r.age_s = c.age_s;
      r.call_id = c.call_id;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

std::vector<cli::DataplaneRow> StatusGatherer::dataplane() const {
  std::vector<cli::DataplaneRow> rows;
  const reg::Snapshot* snap = s_.publisher.current();
  for (const auto& w : s_.workers) {
    cli::DataplaneRow r;
    r.worker = w->id();
    r.bindings = snap != nullptr ? snap->plans[w->id()].size() : 0;
    r.rx = w->counters().rx_datagrams.get();
    r.tx = w->counters().tx_datagrams.get();
    r.dropped = w->counters().parse_errors.get() + w->counters().forged.get() + w->io_errors();
    r.heap_allocated = w->heap_allocated();
    r.heap_tracked = w->heap_tracked();
    w->io_counters(r.io);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<cli::PortRow> StatusGatherer::ports() const {
  std::vector<cli::PortRow> rows;
  if (s_.dpdk == nullptr) return rows;
  for (const io::PortStats& p : s_.dpdk->port_stats()) {
    rows.push_back(cli::PortRow{p.port, p.name, p.link_up, p.ipackets, p.opackets, p.ierrors, p.imissed, p.oerrors,
                                p.rx_nombuf, p.flow_rules});
  }
  return rows;
}

cli::PoolRow StatusGatherer::pool() const {
  cli::PoolRow p;
  if (s_.dpdk != nullptr) std::tie(p.size, p.available) = s_.dpdk->pool_usage();
  return p;
}

}  // namespace regfront::daemon
