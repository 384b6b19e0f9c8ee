// The workers' trace for debug ccsip (see regfront/reg/trace.h).
#include "regfront/reg/trace.h"

#include <algorithm>

namespace regfront::reg {

static_assert(std::is_trivially_copyable_v<TraceFilter>);
static_assert(sizeof(TraceRecord) % 8 == 0);

void Tracer::set_filter(const TraceFilter& f) {
  std::uint64_t w[kFilterWords] = {};
  std::memcpy(w, &f, sizeof f);
  // Sequence lock: odd while the words change; the worker copies again when it saw a change.
  seq_.fetch_add(1, std::memory_order_acq_rel);
  for (std::size_t i = 0; i < kFilterWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
  seq_.fetch_add(1, std::memory_order_release);
  ++generation_;
  state_.store((generation_ << 8) | f.kinds, std::memory_order_release);
}

bool Tracer::matches(std::uint8_t kind, std::string_view number, std::uint8_t slot) {
  const std::uint32_t s = state_.load(std::memory_order_acquire);
  if ((s & kind) == 0) return false;
  if (s != filter_state_) {
    // Sequence lock, one attempt: while the control thread is writing, the filter read before
    // stays in use and the next packet tries again (the worker never waits).
    const std::uint32_t before = seq_.load(std::memory_order_acquire);
    std::uint64_t w[kFilterWords];
    for (std::size_t i = 0; i < kFilterWords; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((before & 1) == 0 && seq_.load(std::memory_order_relaxed) == before) {
      std::memcpy(&filter_, w, sizeof filter_);
      filter_state_ = s;
    }
  }
  return filter_.matches(kind, number, slot);
}

void Tracer::copy_in(std::uint32_t at, const void* src, std::size_t n) {
  if (n == 0) return;  // an empty text's data() may be null, which memcpy must not get
  const std::uint32_t off = at % kRingBytes;
  const std::size_t first = std::min<std::size_t>(n, kRingBytes - off);
  std::memcpy(ring_ + off, src, first);
  std::memcpy(ring_, static_cast<const unsigned char*>(src) + first, n - first);
}

void Tracer::copy_out(std::uint32_t at, void* dst, std::size_t n) const {
  if (n == 0) return;
  const std::uint32_t off = at % kRingBytes;
  const std::size_t first = std::min<std::size_t>(n, kRingBytes - off);
  std::memcpy(dst, ring_ + off, first);
  std::memcpy(static_cast<unsigned char*>(dst) + first, ring_, n - first);
}

bool Tracer::record(std::uint8_t kind, std::uint8_t direction, std::uint8_t slot, std::string_view number,
                    std::uint64_t now_ms, std::string_view a, std::string_view b) {
  // The worker's rate: a token bucket on the engine's clock.
  if (now_ms > tokens_ms_) {
    tokens_ = std::min(kRecordsBurst,
                       tokens_ + static_cast<double>(now_ms - tokens_ms_) * kRecordsPerSecond / 1000.0);
    tokens_ms_ = now_ms;
  }
  a = a.substr(0, std::min(a.size(), kMaxText));
  b = b.substr(0, std::min(b.size(), kMaxText - a.size()));
  const std::uint32_t text = static_cast<std::uint32_t>(a.size() + b.size());
  const std::uint32_t size = static_cast<std::uint32_t>((sizeof(Header) + text + 7) / 8 * 8);
  const std::uint32_t t = tail_.load(std::memory_order_relaxed);
  if (tokens_ < 1.0 || t - head_.load(std::memory_order_acquire) + size > kRingBytes) {
    lost_.store(lost_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return false;
  }
  tokens_ -= 1.0;
  Header h{size, text, TraceRecord{}};
  h.rec.time_ms = now_ms;
  h.rec.kind = kind;
  h.rec.direction = direction;
  h.rec.registrar = slot;
  const std::size_t n = std::min(number.size(), TraceFilter::kNumberLength);
  std::memcpy(h.rec.number, number.data(), n);
  copy_in(t, &h, sizeof h);
  copy_in(t + static_cast<std::uint32_t>(sizeof h), a.data(), a.size());
  copy_in(t + static_cast<std::uint32_t>(sizeof h + a.size()), b.data(), b.size());
  tail_.store(t + size, std::memory_order_release);
  recorded_.store(recorded_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return true;
}

bool Tracer::pop(TraceRecord& r, std::string& text) {
  const std::uint32_t h = head_.load(std::memory_order_relaxed);
  if (h == tail_.load(std::memory_order_acquire)) return false;
  Header hd;
  copy_out(h, &hd, sizeof hd);
  r = hd.rec;
  text.resize(hd.text);
  copy_out(h + static_cast<std::uint32_t>(sizeof hd), text.data(), hd.text);
  head_.store(h + hd.size, std::memory_order_release);
  return true;
}

std::uint64_t Tracer::take_lost() {
  const std::uint64_t now = lost_.load(std::memory_order_relaxed);
  const std::uint64_t n = now - lost_reported_;
  lost_reported_ = now;
  return n;
}

}  // namespace regfront::reg
