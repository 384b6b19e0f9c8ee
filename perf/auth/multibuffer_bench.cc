// Does multi-buffer hashing (intel-ipsec-mb) beat OpenSSL in the storm path,
// with a flush deadline of <= 20 us. This benchmark answers it for the inputs a worker hashes:
// the digest response's last hash over "HA1:nonce:nc:cnonce:qop:HA2" (hex HA1/HA2, a 40-char
// nonce): 146 bytes for MD5 (3 blocks with padding), 210 bytes for SHA-256 (4 blocks).
//
//   OpenSSL: the low-level one-shot functions the Hasher uses (MD5_*, SHA256_*).
//   intel-ipsec-mb 1.3 (Debian libipsec-mb-dev): jobs of IMB_AUTH_SHA_256 (plain SHA-256),
//   `lanes` submitted then flushed, per hash. The library has no plain MD5 job — only HMAC-MD5
//   (IMB_AUTH_MD5) and a one-block MD5 compression — so the MD5 storm path, which is what
//   registrars challenge with, cannot use it at all.
//
// Measured on the shared 2-core AMD EPYC dev VM (SHA-NI and AVX-512 available, Release, GCC 12,
// OpenSSL 3.0, ipsec-mb picks its avx512 code; 2026-11-24, load average ~5, CPU time, median of 5):
//   OpenSSL MD5, 137 B: 251 ns          OpenSSL SHA-256, 201 B: 405 ns
//   ipsec-mb SHA-256 per hash: 804 ns alone, 169 ns in flushes of 8, 123 ns of 16 (a flush of
//   16 takes ~2 us, far inside a 20 us deadline), 120 ns of 64.
// So: for SHA-256 challenges, hashing a burst's responses together would save ~280 ns per
// registration (worth doing when the engine batches a burst's 401s); for MD5, the storm path,
// there is nothing in the library to use — a multi-lane MD5 of our own would be the next step.
#include <benchmark/benchmark.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
// Without this, the header's pre-0.53 compatibility macros (MD5, SHA1, …) clash with OpenSSL.
#define NO_COMPAT_IMB_API_053
#include <intel-ipsec-mb.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

std::string input(std::size_t hex_len) {
  const std::string ha1(hex_len, 'a');
  const std::string ha2(hex_len, 'b');
  return ha1 + ":Y2hhbGxlbmdlLTE3MDY4MDQxMjMtNGIzYzlmMmE=:00000001:0a4f113b9c6d2e1f:auth:" + ha2;
}

void BM_OpenSSL_MD5(benchmark::State& state) {
  const std::string in = input(32);
  unsigned char out[MD5_DIGEST_LENGTH];
  for (auto _ : state) {
    MD5(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::to_string(in.size()) + " B");
}
BENCHMARK(BM_OpenSSL_MD5);

void BM_OpenSSL_SHA256(benchmark::State& state) {
  const std::string in = input(64);
  unsigned char out[SHA256_DIGEST_LENGTH];
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::to_string(in.size()) + " B");
}
BENCHMARK(BM_OpenSSL_SHA256);

// `lanes` SHA-256 jobs submitted, then flushed; time per hash. The batch's wall time is what a
// flush deadline would have to cover.
void BM_IpsecMb_SHA256(benchmark::State& state) {
  const std::size_t lanes = static_cast<std::size_t>(state.range(0));
  IMB_MGR* mgr = alloc_mb_mgr(0);
  if (mgr == nullptr) {
    state.SkipWithError("alloc_mb_mgr failed");
    return;
  }
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr, &arch);
  std::vector<std::string> in(lanes);
  for (std::size_t i = 0; i < lanes; ++i) {
    in[i] = input(64);
    in[i][0] = static_cast<char>('a' + i % 26);  // distinct messages
  }
  std::vector<std::array<std::uint8_t, 32>> out(lanes);
  std::size_t done = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < lanes; ++i) {
      IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
      std::memset(job, 0, sizeof *job);
      job->cipher_mode = IMB_CIPHER_NULL;
      job->cipher_direction = IMB_DIR_ENCRYPT;
      job->chain_order = IMB_ORDER_HASH_CIPHER;
      job->hash_alg = IMB_AUTH_SHA_256;
      job->src = reinterpret_cast<const std::uint8_t*>(in[i].data());
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = in[i].size();
      job->auth_tag_output = out[i].data();
      job->auth_tag_output_len_in_bytes = 32;
      job->user_data = &out[i];
      if (IMB_SUBMIT_JOB(mgr) != nullptr) ++done;
    }
    while (IMB_FLUSH_JOB(mgr) != nullptr) ++done;
    benchmark::DoNotOptimize(out.data());
  }
  // Sanity: the last lane's hash equals OpenSSL's.
  unsigned char ref[32];
  SHA256(reinterpret_cast<const unsigned char*>(in.back().data()), in.back().size(), ref);
  if (std::memcmp(ref, out.back().data(), 32) != 0) state.SkipWithError("ipsec-mb SHA-256 differs from OpenSSL");
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  static const char* names[] = {"none", "noaesni", "sse", "avx", "avx2", "avx512"};
  state.SetLabel(std::string("arch ") + (arch < IMB_ARCH_NUM ? names[arch] : "?") + ", " +
                 std::to_string(lanes) + " per flush");
  free_mb_mgr(mgr);
}
BENCHMARK(BM_IpsecMb_SHA256)->Arg(1)->Arg(8)->Arg(16)->Arg(64);

}  // namespace
