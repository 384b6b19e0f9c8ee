// The show commands' output (see regfront/cli/show.h): text in IOS style, or JSON with the
// stable schema docs/show-json.md documents.
#include "regfront/cli/show.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace regfront::cli {
namespace {

std::string pad(std::string s, std::size_t n) {
  if (s.size() < n) s.append(n - s.size(), ' ');
  return s;
}

}  // namespace

std::string render_register_status(const std::vector<BindingRow>& rows, bool json) {
  if (json) {
    nlohmann::json j;
    j["bindings"] = nlohmann::json::array();
    for (const auto& r : rows) {
      j["bindings"].push_back({{"number", r.number},       {"registrar", r.registrar},
                               {"state", r.state},         {"expires", r.granted},
                               {"seconds_left", r.seconds_left}, {"last_code", r.last_code},
                               {"username", r.username},   {"realm", r.realm},
                               {"reason", r.reason}});
      nlohmann::json& b = j["bindings"].back();
      b["dial_peer"] = r.dial_peer;
      b["registered"] = r.seconds_left > 0;
      b["address"] = r.address;
      b["algorithm"] = r.algorithm;
      b["reason_text"] = r.reason_text;
      b["next_attempt_seconds"] = r.next_attempt_s;
    }
    return j.dump() + "\n";
  }
  // IOS XE's layout (a section per registrar index, its columns first), then what regfront knows.
  std::vector<const BindingRow*> sorted;
  sorted.reserve(rows.size());
  for (const auto& r : rows) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](const BindingRow* a, const BindingRow* b) {
    return a->registrar != b->registrar ? a->registrar < b->registrar : a->number < b->number;
  });
  std::string out;
  int section = -1;
  for (const BindingRow* p : sorted) {
    const BindingRow& r = *p;
    if (r.registrar != section) {
      section = r.registrar;
      if (!out.empty()) out += "\n";
      out += "Registrar-Index  " + std::to_string(r.registrar) +
             "\n---------------------\n"
             "Line                             peer       expires(sec) reg survival P-Associated-URI "
             "State           Last  User                 Realm                Address               Alg      Next(sec) Reason\n"
             "================================ ========== ============ === ======== ================ "
             "=============== ===== ==================== ==================== ===================== ======== ========= ======\n";
    }
    const auto dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
    out += pad(r.number, 33) + pad(r.dial_peer ? std::to_string(r.dial_peer) : std::string("-1"), 11) +
           pad(std::to_string(r.seconds_left > 0 ? r.seconds_left : 0), 13) + pad(r.seconds_left > 0 ? "yes" : "no", 4) +
           pad("normal", 9) + pad("", 17) + pad(r.state, 16) +
           pad(r.last_code ? std::to_string(r.last_code) : "-", 6) + pad(dash(r.username), 21) + pad(dash(r.realm), 21) +
           pad(dash(r.address), 22) + pad(dash(r.algorithm), 9) +
           pad(r.next_attempt_s < 0 ? "-" : std::to_string(r.next_attempt_s), 10) + dash(r.reason_text) + "\n";
  }
  return out;
}

std::string render_sip_ua_status_registrar(bool json) {
  if (json) return "{\"registrations\":[]}\n";
  return "Line          destination                              expires(sec)  contact\n"
         "============  ===============                          ============  ===============\n";
}

std::string render_registrars(const std::vector<RegistrarRow>& rows, bool json) {
  if (json) {
    nlohmann::json j;
    j["registrars"] = nlohmann::json::array();
    for (const auto& r : rows) {
      j["registrars"].push_back({{"index", r.index},         {"address", r.address},
                                 {"resolved", r.resolved},   {"active", r.active},
                                 {"registered", r.registered}, {"total", r.total},
                                 {"in_flight", r.inflight},  {"rate", r.rate},
                                 {"dns_error", r.dns_error},
                                 {"last_failure_code", r.last_failure_code},
                                 {"last_failure_seconds_ago", r.last_failure_ago_s}});
      nlohmann::json& row = j["registrars"].back();
      row["resolved_by"] = r.resolved_by;
      row["target_switches"] = r.target_switches;
      if (r.keepalive_profile != 0) {
        row["keepalive"] = {{"profile", r.keepalive_profile},
                            {"state", r.keepalive_state},
                            {"since_seconds", r.keepalive_since_s},
                            {"last_code", r.keepalive_last_code},
                            {"held", r.held}};
      }
      row["learned_realms"] = r.learned_realms;
      row["learned_realms_evicted"] = r.learned_realms_evicted;
      row["learned_realms_max"] = r.learned_realms_max;
      row["targets"] = nlohmann::json::array();
      for (const RegistrarTargetRow& t : r.targets) {
        row["targets"].push_back({{"priority", t.priority}, {"weight", t.weight}, {"host", t.host},
                                  {"address", t.address}, {"in_use", t.in_use}, {"down_for_seconds", t.down_for_s}});
      }
    }
    return j.dump() + "\n";
  }
  std::string out;
  for (const auto& r : rows) {
    out += "Registrar-Index " + std::to_string(r.index) + "\n";
    out += "  Address:        " + r.address + "\n";
    out += "  Resolved:       " + (r.resolved.empty() ? std::string("(not resolved)") : r.resolved) +
           (r.resolved_by.empty() ? "" : " (" + r.resolved_by + ")") + "\n";
    if (r.targets.size() > 1 || r.target_switches != 0) {
      out += "  Targets:        " + std::to_string(r.targets.size()) + ", switched " +
             std::to_string(r.target_switches) + " time(s)\n";
      out += "    Use Prio Weight Address                                         Host\n";
      for (const RegistrarTargetRow& t : r.targets) {
        out += std::string("    ") + (t.in_use ? " * " : "   ") + " " + pad(std::to_string(t.priority), 5) +
               pad(std::to_string(t.weight), 7) + pad(t.address, 48) + t.host +
               (t.down_for_s ? " (down, " + std::to_string(t.down_for_s) + " s more)" : "") + "\n";
      }
    }
    out += std::string("  State:          ") + (r.active ? "active" : "not used") + "\n";
    out += "  Registered:     " + std::to_string(r.registered) + " of " + std::to_string(r.total) + " bindings\n";
    out += "  In flight:      " + std::to_string(r.inflight) + "\n";
    out += "  Rate:           " + std::to_string(r.rate) + " REGISTER/s\n";
    if (r.keepalive_profile != 0) {
      out += "  Keepalive:      OPTIONS (profile " + std::to_string(r.keepalive_profile) + "): " +
             (r.keepalive_state.empty() ? std::string("unknown") : r.keepalive_state);
      if (r.keepalive_since_s >= 0) out += " for " + std::to_string(r.keepalive_since_s) + " s";
      if (r.keepalive_last_code != 0) out += ", last answer " + std::to_string(r.keepalive_last_code);
      if (r.held != 0) out += ", " + std::to_string(r.held) + " binding(s) held";
      out += "\n";
    }
    if (!r.dns_error.empty()) out += "  Last failure:   DNS: " + r.dns_error + "\n";
    else if (r.last_failure_ago_s >= 0) {
      out += "  Last failure:   " + std::to_string(r.last_failure_code) + ", " +
             std::to_string(r.last_failure_ago_s) + " s ago\n";
    }
    if (!r.learned_realms.empty() || r.learned_realms_evicted != 0) {
      std::string list;
      for (const auto& realm : r.learned_realms) list += (list.empty() ? "" : ", ") + realm;
      out += "  Learned realms: " + (list.empty() ? std::string("(none)") : list) + " (" +
             std::to_string(r.learned_realms.size()) + " of " + std::to_string(r.learned_realms_max) + ", " +
             std::to_string(r.learned_realms_evicted) + " evicted)\n";
    }
  }
  return out;
}

namespace {

std::uint64_t less(std::uint64_t now, std::uint64_t base) { return now >= base ? now - base : now; }

void subtract(NamedCounters& now, const NamedCounters& base) {
  for (auto& [name, v] : now) {
    for (const auto& [bname, bv] : base) {
      if (bname == name) {
        v = less(v, bv);
        break;
      }
    }
  }
}

}  // namespace

Statistics statistics_since(const Statistics& now, const Statistics& base) {
  Statistics out = now;
  for (RegistrarStatistics& r : out.registrars) {
    for (const RegistrarStatistics& b : base.registrars) {
      if (b.index != r.index) continue;
      subtract(r.counters, b.counters);
      std::vector<std::pair<int, std::uint64_t>> kept;
      for (auto& [code, v] : r.responses) {
        std::uint64_t was = 0;
        for (const auto& [bcode, bv] : b.responses) {
          if (bcode == code) was = bv;
        }
        if (const std::uint64_t d = less(v, was); d != 0) kept.emplace_back(code, d);
      }
      r.responses = std::move(kept);
      break;
    }
  }
  subtract(out.dataplane, base.dataplane);
  subtract(out.calls, base.calls);
  std::vector<DialPeerStatistics> peers;
  for (DialPeerStatistics p : out.dial_peers) {
    for (const DialPeerStatistics& b : base.dial_peers) {
      if (b.tag != p.tag) continue;
      p.attempts = less(p.attempts, b.attempts);
      p.answered = less(p.answered, b.answered);
      p.failed = less(p.failed, b.failed);
    }
    if (p.attempts != 0 || p.answered != 0 || p.failed != 0) peers.push_back(p);
  }
  out.dial_peers = std::move(peers);
  return out;
}

namespace {

// IOS's names of the final responses `show sip-ua statistics` lists, by section.
struct IosResponse {
  int code;
  const char* name;
};
struct IosSection {
  const char* title;
  std::vector<IosResponse> codes;
};
const std::vector<IosSection>& ios_response_sections() {
  static const std::vector<IosSection> k = {
      {"Redirection", {{300, "MultipleChoice"}, {301, "MovedPermanently"}, {302, "MovedTemporarily"},
                       {305, "UseProxy"}, {380, "AlternateService"}}},
      {"Client Error", {{400, "BadRequest"}, {401, "Unauthorized"}, {402, "PaymentRequired"}, {403, "Forbidden"},
                        {404, "NotFound"}, {405, "MethodNotAllowed"}, {406, "NotAcceptable"}, {407, "ProxyAuthReqd"},
                        {408, "ReqTimeout"}, {410, "Gone"}, {413, "ReqEntityTooLarge"}, {414, "ReqURITooLarge"},
                        {415, "UnsupportedMediaType"}, {420, "BadExtension"}, {423, "IntervalTooBrief"},
                        {480, "TempNotAvailable"}, {481, "CallLegNonExistent"}, {482, "LoopDetected"},
                        {483, "TooManyHops"}, {484, "AddrIncomplete"}, {485, "Ambiguous"}, {486, "BusyHere"},
                        {487, "RequestCancel"}, {488, "NotAcceptableMedia"}, {491, "RequestPending"}}},
      {"Server Error", {{500, "InternalError"}, {501, "NotImplemented"}, {502, "BadGateway"}, {503, "ServiceUnavail"},
                        {504, "GatewayTimeout"}, {505, "BadSipVer"}, {513, "PreCondFailure"}}},
      {"Global Failure", {{600, "BusyEverywhere"}, {603, "Decline"}, {604, "NotExistAnywhere"}, {606, "NotAcceptable"}}},
  };
  return k;
}

// "A n/m, B n/m,\n" lines of at most `per_line` items, IOS's layout.
std::string ios_items(const std::vector<std::string>& items, std::size_t per_line) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i % per_line == 0) out += "      ";
    out += items[i];
    out += i + 1 == items.size() ? "\n" : (i % per_line == per_line - 1 ? ",\n" : ", ");
  }
  return out;
}

// "  NAME   VALUE  description" (the description when the counter has one).
std::string counter_line(const Statistics& s, const char* section, const std::string& name, std::uint64_t v) {
  std::string line = "  " + pad(name, 22) + std::to_string(v);
  if (const auto it = s.help.find(section + name); it != s.help.end() && !it->second.empty()) {
    line = pad(std::move(line), 36) + " " + it->second;
  }
  return line + "\n";
}

}  // namespace

std::string render_statistics(const Statistics& s, bool json) {
  nlohmann::json j;
  j["registrars"] = nlohmann::json::array();
  std::string out;
  // IOS's sections first, from what regfront sends and receives towards its registrars (it is
  // their client: REGISTER and OPTIONS go out, their responses come in); regfront's own
  // counters per registrar follow.
  std::map<std::string, std::uint64_t> sum;
  std::map<int, std::uint64_t> codes_in;
  for (const RegistrarStatistics& reg : s.registrars) {
    for (const auto& [name, v] : reg.counters) sum[name] += v;
    for (const auto& [code, v] : reg.responses) codes_in[code] += v;
  }
  const auto in_out = [](const char* name, std::uint64_t in, std::uint64_t out_) {
    return std::string(name) + " " + std::to_string(in) + "/" + std::to_string(out_);
  };
  out += "SIP Response Statistics (Inbound/Outbound)\n";
  out += "    Success:\n" + ios_items({in_out("OkRegister", sum["accepted"], 0), in_out("OkOptions", sum["options_answered"], 0)}, 2);
  for (const IosSection& sec : ios_response_sections()) {
    std::vector<std::string> items;
    for (const IosResponse& r : sec.codes) items.push_back(in_out(r.name, codes_in.count(r.code) ? codes_in[r.code] : 0, 0));
    for (const auto& [code, v] : codes_in) {  // codes IOS has no name for, where they belong
      if (code / 100 != sec.codes.front().code / 100) continue;
      bool named = false;
      for (const IosResponse& r : sec.codes) named = named || r.code == code;
      if (!named) items.push_back(in_out(("Other" + std::to_string(code)).c_str(), v, 0));
    }
    out += std::string("    ") + sec.title + ":\n" + ios_items(items, 2);
  }
  out += "SIP Total Traffic Statistics (Inbound/Outbound)\n";
  out += ios_items({in_out("Register", 0, sum["sent"] + sum["retransmitted"]),
                    in_out("Options", 0, sum["options_sent"] + sum["options_retransmitted"])}, 2);
  out += "Retry Statistics\n";
  out += ios_items({"Register " + std::to_string(sum["retransmitted"]), "Options " + std::to_string(sum["options_retransmitted"])}, 4);
  out += "\n";
  nlohmann::json responses = nlohmann::json::object();
  for (const auto& [code, v] : codes_in) responses[std::to_string(code)] = v;
  j["sip_traffic"] = {{"register_out", sum["sent"] + sum["retransmitted"]},
                      {"register_retries", sum["retransmitted"]},
                      {"options_out", sum["options_sent"] + sum["options_retransmitted"]},
                      {"options_retries", sum["options_retransmitted"]},
                      {"ok_register_in", sum["accepted"]},
                      {"ok_options_in", sum["options_answered"]},
                      {"responses_in", responses}};
  for (const RegistrarStatistics& reg : s.registrars) {
    nlohmann::json r;
    r["index"] = reg.index;
    out += "Registrar-Index " + std::to_string(reg.index) + "\n";
    for (const auto& [name, v] : reg.counters) {
      r[name] = v;
      out += counter_line(s, "registrar:", name, v);
    }
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, v] : reg.responses) {
      codes[std::to_string(code)] = v;
      out += "  response " + std::to_string(code) + pad("", 10) + std::to_string(v) + "\n";
    }
    r["responses"] = codes;
    j["registrars"].push_back(r);
  }
  nlohmann::json dp;
  out += "Data plane\n";
  for (const auto& [name, v] : s.dataplane) {
    dp[name] = v;
    out += counter_line(s, "dataplane:", name, v);
  }
  j["dataplane"] = dp;
  nlohmann::json calls;
  out += "Calls\n";
  for (const auto& [name, v] : s.calls) {
    calls[name] = v;
    out += counter_line(s, "calls:", name, v);
  }
  j["calls"] = calls;
  nlohmann::json peers = nlohmann::json::array();
  for (const DialPeerStatistics& d : s.dial_peers) {
    peers.push_back({{"tag", d.tag}, {"attempts", d.attempts}, {"answered", d.answered}, {"failed", d.failed}});
    out += "Dial-peer " + (d.tag ? std::to_string(d.tag) : std::string("(others)")) + "\n  attempts " +
           std::to_string(d.attempts) + "  answered " + std::to_string(d.answered) + "  failed " +
           std::to_string(d.failed) + "\n";
  }
  j["dial_peers"] = peers;
  return json ? j.dump() + "\n" : out;
}

std::string render_calls(const std::vector<CallRow>& rows, bool json) {
  if (json) {
    nlohmann::json j;
    j["calls"] = nlohmann::json::array();
    for (const auto& r : rows) {
      j["calls"].push_back({{"calling", r.calling}, {"called", r.called}, {"direction", r.direction},
                            {"state", r.state}, {"dial_peer", r.dial_peer}, {"registrar", r.registrar},
                            {"cseq_offset", r.cseq_offset}, {"age_seconds", r.age_s}, {"call_id", r.call_id}});
    }
    return j.dump() + "\n";
  }
  std::string out =
      "Calling              Called               Direction Dial-peer Registrar State        Age(sec) CSeq+ Call-ID\n"
      "==================== ==================== ========= ========= ========= ============ ======== ===== ========\n";
  for (const auto& r : rows) {
    out += pad(r.calling, 21) + pad(r.called, 21) + pad(r.direction, 10) + pad(std::to_string(r.dial_peer), 10) +
           pad(r.registrar ? std::to_string(r.registrar) : "-", 10) + pad(r.state, 13) + pad(std::to_string(r.age_s), 9) +
           pad(std::to_string(r.cseq_offset), 6) + r.call_id + "\n";
  }
  out += std::to_string(rows.size()) + " call(s)\n";
  return out;
}

std::string render_dataplane(const std::vector<DataplaneRow>& rows, bool json, const std::vector<PortRow>& ports,
                             const PoolRow& pool, const SnapshotReport& snapshot) {
  if (json) {
    nlohmann::json j;
    j["workers"] = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json w = {{"worker", r.worker}, {"bindings", r.bindings}, {"rx", r.rx},
                          {"tx", r.tx}, {"dropped", r.dropped}, {"heap_allocated", nullptr}};
      if (r.heap_tracked) w["heap_allocated"] = r.heap_allocated;
      if (!r.io.empty()) {
        nlohmann::json c = nlohmann::json::object();
        for (const auto& [name, v] : r.io) c[name] = v;
        w["counters"] = c;
      }
      j["workers"].push_back(w);
    }
    if (!ports.empty()) {
      j["ports"] = nlohmann::json::array();
      for (const auto& p : ports) {
        j["ports"].push_back({{"port", p.port}, {"interface", "dpdk" + std::to_string(p.port)}, {"device", p.device},
                              {"link_up", p.link_up}, {"ipackets", p.ipackets}, {"opackets", p.opackets},
                              {"ierrors", p.ierrors}, {"imissed", p.imissed}, {"oerrors", p.oerrors},
                              {"rx_nombuf", p.rx_nombuf}, {"flow_rules", p.flow_rules}});
      }
    }
    if (pool.size != 0) j["mbuf_pool"] = {{"size", pool.size}, {"available", pool.available}};
    if (snapshot.version != 0) {
      j["snapshot"] = {{"version", snapshot.version}, {"build_ms", snapshot.build_ms}, {"adopted_ms", nullptr}};
      if (snapshot.adopted_ms >= 0) j["snapshot"]["adopted_ms"] = snapshot.adopted_ms;
    }
    return j.dump() + "\n";
  }
  std::string out = "Worker  Bindings    Packets-in  Packets-out  Dropped  Heap-allocated\n";
  for (const auto& r : rows) {
    out += pad(std::to_string(r.worker), 8) + pad(std::to_string(r.bindings), 12) + pad(std::to_string(r.rx), 12) +
           pad(std::to_string(r.tx), 13) + pad(std::to_string(r.dropped), 9) + (r.heap_tracked ? std::to_string(r.heap_allocated) : "-") +
           "\n";
  }
  if (!ports.empty()) {
    out += "\nInterface  Device           Link  Rx-packets    Tx-packets    Rx-errors  Rx-missed  Tx-errors  Flow-rules\n";
    for (const auto& p : ports) {
      out += pad("dpdk" + std::to_string(p.port), 11) + pad(p.device, 17) + pad(p.link_up ? "up" : "down", 6) +
             pad(std::to_string(p.ipackets), 14) + pad(std::to_string(p.opackets), 14) +
             pad(std::to_string(p.ierrors), 11) + pad(std::to_string(p.imissed), 11) + pad(std::to_string(p.oerrors), 11) +
             std::to_string(p.flow_rules) + "\n";
    }
  }
  if (pool.size != 0) {
    out += "\nmbuf pool: " + std::to_string(pool.available) + " of " + std::to_string(pool.size) + " available\n";
  }
  if (snapshot.version != 0) {
    char line[160];
    if (snapshot.adopted_ms >= 0) {
      std::snprintf(line, sizeof line, "\nSnapshot %llu: built in %.1f ms, run by every worker %.1f ms after publication\n",
                    static_cast<unsigned long long>(snapshot.version), snapshot.build_ms, snapshot.adopted_ms);
    } else {
      std::snprintf(line, sizeof line, "\nSnapshot %llu: built in %.1f ms, not yet run by every worker\n",
                    static_cast<unsigned long long>(snapshot.version), snapshot.build_ms);
    }
    out += line;
  }
  for (const auto& r : rows) {
    if (r.io.empty()) continue;
    out += "\nWorker " + std::to_string(r.worker) + " (non-zero counters)\n";
    for (const auto& [name, v] : r.io)
      if (v != 0) out += "  " + pad(name, 28) + std::to_string(v) + "\n";
  }
  return out;
}

std::string render_control(const ControlStatus& s, bool json) {
  if (json) {
    nlohmann::json j = {
        {"sessions", s.sessions},         {"max_sessions", s.max_sessions},
        {"idle_timeout_s", s.idle_timeout_s}, {"output_high_water", s.output_high_water},
        {"pending_output", s.pending_output}, {"accepted", s.accepted},
        {"refused_full", s.refused_full}, {"idle_timeouts", s.idle_timeouts},
        {"slow_readers", s.slow_readers}, {"lines_too_long", s.lines_too_long},
        {"accept_errors", s.accept_errors}, {"accept_paused", s.accept_paused},
        {"reloads", s.reloads},           {"reloads_refused", s.reloads_refused}};
    return j.dump() + "\n";
  }
  std::string out = "Control socket: " + std::to_string(s.sessions) + " session(s) of " +
                    std::to_string(s.max_sessions) + " at most, idle timeout " +
                    (s.idle_timeout_s ? std::to_string(s.idle_timeout_s) + " s" : std::string("none")) +
                    (s.accept_paused ? ", accepting paused" : "") + "\n";
  out += "  Pending output " + std::to_string(s.pending_output) + " bytes (a session's requests wait above " +
         std::to_string(s.output_high_water) + ")\n";
  out += "  Sessions accepted " + std::to_string(s.accepted) + ", refused (too many) " + std::to_string(s.refused_full) +
         "\n";
  out += "  Closed idle " + std::to_string(s.idle_timeouts) + ", closed not reading (slow readers) " +
         std::to_string(s.slow_readers) + ", lines too long " + std::to_string(s.lines_too_long) + "\n";
  out += "  Accept errors " + std::to_string(s.accept_errors) + "\n";
  out += "Configuration reloads (SIGHUP): " + std::to_string(s.reloads) + " applied, " +
         std::to_string(s.reloads_refused) + " refused\n";
  return out;
}

}  // namespace regfront::cli
