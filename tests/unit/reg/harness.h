// Test fakes for the registration engine: configuration from IOS text and registrar addresses
// on 127.0.0.1 (the snapshot builder's, tests/unit/snapshot/harness.h), and a fake registrar
// that reads the engine's TxQueue and crafts responses the way a real registrar does
// (Via/From/To/Call-ID/CSeq copied, a To tag added).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../snapshot/harness.h"
#include "regfront/reg/engine.h"
#include "regfront/sip/message.h"

namespace regfront::reg::test {

// The snapshot builder's fakes (tests/unit/snapshot/harness.h): configuration from IOS text,
// registrar slot i on 127.0.0.1:(kRegistrarBasePort + i); and checks on a built snapshot.
using snapshot::test::endpoint_index;
using snapshot::test::expect_ha1;
using snapshot::test::kRegistrarBasePort;
using snapshot::test::load_config;
using snapshot::test::loopback_addresses;

// Which registrar slot a queued item goes to (from its destination port).
inline int registrar_of(const TxQueue::Item& it) {
  sockaddr_in sin;
  std::memcpy(&sin, &it.dst, sizeof sin);
  return ntohs(sin.sin_port) - kRegistrarBasePort;
}

// A request the engine queued, parsed, with copies of the fields tests look at.
struct Sent {
  int registrar = -1;
  std::string text;
  std::string via, from, to, call_id, cseq_value, contact, expires, authorization;
  std::uint32_t cseq = 0;
  bool proxy_auth = false;
  std::string branch;
  std::string number;  // user part of the To URI
};

inline std::string header_value(const sip::Message& m, sip::HeaderId id) {
  const sip::Header* h = m.first(id);
  return h ? std::string(h->value) : std::string();
}

inline Sent parse_sent(const TxQueue::Item& it) {
  Sent s;
  s.registrar = registrar_of(it);
  s.text.assign(it.data, it.len);
  sip::Header hs[sip::kMaxHeaders];
  sip::Message m;
  EXPECT_EQ(sip::parse(s.text, m, hs), sip::ParseStatus::ok) << s.text;
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.method, "REGISTER");
  s.via = header_value(m, sip::HeaderId::via);
  s.from = header_value(m, sip::HeaderId::from);
  s.to = header_value(m, sip::HeaderId::to);
  s.call_id = header_value(m, sip::HeaderId::call_id);
  s.cseq_value = header_value(m, sip::HeaderId::cseq);
  s.contact = header_value(m, sip::HeaderId::contact);
  s.expires = header_value(m, sip::HeaderId::expires);
  s.authorization = header_value(m, sip::HeaderId::authorization);
  if (s.authorization.empty()) {
    s.authorization = header_value(m, sip::HeaderId::proxy_authorization);
    s.proxy_auth = !s.authorization.empty();
  }
  sip::CSeq cs;
  if (sip::parse_cseq(s.cseq_value, cs)) s.cseq = cs.number;
  sip::Via via;
  if (sip::parse_via(s.via, via)) s.branch = std::string(via.branch);
  const std::size_t colon = s.to.find("sip:"), at = s.to.find('@');
  if (colon != std::string::npos && at != std::string::npos) s.number = s.to.substr(colon + 4, at - colon - 4);
  return s;
}

// Drains the queue into parsed requests.
inline std::vector<Sent> drain(TxQueue& q) {
  std::vector<Sent> out;
  for (std::size_t i = 0; i < q.size(); ++i) out.push_back(parse_sent(q[i]));
  q.clear();
  return out;
}

// A response to `req` as a registrar writes it. `extra` is inserted before Content-Length
// (each line ending in CRLF).
inline std::string respond(const Sent& req, int code, std::string_view reason, std::string_view extra = {},
                           std::string_view to_tag = "reg-tag-1") {
  std::string r = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  r += "Via: " + req.via + ";received=127.0.0.1\r\n";
  r += "From: " + req.from + "\r\n";
  r += "To: " + req.to + ";tag=" + std::string(to_tag) + "\r\n";
  r += "Call-ID: " + req.call_id + "\r\n";
  r += "CSeq: " + req.cseq_value + "\r\n";
  r += std::string(extra);
  r += "Server: fake-registrar\r\nContent-Length: 0\r\n\r\n";
  return r;
}

// 200 OK echoing our Contact with the expiry granted.
inline std::string ok_with_contact(const Sent& req, std::uint32_t expires) {
  return respond(req, 200, "OK", "Contact: " + req.contact + ";expires=" + std::to_string(expires) + "\r\n");
}

// Parameters of a "Digest k=v, k="v"" credentials value (quotes stripped).
inline std::map<std::string, std::string> digest_params(std::string_view value) {
  std::map<std::string, std::string> out;
  if (value.substr(0, 7) != "Digest ") return out;
  value.remove_prefix(7);
  std::size_t pos = 0;
  std::string_view el;
  while (sip::next_list_element(value, pos, el)) {
    const std::size_t eq = el.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = el.substr(0, eq), v = el.substr(eq + 1);
    while (!k.empty() && k.back() == ' ') k.remove_suffix(1);
    while (!k.empty() && k.front() == ' ') k.remove_prefix(1);
    out[std::string(k)] = std::string(sip::unquote(v));
  }
  return out;
}

}  // namespace regfront::reg::test
