// regfront/cli/show.h — the show commands' output: IOS-style text, or JSON with a stable schema
// (docs/show-json.md). The CLI layer only renders: the rows below are gathered by the daemon
// (control/daemon/status.h) from the workers, the resolver and the configuration, and carry
// what was really used — usernames, realms and addresses as text, never ids into tables a later
// snapshot may renumber.
//
//   std::vector<cli::BindingRow> rows = gatherer.bindings();
//   std::string text = cli::render_register_status(rows, /*json=*/false);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace regfront::cli {

// ---- show sip-ua register status: one row per (number, registrar) binding ----
struct BindingRow {
  std::string number;
  int registrar = 0;
  std::uint32_t dial_peer = 0;   // the number's dial peer (IOS `peer`), 0 = none (shown -1)
  std::string state;             // "registered", "backoff*" (* = still registered), …
  std::uint32_t granted = 0;     // seconds the registrar granted
  std::int64_t seconds_left = 0;
  std::uint16_t last_code = 0;   // 0: none
  std::string username;          // the credential answered with, "" = none
  std::string realm;             // the realm answered, "" = none
  std::string reason;            // why the last attempt failed (reg::reason_name), "" = it did not
  // Why, as an engineer acts on it: "no credential for realm X", "auth failed", "timeout",
  // "503 Retry-After N", "unreachable", "DNS: …", "registrar down"; "" = nothing wrong.
  std::string reason_text;
  std::string address;           // "ip:port" the last request went to, "" = none sent
  std::string algorithm;         // of the last challenge received ("MD5", "SHA-256"…), "" = none
  std::int64_t next_attempt_s = -1;  // seconds until the next REGISTER (refresh/retry); -1 = none
};
std::string render_register_status(const std::vector<BindingRow>& rows, bool json);

// ---- show sip-ua status registrar: IOS's list of endpoints registered to the router's own
// registrar; regfront has none, and prints what IOS prints then ----
std::string render_sip_ua_status_registrar(bool json);

// ---- show sip-ua register registrars: one block per configured registrar ----
// One address a `dns:` registrar may be reached at (RFC 3263 order).
struct RegistrarTargetRow {
  std::uint16_t priority = 0;  // SRV priority and weight; 0 without SRV
  std::uint16_t weight = 0;
  std::string host;            // the SRV target (or the configured name)
  std::string address;         // "ip:port"
  bool in_use = false;
  std::uint64_t down_for_s = 0;  // held down (stopped answering) for this many more seconds
};
struct RegistrarRow {
  int index = 0;
  std::string address;           // as configured ("dns:…" host and port)
  std::string resolved;          // "ip:port", "" = not resolved
  bool active = false;
  std::uint32_t registered = 0;
  std::uint32_t total = 0;
  std::uint32_t inflight = 0;
  std::uint32_t rate = 0;
  std::string dns_error;
  std::uint16_t last_failure_code = 0;   // 0: none
  std::int64_t last_failure_ago_s = -1;  // seconds ago; -1: none
  std::vector<std::string> learned_realms;  // realms learned from its challenges, most recent first
  std::uint64_t learned_realms_evicted = 0;
  std::uint32_t learned_realms_max = 0;     // per registrar (--learned-realms)
  std::string resolved_by;               // "NAPTR+SRV", "SRV", "A/AAAA"; "" for a literal
  std::vector<RegistrarTargetRow> targets;
  std::uint64_t target_switches = 0;     // moves to another target (failover and return)
  // OPTIONS keepalive (`registrar N … options-keepalive profile TAG`); profile 0: none.
  std::uint32_t keepalive_profile = 0;
  std::string keepalive_state;            // "up", "down" ("" before the first snapshot)
  std::int64_t keepalive_since_s = -1;    // seconds in that state; -1: unknown
  std::uint16_t keepalive_last_code = 0;  // last final answer (408 timeout, 503 unreachable); 0: none
  std::uint32_t held = 0;                 // bindings whose REGISTER waits for the registrar to be up
};
std::string render_registrars(const std::vector<RegistrarRow>& rows, bool json);

// ---- show sip-ua statistics: counters summed over the workers ----
using NamedCounters = std::vector<std::pair<std::string, std::uint64_t>>;  // declaration order
struct RegistrarStatistics {
  int index = 0;
  NamedCounters counters;
  std::vector<std::pair<int, std::uint64_t>> responses;  // final response code → count (non-zero)
};
struct DialPeerStatistics {
  std::uint32_t tag = 0;  // 0: dial peers beyond the workers' tables
  std::uint64_t attempts = 0, answered = 0, failed = 0;
};
struct Statistics {
  std::vector<RegistrarStatistics> registrars;  // configured ones, by index
  NamedCounters dataplane;
  NamedCounters calls;                          // the call relay's counters
  std::vector<DialPeerStatistics> dial_peers;   // by tag, those calls have tried
  // One-line descriptions the text shows after each counter, by "registrar:NAME",
  // "dataplane:NAME" and "calls:NAME" (the counter declarations' help; none: no description).
  std::map<std::string, std::string, std::less<>> help;
};
std::string render_statistics(const Statistics& s, bool json);
// `now` less `base` (the values at `clear sip-ua statistics`), counter by counter: registrars
// by index, counters by name, responses by code, dial peers by tag; a counter `base` lacks (a
// registrar configured since) is taken whole, one that went backwards counts from zero.
Statistics statistics_since(const Statistics& now, const Statistics& base);

// ---- show sip-ua calls: one row per call being set up or in a dialog ----
struct CallRow {
  std::string calling, called;
  std::string direction;      // "outbound" (core → provider) or "inbound"
  std::string state;          // calling, proceeding, confirmed, …
  std::uint32_t dial_peer = 0;
  int registrar = 0;          // the provider side's registrar index, 0 = none
  std::uint32_t cseq_offset = 0;  // challenges answered towards the provider
  std::int64_t age_s = 0;
  std::string call_id;
};
std::string render_calls(const std::vector<CallRow>& rows, bool json);

// ---- show dataplane ----
struct DataplaneRow {
  std::uint32_t worker = 0;
  std::size_t bindings = 0;
  std::uint64_t rx = 0, tx = 0, dropped = 0;
  std::uint64_t heap_allocated = 0;  // bytes the poll loop allocated (must stay 0)
  bool heap_tracked = false;         // false: heap_allocated unknown (JSON null)
  // --io dpdk: the worker's I/O and network-stack counters, in declaration order.
  NamedCounters io;
};
// --io dpdk: one DPDK port (rte_eth_stats).
struct PortRow {
  std::uint16_t port = 0;
  std::string device;
  bool link_up = false;
  std::uint64_t ipackets = 0, opackets = 0, ierrors = 0, imissed = 0, oerrors = 0, rx_nombuf = 0;
  std::uint32_t flow_rules = 0;
};
// --io dpdk: the mbuf pool (size 0 with sockets).
struct PoolRow {
  unsigned size = 0;
  unsigned available = 0;
};
// The last snapshot published: how long it took from the command (or reload, or the event that
// caused it) to its publication, and from its publication until every worker ran on it.
struct SnapshotReport {
  std::uint64_t version = 0;  // 0: none published yet
  double build_ms = 0;
  double adopted_ms = -1;     // -1: not every worker runs on it yet (JSON null)
};
std::string render_dataplane(const std::vector<DataplaneRow>& rows, bool json, const std::vector<PortRow>& ports = {},
                             const PoolRow& pool = {}, const SnapshotReport& snapshot = {});

// ---- show control: the control socket's sessions and bounds, and SIGHUP reloads ----
struct ControlStatus {
  std::uint32_t sessions = 0;          // open now
  std::uint32_t max_sessions = 0;      // --control-sessions
  std::uint32_t idle_timeout_s = 0;    // --control-idle-timeout (0: none)
  std::uint64_t output_high_water = 0; // unsent bytes under which a session's next request runs
  std::uint64_t pending_output = 0;    // unsent reply bytes, all sessions
  std::uint64_t accepted = 0;
  std::uint64_t refused_full = 0;
  std::uint64_t idle_timeouts = 0;
  std::uint64_t slow_readers = 0;
  std::uint64_t lines_too_long = 0;
  std::uint64_t accept_errors = 0;
  bool accept_paused = false;
  std::uint64_t reloads = 0;           // SIGHUP: startup-config applied
  std::uint64_t reloads_refused = 0;   // SIGHUP: startup-config refused (nothing changed)
};
std::string render_control(const ControlStatus& s, bool json);

}  // namespace regfront::cli
