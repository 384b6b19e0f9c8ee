// regfront_loadgen — SIP registration traffic over a DPDK port (net_memif, net_ring, a NIC) for
// the issue-4 benchmark: packets per second per regfrontd worker for RX → parse → engine → TX.
//
//   role registrar (the generator facing regfrontd): answers every REGISTER — without an
//     Authorization header with 401 (fresh nonce), with one with 200 OK (Contact;expires=E) or,
//     in --mode stale, with 401 stale=true and a fresh nonce, which a client answers again at
//     once (RFC 7616 3.3): a closed loop per binding that runs as fast as both ends can go.
//   role uac (stands in for regfrontd when it is absent, and validates the registrar side):
//     N bindings, each looping REGISTER → 401 → REGISTER+Authorization → 200 → REGISTER …,
//     at most --window in flight, a lost request re-sent after 1 s.
//
// Both roles use regfront's NetStack (ARP, IPv4, UDP, checksums) on one port, one queue. Every
// second a line of rates is printed; at the end one JSON summary line (REGFRONT-LOADGEN {...})
// with packets, pps, responses by kind, NetStack drops and mempool use before and after.
//
//   regfront_loadgen [EAL args] -- --role registrar|uac --local IP --peer IP [--prefix N]
//                    [--port UDP] [--duration S] [--mode refresh|stale] [--expires S]
//                    [--bindings N] [--window N] [--min-rx N] [--dup N]
// --dup N (registrar): every response is sent 1 + N times; the copies are duplicates the client
// must parse, match and drop, i.e. load on RX → parse → engine that the engine does not pace.
// Exit status: 0, or 1 when fewer than --min-rx SIP messages were received (smoke tests).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "regfront/net/stack.h"

namespace {

using regfront::net::Endpoint;
using regfront::net::IpAddr;
using regfront::net::NetConfig;
using regfront::net::NetStack;
using regfront::net::RxDatagram;
using regfront::net::SendResult;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
  std::string role = "registrar";
  std::string local = "10.77.0.254";
  std::string peer = "10.77.0.1";
  int prefix = 24;
  std::uint16_t udp_port = 5060;
  double duration = 10;
  std::string mode = "refresh";
  int expires = 60;
  std::uint32_t bindings = 1000;
  std::uint32_t window = 256;
  std::uint64_t min_rx = 0;
  std::uint32_t dup = 0;  // registrar: send every response 1 + dup times
};

struct Stats {
  std::uint64_t rx = 0, tx = 0, tx_fail = 0;
  std::uint64_t registers = 0, with_auth = 0, sent_401 = 0, sent_200 = 0;  // registrar
  std::uint64_t got_401 = 0, got_200 = 0, resent = 0, other = 0;           // uac
  std::uint64_t repeated = 0;  // registrar: REGISTERs whose Via branch was seen before
};

// ---- minimal SIP text helpers (the generator's side; regfront's parser is not used here) ----

struct Header {
  std::string_view name, value;
};

// Splits the header section into lines; stops at the empty line.
std::vector<Header> headers(std::string_view msg, std::string_view& first_line) {
  std::vector<Header> out;
  std::size_t pos = msg.find("\r\n");
  first_line = msg.substr(0, pos);
  while (pos != std::string_view::npos) {
    pos += 2;
    const std::size_t end = msg.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = msg.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.push_back({name, value});
    }
    pos = end;
  }
  return out;
}

bool is(std::string_view name, std::string_view full, char compact) {
  if (name.size() == 1) return (name[0] | 0x20) == compact;
  if (name.size() != full.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if ((name[i] | 0x20) != (full[i] | 0x20)) return false;
  return true;
}

std::string_view find(const std::vector<Header>& hs, std::string_view full, char compact) {
  for (const auto& h : hs)
    if (is(h.name, full, compact)) return h.value;
  return {};
}

// Quoted parameter value from a challenge: nonce="..." → ...
std::string_view param(std::string_view v, std::string_view key) {
  const std::size_t k = v.find(key);
  if (k == std::string_view::npos) return {};
  std::size_t s = k + key.size();
  if (s < v.size() && v[s] == '"') ++s;
  std::size_t e = s;
  while (e < v.size() && v[e] != '"' && v[e] != ',') ++e;
  return v.substr(s, e - s);
}

class Port {
 public:
  bool open(std::uint16_t port, rte_mempool* pool, std::string& err) {
    port_ = port;
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0) return fail(err, "configure");
    if (rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), nullptr, pool) < 0)
      return fail(err, "rx queue");
    if (rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), nullptr) < 0)
      return fail(err, "tx queue");
    if (rte_eth_dev_start(port) < 0) return fail(err, "start");
    return true;
  }
  bool link_up() const {
    rte_eth_link link{};
    rte_eth_link_get_nowait(port_, &link);
    return link.link_status == RTE_ETH_LINK_UP;
  }
  std::uint16_t id() const { return port_; }

 private:
  static bool fail(std::string& err, const char* what) {
    err = std::string("port ") + what + " failed";
    return false;
  }
  std::uint16_t port_ = 0;
};

class Generator {
 public:
  Generator(const Options& o, NetStack& s) : o_(o), s_(s) {
    IpAddr::parse(o.peer.c_str(), peer_.addr);
    peer_.port = o.udp_port;
    if (o.role == "uac") {
      state_.assign(o.bindings, {});
      cseq_.assign(o.bindings, 1);
    }
  }

  void on_datagram(const RxDatagram& d, std::uint64_t now) {
    ++st.rx;
    std::string_view msg(reinterpret_cast<const char*>(d.payload), d.len);
    if (o_.role == "registrar") {
      registrar(msg, d.src, now);
    } else {
      uac(msg, now);
    }
  }

  // UAC: starts bindings under the window and re-sends lost requests.
  void pump(std::uint64_t now) {
    if (o_.role != "uac") return;
    const std::uint64_t hz = rte_get_tsc_hz();
    while (inflight_ < o_.window && next_ < o_.bindings) {
      if (!send_register(next_, {}, now)) return;
      ++next_;
    }
    if (now - last_scan_ > hz / 10) {
      last_scan_ = now;
      for (std::uint32_t i = 0; i < next_; ++i) {
        if (state_[i].sent_at && now - state_[i].sent_at > hz) {
          ++st.resent;
          --inflight_;
          send_register(i, state_[i].nonce, now);
        }
      }
    }
  }

  Stats st;

 private:
  struct Binding {
    std::uint64_t sent_at = 0;  // 0 = nothing in flight
    std::string nonce;          // answer this nonce next
  };

  bool send(const Endpoint& to, const std::string& text, std::uint64_t now) {
    const SendResult r = s_.send_udp(o_.udp_port, to, text.data(), text.size(), now);
    if (r == SendResult::sent || r == SendResult::queued) {
      ++st.tx;
      return true;
    }
    ++st.tx_fail;
    return false;
  }

  void registrar(std::string_view msg, const Endpoint& src, std::uint64_t now) {
    if (!msg.starts_with("REGISTER ")) return;
    ++st.registers;
    std::string_view first;
    const auto hs = headers(msg, first);
    // Retransmissions (and any frame delivered twice) repeat the top Via branch.
    const std::string_view via = find(hs, "Via", 'v');
    const std::size_t b = via.find("branch=");
    if (b != std::string_view::npos) {
      std::string_view br = via.substr(b + 7);
      br = br.substr(0, br.find_first_of(";, "));
      if (!branches_.emplace(br).second) ++st.repeated;
    }
    std::string out;
    out.reserve(1024);
    const bool auth = !find(hs, "Authorization", '\0').empty();
    const bool ok = auth && o_.mode != "stale";
    if (auth) ++st.with_auth;
    out += ok ? "SIP/2.0 200 OK\r\n" : "SIP/2.0 401 Unauthorized\r\n";
    for (const auto& h : hs)
      if (is(h.name, "Via", 'v')) out.append("Via: ").append(h.value).append("\r\n");
    out.append("From: ").append(find(hs, "From", 'f')).append("\r\n");
    const std::string_view to = find(hs, "To", 't');
    out.append("To: ").append(to);
    if (to.find(";tag=") == std::string_view::npos) out += ";tag=lg1";
    out.append("\r\nCall-ID: ").append(find(hs, "Call-ID", 'i'));
    out.append("\r\nCSeq: ").append(find(hs, "CSeq", '\0')).append("\r\n");
    if (ok) {
      ++st.sent_200;
      const std::string_view contact = find(hs, "Contact", 'm');
      const std::string e = std::to_string(o_.expires);
      if (!contact.empty()) {
        const std::size_t gt = contact.find('>');
        out.append("Contact: ").append(contact.substr(0, gt == std::string_view::npos ? contact.size() : gt + 1));
        out.append(";expires=").append(e).append("\r\n");
      }
      out.append("Expires: ").append(e).append("\r\n");
    } else {
      ++st.sent_401;
      char nonce[64];
      std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(++nonce_));
      out.append("WWW-Authenticate: Digest realm=\"load.test\", nonce=\"").append(nonce);
      out += "\", algorithm=MD5";
      if (auth) out += ", stale=true";
      out += "\r\n";
    }
    out += "Server: regfront-loadgen\r\nContent-Length: 0\r\n\r\n";
    // Copies: the client parses and matches each one and drops it as a duplicate (`stray`):
    // traffic the engine does not pace, to load RX → parse → match at full rate.
    for (std::uint32_t c = 0; c <= o_.dup; ++c) send(src, out, now);
  }

  void uac(std::string_view msg, std::uint64_t now) {
    if (!msg.starts_with("SIP/2.0 ")) return;
    std::string_view first;
    const auto hs = headers(msg, first);
    const std::string_view callid = find(hs, "Call-ID", 'i');
    if (!callid.starts_with("lg-")) return;
    const std::uint32_t i = static_cast<std::uint32_t>(std::strtoul(std::string(callid.substr(3)).c_str(), nullptr, 10));
    if (i >= state_.size() || !state_[i].sent_at) return;
    --inflight_;
    state_[i].sent_at = 0;
    if (first.substr(8, 3) == "401") {
      ++st.got_401;
      state_[i].nonce = std::string(param(find(hs, "WWW-Authenticate", '\0'), "nonce="));
    } else if (first.substr(8, 3) == "200") {
      ++st.got_200;
      state_[i].nonce.clear();
    } else {
      ++st.other;
      state_[i].nonce.clear();
    }
    send_register(i, state_[i].nonce, now);
  }

  bool send_register(std::uint32_t i, const std::string& nonce, std::uint64_t now) {
    const std::string number = std::to_string(100000 + i);
    const std::string local = o_.local + ":" + std::to_string(o_.udp_port);
    const std::string reg = o_.peer + ":" + std::to_string(o_.udp_port);
    std::string m;
    m.reserve(768);
    m += "REGISTER sip:" + reg + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bKlg" +
         std::to_string(i) + "x" + std::to_string(cseq_[i]) + ";rport\r\nMax-Forwards: 70\r\n";
    m += "From: <sip:" + number + "@" + o_.peer + ">;tag=lg" + std::to_string(i) + "\r\nTo: <sip:" + number + "@" +
         o_.peer + ">\r\nCall-ID: lg-" + std::to_string(i) + "\r\nCSeq: " + std::to_string(cseq_[i]++) +
         " REGISTER\r\nContact: <sip:" + number + "@" + local + ">\r\nExpires: 60\r\n";
    if (!nonce.empty())
      m += "Authorization: Digest username=\"u" + number + "\", realm=\"load.test\", nonce=\"" + nonce +
           "\", uri=\"sip:" + reg + "\", response=\"00000000000000000000000000000000\", algorithm=MD5\r\n";
    m += "Content-Length: 0\r\n\r\n";
    if (!send(peer_, m, now)) return false;
    state_[i].sent_at = now ? now : 1;
    ++inflight_;
    return true;
  }

  const Options& o_;
  NetStack& s_;
  Endpoint peer_;
  std::uint64_t nonce_ = 0;
  std::unordered_set<std::string> branches_;  // generator side: allocation is fine here
  std::vector<Binding> state_;
  std::vector<std::uint32_t> cseq_;
  std::uint32_t next_ = 0, inflight_ = 0;
  std::uint64_t last_scan_ = 0;
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "loadgen: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--role") o.role = val();
    else if (a == "--local") o.local = val();
    else if (a == "--peer") o.peer = val();
    else if (a == "--prefix") o.prefix = std::atoi(val().c_str());
    else if (a == "--port") o.udp_port = static_cast<std::uint16_t>(std::atoi(val().c_str()));
    else if (a == "--duration") o.duration = std::atof(val().c_str());
    else if (a == "--mode") o.mode = val();
    else if (a == "--expires") o.expires = std::atoi(val().c_str());
    else if (a == "--bindings") o.bindings = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--window") o.window = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--min-rx") o.min_rx = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--dup") o.dup = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else {
      std::fprintf(stderr, "loadgen: unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o.role != "registrar" && o.role != "uac") return false;
  if (o.mode != "refresh" && o.mode != "stale") return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int used = rte_eal_init(argc, argv);
  if (used < 0) {
    std::fprintf(stderr, "loadgen: EAL init failed\n");
    return 2;
  }
  Options o;
  if (!parse_options(argc - used, argv + used, o)) {
    std::fprintf(stderr, "usage: regfront_loadgen [EAL] -- --role registrar|uac --local IP --peer IP ...\n");
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (rte_eth_dev_count_avail() < 1) {
    std::fprintf(stderr, "loadgen: no DPDK port (give one with --vdev)\n");
    return 2;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("loadgen", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!pool) {
    std::fprintf(stderr, "loadgen: mempool: %s\n", rte_strerror(rte_errno));
    return 2;
  }
  Port port;
  std::string err;
  if (!port.open(0, pool, err)) {
    std::fprintf(stderr, "loadgen: %s\n", err.c_str());
    return 2;
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(0, &mac);
  NetConfig cfg;
  IpAddr local;
  if (!IpAddr::parse(o.local.c_str(), local)) {
    std::fprintf(stderr, "loadgen: bad --local\n");
    return 2;
  }
  regfront::net::InterfaceConfig itf;
  itf.port = 0;
  std::memcpy(itf.mac.data(), mac.addr_bytes, 6);
  (local.is_v4() ? itf.ipv4 : itf.ipv6).push_back({local, static_cast<std::uint8_t>(o.prefix)});
  cfg.interfaces.push_back(itf);
  cfg.udp_ports = {o.udp_port};
  NetStack stack(cfg, pool);
  if (!stack.init(err)) {
    std::fprintf(stderr, "loadgen: NetStack: %s\n", err.c_str());
    return 2;
  }
  const std::uint64_t hz = rte_get_tsc_hz();
  // memif/ring links come up when the other side connects: wait (bounded) before starting.
  const std::uint64_t link_deadline = rte_rdtsc() + 20 * hz;
  while (!port.link_up() && !g_stop && rte_rdtsc() < link_deadline) rte_delay_ms(10);
  if (!port.link_up()) {
    std::fprintf(stderr, "loadgen: link down after 20 s (is the peer running?)\n");
    return 2;
  }
  const unsigned in_use_start = rte_mempool_in_use_count(pool);
  stack.announce(rte_rdtsc());
  Generator gen(o, stack);
  std::printf("loadgen: role %s mode %s on %s, peer %s, link up\n", o.role.c_str(), o.mode.c_str(),
              o.local.c_str(), o.peer.c_str());
  std::fflush(stdout);

  constexpr unsigned kBurst = 32;
  rte_mbuf* pkts[kBurst];
  RxDatagram dg[kBurst];
  const std::uint64_t t0 = rte_rdtsc();
  const std::uint64_t end = t0 + static_cast<std::uint64_t>(o.duration * double(hz));
  std::uint64_t next_report = t0 + hz, last_poll = t0;
  Stats last{};
  std::uint64_t busy_polls = 0, polls = 0;
  while (!g_stop) {
    const std::uint64_t now = rte_rdtsc();
    if (now >= end) break;
    const std::uint16_t n = rte_eth_rx_burst(0, 0, pkts, kBurst);
    ++polls;
    if (n) {
      ++busy_polls;
      const std::size_t k = stack.classify(pkts, n, now, dg, kBurst);
      for (std::size_t i = 0; i < k; ++i) gen.on_datagram(dg[i], now);
      stack.release();
    }
    gen.pump(now);
    if (now - last_poll > hz / 1000) {
      stack.poll(now);
      last_poll = now;
    }
    auto& b = stack.tx(0);
    if (b.count) b.consumed(rte_eth_tx_burst(0, 0, b.pkts, b.count));
    if (now >= next_report) {
      std::printf("loadgen: rx %8llu pps  tx %8llu pps  (401 %llu, 200 %llu sent; 401 %llu, 200 %llu got)\n",
                  static_cast<unsigned long long>(gen.st.rx - last.rx),
                  static_cast<unsigned long long>(gen.st.tx - last.tx),
                  static_cast<unsigned long long>(gen.st.sent_401), static_cast<unsigned long long>(gen.st.sent_200),
                  static_cast<unsigned long long>(gen.st.got_401), static_cast<unsigned long long>(gen.st.got_200));
      std::fflush(stdout);
      last = gen.st;
      next_report += hz;
    }
  }
  const double secs = double(rte_rdtsc() - t0) / double(hz);
  // Drain what is still queued so that the mempool level compares like with like.
  auto& b = stack.tx(0);
  for (int i = 0; i < 100 && b.count; ++i) b.consumed(rte_eth_tx_burst(0, 0, b.pkts, b.count));
  const auto& c = stack.counters();
  const auto& s = gen.st;
  std::printf(
      "REGFRONT-LOADGEN {\"role\":\"%s\",\"mode\":\"%s\",\"seconds\":%.3f,\"rx\":%llu,\"tx\":%llu,"
      "\"rx_pps\":%.0f,\"tx_pps\":%.0f,\"tx_fail\":%llu,\"registers\":%llu,\"with_auth\":%llu,"
      "\"sent_401\":%llu,\"sent_200\":%llu,\"got_401\":%llu,\"got_200\":%llu,\"resent\":%llu,\"repeated\":%llu,"
      "\"net_rx_packets\":%llu,\"net_drop_not_ours\":%llu,\"net_drop_udp_checksum\":%llu,"
      "\"busy_poll_ratio\":%.3f,\"mempool_in_use_start\":%u,\"mempool_in_use_end\":%u}\n",
      o.role.c_str(), o.mode.c_str(), secs, static_cast<unsigned long long>(s.rx),
      static_cast<unsigned long long>(s.tx), double(s.rx) / secs, double(s.tx) / secs,
      static_cast<unsigned long long>(s.tx_fail), static_cast<unsigned long long>(s.registers),
      static_cast<unsigned long long>(s.with_auth), static_cast<unsigned long long>(s.sent_401),
      static_cast<unsigned long long>(s.sent_200), static_cast<unsigned long long>(s.got_401),
      static_cast<unsigned long long>(s.got_200), static_cast<unsigned long long>(s.resent),
      static_cast<unsigned long long>(s.repeated),
      static_cast<unsigned long long>(c.rx_packets.get()), static_cast<unsigned long long>(c.drop_eth_not_ours.get()),
      static_cast<unsigned long long>(c.drop_udp_bad_checksum.get()), polls ? double(busy_polls) / double(polls) : 0.0,
      in_use_start, rte_mempool_in_use_count(pool));
  std::fflush(stdout);
  rte_eth_dev_stop(0);
  rte_eth_dev_close(0);
  rte_eal_cleanup();
  return s.rx >= o.min_rx ? 0 : 1;
}
