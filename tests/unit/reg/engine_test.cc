// Engine under a manual clock and a fake transport: the TxQueue has no flush hook, the test
// reads what the engine queued, parses it with the SIP parser and answers as a registrar
// would. Snapshots are built from IOS configuration text by the real snapshot::Builder.
#include "regfront/reg/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "regfront/auth/digest.h"

namespace regfront::reg {
namespace {

using test::digest_params;
using test::kRegistrarBasePort;
using test::drain;
using test::load_config;
using test::loopback_addresses;
using test::ok_with_contact;
using test::respond;
using test::Sent;

constexpr std::uint64_t kStart = 10'000'000;  // ms; any non-zero origin

constexpr std::string_view kOneEndpoint = R"(
dial-peer voice 1 pots
 destination-pattern 1001
 authentication username alice password 0 secret realm reg-a.example
sip-ua
 registrar 1 dns:reg-a.example expires 3600
)";

struct Timed {
  std::uint64_t at;
  Sent req;
};

class EngineTest : public ::testing::Test {
 protected:
  void start(std::string_view config, EngineOptions opts = {}) {
    opts.capacity = capacity_;
    opts.max_inflight = capacity_;
    opts.key = SipKey{0x1122334455667788ull, 0x99aabbccddeeff00ull};
    opts_ = opts;
    engine_ = std::make_unique<Engine>(opts_, tx_);
    rebuild(config);
  }
  // The snapshot the engine runs on (the test owns every snapshot it built), and a pin for it.
  const Snapshot* snap() const { return snaps_.back().get(); }
  OwnedSnapshotPin pin() const { return OwnedSnapshotPin(snap()); }
  void rebuild(std::string_view config) {
    snaps_.push_back(builder_.build(load_config(config), loopback_addresses(), 5060, learned_realms_, nullptr, 0, sha_realms_));
    engine_->adopt(pin(), now_);
  }
  // Advances the clock one millisecond at a time, collecting what the engine sends.
  std::vector<Timed> run(std::uint64_t ms) {
    std::vector<Timed> out;
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now_;
      // As a worker loop does: advance() again while the engine says it has work due now
      // (paced starts go out kStartsPerAdvance per call).
      for (int calls = 0; calls < 100000; ++calls) {
        engine_->advance(pin(), now_);
        for (Sent& s : drain(tx_)) out.push_back({now_, std::move(s)});
        if (engine_->next_deadline_ms(pin()) > now_) break;
      }
    }
    return out;
  }
  // Runs until the engine sends something (at most `limit` ms); returns it.
  std::vector<Timed> run_until_sent(std::uint64_t limit = 200000) {
    for (std::uint64_t i = 0; i < limit; ++i) {
      std::vector<Timed> got = run(1);
      if (!got.empty()) return got;
    }
    return {};
  }
  // The first REGISTER is challenged with `challenge`, the authenticated one accepted for
  // `expires` seconds; returns that authenticated REGISTER.
  Sent register_challenged(const std::string& challenge, std::uint32_t expires = 120) {
    const std::vector<Sent> out = deliver(respond(first_request(), 401, "Unauthorized", challenge));
    if (out.size() != 1) {
      ADD_FAILURE() << out.size() << " answers to the challenge";
      return {};
    }
    deliver(ok_with_contact(out[0], expires));
    return out[0];
  }
  Sent first_request() {
    std::vector<Timed> got = run(1);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? Sent{} : got[0].req;
  }
  // Delivers a datagram; returns what the engine sent in reply.
  std::vector<Sent> deliver(const std::string& datagram) {
    engine_->on_datagram(pin(), datagram, now_);
    return drain(tx_);
  }
  BindingStatus status_of(std::string_view number, int registrar = 0) {
    BindingStatus rows[64];
    std::uint32_t next = 0;
    const std::size_t n = engine_->status(pin(), 0, rows, 64, next, now_);
    for (std::size_t i = 0; i < n; ++i) {
      if (snap()->number(snap()->endpoints[rows[i].endpoint]) == number && rows[i].registrar == registrar) {
        return rows[i];
      }
    }
    ADD_FAILURE() << "no binding " << number;
    return {};
  }
  const RegistrarCounters& rc(int i = 0) { return engine_->counters().registrar[i]; }
  const WorkerCounters& wc() { return engine_->counters(); }

  // Recomputes a digest response independently from the clear-text password.
  std::string expected_response(auth::Algorithm alg, std::string_view user, std::string_view realm,
                                std::string_view password, std::string_view nonce,
                                const std::map<std::string, std::string>& p) {
    const auth::Hash h = auth::base_hash(alg);
    char ha1[auth::kMaxHexLength], ha2[auth::kMaxHexLength], out[auth::kMaxHexLength];
    const std::size_t n1 = hasher_.hash_joined_hex(h, {user, realm, password}, ha1);
    const std::size_t n2 = hasher_.hash_joined_hex(h, {"REGISTER", p.at("uri")}, ha2);
    std::size_t n;
    if (p.count("qop")) {
      n = hasher_.hash_joined_hex(h, {std::string_view(ha1, n1), nonce, p.at("nc"), p.at("cnonce"), p.at("qop"),
                                      std::string_view(ha2, n2)},
                                  out);
    } else {
      n = hasher_.hash_joined_hex(h, {std::string_view(ha1, n1), nonce, std::string_view(ha2, n2)}, out);
    }
    return std::string(out, n);
  }

  // Registers 1001 (no challenge) and returns the 200's request.
  Sent register_plain(std::uint32_t granted = 3600) {
    Sent r = first_request();
    EXPECT_TRUE(deliver(ok_with_contact(r, granted)).empty());
    EXPECT_EQ(status_of(r.number, r.registrar).state, BindingState::registered);
    return r;
  }

  std::uint32_t capacity_ = 512;  // binding slots and transactions of the next start()
  std::vector<std::string> sha_realms_;  // realms whose credentials get SHA HA1s (daemon: learned)
  std::vector<std::string> learned_realms_;  // realms for realm-less credentials (daemon: learned)
  EngineOptions opts_;
  TxQueue tx_{16384};
  std::unique_ptr<Engine> engine_;
  snapshot::Builder builder_{1};
  std::deque<std::unique_ptr<Snapshot>> snaps_;
  std::uint64_t now_ = kStart;
  auth::Hasher hasher_;
};

// ---- first request and 2xx ----

TEST_F(EngineTest, FirstRequestFields) {
  start(kOneEndpoint);
  const Sent r = first_request();
  EXPECT_EQ(r.registrar, 0);
  EXPECT_EQ(r.text.substr(0, r.text.find("\r\n")), "REGISTER sip:reg-a.example SIP/2.0");
  EXPECT_EQ(r.number, "1001");
  EXPECT_EQ(r.to, "<sip:1001@reg-a.example>");
  EXPECT_EQ(r.from.substr(0, r.from.find(';')), "<sip:1001@reg-a.example>");
  EXPECT_NE(r.from.find(";tag="), std::string::npos);
  EXPECT_EQ(r.contact, "<sip:1001@127.0.0.1:5060>");
  EXPECT_EQ(r.expires, "3600");
  EXPECT_EQ(r.cseq_value, "1 REGISTER");
  EXPECT_EQ(r.via.rfind("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK", 0), 0u) << r.via;
  EXPECT_TRUE(r.authorization.empty());
  EXPECT_EQ(rc().sent.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
  EXPECT_EQ(engine_->inflight(), 1u);
}

TEST_F(EngineTest, GrantedFromOurContactExpiresAndRefreshWindow) {
  start(kOneEndpoint);
  const Sent r = first_request();
  // Another contact (not ours) first, then ours; an Expires header that must lose.
  const std::string resp = respond(r, 200, "OK",
                                   "Contact: <sip:1001@10.9.9.9:5060>;expires=7\r\n"
                                   "Contact: " + r.contact + ";expires=120\r\nExpires: 999\r\n");
  EXPECT_TRUE(deliver(resp).empty());
  const std::uint64_t t0 = now_;
  BindingStatus st = status_of("1001");
  EXPECT_EQ(st.state, BindingState::registered);
  EXPECT_EQ(st.granted, 120u);
  EXPECT_EQ(st.last_code, 200);
  EXPECT_EQ(st.seconds_left, 120);
  EXPECT_EQ(rc().accepted.get(), 1u);
  EXPECT_EQ(engine_->inflight(), 0u);
  EXPECT_EQ(engine_->registered_count(now_), 1u);
  // First refresh after a registration that was not a refresh (nor out of a storm): from half
  // the 120 s granted up to 80 % of it (96 s).
  const auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GE(sent[0].at - t0, 60000u);
  EXPECT_LE(sent[0].at - t0, 96000u);
  EXPECT_EQ(sent[0].req.call_id, r.call_id);  // same Call-ID, CSeq + 1 (RFC 3261 §10.2.4)
  EXPECT_EQ(sent[0].req.cseq, r.cseq + 1);
  EXPECT_NE(sent[0].req.branch, r.branch);
  EXPECT_EQ(sent[0].req.expires, "3600");
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
  // Accepted while the registration held (answered at once): refreshes, each within
  // [86.4 s, 96 s] of the last 2xx, moving to the slot's phase (slot 0 of worker 0: clock
  // times that are multiples of 96 s) and then keeping the period, 96 s.
  Sent last = sent[0].req;
  int off_phase = 0;
  bool was_on_phase = false;
  for (int i = 0; i < 4; ++i) {
    deliver(ok_with_contact(last, 120));
    const std::uint64_t t1 = now_;
    const auto again = run_until_sent(100000);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_GE(again[0].at - t1, 86400u);
    EXPECT_LE(again[0].at - t1, 96000u);
    const bool on_phase = again[0].at % 96000 == 0;
    if (!on_phase) {
      ++off_phase;
      EXPECT_EQ(again[0].at - t1, 86400u) << "off its phase only while moving to it";
    } else if (was_on_phase) {
      EXPECT_EQ(again[0].at - t1, 96000u);
    }
    was_on_phase = on_phase;
    last = again[0].req;
  }
  EXPECT_LE(off_phase, 1);
  // Answered 12 s late (after retransmissions): its phase is 84 s away, sooner than 90 % of
  // the refresh point, so it refreshes at 86.4 s, not early.
  run(12000);
  deliver(ok_with_contact(last, 120));
  const std::uint64_t t2 = now_;
  const auto late = run_until_sent(100000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].at - t2, 86400u);
}

TEST_F(EngineTest, GrantedFromExpiresHeaderWhenContactIsNotOurs) {
  start(kOneEndpoint);
  const Sent r = first_request();
  deliver(respond(r, 200, "OK", "Contact: <sip:1001@10.9.9.9:5060>;expires=7\r\nExpires: 300\r\n"));
  EXPECT_EQ(status_of("1001").granted, 300u);
}

TEST_F(EngineTest, GrantedIsRequestedWhenNothingSaid) {
  start(kOneEndpoint);
  const Sent r = first_request();
  deliver(respond(r, 200, "OK"));
  EXPECT_EQ(status_of("1001").granted, 3600u);
}

TEST_F(EngineTest, RefreshRatioFromConfig) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
sip-ua
 registrar 1 dns:reg-a.example expires 100 refresh-ratio 50
)");
  const Sent r = first_request();
  EXPECT_EQ(r.expires, "100");
  deliver(respond(r, 200, "OK"));
  const std::uint64_t t0 = now_;
  const auto sent = run_until_sent(60000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GE(sent[0].at - t0, 45000u);
  EXPECT_LE(sent[0].at - t0, 50000u);
}

// ---- digest ----

TEST_F(EngineTest, Answers401Md5NoQop) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const auto out = deliver(respond(r, 401, "Unauthorized",
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-md5-1\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  const Sent& a = out[0];
  EXPECT_FALSE(a.proxy_auth);
  EXPECT_EQ(a.call_id, r.call_id);
  EXPECT_EQ(a.cseq, r.cseq + 1);
  EXPECT_NE(a.branch, r.branch);
  EXPECT_EQ(a.from, r.from);
  const auto p = digest_params(a.authorization);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("realm"), "reg-a.example");
  EXPECT_EQ(p.at("nonce"), "n-md5-1");
  EXPECT_EQ(p.at("uri"), "sip:reg-a.example");
  EXPECT_EQ(p.at("algorithm"), "MD5");
  EXPECT_FALSE(p.count("qop"));
  EXPECT_FALSE(p.count("nc"));
  EXPECT_FALSE(p.count("cnonce"));
  EXPECT_FALSE(p.count("opaque"));
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "n-md5-1", p));
  EXPECT_EQ(rc().challenged.get(), 1u);
  EXPECT_EQ(rc().authenticated.get(), 1u);
  deliver(ok_with_contact(a, 3600));
  const BindingStatus st = status_of("1001");
  EXPECT_EQ(st.state, BindingState::registered);
  EXPECT_EQ(snap()->username(snap()->credentials[st.credential]), "alice");
  EXPECT_EQ(st.realm, snap()->realms.find("reg-a.example"));
  EXPECT_EQ(rc().sent.get(), 1u);  // one transaction start, two requests
}

TEST_F(EngineTest, Answers407Sha256QopAuthWithOpaque) {
  sha_realms_ = {"reg-a.example"};
  start(kOneEndpoint);
  const Sent r = first_request();
  const auto out = deliver(respond(r, 407, "Proxy Authentication Required",
                                   "Proxy-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-sha\", "
                                   "algorithm=SHA-256, qop=\"auth,auth-int\", opaque=\"op-1\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  const Sent& a = out[0];
  EXPECT_TRUE(a.proxy_auth);
  EXPECT_EQ(a.text.find("\r\nAuthorization:"), std::string::npos);
  const auto p = digest_params(a.authorization);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("realm"), "reg-a.example");
  EXPECT_EQ(p.at("uri"), "sip:reg-a.example");
  EXPECT_EQ(p.at("algorithm"), "SHA-256");
  EXPECT_EQ(p.at("qop"), "auth");
  EXPECT_EQ(p.at("nc"), "00000001");
  EXPECT_EQ(p.at("opaque"), "op-1");
  ASSERT_EQ(p.at("cnonce").size(), 16u);
  EXPECT_EQ(p.at("cnonce").find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(p.at("response").size(), 64u);
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "secret", "n-sha", p));
  deliver(ok_with_contact(a, 600));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

TEST_F(EngineTest, PicksAnswerableStrongestChallenge) {
  sha_realms_ = {"reg-a.example"};
  start(kOneEndpoint);
  const Sent r = first_request();
  const auto out = deliver(respond(r, 401, "Unauthorized",
                                   "WWW-Authenticate: Basic realm=\"reg-a.example\"\r\n"
                                   "WWW-Authenticate: Digest realm=\"elsewhere\", nonce=\"n-x\", algorithm=SHA-256\r\n"
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-md5\", algorithm=MD5\r\n"
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-256\", algorithm=SHA-256, qop=auth\r\n"
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-sha1\", algorithm=SHA-1\r\n"));
  ASSERT_EQ(out.size(), 1u);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("realm"), "reg-a.example");
  EXPECT_EQ(p.at("nonce"), "n-256");
  EXPECT_EQ(p.at("algorithm"), "SHA-256");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "secret", "n-256", p));
}

TEST_F(EngineTest, StaleChallengeIsAnsweredAgainWithoutFailure) {
  start(kOneEndpoint);
  const Sent r = first_request();
  auto out = deliver(respond(r, 401, "Unauthorized", "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"old\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  out = deliver(respond(out[0], 401, "Unauthorized",
                        "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"fresh\", stale=true\r\n"));
  ASSERT_EQ(out.size(), 1u);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("nonce"), "fresh");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "fresh", p));
  EXPECT_EQ(rc().stale.get(), 1u);
  EXPECT_EQ(rc().auth_failed.get(), 0u);
  deliver(ok_with_contact(out[0], 3600));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

// Runs until the next initial request and checks it comes in [lo, hi] ms after `t0`.
#define EXPECT_RETRY_WITHIN(t0, lo, hi)                      \
  do {                                                       \
    const auto retry = run_until_sent((hi) + 1000);          \
    ASSERT_EQ(retry.size(), 1u);                             \
    EXPECT_GE(retry[0].at - (t0), (lo));                     \
    EXPECT_LE(retry[0].at - (t0), (hi));                     \
    EXPECT_TRUE(retry[0].req.authorization.empty());         \
  } while (0)

TEST_F(EngineTest, SameNonceTwiceIsAuthFailedAndBacksOff) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::string ch = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"same\"\r\n";
  auto out = deliver(respond(r, 401, "Unauthorized", ch));
  ASSERT_EQ(out.size(), 1u);
  out = deliver(respond(out[0], 401, "Unauthorized", ch));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rc().auth_failed.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  EXPECT_EQ(status_of("1001").last_code, 401);
  EXPECT_EQ(engine_->inflight(), 0u);
  const std::uint64_t t0 = now_;
  EXPECT_RETRY_WITHIN(t0, 2000u, 4000u);  // backoff_base 4000: 50–100 %
}

// F7 (issue 11, item 8): a registrar that makes a fresh nonce for every 401 used to get four
// wrong digests per attempt (one per round), since only a repeated nonce was taken as a refusal.
TEST_F(EngineTest, FreshNonceAfterOurCredentialsIsAuthFailedOncePerAttempt) {
  start(kOneEndpoint);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const Sent r = attempt == 0 ? first_request() : [&] {
      const auto retry = run_until_sent(300000);
      EXPECT_EQ(retry.size(), 1u);
      return retry.empty() ? Sent{} : retry[0].req;
    }();
    EXPECT_TRUE(r.authorization.empty());
    auto out = deliver(respond(r, 401, "Unauthorized",
                               "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"a" + std::to_string(attempt) +
                                   "\"\r\n"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].authorization.empty());
    out = deliver(respond(out[0], 401, "Unauthorized",
                          "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"b" + std::to_string(attempt) +
                              "\"\r\n"));
    EXPECT_TRUE(out.empty()) << "a second digest for the realm in one attempt";
    EXPECT_EQ(rc().authenticated.get(), attempt + 1u);  // one digest per attempt
    EXPECT_EQ(rc().auth_failed.get(), attempt + 1u);
    const BindingStatus st = status_of("1001");
    EXPECT_EQ(st.state, BindingState::backoff);
    EXPECT_EQ(st.last_code, 401);
    EXPECT_EQ(st.reason, FailReason::auth_failed);
    ASSERT_LT(st.realm, snap()->realms.names.size());
    EXPECT_EQ(snap()->realms.names[st.realm], "reg-a.example");
  }
}

TEST_F(EngineTest, StaleChallengeIsAnsweredOnceMorePerAttemptOnly) {
  start(kOneEndpoint);
  auto out = deliver(respond(first_request(), 401, "Unauthorized",
                             "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n1\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  out = deliver(respond(out[0], 401, "Unauthorized",
                        "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n2\", stale=true\r\n"));
  ASSERT_EQ(out.size(), 1u);  // RFC 7616 §3.3: the digest was right, the nonce old
  out = deliver(respond(out[0], 401, "Unauthorized",
                        "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n3\", stale=true\r\n"));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rc().authenticated.get(), 2u);
  EXPECT_EQ(rc().auth_failed.get(), 1u);
  EXPECT_EQ(status_of("1001").reason, FailReason::auth_failed);
}

// A 423 to an authenticated REGISTER accepted its credentials: the retry (without them) may be
// challenged again, and that challenge is answered.
TEST_F(EngineTest, ChallengeAfterAnIntervalTooBriefRetryIsAnswered) {
  start(kOneEndpoint);
  auto out = deliver(respond(first_request(), 401, "Unauthorized",
                             "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n1\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  out = deliver(respond(out[0], 423, "Interval Too Brief", "Min-Expires: 7200\r\n"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].authorization.empty());
  out = deliver(respond(out[0], 401, "Unauthorized",
                        "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n2\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  deliver(ok_with_contact(out[0], 7200));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(status_of("1001").reason, FailReason::none);
  EXPECT_EQ(rc().auth_failed.get(), 0u);
}

TEST_F(EngineTest, NoCredentialForRealmSendsNothing) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const auto out = deliver(respond(r, 401, "Unauthorized",
                                   "WWW-Authenticate: Digest realm=\"stranger.example\", nonce=\"n\"\r\n"));
  EXPECT_TRUE(out.empty());  // F7: alice's password is never offered to another realm
  EXPECT_EQ(rc().no_credential.get(), 1u);
  EXPECT_EQ(rc().authenticated.get(), 0u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  const std::uint64_t t0 = now_;
  EXPECT_RETRY_WITHIN(t0, 2000u, 4000u);
}

TEST_F(EngineTest, AuthRealmPinningRefusesOtherRealms) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
sip-ua
 authentication username alice password 0 secret realm pinned.example
 authentication username mallory password 0 other realm other.example
 registrar 1 dns:reg-a.example auth-realm pinned.example
)");
  Sent r = first_request();
  auto out = deliver(respond(r, 401, "Unauthorized", "WWW-Authenticate: Digest realm=\"other.example\", nonce=\"n\"\r\n"));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rc().realm_refused.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  // The pinned realm itself is answered.
  const auto retry = run_until_sent(5000);
  ASSERT_EQ(retry.size(), 1u);
  out = deliver(respond(retry[0].req, 401, "Unauthorized",
                        "WWW-Authenticate: Digest realm=\"other.example\", nonce=\"n2\"\r\n"
                        "WWW-Authenticate: Digest realm=\"pinned.example\", nonce=\"n3\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("realm"), "pinned.example");
}

// ---- other final responses ----

TEST_F(EngineTest, IntervalTooBriefRetriesWithMinExpires) {
  start(kOneEndpoint);
  const Sent r = first_request();
  auto out = deliver(respond(r, 423, "Interval Too Brief", "Min-Expires: 7200\r\n"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].expires, "7200");
  EXPECT_EQ(out[0].contact, r.contact);
  EXPECT_EQ(out[0].cseq, r.cseq + 1);
  EXPECT_EQ(out[0].call_id, r.call_id);
  EXPECT_EQ(rc().interval_too_brief.get(), 1u);
  deliver(respond(out[0], 200, "OK"));
  EXPECT_EQ(status_of("1001").granted, 7200u);
}

TEST_F(EngineTest, IntervalTooBriefWithoutMinExpiresIsAFailure) {
  start(kOneEndpoint);
  const Sent r = first_request();
  EXPECT_TRUE(deliver(respond(r, 423, "Interval Too Brief")).empty());
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  EXPECT_EQ(rc().rejected.get(), 1u);
}

TEST_F(EngineTest, ForbiddenBacksOffDoublingWithJitter) {
  start(kOneEndpoint);
  Sent r = first_request();
  EXPECT_TRUE(deliver(respond(r, 403, "Forbidden")).empty());
  EXPECT_EQ(rc().rejected.get(), 1u);
  EXPECT_EQ(rc().by_code[403 - 300].get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  EXPECT_EQ(status_of("1001").last_code, 403);
  std::uint64_t t0 = now_;
  auto retry = run_until_sent(10000);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_GE(retry[0].at - t0, 2000u);
  EXPECT_LE(retry[0].at - t0, 4000u);
  // Second failure in a row: [base, 2·base].
  deliver(respond(retry[0].req, 403, "Forbidden"));
  t0 = now_;
  retry = run_until_sent(20000);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_GE(retry[0].at - t0, 4000u);
  EXPECT_LE(retry[0].at - t0, 8000u);
  // A success resets the failure count.
  deliver(respond(retry[0].req, 200, "OK"));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

TEST_F(EngineTest, RetryAfterIsHonoured) {
  start(kOneEndpoint);
  const Sent r = first_request();
  deliver(respond(r, 503, "Service Unavailable", "Retry-After: 120\r\n"));
  EXPECT_EQ(rc().retry_after.get(), 1u);
  const std::uint64_t t0 = now_;
  EXPECT_RETRY_WITHIN(t0, 120000u, 132000u);  // Retry-After plus at most 10 %
}

// Issue 11, item 6: Retry-After: 999999999 parked a binding for 31 years.
TEST_F(EngineTest, RetryAfterAboveTheMaximumIsHonouredAsTheMaximum) {
  start(kOneEndpoint);
  const Sent r = first_request();
  deliver(respond(r, 503, "Service Unavailable", "Retry-After: 999999999\r\n"));
  EXPECT_EQ(rc().retry_after.get(), 1u);
  EXPECT_EQ(rc().retry_after_capped.get(), 1u);
  EXPECT_EQ(status_of("1001").reason, FailReason::retry_after);
  EXPECT_EQ(engine_->status_tables().retry_after_s[0], kMaxRetryAfterS);  // as honoured
  const std::uint64_t t0 = now_;
  EXPECT_RETRY_WITHIN(t0, kMaxRetryAfterS * 1000u, kMaxRetryAfterS * 1100u);
}

// Issue 11, item 6: a 401 with a header over 8 KB was dropped as a parse error, and the binding
// reported a 408 timeout 32 s later. It fails at once, as what it is.
TEST_F(EngineTest, OversizedChallengeFailsAsResponseTooLarge) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::string big = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"" +
                          std::string(sip::kMaxHeaderLength + 100, 'x') + "\"\r\n";
  EXPECT_TRUE(deliver(respond(r, 401, "Unauthorized", big)).empty());
  EXPECT_EQ(wc().parse_errors.get(), 1u);  // still a datagram the parser refused
  EXPECT_EQ(rc().response_too_large.get(), 1u);
  EXPECT_EQ(rc().by_code[401 - 300].get(), 1u);
  BindingStatus st = status_of("1001");
  EXPECT_EQ(st.state, BindingState::backoff);
  EXPECT_EQ(st.last_code, 401);
  EXPECT_EQ(st.reason, FailReason::response_too_large);
  EXPECT_EQ(engine_->inflight(), 0u);
  const std::uint64_t t0 = now_;
  EXPECT_RETRY_WITHIN(t0, 2000u, 4000u);  // backed off as a failure, never retransmitted
  EXPECT_EQ(rc().timed_out.get(), 0u);
  EXPECT_EQ(rc().retransmitted.get(), 0u);
}

TEST_F(EngineTest, OversizedDatagramsNotOursChangeNothing) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::string big = "X-Big: " + std::string(sip::kMaxHeaderLength + 100, 'x') + "\r\n";
  Sent forged = r;
  forged.via = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKrf00000000000000010123456789abcdef";
  deliver(respond(forged, 401, "Unauthorized", big));                   // not our MAC
  deliver(respond(r, 180, "Ringing", big));                              // provisional
  deliver("REGISTER sip:x SIP/2.0\r\nVia: " + r.via + "\r\n" + big + "\r\n");  // a request
  EXPECT_EQ(wc().parse_errors.get(), 3u);
  EXPECT_EQ(rc().response_too_large.get(), 0u);
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
}

// ---- timeouts (RFC 3261 §17.1.2.2) ----

std::vector<std::uint64_t> offsets(const std::vector<Timed>& sent, std::uint64_t t0) {
  std::vector<std::uint64_t> out;
  for (const Timed& t : sent) out.push_back(t.at - t0);
  return out;
}

TEST_F(EngineTest, TimeoutRetransmitsThenBacksOff) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::uint64_t t0 = now_;
  const auto sent = run(19500);
  EXPECT_EQ(offsets(sent, t0), (std::vector<std::uint64_t>{500, 1500, 3500, 7500, 11500, 15500}));
  for (const Timed& t : sent) EXPECT_EQ(t.req.text, r.text);  // byte-identical retransmissions
  EXPECT_EQ(rc().retransmitted.get(), 6u);
  EXPECT_EQ(rc().timed_out.get(), 1u);  // retry register 6 reached at 19.5 s
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  EXPECT_EQ(status_of("1001").last_code, 408);
  EXPECT_EQ(engine_->inflight(), 0u);
  // A late response to the timed-out transaction is stray and changes nothing.
  EXPECT_TRUE(deliver(respond(r, 200, "OK")).empty());
  EXPECT_EQ(rc().stray.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  const auto retry = run_until_sent(5000);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_GE(retry[0].at - t0, 19500u + 2000);
  EXPECT_LE(retry[0].at - t0, 19500u + 4000);
  EXPECT_EQ(retry[0].req.cseq, r.cseq + 1);
}

TEST_F(EngineTest, TimerFEndsTransactionBeforeRetryLimit) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
sip-ua
 registrar 1 dns:reg-a.example
 retry register 10
)");
  first_request();
  const std::uint64_t t0 = now_;
  const auto sent = run(32000);
  EXPECT_EQ(offsets(sent, t0),
            (std::vector<std::uint64_t>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(rc().timed_out.get(), 1u);  // Timer F = 64·T1 = 32 s
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
}

TEST_F(EngineTest, TimersRegisterSetsT1) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
sip-ua
 registrar 1 dns:reg-a.example
 timers register 200
)");
  first_request();
  const std::uint64_t t0 = now_;
  const auto sent = run(12800);
  EXPECT_EQ(offsets(sent, t0), (std::vector<std::uint64_t>{200, 600, 1400, 3000, 6200, 10200}));
  EXPECT_EQ(rc().timed_out.get(), 1u);  // at 12.8 s = 64·T1
}

TEST_F(EngineTest, ProvisionalKeepsTransactionAliveAtT2) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::uint64_t t0 = now_;
  run(100);
  EXPECT_TRUE(deliver(respond(r, 100, "Trying")).empty());
  auto sent = run(5000);  // to t0 + 5100
  // The retransmission already scheduled (T1) goes out, then every T2.
  EXPECT_EQ(offsets(sent, t0), (std::vector<std::uint64_t>{500, 4500}));
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
  deliver(respond(r, 200, "OK"));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(rc().timed_out.get(), 0u);
}

// ---- stray and forged responses ----

TEST_F(EngineTest, DuplicateFinalResponseIsStray) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::string ok = ok_with_contact(r, 3600);
  deliver(ok);
  deliver(ok);
  EXPECT_EQ(rc().accepted.get(), 1u);
  EXPECT_EQ(rc().stray.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST_F(EngineTest, ForgedResponsesAreCountedAndIgnored) {
  start(kOneEndpoint);
  const Sent r = first_request();
  const std::string ok = respond(r, 200, "OK");
  // Wrong MAC: last hex digit of the branch changed.
  std::string bad_mac_branch = r.branch;
  bad_mac_branch.back() = bad_mac_branch.back() == '0' ? '1' : '0';
  deliver(replace_once(ok, r.branch, bad_mac_branch));
  // CSeq number differs from the one the branch was made for.
  deliver(replace_once(ok, "CSeq: " + r.cseq_value, "CSeq: 7 REGISTER"));
  // CSeq method is not REGISTER.
  deliver(replace_once(ok, "CSeq: " + r.cseq_value, "CSeq: 1 INVITE"));
  // Call-ID of someone else.
  deliver(replace_once(ok, "Call-ID: " + r.call_id, "Call-ID: not-ours@example"));
  // A branch that is not in our format.
  deliver(replace_once(ok, r.branch, "z9hG4bK-something-else"));
  // No Via at all.
  deliver(replace_once(ok, "Via: ", "X-Via: "));
  EXPECT_EQ(wc().forged.get(), 6u);
  // Another worker's branch (worker id 01): misrouted, not ours to judge.
  std::string other = r.branch;
  other.replace(std::string_view("z9hG4bKrf").size(), 2, "01");
  deliver(replace_once(ok, r.branch, other));
  EXPECT_EQ(wc().misrouted.get(), 1u);
  // A request is not a response.
  deliver("OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"
          "From: <sip:a@b>;tag=1\r\nTo: <sip:1001@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
          "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(wc().requests_ignored.get(), 1u);
  deliver("garbage");
  EXPECT_EQ(wc().parse_errors.get(), 1u);
  // None of it touched the binding.
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
  EXPECT_EQ(rc().accepted.get(), 0u);
  EXPECT_EQ(rc().stray.get(), 0u);
  deliver(ok);
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

// ---- pacing ----

TEST_F(EngineTest, PacingKeepsEachRegistrarUnderItsRate) {
  std::string cfg;
  for (int i = 0; i < 100; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example\n registrar 2 dns:reg-b.example\n registration rate 10\n";
  start(cfg);
  std::vector<std::uint64_t> starts[2];
  std::uint64_t refreshes[2] = {};
  for (int ms = 0; ms < 15000; ++ms) {
    for (const Timed& t : run(1)) {
      ASSERT_TRUE(t.req.registrar == 0 || t.req.registrar == 1);
      if (t.req.cseq == 1) starts[t.req.registrar].push_back(t.at);
      else ++refreshes[t.req.registrar];  // a binding whose phase comes up within the 15 s
      deliver(respond(t.req, 200, "OK"));
    }
  }
  for (int ri = 0; ri < 2; ++ri) {
    SCOPED_TRACE(ri);
    ASSERT_EQ(starts[ri].size(), 100u);  // all started eventually
    EXPECT_EQ(rc(ri).accepted.get(), 100u + refreshes[ri]);
    // One worker, rate 10/s, bucket depth max(1, 10/50) = 1 token: any half-open 1 s window
    // holds at most 1 + 9.99 tokens, i.e. at most 10 starts.
    std::size_t worst = 0;
    for (std::size_t i = 0; i < starts[ri].size(); ++i) {
      std::size_t j = i;
      while (j < starts[ri].size() && starts[ri][j] < starts[ri][i] + 1000) ++j;
      worst = std::max(worst, j - i);
    }
    EXPECT_LE(worst, 10u);
    EXPECT_EQ(worst, 10u);  // and the rate is used
    // 100 starts at 10/s: the last within ~10 s of the first.
    EXPECT_LE(starts[ri].back() - starts[ri].front(), 10000u);
  }
}

// ---- shutdown ----

TEST_F(EngineTest, ShutdownUnregistersAndAnswersChallenges) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
 authentication username alice password 0 secret realm reg-a.example
dial-peer voice 2 pots
 destination-pattern 1002
sip-ua
 registrar 1 dns:reg-a.example expires 3600
 registrar 2 dns:reg-b.example expires 3600
)");
  // 1001@reg-a and 1002@reg-a get registered; 1001@reg-b and 1002@reg-b get 403 (backoff, not
  // registered: nothing to remove).
  for (const Timed& t : run(1)) {
    if (t.req.registrar == 0) deliver(ok_with_contact(t.req, 3600));
    else deliver(respond(t.req, 403, "Forbidden"));
  }
  EXPECT_EQ(engine_->registered_count(now_), 2u);
  engine_->begin_shutdown(pin(), now_);
  EXPECT_FALSE(engine_->shutdown_done());
  const auto sent = run(1);
  ASSERT_EQ(sent.size(), 2u);
  for (const Timed& t : sent) {
    EXPECT_EQ(t.req.registrar, 0);
    EXPECT_EQ(t.req.expires, "0");
    EXPECT_EQ(t.req.contact, "<sip:" + t.req.number + "@127.0.0.1:5060>");
  }
  // The registrar challenges one unregistration: it is answered, still with Expires: 0.
  const Sent& first = sent[0].req;
  auto out = deliver(respond(first, 401, "Unauthorized",
                             "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"bye\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].expires, "0");
  EXPECT_FALSE(out[0].authorization.empty());
  deliver(respond(out[0], 200, "OK"));
  EXPECT_FALSE(engine_->shutdown_done());
  deliver(respond(sent[1].req, 200, "OK"));
  EXPECT_TRUE(engine_->shutdown_done());
  EXPECT_EQ(rc(0).unregistered.get(), 2u);
  EXPECT_EQ(engine_->registered_count(now_), 0u);
  EXPECT_EQ(status_of("1001").state, BindingState::unregistered);
  // Nothing more is sent: no refresh, no retry.
  EXPECT_TRUE(run(200000).empty());
}

// ---- adopt ----


TEST_F(EngineTest, AdoptLeavesUnchangedBindingsAlone) {
  const std::string two = "dial-peer voice 1 pots\n destination-pattern 1001\n"
                          "dial-peer voice 2 pots\n destination-pattern 1002\n"
                          "sip-ua\n registrar 1 dns:reg-a.example\n";
  start(two);
  for (const Timed& t : run(1)) deliver(ok_with_contact(t.req, 3600));
  EXPECT_EQ(engine_->registered_count(now_), 2u);
  // Same configuration rebuilt: nothing is sent.
  rebuild(two);
  EXPECT_TRUE(run(1000).empty());
  // One endpoint added, one registrar's expiry changed: only the new binding registers.
  rebuild("dial-peer voice 1 pots\n destination-pattern 1001\n"
          "dial-peer voice 2 pots\n destination-pattern 1002\n"
          "dial-peer voice 3 pots\n destination-pattern 1003\n"
          "sip-ua\n registrar 1 dns:reg-a.example expires 1800\n");
  const auto sent = run(400);  // less than T1: no retransmission yet
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].req.number, "1003");
  EXPECT_EQ(sent[0].req.expires, "1800");
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(status_of("1002").state, BindingState::registered);
}

// ---- refresh spread: bindings registered together do not refresh together ----

// A few bindings started together are not a storm (the pacing queue never holds half a second
// of the rate): their first refreshes come from half the granted time to the refresh point,
// nothing sooner.
TEST_F(EngineTest, FirstRefreshesOfAFewBindingsFromHalfTheGrantedTime) {
  constexpr int kBindings = 200;  // rate 500: a queue of up to 0.4 s
  std::string cfg;
  for (int i = 0; i < kBindings; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(100000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example expires 100\n registration rate 500\n";
  start(cfg);
  std::map<std::string, std::uint64_t> registered_at;
  std::uint64_t lo = ~0ull, hi = 0;
  int refreshes = 0;
  for (int ms = 0; ms < 81000; ++ms) {
    for (const Timed& t : run(1)) {
      if (t.req.cseq == 1) {
        registered_at[t.req.call_id] = now_;
      } else {
        const std::uint64_t d = t.at - registered_at.at(t.req.call_id);
        EXPECT_GE(d, 50000u);
        EXPECT_LE(d, 80000u);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
        ++refreshes;
      }
      deliver(ok_with_contact(t.req, 100));
    }
  }
  EXPECT_EQ(registered_at.size(), static_cast<std::size_t>(kBindings));
  EXPECT_EQ(refreshes, kBindings);
  std::printf("[ measure ] first refreshes of %d bindings started together: %.1f-%.1f s after\n", kBindings,
              static_cast<double>(lo) / 1000, static_cast<double>(hi) / 1000);
}

// 10k bindings out of a storm (rate 5,000: 2 s of backlog): their first refreshes cover the
// whole refresh period (1 s to 80 % of the granted time) evenly, none after the refresh point.
TEST_F(EngineTest, FirstRefreshesOfAStormFillTheRefreshPeriod) {
  constexpr int kBindings = 10000;
  std::string cfg;
  for (int i = 0; i < kBindings; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(100000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example expires 100\n registration rate 5000\n";
  capacity_ = kBindings;
  start(cfg);
  std::map<std::string, std::uint64_t> registered_at, refresh_after;
  for (int ms = 0; ms < 83000 && refresh_after.size() < kBindings; ++ms) {
    for (const Timed& t : run(1)) {
      if (t.req.cseq == 1) {
        deliver(ok_with_contact(t.req, 100));
        registered_at[t.req.call_id] = now_;
      } else if (!refresh_after.count(t.req.call_id)) {
        ASSERT_TRUE(registered_at.count(t.req.call_id)) << t.at << " " << t.req.text;
        refresh_after[t.req.call_id] = t.at - registered_at.at(t.req.call_id);
      }
    }
  }
  ASSERT_EQ(registered_at.size(), static_cast<std::size_t>(kBindings));
  ASSERT_EQ(refresh_after.size(), static_cast<std::size_t>(kBindings));
  std::uint64_t first_reg = ~0ull, last_reg = 0;
  for (const auto& [id, t] : registered_at) first_reg = std::min(first_reg, t), last_reg = std::max(last_reg, t);
  EXPECT_LE(last_reg - first_reg, 2100u);  // registered within 2 s, at the rate
  int bins[10] = {};
  std::uint64_t lo = ~0ull, hi = 0;
  for (const auto& [id, d] : refresh_after) {
    EXPECT_GE(d, 1000u);
    EXPECT_LE(d, 80000u);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    if (d <= 80000) ++bins[std::min<std::uint64_t>(9, d / 8000)];
  }
  EXPECT_LT(lo, 2000u);
  EXPECT_GT(hi, 79000u);
  // Even: 1,000 per 8 s bin (random phases would give σ ≈ 30); the old window from half the
  // granted time left the first five bins empty.
  for (int i = 0; i < 10; ++i) {
    EXPECT_GT(bins[i], 900) << "bin " << i;
    EXPECT_LT(bins[i], 1100) << "bin " << i;
  }
  std::printf("[ measure ] first refreshes of %d bindings registered within %llu ms: %.1f–%.1f s after, "
              "per 8 s: %d %d %d %d %d %d %d %d %d %d\n",
              kBindings, static_cast<unsigned long long>(last_reg - first_reg), static_cast<double>(lo) / 1000,
              static_cast<double>(hi) / 1000, bins[0], bins[1], bins[2], bins[3], bins[4], bins[5], bins[6], bins[7],
              bins[8], bins[9]);
}

// A storm of 3 x 3,000 bindings at expires 60 (refresh point 48 s), paced at 1,000/s per
// registrar, and 240 s of refreshes answered at once by a registrar that grants 60 s. From the
// second refresh cycle on, every second of every registrar carries the same share of the
// refreshes (N / 48 s = 62.5), within 30 %; no binding ever goes unregistered, none refreshes
// later than 48 s after its last 2xx, and none more than once sooner than 90 % of that.
TEST_F(EngineTest, SteadyRefreshAfterAStormIsFlatFromTheSecondCycle) {
  constexpr int kEndpoints = 3000;
  constexpr int kRegistrars = 3;
  constexpr int kBindings = kEndpoints * kRegistrars;
  constexpr std::uint64_t kAt = 48000;      // 80 % of 60 s
  constexpr std::uint64_t kRun = 240000;    // five refresh periods
  constexpr std::uint64_t kSteady = 60000;  // the storm (9 s) and the first refreshes (48 s) are over
  std::string cfg;
  for (int i = 0; i < kEndpoints; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(200000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example expires 60\n registrar 2 dns:reg-b.example expires 60\n"
         " registrar 3 dns:reg-c.example expires 60\n registration rate 1000\n";
  capacity_ = kBindings;
  start(cfg);
  struct Life {
    std::uint64_t accepted = 0;  // the last 2xx
    int refreshes = 0;
    int early = 0;  // refreshes sooner than 90 % of the refresh point after the 2xx before
  };
  std::map<std::string, Life> life;  // by Call-ID
  std::vector<std::array<int, kRegistrars>> per_second(kRun / 1000 + 1, std::array<int, kRegistrars>{});
  std::uint64_t storm_end = 0, latest = 0, unregistered_seconds = 0;
  const std::uint64_t t0 = now_;
  while (now_ - t0 < kRun) {
    for (const Timed& t : run(1)) {
      ASSERT_GE(t.req.registrar, 0);
      ASSERT_LT(t.req.registrar, kRegistrars);
      Life& l = life[t.req.call_id];
      if (t.req.cseq == 1) {
        storm_end = std::max(storm_end, t.at - t0);
      } else {
        const std::uint64_t after = t.at - l.accepted;
        ASSERT_NE(l.accepted, 0u) << t.req.text;
        latest = std::max(latest, after);
        ++l.refreshes;
        if (after < kAt - kAt / 10) ++l.early;
        ++per_second[(t.at - t0) / 1000][t.req.registrar];
      }
      deliver(ok_with_contact(t.req, 60));
      l.accepted = now_;
    }
    if ((now_ - t0) % 1000 == 0 && now_ - t0 > storm_end + 1000 &&
        engine_->registered_count(now_) != static_cast<std::uint32_t>(kBindings)) {
      ++unregistered_seconds;
    }
  }
  ASSERT_EQ(life.size(), static_cast<std::size_t>(kBindings));
  EXPECT_LT(storm_end, 10000u);
  EXPECT_EQ(unregistered_seconds, 0u) << "a registration lapsed";
  EXPECT_LE(latest, kAt) << "a refresh later than the refresh point";
  int early_twice = 0, early_once = 0;
  for (const auto& [id, l] : life) {
    EXPECT_GE(l.refreshes, 4) << id;  // (240 s - 10 s) / 48 s, the first one early
    early_twice += l.early > 1;
    early_once += l.early == 1;
  }
  EXPECT_EQ(early_twice, 0) << "bindings that refreshed early more than once";
  // Per registrar and second from the second cycle on: counts within 30 % of their mean.
  for (int r = 0; r < kRegistrars; ++r) {
    int lo = 1 << 30, hi = 0;
    std::uint64_t sum = 0, seconds = 0;
    for (std::uint64_t sec = kSteady / 1000; sec < kRun / 1000; ++sec) {
      const int n = per_second[sec][r];
      lo = std::min(lo, n);
      hi = std::max(hi, n);
      sum += n;
      ++seconds;
    }
    const double mean = static_cast<double>(sum) / static_cast<double>(seconds);
    EXPECT_NEAR(mean, kEndpoints / 48.0, kEndpoints / 48.0 * 0.02) << "registrar " << r;
    EXPECT_LE(hi, 1.3 * mean) << "registrar " << r;
    EXPECT_GE(lo, 0.7 * mean) << "registrar " << r;
    std::printf("[ measure ] registrar %d, seconds %llu-%llu: refreshes per second mean %.1f, min %d, max %d "
                "(max/mean %.2f)\n",
                r + 1, static_cast<unsigned long long>(kSteady / 1000), static_cast<unsigned long long>(kRun / 1000),
                mean, lo, hi, hi / mean);
  }
  std::printf("[ measure ] %d bindings, storm over in %.1f s: %d refreshed early once, %d more than once; latest "
              "refresh %.3f s after its 2xx\n",
              kBindings, static_cast<double>(storm_end) / 1000, early_once, early_twice,
              static_cast<double>(latest) / 1000);
}

// ---- recovery of a registrar ----

// The registrar is down long enough that bindings back off for up to 128 s; its first answer
// pulls them all forward through the pacer: back within about N / rate, never above the rate.
TEST_F(EngineTest, RecoveryPullsBackedOffBindingsForwardAtTheRate) {
  constexpr int kBindings = 100;
  constexpr int kRate = 10;
  std::string cfg;
  for (int i = 0; i < kBindings; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example\n registration rate " + std::to_string(kRate) + "\n";
  start(cfg);
  std::map<std::string, std::uint32_t> last_cseq;  // per Call-ID: a new CSeq is a new transaction
  std::vector<std::uint64_t> starts;
  const auto note = [&](const Timed& t) {
    auto [it, fresh] = last_cseq.try_emplace(t.req.call_id, t.req.cseq);
    if (fresh || it->second != t.req.cseq) starts.push_back(t.at);
    it->second = t.req.cseq;
  };
  // Five minutes of silence.
  for (const Timed& t : run(300000)) note(t);
  EXPECT_GT(rc().timed_out.get(), 2u * kBindings);
  EXPECT_EQ(rc().accepted.get(), 0u);
  // The registrar answers again: the next request it sees gets a 200, and so does every later one.
  auto got = run_until_sent(200000);
  ASSERT_FALSE(got.empty());
  const std::uint64_t t0 = now_;
  for (const Timed& t : got) {
    note(t);
    deliver(ok_with_contact(t.req, 3600));
  }
  const std::size_t before = starts.size();
  std::uint64_t all_back = 0;
  for (int ms = 0; ms < 60000 && all_back == 0; ++ms) {
    for (const Timed& t : run(1)) {
      note(t);
      deliver(ok_with_contact(t.req, 3600));
    }
    if (engine_->registered_count(now_) == kBindings) all_back = now_;
  }
  ASSERT_NE(all_back, 0u) << engine_->registered_count(now_) << " registered after 60 s";
  // The others were in a transaction when it came back (retransmissions share the rate, so a
  // transaction to a silent registrar lasts up to Timer F) and were answered in it.
  EXPECT_GT(rc().pulled_forward.get(), kBindings / 4u);
  // N / rate = 10 s, and the bucket's first token.
  EXPECT_LE(all_back - t0, 1000u * kBindings / kRate + 1000);
  std::size_t worst = 0;
  for (std::size_t i = before; i < starts.size(); ++i) {
    std::size_t j = i;
    while (j < starts.size() && starts[j] < starts[i] + 1000) ++j;
    worst = std::max(worst, j - i);
  }
  EXPECT_LE(worst, static_cast<std::size_t>(kRate));
  std::printf("[ measure ] %d bindings back %.1f s after the registrar's first answer (rate %d/s), "
              "%llu pulled forward, at most %zu starts in 1 s\n",
              kBindings, static_cast<double>(all_back - t0) / 1000, kRate,
              static_cast<unsigned long long>(rc().pulled_forward.get()), worst);
}

// ---- every REGISTER within the registrar's budget ----

// The most requests in any half-open 1-s window of `at` (sorted).
std::size_t worst_second(const std::vector<std::uint64_t>& at) {
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < at.size(); ++i) {
    while (j < at.size() && at[j] < at[i] + 1000) ++j;
    worst = std::max(worst, j - i);
  }
  return worst;
}

std::string paced_bindings(int count, int rate, std::string_view extra = {}) {
  std::string cfg;
  for (int i = 0; i < count; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example\n registration rate " + std::to_string(rate) + "\n";
  cfg += std::string(extra);
  return cfg;
}

// A silent registrar: retransmissions (Timer E) take tokens from the same bucket as new
// transactions, so it never sees more than its rate (one worker, rate 10/s: a bucket of one
// token, and retransmissions never borrow); those that find none wait for one, and Timer F
// still ends every transaction 64·T1 after its request was first sent.
TEST_F(EngineTest, RetransmissionsDuringAnOutageArePacedWithNewTransactions) {
  constexpr int kBindings = 100;
  constexpr int kRate = 10;
  start(paced_bindings(kBindings, kRate));
  std::vector<std::uint64_t> at;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> life;  // Call-ID+CSeq: first, last
  for (const Timed& t : run(120000)) {
    at.push_back(t.at);
    auto [it, fresh] = life.try_emplace(t.req.call_id + "/" + std::to_string(t.req.cseq), t.at, t.at);
    it->second.second = t.at;
  }
  EXPECT_GT(rc().retransmitted.get(), 0u);
  EXPECT_GT(rc().retransmit_deferred.get(), 0u);  // counted, and sent later: not dropped
  EXPECT_GT(rc().timed_out.get(), 0u);
  EXPECT_EQ(rc().timed_out.get() + engine_->inflight(), rc().sent.get());
  for (const auto& [key, span] : life) EXPECT_LT(span.second - span.first, 32000u) << key;
  const std::size_t worst = worst_second(at);
  std::printf("[ measure ] silent registrar, %d bindings at rate %d/s: %zu REGISTERs in 120 s, at most %zu in 1 s\n",
              kBindings, kRate, at.size(), worst);
  EXPECT_LE(worst, static_cast<std::size_t>(kRate) + 1);
}

// A registrar back after an outage, challenging every request without credentials with a fresh
// nonce: new transactions, their authenticated retries and the retransmissions still in flight
// all come out of one bucket; an authenticated retry may borrow (one token at this rate) so the
// 401 is answered at once.
TEST_F(EngineTest, RestartedRegistrarSeesAtMostItsRatePlusTheAllowance) {
  constexpr int kBindings = 100;
  constexpr int kRate = 10;
  start(paced_bindings(kBindings, kRate, " authentication username trunk password 0 pw realm reg-a.example\n"));
  run(60000);  // the outage
  std::vector<std::uint64_t> at;
  std::vector<std::uint64_t> answer_delay;  // 401 -> its authenticated REGISTER
  std::map<std::string, std::uint64_t> challenged_at;
  int nonce = 0;
  const std::uint64_t t0 = now_;
  for (int ms = 0; ms < 40000 && engine_->registered_count(now_) < kBindings; ++ms) {
    for (const Timed& t : run(1)) {
      at.push_back(t.at);
      if (t.req.authorization.empty()) {
        challenged_at[t.req.call_id] = t.at;
        const std::string ch = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n" +
                               std::to_string(++nonce) + "\"\r\n";
        for (const Sent& a : deliver(respond(t.req, 401, "Unauthorized", ch))) {
          at.push_back(now_);
          answer_delay.push_back(0);
          deliver(ok_with_contact(a, 3600));
        }
      } else {
        answer_delay.push_back(t.at - challenged_at[t.req.call_id]);
        deliver(ok_with_contact(t.req, 3600));
      }
    }
  }
  ASSERT_EQ(engine_->registered_count(now_), static_cast<std::uint32_t>(kBindings));
  std::sort(at.begin(), at.end());
  std::sort(answer_delay.begin(), answer_delay.end());
  const std::size_t worst = worst_second(at);
  std::printf("[ measure ] registrar back after 60 s: %d bindings in %.1f s, at most %zu REGISTERs in 1 s "
              "(rate %d/s), 401 answered after %llu ms at worst\n",
              kBindings, static_cast<double>(now_ - t0) / 1000, worst, kRate,
              static_cast<unsigned long long>(answer_delay.back()));
  // The rate, the bucket's depth (1) and what authenticated retries may borrow (1).
  EXPECT_LE(worst, static_cast<std::size_t>(kRate) + 2);
  // Answered at once, or after one token's time when the allowance is spent (counted).
  EXPECT_LE(answer_delay.back(), 1000u / kRate);
  std::printf("[ measure ] %llu retries deferred, %llu retransmissions deferred\n",
              static_cast<unsigned long long>(rc().retry_deferred.get()),
              static_cast<unsigned long long>(rc().retransmit_deferred.get()));
}

// Two 401s at once with the bucket empty: the first retry borrows the allowance (one token at
// 10/s) and goes at once, the second waits for its token (counted), and goes before any new
// transaction starts.
TEST_F(EngineTest, RetryBeyondTheAllowanceWaitsForItsTokenAheadOfNewStarts) {
  start(paced_bindings(3, 10, " authentication username trunk password 0 pw realm reg-a.example\n"));
  std::vector<Timed> starts;
  while (starts.size() < 2) {
    for (Timed& t : run(1)) starts.push_back(std::move(t));
  }
  const auto challenge = [](const Sent& r, int n) {
    return respond(r, 401, "Unauthorized",
                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"b" + std::to_string(n) + "\"\r\n");
  };
  EXPECT_EQ(deliver(challenge(starts[0].req, 1)).size(), 1u);  // borrowed
  EXPECT_TRUE(deliver(challenge(starts[1].req, 2)).empty());   // deferred
  EXPECT_EQ(rc().retry_deferred.get(), 1u);
  const std::uint64_t t0 = now_;
  const auto later = run_until_sent(1000);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].req.call_id, starts[1].req.call_id);
  EXPECT_FALSE(later[0].req.authorization.empty());
  EXPECT_LE(later[0].at - t0, 101u);  // one token's time
  // The third binding's start pays back what was borrowed first.
  const auto third = run_until_sent(1000);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_TRUE(third[0].req.authorization.empty());
  EXPECT_GE(third[0].at - later[0].at, 190u);
}

// Bindings backing off for reasons the registrar gave (403, Retry-After) wait for their timer.
TEST_F(EngineTest, RecoveryDoesNotPullBindingsTheRegistrarRefused) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
dial-peer voice 2 pots
 destination-pattern 1002
sip-ua
 registrar 1 dns:reg-a.example expires 3600
)");
  auto first = run(1);
  ASSERT_EQ(first.size(), 2u);
  deliver(respond(first[0].req, 503, "Service Unavailable", "Retry-After: 300\r\n"));
  const std::string other = first[1].req.number;
  const auto timed_out = run(20000);  // the other one times out: the registrar is "down"
  EXPECT_EQ(rc().timed_out.get(), 1u);
  EXPECT_EQ(status_of(other).state, BindingState::backoff);
  // Its retry comes; answered 200: the registrar is back. The 503'd binding keeps waiting.
  const auto retry = run_until_sent(5000);
  ASSERT_EQ(retry.size(), 1u);
  deliver(ok_with_contact(retry[0].req, 3600));
  EXPECT_TRUE(run(10000).empty());
  EXPECT_EQ(rc().pulled_forward.get(), 0u);
  EXPECT_EQ(status_of(first[0].req.number).state, BindingState::backoff);
}

// ---- preemptive credentials on refresh ----

// A qop=auth challenge of reg-a.example; `extra` (e.g. ", stale=true") follows the nonce.
std::string qop_challenge(std::string_view nonce, std::string_view extra = {}) {
  return "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"" + std::string(nonce) + "\"" +
         std::string(extra) + ", qop=\"auth\", opaque=\"op-7\"\r\n";
}

TEST_F(EngineTest, RefreshAnswersTheCachedNoncePreemptively) {
  start("dial-peer voice 1 pots\n destination-pattern 1001\n"
        " authentication username alice password 0 secret realm reg-a.example\n"
        "sip-ua\n registrar 1 dns:reg-a.example expires 120\n");
  const Sent first = register_challenged(qop_challenge("pn-1"));
  const auto p1 = digest_params(first.authorization);
  EXPECT_EQ(p1.at("nc"), "00000001");
  std::uint32_t cseq = first.cseq;
  for (const char* nc : {"00000002", "00000003"}) {
    SCOPED_TRACE(nc);
    const auto sent = run_until_sent(100000);
    ASSERT_EQ(sent.size(), 1u);
    const Sent& r = sent[0].req;
    EXPECT_EQ(r.cseq, cseq + 1);
    EXPECT_FALSE(r.proxy_auth);
    const auto p = digest_params(r.authorization);
    ASSERT_FALSE(p.empty()) << r.text;
    EXPECT_EQ(p.at("username"), "alice");
    EXPECT_EQ(p.at("realm"), "reg-a.example");
    EXPECT_EQ(p.at("nonce"), "pn-1");
    EXPECT_EQ(p.at("nc"), nc);
    EXPECT_EQ(p.at("qop"), "auth");
    EXPECT_EQ(p.at("opaque"), "op-7");
    EXPECT_NE(p.at("cnonce"), p1.at("cnonce"));
    EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "pn-1", p));
    EXPECT_TRUE(deliver(ok_with_contact(r, 120)).empty());  // 2 datagrams, not 4
    EXPECT_EQ(status_of("1001").state, BindingState::registered);
    cseq = r.cseq;
  }
  EXPECT_EQ(rc().challenged.get(), 1u);
  EXPECT_EQ(rc().preemptive.get(), 2u);
  EXPECT_EQ(rc().preemptive_challenged.get(), 0u);
  EXPECT_EQ(rc().accepted.get(), 3u);
}

TEST_F(EngineTest, UnregistrationAnswersTheCachedNoncePreemptively) {
  start("dial-peer voice 1 pots\n destination-pattern 1001\n"
        " authentication username alice password 0 secret realm reg-a.example\n"
        "sip-ua\n registrar 1 dns:reg-a.example expires 120\n");
  const Sent first = register_challenged(qop_challenge("pn-1"));
  engine_->begin_shutdown(pin(), now_);
  const auto sent = run(1);
  ASSERT_EQ(sent.size(), 1u);
  const Sent& r = sent[0].req;
  EXPECT_EQ(r.expires, "0");
  EXPECT_EQ(r.cseq, first.cseq + 1);
  const auto p = digest_params(r.authorization);
  ASSERT_FALSE(p.empty()) << r.text;
  EXPECT_EQ(p.at("nonce"), "pn-1");
  EXPECT_EQ(p.at("nc"), "00000002");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "pn-1", p));
  EXPECT_TRUE(deliver(respond(r, 200, "OK")).empty());  // 2 datagrams, not 4
  EXPECT_TRUE(engine_->shutdown_done());
  EXPECT_EQ(rc().unregistered.get(), 1u);
  EXPECT_EQ(rc().challenged.get(), 1u);
  EXPECT_EQ(rc().preemptive.get(), 1u);
}

TEST_F(EngineTest, PreemptiveRefreshChallengedIsAnsweredOnceAndTheCacheFollows) {
  start(kOneEndpoint);
  register_challenged(qop_challenge("pn-1"));
  // The refresh answers pn-1; the registrar expired it (stale): answered with pn-2.
  auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(digest_params(sent[0].req.authorization).at("nonce"), "pn-1");
  auto out = deliver(respond(sent[0].req, 401, "Unauthorized", qop_challenge("pn-2", ", stale=true")));
  ASSERT_EQ(out.size(), 1u);
  auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("nonce"), "pn-2");
  EXPECT_EQ(p.at("nc"), "00000001");
  deliver(ok_with_contact(out[0], 120));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  // Next refresh: pn-2, second use. Challenged again with that very nonce (not stale): the
  // guess is not proof of bad credentials, so it is answered once more.
  sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  p = digest_params(sent[0].req.authorization);
  EXPECT_EQ(p.at("nonce"), "pn-2");
  EXPECT_EQ(p.at("nc"), "00000002");
  out = deliver(respond(sent[0].req, 401, "Unauthorized", qop_challenge("pn-2")));
  ASSERT_EQ(out.size(), 1u);
  p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("nonce"), "pn-2");
  EXPECT_EQ(p.at("nc"), "00000003");
  // A third challenge of it is a refusal of the credentials.
  EXPECT_TRUE(deliver(respond(out[0], 401, "Unauthorized", qop_challenge("pn-2"))).empty());
  EXPECT_EQ(rc().auth_failed.get(), 1u);
  EXPECT_EQ(rc().preemptive.get(), 2u);
  EXPECT_EQ(rc().preemptive_challenged.get(), 2u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
}

// One-time nonces: every preemptive refresh is challenged at the nonce's first reuse; after
// three such nonces the registrar gets plain refreshes (for the hold-off time).
TEST_F(EngineTest, OneTimeNoncesStopPreemptiveRefreshes) {
  start(kOneEndpoint);
  int nonce = 0;
  const auto next = [&] { return "ot-" + std::to_string(++nonce); };
  auto out = deliver(respond(first_request(), 401, "Unauthorized", qop_challenge(next())));
  ASSERT_EQ(out.size(), 1u);
  deliver(ok_with_contact(out[0], 120));
  std::vector<bool> with_auth;
  for (int refresh = 0; refresh < 6; ++refresh) {
    const auto sent = run_until_sent(100000);
    ASSERT_EQ(sent.size(), 1u);
    with_auth.push_back(!sent[0].req.authorization.empty());
    out = deliver(respond(sent[0].req, 401, "Unauthorized", qop_challenge(next())));
    ASSERT_EQ(out.size(), 1u);
    deliver(ok_with_contact(out[0], 120));
    ASSERT_EQ(status_of("1001").state, BindingState::registered);
  }
  // Six refreshes take < 600 s: the hold-off (10 min) covers the last three.
  EXPECT_EQ(with_auth, (std::vector<bool>{true, true, true, false, false, false}));
  EXPECT_EQ(rc().preemptive.get(), 3u);
  EXPECT_EQ(rc().preemptive_challenged.get(), 3u);
  EXPECT_EQ(rc().auth_failed.get(), 0u);
}

// F7: the cached nonce's realm is used only by bindings whose own realm it is.
TEST_F(EngineTest, PreemptiveCredentialsOnlyForTheBindingsRealm) {
  start(R"(
sip-ua
 credentials number 1001 username alice password 0 secret realm reg-a.example
 credentials number 1002 username bob password 0 builder realm other.example
 registrar 1 dns:reg-a.example expires 120
)");
  auto first = run(1);
  ASSERT_EQ(first.size(), 2u);
  std::sort(first.begin(), first.end(), [](const Timed& a, const Timed& b) { return a.req.number > b.req.number; });
  // 1002 in other.example first, then 1001 in reg-a.example: the cache holds reg-a's nonce.
  auto out = deliver(respond(first[0].req, 401, "Unauthorized",
                             "WWW-Authenticate: Digest realm=\"other.example\", nonce=\"o-1\", qop=auth\r\n"));
  ASSERT_EQ(out.size(), 1u);
  deliver(ok_with_contact(out[0], 120));
  out = deliver(respond(first[1].req, 401, "Unauthorized", qop_challenge("a-1")));
  ASSERT_EQ(out.size(), 1u);
  deliver(ok_with_contact(out[0], 120));
  std::map<std::string, std::string> auth_of;
  for (int ms = 0; ms < 100000 && auth_of.size() < 2; ++ms) {
    for (const Timed& t : run(1)) auth_of[t.req.number] = t.req.authorization;
  }
  ASSERT_EQ(auth_of.size(), 2u);
  EXPECT_TRUE(auth_of["1002"].empty()) << auth_of["1002"];
  const auto p = digest_params(auth_of["1001"]);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("realm"), "reg-a.example");
  EXPECT_EQ(p.at("nonce"), "a-1");
  EXPECT_EQ(rc().preemptive.get(), 1u);
}

// A registrar refusing the reused nonce outright (403) instead of challenging it: the retry,
// while the registration still holds, goes without credentials and is challenged as usual.
TEST_F(EngineTest, PreemptiveRefreshRefusedIsRetriedWithoutTheCachedNonce) {
  start(kOneEndpoint);
  register_challenged(qop_challenge("pn-1"));
  auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_FALSE(sent[0].req.authorization.empty());
  EXPECT_TRUE(deliver(respond(sent[0].req, 403, "Forbidden")).empty());
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  EXPECT_GT(status_of("1001").seconds_left, 0);
  const std::uint64_t t0 = now_;
  sent = run_until_sent(5000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_LE(sent[0].at - t0, 4000u);
  EXPECT_TRUE(sent[0].req.authorization.empty());
  auto out = deliver(respond(sent[0].req, 401, "Unauthorized", qop_challenge("pn-2")));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(digest_params(out[0].authorization).at("nonce"), "pn-2");
  deliver(ok_with_contact(out[0], 120));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(rc().preemptive.get(), 1u);
  EXPECT_EQ(rc().preemptive_challenged.get(), 1u);
}

TEST_F(EngineTest, PreemptiveCredentialsCanBeSwitchedOff) {
  EngineOptions o;
  o.preemptive_auth = false;
  start(kOneEndpoint, o);
  register_challenged(qop_challenge("pn-1"));
  const auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].req.authorization.empty());
  EXPECT_EQ(rc().preemptive.get(), 0u);
}

}  // namespace
}  // namespace regfront::reg

// ---- live changes: adopt of rebuilt snapshots (leaving bindings, changed expiry/credentials) ----

namespace regfront::reg {
namespace {

class LiveEngineTest : public EngineTest {
 protected:
  // Rebuilds from `config` the way the daemon does: with the snapshot the engine runs as
  // `previous` and the current time, then adopts it.
  void live(std::string_view config) {
    snaps_.push_back(
        builder_.build(load_config(config), loopback_addresses(), 5060, learned_realms_, snaps_.back().get(), now_, sha_realms_));
    engine_->adopt(pin(), now_);
  }
  // Answers every request in `sent` with 200 OK granting `granted` (0: Expires: 0 requests get
  // a plain 200).
  void accept_all(const std::vector<Timed>& sent, std::uint32_t granted) {
    for (const Timed& t : sent) {
      if (t.req.expires == "0") deliver(respond(t.req, 200, "OK"));
      else deliver(ok_with_contact(t.req, granted));
    }
  }
  bool has_binding(std::string_view number, int registrar) {
    BindingStatus rows[256];
    std::uint32_t next = 0;
    const std::size_t n = engine_->status(pin(), 0, rows, 256, next, now_);
    for (std::size_t i = 0; i < n; ++i) {
      if (snap()->number(snap()->endpoints[rows[i].endpoint]) == number && rows[i].registrar == registrar) return true;
    }
    return false;
  }
};

std::string dial_peers(int first, int count, std::string_view extra_per_peer = {}) {
  std::string t;
  for (int i = 0; i < count; ++i) {
    t += "dial-peer voice " + std::to_string(first + i) + " pots\n destination-pattern " + std::to_string(first + i) + "\n";
    t += std::string(extra_per_peer);
  }
  return t;
}

constexpr std::string_view kLiveTwo = R"(
sip-ua
 credentials number 1001 username alice password 0 secret realm reg-a.example
 credentials number 1002 username bob password 0 builder realm reg-a.example
 registrar 1 dns:reg-a.example expires 3600
)";
constexpr std::string_view kLiveOne = R"(
sip-ua
 credentials number 1002 username bob password 0 builder realm reg-a.example
 registrar 1 dns:reg-a.example expires 3600
)";

// A removed binding's Expires: 0 that goes unanswered, or meets a 5xx, is sent again (a new
// transaction of the same Call-ID, after the backoff) while the registration it removes is still
// held at the registrar; a refusal ends it for good.
TEST_F(LiveEngineTest, RemovedEndpointsUnregistrationIsRetriedAfterATimeoutOrA503NotAfterA403) {
  start(kLiveTwo);
  for (const Timed& t : run(1)) deliver(ok_with_contact(t.req, 3600));
  ASSERT_EQ(engine_->registered_count(now_), 2u);
  live(kLiveOne);  // 1001 removed
  const auto first = run(1);
  ASSERT_EQ(first.size(), 1u);
  const Sent u = first[0].req;
  ASSERT_EQ(u.expires, "0");
  // The next transaction of 1001 (another CSeq), waiting up to `ms`.
  auto next_after = [&](std::uint32_t cseq, int ms) -> std::optional<Sent> {
    for (int i = 0; i < ms / 100; ++i) {
      for (const Timed& t : run(100)) {
        if (t.req.number == "1001" && t.req.cseq != cseq) return t.req;
      }
    }
    return std::nullopt;
  };
  // Nobody answers: retransmissions, Timer F (32 s), the backoff, then the same request again.
  const auto again = next_after(u.cseq, 200000);
  ASSERT_TRUE(again) << "the unregistration is sent again after its timeout";
  EXPECT_EQ(again->expires, "0");
  EXPECT_EQ(again->call_id, u.call_id);
  EXPECT_GT(again->cseq, u.cseq);
  EXPECT_EQ(rc().unregister_retried.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::unregistering);
  // A 503: tried again.
  deliver(respond(*again, 503, "Service Unavailable"));
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
  const auto third = next_after(again->cseq, 200000);
  ASSERT_TRUE(third) << "the unregistration is sent again after a 503";
  EXPECT_EQ(third->expires, "0");
  EXPECT_EQ(rc().unregister_retried.get(), 2u);
  // A 403: the registrar refuses; not sent again.
  deliver(respond(*third, 403, "Forbidden"));
  EXPECT_EQ(status_of("1001").state, BindingState::unregistered);
  EXPECT_FALSE(next_after(third->cseq, 300000)) << "nothing after a refusal";
  EXPECT_EQ(rc().unregister_retried.get(), 2u);
  EXPECT_EQ(rc().unregistered.get(), 0u) << "counts 2xx only";
  EXPECT_EQ(status_of("1002").state, BindingState::registered);
}

TEST_F(LiveEngineTest, RemovedEndpointUnregistersWithSameCallIdAndAnswersChallenge) {
  start(kLiveTwo);
  std::map<std::string, Sent> reg;
  for (const Timed& t : run(1)) {
    reg[t.req.number] = t.req;
    deliver(ok_with_contact(t.req, 3600));
  }
  ASSERT_EQ(reg.size(), 2u);
  EXPECT_EQ(engine_->registered_count(now_), 2u);
  const std::uint64_t sent_before = rc().sent.get();

  live(kLiveOne);  // 1001 removed
  EXPECT_EQ(tx_.size(), 0u) << "adopt itself sends nothing: unregistrations are paced";
  const auto sent = run(1);
  ASSERT_EQ(sent.size(), 1u);
  const Sent& u = sent[0].req;
  EXPECT_EQ(u.number, "1001");
  EXPECT_EQ(u.registrar, 0);
  EXPECT_EQ(u.expires, "0");
  EXPECT_EQ(u.call_id, reg["1001"].call_id) << "RFC 3261 §10.2.2: the binding's Call-ID";
  EXPECT_EQ(u.contact, reg["1001"].contact);
  EXPECT_EQ(u.from, reg["1001"].from);
  EXPECT_GT(u.cseq, reg["1001"].cseq);
  EXPECT_TRUE(u.authorization.empty());
  EXPECT_EQ(rc().sent.get(), sent_before + 1);
  EXPECT_EQ(status_of("1001").state, BindingState::unregistering);
  // The registrar challenges it: answered with the ghost's (1001's) credentials, Expires: 0.
  const auto out = deliver(respond(u, 401, "Unauthorized",
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"bye-1\", qop=\"auth\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].expires, "0");
  EXPECT_EQ(out[0].call_id, u.call_id);
  EXPECT_EQ(out[0].cseq, u.cseq + 1);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("realm"), "reg-a.example");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "bye-1", p));
  deliver(respond(out[0], 200, "OK"));
  EXPECT_EQ(status_of("1001").state, BindingState::unregistered);
  EXPECT_EQ(rc().unregistered.get(), 1u);
  EXPECT_EQ(status_of("1002").state, BindingState::registered);
  EXPECT_EQ(engine_->registered_count(now_), 1u);
  // Nothing else: no refresh of 1001, nothing for 1002 before its own refresh (~2880 s).
  const auto later = run(120000);
  EXPECT_TRUE(later.empty()) << later.size() << " requests, first to " << later[0].req.number;
  // Once the builder's time for it is up, a rebuild releases the slot: the binding is gone.
  now_ = std::max(now_, builder_.next_expiry_ms());
  live(kLiveOne);
  EXPECT_FALSE(has_binding("1001", 0));
  EXPECT_TRUE(has_binding("1002", 0));
  EXPECT_TRUE(run(1000).empty());
}

TEST_F(LiveEngineTest, UnregistrationsArePaced) {
  const std::string all = dial_peers(3000, 30) + "sip-ua\n registrar 1 dns:reg-a.example\n registration rate 10\n";
  start(all);
  for (int ms = 0; ms < 5000; ++ms) accept_all(run(1), 3600);
  ASSERT_EQ(engine_->registered_count(now_), 30u);
  live("sip-ua\n registrar 1 dns:reg-a.example\n registration rate 10\n");  // every endpoint removed
  std::vector<std::uint64_t> at;
  const std::uint64_t t0 = now_;
  for (int ms = 0; ms < 6000; ++ms) {
    for (const Timed& t : run(1)) {
      EXPECT_EQ(t.req.expires, "0");
      at.push_back(t.at);
      deliver(respond(t.req, 200, "OK"));
    }
  }
  ASSERT_EQ(at.size(), 30u);
  std::size_t worst = 0;
  for (std::size_t i = 0; i < at.size(); ++i) {
    std::size_t j = i;
    while (j < at.size() && at[j] < at[i] + 1000) ++j;
    worst = std::max(worst, j - i);
  }
  std::printf("[ measure ] 30 unregistrations at rate 10/s: %llu ms from first to last, at most %zu in 1 s\n",
              static_cast<unsigned long long>(at.back() - at.front()), worst);
  EXPECT_LE(worst, 10u);
  EXPECT_GE(at.back() - t0, 1900u);
  EXPECT_EQ(rc().unregistered.get(), 30u);
  EXPECT_EQ(engine_->registered_count(now_), 0u);
}

TEST_F(LiveEngineTest, NeverRegisteredLeavingBindingSendsNothing) {
  start(R"(
sip-ua
 credentials number 1001 username alice password 0 secret realm reg-a.example
 credentials number 1002 username bob password 0 builder realm reg-a.example
 credentials number 1003 username carol password 0 c realm reg-a.example
 registrar 1 dns:reg-a.example expires 3600
 registration rate 1
)");
  // 1001 registers; the next one to start gets 403 (backoff, never registered); the third is
  // still queued behind the 1/s rate when all three are removed.
  const auto first = run(1);
  ASSERT_EQ(first.size(), 1u);
  deliver(ok_with_contact(first[0].req, 3600));
  const auto second = run_until_sent(1500);
  ASSERT_EQ(second.size(), 1u);
  deliver(respond(second[0].req, 403, "Forbidden"));
  const std::string rejected = second[0].req.number;
  int queued = 0;
  for (const char* n : {"1001", "1002", "1003"}) {
    if (status_of(n).state == BindingState::queued) ++queued;
  }
  ASSERT_EQ(queued, 1);
  EXPECT_EQ(status_of(rejected).state, BindingState::backoff);
  live("sip-ua\n registrar 1 dns:reg-a.example expires 3600\n registration rate 1\n");
  std::vector<Timed> sent;
  for (int ms = 0; ms < 60000; ++ms) {
    for (Timed& t : run(1)) {
      deliver(respond(t.req, 200, "OK"));
      sent.push_back(std::move(t));
    }
  }
  ASSERT_EQ(sent.size(), 1u) << "only the registered binding is unregistered";
  EXPECT_EQ(sent[0].req.number, first[0].req.number);
  EXPECT_EQ(sent[0].req.expires, "0");
  for (const char* n : {"1001", "1002", "1003"}) {
    if (n != first[0].req.number) {
      EXPECT_EQ(status_of(n).state, BindingState::unregistered) << n;
    }
  }
}

TEST_F(LiveEngineTest, UnchangedBindingsSendNothingOnAdopt) {
  const std::string base = dial_peers(1001, 3) + "sip-ua\n registrar 1 dns:reg-a.example expires 3600\n";
  start(base);
  accept_all(run(1), 3600);
  ASSERT_EQ(engine_->registered_count(now_), 3u);
  const std::uint64_t sent0 = rc(0).sent.get();
  // Same config again, a registrar added, an endpoint added, one removed: only what changed.
  live(base);
  EXPECT_TRUE(run(1000).empty());
  live(dial_peers(1001, 3) + "sip-ua\n registrar 1 dns:reg-a.example expires 3600\n registrar 2 dns:reg-b.example\n");
  auto sent = run(400);
  ASSERT_EQ(sent.size(), 3u);
  for (const Timed& t : sent) EXPECT_EQ(t.req.registrar, 1) << t.req.number;
  EXPECT_EQ(rc(0).sent.get(), sent0);
  accept_all(sent, 3600);
  live(dial_peers(1002, 3) + "sip-ua\n registrar 1 dns:reg-a.example expires 3600\n registrar 2 dns:reg-b.example\n");
  sent = run(400);
  std::multiset<std::string> got;
  for (const Timed& t : sent) got.insert(t.req.number + "@" + std::to_string(t.req.registrar) + " expires " + t.req.expires);
  EXPECT_EQ(got, (std::multiset<std::string>{"1001@0 expires 0", "1001@1 expires 0", "1004@0 expires 3600",
                                             "1004@1 expires 3600"}));
  accept_all(sent, 3600);
  EXPECT_TRUE(run(60000).empty());
  for (const char* n : {"1002", "1003", "1004"}) {
    EXPECT_EQ(status_of(n, 0).state, BindingState::registered) << n;
    EXPECT_EQ(status_of(n, 1).state, BindingState::registered) << n;
  }
}

TEST_F(LiveEngineTest, RemovedRegistrarUnregistersThroughItsGhost) {
  const std::string three = dial_peers(1001, 2) +
                            "sip-ua\n registrar 1 dns:reg-a.example\n registrar 2 dns:reg-b.example\n"
                            " registrar 3 dns:reg-c.example\n";
  start(three);
  std::map<std::string, Sent> at_b;
  for (const Timed& t : run(1)) {
    if (t.req.registrar == 1) at_b[t.req.number] = t.req;
    deliver(ok_with_contact(t.req, 3600));
  }
  ASSERT_EQ(engine_->registered_count(now_), 6u);
  const std::uint64_t sent_a = rc(0).sent.get(), sent_c = rc(2).sent.get();
  live(dial_peers(1001, 2) + "sip-ua\n registrar 1 dns:reg-a.example\n registrar 3 dns:reg-c.example\n");
  const auto sent = run(400);  // less than T1: no retransmission yet
  ASSERT_EQ(sent.size(), 2u);
  for (const Timed& t : sent) {
    SCOPED_TRACE(t.req.number);
    EXPECT_EQ(t.req.registrar, 1) << "to registrar 2's address";
    EXPECT_EQ(t.req.expires, "0");
    EXPECT_EQ(t.req.text.substr(0, t.req.text.find("\r\n")), "REGISTER sip:reg-b.example SIP/2.0");
    EXPECT_EQ(t.req.call_id, at_b[t.req.number].call_id);
    EXPECT_EQ(t.req.contact, at_b[t.req.number].contact);
    deliver(respond(t.req, 200, "OK"));
  }
  EXPECT_EQ(rc(1).unregistered.get(), 2u);  // counted for index 2
  EXPECT_EQ(rc(0).sent.get(), sent_a);
  EXPECT_EQ(rc(2).sent.get(), sent_c);
  EXPECT_EQ(engine_->registered_count(now_), 4u);
  EXPECT_TRUE(run(60000).empty());
}

TEST_F(LiveEngineTest, ReaddressedRegistrarUnregistersOldAndRegistersNew) {
  start(dial_peers(1001, 1) + "sip-ua\n registrar 1 dns:reg-a.example\n");
  const Sent r = register_plain();
  live(dial_peers(1001, 1) + "sip-ua\n registrar 1 dns:reg-a2.example\n");
  const auto sent = run(400);
  ASSERT_EQ(sent.size(), 2u);
  std::map<std::string, Sent> by_expires;
  for (const Timed& t : sent) by_expires[t.req.expires] = t.req;
  ASSERT_TRUE(by_expires.count("0"));
  ASSERT_TRUE(by_expires.count("3600"));
  EXPECT_EQ(by_expires["0"].call_id, r.call_id);
  EXPECT_EQ(by_expires["0"].to, "<sip:1001@reg-a.example>");
  EXPECT_NE(by_expires["3600"].call_id, r.call_id) << "a new binding, a new Call-ID";
  EXPECT_EQ(by_expires["3600"].to, "<sip:1001@reg-a2.example>");
  EXPECT_EQ(by_expires["3600"].cseq, 1u);
}

TEST_F(LiveEngineTest, ChangedExpiresIsRequestedAtNextRefresh) {
  const std::string cfg = dial_peers(1001, 1) + "sip-ua\n registrar 1 dns:reg-a.example expires 3600\n";
  start(cfg);
  const Sent r = first_request();
  EXPECT_EQ(r.expires, "3600");
  deliver(ok_with_contact(r, 120));
  const std::uint64_t t0 = now_;
  const std::int64_t planned = status_of("1001").next_attempt_ms;
  ASSERT_GT(planned, 0);
  live(dial_peers(1001, 1) + "sip-ua\n registrar 1 dns:reg-a.example expires 600\n");
  const auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].at - t0, static_cast<std::uint64_t>(planned)) << "the change does not trigger a refresh of its own";
  EXPECT_LE(sent[0].at - t0, 96000u);
  EXPECT_EQ(sent[0].req.expires, "600");
  EXPECT_EQ(sent[0].req.call_id, r.call_id);
  deliver(ok_with_contact(sent[0].req, 600));
  EXPECT_EQ(status_of("1001").granted, 600u);
}

TEST_F(LiveEngineTest, ChangedCredentialIsUsedAtNextChallenge) {
  const auto cfg = [](std::string_view user, std::string_view pw) {
    return "sip-ua\n credentials number 1001 username " + std::string(user) + " password 0 " + std::string(pw) +
           " realm reg-a.example\n registrar 1 dns:reg-a.example expires 3600\n";
  };
  sha_realms_ = {"reg-a.example"};
  start(cfg("alice", "secret"));
  const std::string ch = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"%\", algorithm=SHA-256, qop=auth\r\n";
  auto challenge = [&](const Sent& req, std::string nonce) {
    std::string h = ch;
    h.replace(h.find('%'), 1, nonce);
    return deliver(respond(req, 401, "Unauthorized", h));
  };
  auto out = challenge(first_request(), "n1");
  ASSERT_EQ(out.size(), 1u);
  auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "secret", "n1", p));
  deliver(ok_with_contact(out[0], 120));
  // Password changed: nothing sent now; the next refresh answers the cached nonce with it
  // (preemptive), and the registrar's challenge to that refresh is answered with it too.
  live(cfg("alice", "n3w-secret"));
  auto sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  p = digest_params(sent[0].req.authorization);
  EXPECT_EQ(p.at("nonce"), "n1");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "n3w-secret", "n1", p));
  out = challenge(sent[0].req, "n2");
  ASSERT_EQ(out.size(), 1u);
  p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("username"), "alice");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "n3w-secret", "n2", p));
  deliver(ok_with_contact(out[0], 120));
  // Username changed too (the (number, realm) entry replaced, F5).
  live(cfg("alice2", "third"));
  sent = run_until_sent(100000);
  ASSERT_EQ(sent.size(), 1u);
  p = digest_params(sent[0].req.authorization);
  EXPECT_EQ(p.at("username"), "alice2");
  EXPECT_EQ(p.at("nonce"), "n2");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice2", "reg-a.example", "third", "n2", p));
  out = challenge(sent[0].req, "n3");
  ASSERT_EQ(out.size(), 1u);
  p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("username"), "alice2");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice2", "reg-a.example", "third", "n3", p));
  deliver(ok_with_contact(out[0], 120));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(snap()->username(snap()->credentials[status_of("1001").credential]), "alice2");
}

// A binding whose refresh waits for a token on its registrar's pacing queue when that
// registrar is removed must still be unregistered (it is registered at the registrar).
TEST_F(LiveEngineTest, RemovedRegistrarUnregistersBindingsQueuedForRefresh) {
  const auto cfg = [](int rate, bool with_b) {
    std::string t = dial_peers(1001, 5) + "sip-ua\n registrar 1 dns:reg-a.example\n";
    if (with_b) t += " registrar 2 dns:reg-b.example\n";
    return t + " registration rate " + std::to_string(rate) + "\n";
  };
  start(cfg(1000, true));
  for (int ms = 0; ms < 100; ++ms) accept_all(run(1), ms < 50 ? 10 : 3600);
  // Registrar 1 (slot 0) granted 10 s to all five at once; registrar 2 too. Slow the rate down so
  // that their refreshes (at 7.2–8 s) queue behind each other.
  ASSERT_EQ(engine_->registered_count(now_), 10u);
  live(cfg(1, true));
  int queued_registered = 0;
  for (int ms = 0; ms < 9000 && queued_registered < 2; ++ms) {
    for (const Timed& t : run(1)) deliver(ok_with_contact(t.req, 10));
    queued_registered = 0;
    for (int i = 0; i < 5; ++i) {
      const BindingStatus st = status_of(std::to_string(1001 + i), 1);
      if (st.state == BindingState::queued && st.seconds_left > 0) ++queued_registered;
    }
  }
  ASSERT_GE(queued_registered, 2) << "set-up: refreshes should be waiting for tokens";
  int registered_at_b = 0;
  for (int i = 0; i < 5; ++i) registered_at_b += status_of(std::to_string(1001 + i), 1).seconds_left > 0;
  live(cfg(1, false));  // registrar 2 removed
  std::set<std::string> unregistered;
  for (int ms = 0; ms < 20000; ++ms) {
    for (const Timed& t : run(1)) {
      if (t.req.registrar == 1) {
        EXPECT_EQ(t.req.expires, "0");
        unregistered.insert(t.req.number);
        deliver(respond(t.req, 200, "OK"));
      } else {
        deliver(ok_with_contact(t.req, 3600));
      }
    }
  }
  std::printf("[ measure ] %d bindings queued for refresh, %d registered at registrar 2 when removed; "
              "%zu unregistered within 20 s\n", queued_registered, registered_at_b, unregistered.size());
  EXPECT_EQ(static_cast<int>(unregistered.size()), registered_at_b)
      << "bindings waiting on the removed registrar's pacing queue were never unregistered";
}

// ---- what a binding last used survives live changes ----

constexpr std::string_view kShiftBefore = R"(
dial-peer voice 1 pots
 destination-pattern 1001
 authentication username alice password 0 secret realm r-x.example
sip-ua
 registrar 1 dns:reg-a.example expires 3600
)";
// Credentials and realms added ahead of alice's: her credential index and r-x's realm id move.
constexpr std::string_view kShiftAfter = R"(
dial-peer voice 1 pots
 destination-pattern 1001
 authentication username bob password 0 b realm other.example
 authentication username alice password 0 secret realm r-x.example
sip-ua
 authentication username zed password 0 z realm aaa.example
 registrar 1 dns:reg-a.example expires 3600
)";

TEST_F(LiveEngineTest, StatusNamesTheCredentialAndRealmSentAfterIdsMove) {
  start(kShiftBefore);
  register_challenged("WWW-Authenticate: Digest realm=\"r-x.example\", nonce=\"n-1\"\r\n");
  const auto used = [&] {
    const BindingStatus st = status_of("1001");
    const std::string user = st.credential == kNoEntry ? "-" : std::string(snap()->username(snap()->credentials[st.credential]));
    const std::string realm = st.realm == kNoRealm ? "-" : snap()->realms.names[st.realm];
    return user + "@" + realm;
  };
  ASSERT_EQ(used(), "alice@r-x.example");
  const std::uint32_t realm_before = snap()->realms.find("r-x.example");
  live(kShiftAfter);
  ASSERT_NE(snap()->realms.find("r-x.example"), realm_before) << "set-up: the realm id moved";
  EXPECT_EQ(used(), "alice@r-x.example") << "the row names what was sent, not what the old ids now mean";
  live(kShiftBefore);
  EXPECT_EQ(used(), "alice@r-x.example");

  // A snapshot the worker never adopted in between: the ids cannot be mapped, so the row says
  // none (until the next request) rather than something that was not sent.
  snaps_.push_back(builder_.build(load_config(kShiftAfter), loopback_addresses(), 5060, learned_realms_,
                                  snaps_.back().get(), now_, sha_realms_));
  live(kShiftBefore);
  EXPECT_EQ(used(), "-@-");
}

// ---- a registrar re-addressed, then removed at once ----

constexpr std::string_view kRegistrarAtB = R"(
dial-peer voice 1 pots
 destination-pattern 1001
dial-peer voice 2 pots
 destination-pattern 1002
sip-ua
 registrar 1 dns:reg-a.example expires 3600
 registrar 2 dns:reg-b.example expires 3600
)";
constexpr std::string_view kRegistrarAtC = R"(
dial-peer voice 1 pots
 destination-pattern 1001
dial-peer voice 2 pots
 destination-pattern 1002
sip-ua
 registrar 1 dns:reg-a.example expires 3600
 registrar 2 dns:reg-c.example expires 3600
)";
constexpr std::string_view kRegistrarGone = R"(
dial-peer voice 1 pots
 destination-pattern 1001
dial-peer voice 2 pots
 destination-pattern 1002
sip-ua
 registrar 1 dns:reg-a.example expires 3600
)";

// Registrar 2 moved from B to C, registered there, then removed two seconds later: every
// binding registered at C is unregistered at C (and those at B at B), however quickly the
// changes follow each other.
TEST_F(LiveEngineTest, ARegistrarReAddressedThenRemovedUnregistersWhereItWasRegistered) {
  constexpr std::uint16_t kPortC = 10;  // registrar_of() of C's address
  snapshot::RegistrarAddresses at_c = loopback_addresses();
  reinterpret_cast<sockaddr_in&>(at_c[1]->addr).sin_port = htons(test::kRegistrarBasePort + kPortC);
  start(kRegistrarAtB);
  std::set<std::string> at_b, at_c_registered, unregistered_b, unregistered_c;
  for (const Timed& t : run(200)) {
    deliver(ok_with_contact(t.req, 3600));
    if (t.req.registrar == 1) at_b.insert(t.req.number);
  }
  ASSERT_EQ(at_b.size(), 2u);
  const auto rebuild_with = [&](std::string_view cfg, const snapshot::RegistrarAddresses& addrs) {
    snaps_.push_back(builder_.build(load_config(cfg), addrs, 5060, learned_realms_, snaps_.back().get(), now_, sha_realms_));
    engine_->adopt(pin(), now_);
  };
  rebuild_with(kRegistrarAtC, at_c);
  for (const Timed& t : run(2000)) {
    if (t.req.expires == "0") {
      (t.req.registrar == kPortC ? unregistered_c : unregistered_b).insert(t.req.number);
      deliver(respond(t.req, 200, "OK"));
    } else {
      if (t.req.registrar == kPortC) at_c_registered.insert(t.req.number);
      deliver(ok_with_contact(t.req, 3600));
    }
  }
  ASSERT_EQ(at_c_registered.size(), 2u) << "set-up: registered at C";
  rebuild_with(kRegistrarGone, at_c);
  for (int ms = 0; ms < 40000; ++ms) {
    for (const Timed& t : run(1)) {
      ASSERT_EQ(t.req.expires, "0") << "only unregistrations once registrar 2 is gone";
      (t.req.registrar == kPortC ? unregistered_c : unregistered_b).insert(t.req.number);
      deliver(respond(t.req, 200, "OK"));
    }
  }
  EXPECT_EQ(unregistered_c, at_c_registered) << "bindings left registered at C";
}

// ---- bindings by state (BindingCounts) ----

// The counts the engine keeps per registrar slot on each transition equal, at every moment,
// what its status rows say: each row's state (a queued one as waiting-dns or held when its
// registrar is) and, for `live`, the rows with seconds left. Driven through registrations,
// refusals, timeouts, a registration that lapses while its refresh is unanswered, a removed
// registrar (its ghost slot), a re-addressed one and shutdown.
class BindingCountsTest : public LiveEngineTest {
 protected:
  // Compares every slot's counts with the rows; returns false (once reported) on a mismatch.
  bool counts_match(const char* when) {
    std::uint64_t rows_state[kSnapRegistrarSlots][kBindingStates] = {};
    std::uint64_t rows_live[kSnapRegistrarSlots] = {};
    BindingStatus rows[256];
    std::uint32_t next = 0;
    const std::size_t n = engine_->status(pin(), 0, rows, 256, next, now_);
    for (std::size_t i = 0; i < n; ++i) {
      ++rows_state[rows[i].registrar][static_cast<std::size_t>(rows[i].state)];
      if (rows[i].seconds_left > 0) ++rows_live[rows[i].registrar];
    }
    for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
      const BindingCounts& c = wc().bindings[ri];
      std::uint64_t counted[kBindingStates] = {};
      for (std::size_t st = 0; st < kBindingStates; ++st) counted[st] = c.state[st].get();
      // A queued binding's row says how its registrar's queue waits.
      const std::uint64_t queued = counted[static_cast<std::size_t>(BindingState::queued)];
      counted[static_cast<std::size_t>(BindingState::queued)] = 0;
      counted[c.queued_as.get()] += queued;
      for (std::size_t st = 0; st < kBindingStates; ++st) {
        if (counted[st] != rows_state[ri][st]) {
          ADD_FAILURE() << when << " at +" << now_ - kStart << " ms: slot " << ri << " state "
                        << state_name(static_cast<BindingState>(st)) << ": counted " << counted[st] << ", rows "
                        << rows_state[ri][st];
          return false;
        }
      }
      if (c.live.get() != rows_live[ri]) {
        ADD_FAILURE() << when << " at +" << now_ - kStart << " ms: slot " << ri << " live: counted " << c.live.get()
                      << ", rows " << rows_live[ri];
        return false;
      }
    }
    return true;
  }
  // Runs `ms` one millisecond at a time, answering with `answer` and checking after each.
  template <class F>
  bool run_checked(std::uint64_t ms, const char* when, F&& answer) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      for (const Timed& t : run(1)) answer(t.req);
      if (!counts_match(when)) return false;
    }
    return true;
  }
  std::uint64_t live(int ri) { return wc().bindings[ri].live.get(); }
  std::uint64_t in(int ri, BindingState s) { return wc().bindings[ri].state[static_cast<std::size_t>(s)].get(); }
  using LiveEngineTest::live;
};

TEST_F(BindingCountsTest, EqualTheStatusRowsThroughEveryTransition) {
  const auto cfg = [](std::string_view reg1, bool with_2) {
    std::string t = dial_peers(1001, 5) + "sip-ua\n registrar 1 dns:" + std::string(reg1) + "\n";
    if (with_2) t += " registrar 2 dns:reg-b.example\n";
    return t + " registration rate 1000\n";
  };
  start(cfg("reg-a.example", true));
  ASSERT_TRUE(counts_match("start"));
  EXPECT_EQ(in(0, BindingState::queued), 5u);
  EXPECT_EQ(in(1, BindingState::queued), 5u);
  // 1001 is granted 10 s and its refresh goes unanswered (it lapses while registering); 1002
  // is refused (backoff); 1003 is never answered (registering, then backoff by Timer F); the
  // others are granted an hour. Unregistrations are accepted.
  bool refresh_answered = true;
  const auto answer = [&](const Sent& r) {
    if (r.expires == "0") {
      deliver(respond(r, 200, "OK"));
    } else if (r.number == "1001") {
      if (refresh_answered) deliver(ok_with_contact(r, 10));
      refresh_answered = false;
    } else if (r.number == "1002") {
      deliver(respond(r, 403, "Forbidden"));
    } else if (r.number != "1003") {
      deliver(ok_with_contact(r, 3600));
    }
  };
  ASSERT_TRUE(run_checked(100, "registering", answer));
  EXPECT_EQ(in(0, BindingState::registered), 3u);
  EXPECT_EQ(in(0, BindingState::backoff), 1u);
  EXPECT_EQ(in(0, BindingState::registering), 1u);
  EXPECT_EQ(live(0), 3u);
  // 1001's refresh (5–8 s) is not answered: registered until 10 s, then lapsed (still in flight).
  ASSERT_TRUE(run_checked(10500, "refresh unanswered", answer));
  EXPECT_EQ(live(0), 2u) << "1001's registration ran out";
  EXPECT_EQ(status_of("1001").state, BindingState::registering);
  EXPECT_EQ(status_of("1001").seconds_left, 0);
  // Registrar 2 removed: its bindings leave through a ghost slot and unregister.
  live(cfg("reg-a.example", false));
  ASSERT_TRUE(counts_match("registrar 2 removed"));
  ASSERT_TRUE(run_checked(2000, "unregistering from 2", answer));
  EXPECT_EQ(live(1), 0u);
  // Registrar 1 re-addressed: the old bindings unregister, new ones register.
  live(cfg("reg-a2.example", false));
  ASSERT_TRUE(counts_match("registrar 1 re-addressed"));
  ASSERT_TRUE(run_checked(3000, "re-addressed", answer));
  EXPECT_EQ(live(0), 2u) << "1001 and 1003 unanswered, 1002 refused";
  // Shutdown unregisters the registered ones.
  engine_->begin_shutdown(pin(), now_);
  ASSERT_TRUE(counts_match("shutdown"));
  ASSERT_TRUE(run_checked(2000, "shutting down", answer));
  EXPECT_EQ(live(0), 0u);
  EXPECT_EQ(in(0, BindingState::registered), 0u);
}

// Bindings queued behind a registrar not resolved yet show as waiting-dns in the rows; the
// counts say so through queued_as (a keepalive holding the registrar sets it to held the same way).
TEST_F(BindingCountsTest, QueuedBindingsOfAnUnresolvedRegistrarShowAsWaitingForDns) {
  snapshot::RegistrarAddresses none = loopback_addresses();
  none[0].reset();
  snaps_.clear();
  opts_.capacity = capacity_;
  opts_.max_inflight = capacity_;
  engine_ = std::make_unique<Engine>(opts_, tx_);
  snaps_.push_back(builder_.build(load_config(dial_peers(1001, 3) + "sip-ua\n registrar 1 dns:reg-a.example\n"), none,
                                  5060, learned_realms_, nullptr, 0, sha_realms_));
  engine_->adopt(pin(), now_);
  ASSERT_TRUE(counts_match("unresolved"));
  EXPECT_EQ(wc().bindings[0].queued_as.get(), static_cast<std::uint64_t>(BindingState::waiting_dns));
  EXPECT_EQ(in(0, BindingState::queued), 3u);
}

// ---- latency histograms (RegistrarCounters::register_duration, challenge_answer,
// refresh_lateness) ----

// A fine clock the test moves: each read is 3 µs after the previous one.
std::uint64_t g_fake_ticks = 0;
std::uint64_t fake_ticks() { return g_fake_ticks += 3000; }

template <class H>
std::uint64_t total(const H& h) {
  std::uint64_t n = 0;
  for (const Counter& b : h.bucket) n += b.get();
  return n;
}

TEST_F(EngineTest, TimeToRegisterRunsFromTheFirstRequestToThe2xxAndAChallengeAnswerIsTimed) {
  EngineOptions o;
  o.ticks = &fake_ticks;
  o.ticks_per_us = 1000;  // ns
  start(kOneEndpoint, o);
  const Sent r = first_request();
  run(30);
  const auto out = deliver(respond(r, 401, "Unauthorized",
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-1\"\r\n"));
  ASSERT_EQ(out.size(), 1u);
  // Received at one read, queued at the next: 3 µs, within the 5 µs bucket (bounds 1, 2, 5 µs).
  EXPECT_EQ(total(rc().challenge_answer), 1u);
  EXPECT_EQ(rc().challenge_answer.bucket[2].get(), 1u);
  EXPECT_EQ(rc().challenge_answer.sum.get(), 3000u);
  run(20);
  deliver(ok_with_contact(out[0], 120));
  // 50 ms from the first REGISTER (its 401 and the answer included): the 50 ms bucket.
  EXPECT_EQ(total(rc().register_duration), 1u);
  EXPECT_EQ(rc().register_duration.bucket[2].get(), 1u);
  EXPECT_EQ(rc().register_duration.sum.get(), 50u);
}

TEST_F(EngineTest, TimeToRegisterIsTheAttemptThatRegisteredAndARefreshIsNone) {
  start(kOneEndpoint);
  const Sent r = first_request();
  deliver(respond(r, 503, "Service Unavailable"));
  EXPECT_EQ(total(rc().register_duration), 0u) << "a failed attempt is not a time to register";
  const std::vector<Timed> retry = run_until_sent();
  ASSERT_EQ(retry.size(), 1u);
  const std::uint64_t retried_at = now_;
  run(40);
  deliver(ok_with_contact(retry[0].req, 120));
  EXPECT_EQ(total(rc().register_duration), 1u);
  EXPECT_EQ(rc().register_duration.sum.get(), now_ - retried_at) << "from the attempt that registered";
  EXPECT_EQ(rc().register_duration.sum.get(), 40u);
  // The refresh (the binding registered when it went) is not a time to register.
  const std::vector<Timed> refresh = run_until_sent();
  ASSERT_EQ(refresh.size(), 1u);
  deliver(ok_with_contact(refresh[0].req, 120));
  EXPECT_EQ(total(rc().register_duration), 1u);
  EXPECT_EQ(rc().accepted.get(), 2u);
}

// Five bindings granted 60 s at once under a rate of 1/s: their refreshes queue behind each
// other, and each one's lateness is its send time minus the refresh point its row announced.
TEST_F(LiveEngineTest, RefreshLatenessIsTheSendTimeMinusThePlannedPoint) {
  start(dial_peers(1001, 5) + "sip-ua\n registrar 1 dns:reg-a.example\n registration rate 1000\n");
  for (int ms = 0; ms < 50; ++ms) accept_all(run(1), 60);
  live(dial_peers(1001, 5) + "sip-ua\n registrar 1 dns:reg-a.example\n registration rate 1\n");
  std::map<std::string, std::uint64_t> planned;
  for (int i = 0; i < 5; ++i) {
    const BindingStatus st = status_of(std::to_string(1001 + i));
    ASSERT_GE(st.next_attempt_ms, 0);
    planned[std::to_string(1001 + i)] = now_ + static_cast<std::uint64_t>(st.next_attempt_ms);
  }
  std::uint64_t late_sum = 0, late_max = 0, sent = 0;
  for (int ms = 0; ms < 60000 && sent < 5; ++ms) {
    for (const Timed& t : run(1)) {
      ASSERT_GE(t.at, planned[t.req.number]);
      late_sum += t.at - planned[t.req.number];
      late_max = std::max(late_max, t.at - planned[t.req.number]);
      ++sent;
      EXPECT_GT(status_of(t.req.number).seconds_left, 0) << "set-up: refreshed before it ran out";
      deliver(ok_with_contact(t.req, 60));
    }
  }
  ASSERT_EQ(sent, 5u);
  EXPECT_GT(late_max, 0u) << "set-up: the rate should have made some refresh late";
  EXPECT_EQ(total(rc().refresh_lateness), 5u);
  EXPECT_EQ(rc().refresh_lateness.sum.get(), late_sum);
  EXPECT_EQ(total(rc().register_duration), 5u) << "the five first registrations, not their refreshes";
}

// ---- realms learned for realm-less credentials ----

constexpr std::string_view kRealmLessTwoRegistrars = R"(
dial-peer voice 1 pots
 destination-pattern 1001
sip-ua
 authentication username alice password 0 secret
 registrar 1 dns:reg-a.example expires 3600
 registrar 2 dns:reg-b.example expires 3600
)";

// An unnamed realm is reported with the registrar that challenged with it (the control plane
// keeps learned realms per registrar); once learned, each answer with it is reported as a use,
// at most every 10 s per realm and registrar, so that the least recently used one is evicted.
TEST_F(LiveEngineTest, LearnedRealmsAreReportedWithTheirRegistrarAndTheirUse) {
  start(kRealmLessTwoRegistrars);
  const auto first = run(1);
  ASSERT_EQ(first.size(), 2u);
  const Sent& to_b = first[0].req.registrar == 1 ? first[0].req : first[1].req;
  const std::string hostile = "WWW-Authenticate: Digest realm=\"cycled-1.example\", nonce=\"n-1\", qop=auth\r\n";
  EXPECT_TRUE(deliver(respond(to_b, 401, "Unauthorized", hostile)).empty()) << "no HA1 for that realm yet";
  EXPECT_EQ(rc(1).realm_learning.get(), 1u);
  std::string realm;
  std::uint8_t slot = 9;
  ASSERT_TRUE(engine_->pop_unknown_realm(realm, slot));
  EXPECT_EQ(realm, "cycled-1.example");
  EXPECT_EQ(slot, 1) << "registrar 2's slot";
  EXPECT_FALSE(engine_->pop_unknown_realm(realm, slot));
  EXPECT_FALSE(engine_->pop_used_realm(realm, slot)) << "nothing answered with a learned realm yet";

  learned_realms_ = {"cycled-1.example"};
  live(kRealmLessTwoRegistrars);
  std::vector<Timed> retry;
  for (int ms = 0; ms < 2000 && retry.empty(); ++ms) {
    for (const Timed& t : run(1)) {
      if (t.req.registrar == 1) retry.push_back(t);
    }
  }
  ASSERT_EQ(retry.size(), 1u);
  const auto out = deliver(respond(retry[0].req, 401, "Unauthorized", hostile));
  ASSERT_EQ(out.size(), 1u) << "the learned realm is answered";
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "cycled-1.example", "secret", "n-1", p));
  ASSERT_TRUE(engine_->pop_used_realm(realm, slot));
  EXPECT_EQ(realm, "cycled-1.example");
  EXPECT_EQ(slot, 1);
  deliver(ok_with_contact(out[0], 60));

  // A configured realm (registrar 1's domain) answered by the same credential is not reported:
  // only learned ones are.
  const Sent& to_a = first[0].req.registrar == 0 ? first[0].req : first[1].req;
  const auto at_a = deliver(respond(to_a, 401, "Unauthorized", "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"a-1\"\r\n"));
  ASSERT_EQ(at_a.size(), 1u);
  deliver(ok_with_contact(at_a[0], 3600));
  EXPECT_FALSE(engine_->pop_used_realm(realm, slot));

  // The refreshes answer the learned realm's cached nonce without a challenge: a use too, still
  // reported (every 10 s at most), or that realm would look unused and be evicted first.
  int refreshes = 0, reports = 0;
  for (int ms = 0; ms < 130000; ++ms) {
    for (const Timed& t : run(1)) {
      if (t.req.registrar != 1) continue;
      EXPECT_FALSE(t.req.authorization.empty()) << "a preemptive refresh";
      ++refreshes;
      deliver(ok_with_contact(t.req, 60));
    }
    while (engine_->pop_used_realm(realm, slot)) {
      EXPECT_EQ(realm, "cycled-1.example");
      ++reports;
    }
  }
  EXPECT_GE(refreshes, 2);
  EXPECT_EQ(reports, refreshes) << "refreshes are more than 10 s apart: each is reported";
}

// ---- SHA HA1s only for realms that challenge with SHA ----

TEST_F(LiveEngineTest, Sha256ChallengeWithoutShaHa1IsReportedAndRetriedAfterTheNewSnapshot) {
  start(kOneEndpoint);  // no SHA realm yet: the snapshot has only MD5 HA1s
  const std::string sha = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-s1\", algorithm=SHA-256, qop=auth\r\n";
  const Sent r = first_request();
  EXPECT_TRUE(deliver(respond(r, 401, "Unauthorized", sha)).empty()) << "no Authorization without its HA1";
  EXPECT_EQ(rc().sha_learning.get(), 1u);
  EXPECT_EQ(rc().no_credential.get(), 0u);
  std::string realm;
  ASSERT_TRUE(engine_->pop_sha_realm(realm));
  EXPECT_EQ(realm, "reg-a.example");
  EXPECT_FALSE(engine_->pop_sha_realm(realm));
  std::string unknown;
  std::uint8_t unknown_slot = 0;
  EXPECT_FALSE(engine_->pop_unknown_realm(unknown, unknown_slot)) << "the realm is known: only its SHA HA1s are missing";
  // The control plane adds it to its SHA realms and publishes; the binding retries in ~1 s.
  sha_realms_ = {"reg-a.example"};
  live(kOneEndpoint);
  const std::uint64_t t0 = now_;
  const auto sent = run_until_sent(5000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GE(sent[0].at - t0 + 1, 700u);
  EXPECT_LE(sent[0].at - t0, 1300u);
  EXPECT_TRUE(sent[0].req.authorization.empty());
  const auto out = deliver(respond(sent[0].req, 401, "Unauthorized", sha));
  ASSERT_EQ(out.size(), 1u);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("algorithm"), "SHA-256");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::sha256, "alice", "reg-a.example", "secret", "n-s1", p));
  deliver(ok_with_contact(out[0], 3600));
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
  EXPECT_EQ(rc().sha_learning.get(), 1u);
}

TEST_F(LiveEngineTest, ShaChallengeStillMissingAfterTheRetryIsAFailure) {
  start(kOneEndpoint);
  const std::string sha = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-%\", algorithm=SHA-512-256\r\n";
  EXPECT_TRUE(deliver(respond(first_request(), 401, "Unauthorized", sha)).empty());
  const auto sent = run_until_sent(5000);  // no new snapshot: the SHA HA1 is still missing
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(deliver(respond(sent[0].req, 401, "Unauthorized", sha)).empty());
  EXPECT_EQ(rc().sha_learning.get(), 1u);
  EXPECT_EQ(rc().no_credential.get(), 1u);
  EXPECT_EQ(status_of("1001").state, BindingState::backoff);
}

TEST_F(LiveEngineTest, Md5OfferedBesideShaIsAnsweredNowAndShaLearnedForNextTime) {
  start(kOneEndpoint);
  const std::string both =
      "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-256\", algorithm=SHA-256\r\n"
      "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-md5\", algorithm=MD5\r\n";
  const auto out = deliver(respond(first_request(), 401, "Unauthorized", both));
  ASSERT_EQ(out.size(), 1u);
  const auto p = digest_params(out[0].authorization);
  EXPECT_EQ(p.at("algorithm"), "MD5");
  EXPECT_EQ(p.at("response"), expected_response(auth::Algorithm::md5, "alice", "reg-a.example", "secret", "n-md5", p));
  EXPECT_EQ(rc().sha_learning.get(), 0u) << "answered at once: no retry";
  // The realm is reported all the same: once the snapshot has its SHA HA1s, the stronger
  // challenge wins (RFC 8760 section 2.4).
  std::string realm;
  ASSERT_TRUE(engine_->pop_sha_realm(realm));
  EXPECT_EQ(realm, "reg-a.example");
  deliver(ok_with_contact(out[0], 3600));
  sha_realms_ = {"reg-a.example"};
  live(kOneEndpoint);
  EXPECT_EQ(status_of("1001").state, BindingState::registered);
}

TEST_F(LiveEngineTest, ShaHa1sOfOneRealmNeverAnswerAnother) {
  // F7: reg-b becoming a SHA realm gives reg-a's credential nothing.
  sha_realms_ = {"reg-b.example"};
  start(std::string(kOneEndpoint) + " credentials number 1001 username bob password 0 other realm reg-b.example\n");
  const auto out = deliver(respond(first_request(), 401, "Unauthorized",
                                   "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n\", algorithm=SHA-256\r\n"));
  EXPECT_TRUE(out.empty());
  std::string realm;
  ASSERT_TRUE(engine_->pop_sha_realm(realm));
  EXPECT_EQ(realm, "reg-a.example");
}

// ---- What a status row says about why and when (address, challenge, reason, next attempt) ----

std::string row_address(const StatusTables& t, const BindingStatus& st) {
  if (st.sent_to >= kAddressIds) return "";
  const int x = st.registrar % kRegistrarSlots;
  if (t.address_len[x][st.sent_to] == 0) return "";
  sockaddr_in sin;
  std::memcpy(&sin, &t.address[x][st.sent_to], sizeof sin);
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(sin.sin_port));
}

TEST_F(EngineTest, RowNamesAddressChallengeAndNextRefresh) {
  sha_realms_ = {"reg-a.example"};
  start(kOneEndpoint);
  EXPECT_EQ(status_of("1001").sent_to, kNoAddress);  // nothing sent yet
  EXPECT_EQ(status_of("1001").next_attempt_ms, 0);    // queued: as soon as the rate allows
  const Sent r = register_challenged("WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n1\", "
                                     "algorithm=SHA-256\r\n");
  (void)r;
  const BindingStatus st = status_of("1001");
  ASSERT_EQ(st.state, BindingState::registered);
  EXPECT_EQ(row_address(engine_->status_tables(), st), "127.0.0.1:" + std::to_string(kRegistrarBasePort));
  EXPECT_EQ(st.algorithm, 1 + static_cast<int>(auth::Algorithm::sha256));
  EXPECT_EQ(st.reason, FailReason::none);
  // The refresh comes when the row said it would (granted 120 s, refresh ratio 80 %).
  ASSERT_GT(st.next_attempt_ms, 0);
  EXPECT_LE(st.next_attempt_ms, 96000);
  const std::uint64_t t0 = now_;
  const auto refresh = run_until_sent(100000);
  ASSERT_EQ(refresh.size(), 1u);
  EXPECT_EQ(static_cast<std::int64_t>(refresh[0].at - t0), st.next_attempt_ms);
  EXPECT_EQ(status_of("1001").next_attempt_ms, -1);  // in flight: nothing planned
}

TEST_F(EngineTest, RowOfRetryAfterSaysHowLongAndWhen) {
  start(kOneEndpoint);
  deliver(respond(first_request(), 503, "Service Unavailable", "Retry-After: 120\r\n"));
  const BindingStatus st = status_of("1001");
  EXPECT_EQ(st.reason, FailReason::retry_after);
  EXPECT_EQ(st.last_code, 503);
  EXPECT_EQ(engine_->status_tables().retry_after_s[0], 120u);
  EXPECT_GE(st.next_attempt_ms, 120000);
  EXPECT_LE(st.next_attempt_ms, 132000);
  // A refusal without Retry-After is "rejected", not a Retry-After.
  const auto retry = run_until_sent(133000);
  ASSERT_EQ(retry.size(), 1u);
  deliver(respond(retry[0].req, 403, "Forbidden"));
  EXPECT_EQ(status_of("1001").reason, FailReason::rejected);
}

TEST_F(EngineTest, RowOfTimeoutSaysTimeoutAndTheRetry) {
  start(kOneEndpoint);
  first_request();
  run(19500);  // Timer F
  const BindingStatus st = status_of("1001");
  EXPECT_EQ(st.reason, FailReason::timeout);
  EXPECT_EQ(row_address(engine_->status_tables(), st), "127.0.0.1:" + std::to_string(kRegistrarBasePort));
  EXPECT_GE(st.next_attempt_ms, 2000);  // backoff base 4000: 50–100 %
  EXPECT_LE(st.next_attempt_ms, 4000);
}

// A registrar challenging with a realm nobody configured: the row names that realm (no id in
// any snapshot: kept per registrar as received), and says no credential, not a wrong password.
TEST_F(EngineTest, RowNamesARealmNobodyConfigured) {
  start(kOneEndpoint);
  deliver(respond(first_request(), 401, "Unauthorized",
                  "WWW-Authenticate: Digest realm=\"nobody.example\", nonce=\"n1\", algorithm=MD5\r\n"));
  EXPECT_EQ(rc().no_credential.get(), 1u);
  const BindingStatus st = status_of("1001");
  EXPECT_EQ(st.reason, FailReason::no_credential);
  EXPECT_EQ(st.realm, kUnknownRealm);
  const StatusTables& t = engine_->status_tables();
  EXPECT_EQ(std::string_view(t.unknown_realm[0], t.unknown_realm_len[0]), "nobody.example");
  EXPECT_EQ(st.algorithm, 1 + static_cast<int>(auth::Algorithm::md5));
  EXPECT_EQ(st.credential, kNoEntry);
  // A live change that keeps the binding keeps what the row says.
  snaps_.push_back(builder_.build(load_config(std::string(kOneEndpoint) + "dial-peer voice 2 pots\n destination-pattern 1002\n"),
                                  loopback_addresses(), 5060, learned_realms_, snap(), now_, sha_realms_));
  engine_->adopt(pin(), now_);
  EXPECT_EQ(status_of("1001").realm, kUnknownRealm);
}

// A configured realm the endpoint has no credential for: the row names it by its id.
TEST_F(EngineTest, RowNamesAConfiguredRealmTheEndpointCannotAnswer) {
  start(R"(
dial-peer voice 1 pots
 destination-pattern 1001
 authentication username alice password 0 secret realm reg-a.example
dial-peer voice 2 pots
 destination-pattern 1002
 authentication username bob password 0 secret realm other.example
sip-ua
 registrar 1 dns:reg-a.example expires 3600
)");
  const auto first = run_until_sent(1000);
  ASSERT_EQ(first.size(), 2u);
  for (const Timed& t : first) {
    deliver(respond(t.req, 401, "Unauthorized", "WWW-Authenticate: Digest realm=\"other.example\", nonce=\"n1\"\r\n"));
  }
  const BindingStatus st = status_of("1001");
  EXPECT_EQ(st.reason, FailReason::no_credential);
  ASSERT_LT(st.realm, snap()->realms.names.size());
  EXPECT_EQ(snap()->realms.names[st.realm], "other.example");
  EXPECT_EQ(status_of("1002").reason, FailReason::none);  // bob answered it
}

// The registrar's name resolves elsewhere: the row names where the last request went, and the
// new address takes a new id in the index's ring (the old one's rows keep theirs).
TEST_F(EngineTest, RowsNameTheAddressEachRequestWentTo) {
  start(kOneEndpoint);
  deliver(respond(first_request(), 200, "OK", "Expires: 120\r\n"));
  const std::string port = std::to_string(kRegistrarBasePort);
  EXPECT_EQ(row_address(engine_->status_tables(), status_of("1001")), "127.0.0.1:" + port);
  const std::uint8_t old_id = status_of("1001").sent_to;
  auto addrs = loopback_addresses();
  sockaddr_in sin;
  std::memcpy(&sin, &addrs[0]->addr, sizeof sin);
  inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
  std::memcpy(&addrs[0]->addr, &sin, sizeof sin);
  snaps_.push_back(builder_.build(load_config(kOneEndpoint), addrs, 5060, learned_realms_, snap(), now_, sha_realms_));
  engine_->adopt(pin(), now_);
  // A registrar's new address is another binding for the snapshot (its slot's generation changes):
  // nothing sent from it yet.
  EXPECT_EQ(row_address(engine_->status_tables(), status_of("1001")), "");
  const auto sent = run_until_sent(200000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(row_address(engine_->status_tables(), status_of("1001")), "127.0.0.2:" + port);
  EXPECT_NE(status_of("1001").sent_to, old_id);
  BindingStatus was = status_of("1001");
  was.sent_to = old_id;
  EXPECT_EQ(row_address(engine_->status_tables(), was), "127.0.0.1:" + port);
}

// ---- clear sip-ua registration ----

// One number: exactly its bindings send a REGISTER now (one each), through the pacer; the others
// keep their refresh time.
TEST_F(EngineTest, ClearRegistrationOfANumberSendsOnlyItsRegister) {
  std::string cfg;
  for (int i = 0; i < 5; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example\n registrar 2 dns:reg-b.example\n registration rate 1000\n";
  start(cfg);
  for (int ms = 0; ms < 1000; ++ms) {
    for (const Timed& t : run(1)) deliver(ok_with_contact(t.req, 3600));
  }
  ASSERT_EQ(engine_->registered_count(now_), 10u);
  const std::int64_t other_next = status_of("7001").next_attempt_ms;
  engine_->reregister(pin(), 0x1, "7003", now_);  // registrar 1 only
  EXPECT_EQ(status_of("7003").state, BindingState::queued);
  EXPECT_EQ(status_of("7003", 1).state, BindingState::registered);
  std::vector<Timed> sent;
  for (int ms = 0; ms < 1000; ++ms) {
    for (const Timed& t : run(1)) {
      sent.push_back(t);
      deliver(ok_with_contact(t.req, 3600));
    }
  }
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].req.registrar, 0);
  EXPECT_EQ(sent[0].req.number, "7003");
  EXPECT_EQ(rc(0).reregistered.get(), 1u);
  EXPECT_EQ(rc(1).reregistered.get(), 0u);
  EXPECT_EQ(status_of("7003").state, BindingState::registered);
  EXPECT_EQ(status_of("7001").next_attempt_ms, other_next - 1000);  // untouched
  // A number nobody configured, or a registrar not asked for: nothing.
  engine_->reregister(pin(), 0x3f, "9999", now_);
  engine_->reregister(pin(), 0x4, "7003", now_);
  EXPECT_TRUE(run(1000).empty());
}

// Every binding of a registrar: swept a bounded chunk per advance(), started at its rate.
TEST_F(EngineTest, ClearRegistrationOfARegistrarIsPacedAtItsRate) {
  constexpr int kBindings = 60;
  std::string cfg;
  for (int i = 0; i < kBindings; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example\n registrar 2 dns:reg-b.example\n registration rate 10\n";
  start(cfg);
  for (int ms = 0; ms < 15000; ++ms) {
    for (const Timed& t : run(1)) deliver(ok_with_contact(t.req, 3600));
  }
  ASSERT_EQ(engine_->registered_count(now_), 2u * kBindings);
  engine_->reregister(pin(), 0x1, "", now_);
  std::vector<std::uint64_t> starts;
  for (int ms = 0; ms < 10000; ++ms) {
    for (const Timed& t : run(1)) {
      ASSERT_EQ(t.req.registrar, 0) << "registrar 2 was not asked for";
      starts.push_back(t.at);
      deliver(ok_with_contact(t.req, 3600));
    }
  }
  EXPECT_EQ(starts.size(), static_cast<std::size_t>(kBindings));
  EXPECT_EQ(rc(0).reregistered.get(), static_cast<std::uint64_t>(kBindings));
  std::size_t worst = 0;  // starts in any 1 s window: the rate (bucket depth 1 at 10/s)
  for (std::size_t i = 0; i < starts.size(); ++i) {
    std::size_t j = i;
    while (j < starts.size() && starts[j] < starts[i] + 1000) ++j;
    worst = std::max(worst, j - i);
  }
  EXPECT_LE(worst, 10u);
}

}  // namespace
}  // namespace regfront::reg
