// Answering a digest challenge (see regfront/reg/digest_answer.h).
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "regfront/reg/digest_answer.h"

namespace regfront::reg {

DigestParams ChallengeChoice::params(bool proxy) const {
  DigestParams d;
  d.proxy = proxy;
  d.realm = challenge.realm;
  d.nonce = challenge.nonce;
  d.opaque = challenge.opaque;
  d.opaque_present = challenge.opaque_present;
  d.userhash = challenge.userhash;
  d.algorithm = challenge.algorithm;
  d.qop = auth::choose_qop(challenge);
  return d;
}

ChallengeChoice choose_challenge(const Snapshot& s, std::uint32_t endpoint, std::uint32_t pinned_realm,
                                 const sip::Message& m) {
  const sip::HeaderId want = m.status == 407 ? sip::HeaderId::proxy_authenticate : sip::HeaderId::www_authenticate;
  ChallengeChoice out;
  // Scope each Digest challenge we can parse (F7: only the registrar's auth-realm when pinned;
  // only realms a credential is configured for) and keep the best algorithm among those we can
  // answer (RFC 8760 §2.4).
  for (std::uint16_t i = 0; i < m.header_count; ++i) {
    if (m.headers[i].id != want) continue;
    auth::Challenge c;
    if (auth::parse_challenge(m.headers[i].value, c) != auth::ChallengeStatus::ok) continue;
    const std::uint32_t realm_id = s.realms.find(c.realm);
    if (!out.seen) {
      out.seen = true;
      out.seen_realm = c.realm;
      out.seen_realm_id = realm_id;
      out.seen_algorithm = c.algorithm;
    }
    if (pinned_realm != kNoRealm && realm_id != pinned_realm) {
      out.refused_realm = true;
      continue;
    }
    if (realm_id == kNoRealm) out.unknown_realm = c.realm;
    const Snapshot::Choice ch = s.choose_credential(endpoint, realm_id);
    if (ch.cred == nullptr) continue;
    if (!ch.ha1.has_algorithm(c.algorithm)) {
      out.sha_realm = c.realm;
      continue;
    }
    if (!out.have || auth::better_challenge(c, out.challenge)) {
      out.challenge = c;
      out.choice = ch;
      out.realm_id = realm_id;
      out.have = true;
    }
  }
  return out;
}

void answer_digest(auth::Hasher& hasher, auth::CnonceSource& cnonces, const DigestParams& d,
                   std::string_view username, const auth::Ha1View& ha1set, std::uint32_t nc_value,
                   std::string_view method, std::string_view uri, std::string_view body, DigestAnswer& out) {
  sip::AuthorizationFields& a = out.fields;
  a = sip::AuthorizationFields{};
  a.proxy = d.proxy;
  a.realm = d.realm;
  a.nonce = d.nonce;
  a.uri = uri;
  a.algorithm = d.algorithm;
  a.qop = d.qop;
  a.opaque = d.opaque;
  a.opaque_present = d.opaque_present;
  if (a.qop != auth::Qop::none) {
    cnonces.next(out.cnonce, sizeof out.cnonce);
    sip::put_hex(nc_value, 8, out.nc);
    a.cnonce = {out.cnonce, sizeof out.cnonce};
    a.nc = {out.nc, sizeof out.nc};
  }
  if (d.userhash) {
    const std::size_t n = hasher.hash_joined_hex(auth::base_hash(d.algorithm), {username, d.realm}, out.userhash);
    a.username = {out.userhash, n};
    a.userhash = true;
  } else {
    a.username = username;
  }
  const auth::HexDigest ha1 = ha1set.for_algorithm(d.algorithm);  // hex from the binary HA1
  const std::size_t rn =
      hasher.response(d.algorithm, ha1.view(), d.nonce, a.nc, a.cnonce, a.qop, method, uri, body, out.response);
  a.response = {out.response, rn};
}

}  // namespace regfront::reg
