// regfront/reg/digest_answer.h — answering a digest challenge on a worker: which challenge of a
// 401/407 to answer and with which credential (docs/rules.md F4 order, F7 realm scoping; the
// strongest algorithm offered per RFC 8760 §2.4), and the Authorization header's fields for a
// given request (RFC 3261 §22.4, RFC 7616). Shared by the registration engine (REGISTER) and
// the call relay (INVITE, BYE, …). Nothing allocates.
//
//   const ChallengeChoice c = choose_challenge(snap, endpoint, registrar.auth_realm, response);
//   if (c.have) {
//     DigestAnswer a;
//     answer_digest(hasher, cnonces, c.params(response.status == 407), snap.username(*c.choice.cred),
//                   c.choice.ha1, /*nc=*/1, "INVITE", request_uri, {}, a);
//     sip::put_authorization(writer, a.fields);
//   }
#pragma once

#include <cstdint>
#include <string_view>

#include "regfront/auth/digest.h"
#include "regfront/reg/snapshot.h"
#include "regfront/sip/builder.h"
#include "regfront/sip/message.h"

namespace regfront::reg {

// What answering one digest challenge takes, besides the credential and its HA1: the views
// point into the challenge (or into a cached nonce).
struct DigestParams {
  bool proxy = false;  // 407 / Proxy-Authorization rather than 401 / Authorization
  std::string_view realm, nonce, opaque;
  bool opaque_present = false;
  bool userhash = false;
  auth::Algorithm algorithm = auth::Algorithm::md5;
  auth::Qop qop = auth::Qop::none;
};

// The challenge of a 401/407 to answer for `endpoint`, and what stood in the way when there is
// none. Only WWW-Authenticate (401) or Proxy-Authenticate (407) headers are read, whichever the
// status asks for.
struct ChallengeChoice {
  bool have = false;
  auth::Challenge challenge;   // the one to answer (views into the response)
  Snapshot::Choice choice;     // its credential and HA1s
  std::uint32_t realm_id = kNoRealm;
  bool refused_realm = false;       // a challenge for a realm the registrar is not pinned to
  std::string_view unknown_realm;   // a realm no snapshot names (only realm-less entries could)
  std::string_view sha_realm;       // a credential applies, but its SHA HA1 is not in the snapshot
  // The first Digest challenge parsed, answerable or not (what a status row names when none
  // could be answered): its realm, that realm's id (kNoRealm: no snapshot names it), algorithm.
  bool seen = false;
  std::string_view seen_realm;
  std::uint32_t seen_realm_id = kNoRealm;
  auth::Algorithm seen_algorithm = auth::Algorithm::md5;
  // The parameters of the chosen challenge (qop: auth when offered, else auth-int, else none).
  DigestParams params(bool proxy) const;
};
// `pinned_realm`: the registrar's auth-realm id, or kNoRealm when it is not pinned.
ChallengeChoice choose_challenge(const Snapshot& s, std::uint32_t endpoint, std::uint32_t pinned_realm,
                                 const sip::Message& response);

// The Authorization/Proxy-Authorization fields answering `d` for `method` `uri` (and `body`
// with qop=auth-int), and the buffers the fields point into. `nc` is the nonce count.
struct DigestAnswer {
  sip::AuthorizationFields fields;
  char cnonce[16];
  char nc[8];
  char userhash[auth::kMaxHexLength];
  char response[auth::kMaxHexLength];
};
void answer_digest(auth::Hasher& hasher, auth::CnonceSource& cnonces, const DigestParams& d,
                   std::string_view username, const auth::Ha1View& ha1, std::uint32_t nc, std::string_view method,
                   std::string_view uri, std::string_view body, DigestAnswer& out);

}  // namespace regfront::reg
