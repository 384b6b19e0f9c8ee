// regfront/reg/trace.h — what `debug ccsip messages` and `debug ccsip events` see of a worker:
// the SIP text its engine sends and receives, and its bindings' state changes, for the numbers
// (and registrar) an operator asked for.
//
// One Tracer per worker. The control thread sets the filter (set_filter: the union of what its
// debugging sessions asked for) and drains the records (pop); the worker's engine asks
// wants() — one relaxed atomic load while no filter is set — and, for a binding that matches,
// writes a record (record()) into a byte ring of fixed size inside the Tracer (no allocation,
// no lock, no system call). A record that does not fit, or exceeds the worker's rate
// (kRecordsPerSecond, burst kRecordsBurst), is dropped and counted; the control thread tells
// the sessions how many were lost.
//
//   Tracer t;                                           // a member of the worker
//   TraceFilter f; f.kinds = kTraceMessages; f.add_number("4155550100");
//   t.set_filter(f);                                    // control thread
//   if (t.wants(kTraceMessages)) t.record(kTraceMessages, kTraceSent, 0, number, now, text);  // worker
//   TraceRecord r; std::string text;
//   while (t.pop(r, text)) deliver(r, text);            // control thread
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace regfront::reg {

inline constexpr std::uint8_t kTraceMessages = 1;  // debug ccsip messages
inline constexpr std::uint8_t kTraceEvents = 2;    // debug ccsip events

inline constexpr std::uint8_t kTraceSent = 0;
inline constexpr std::uint8_t kTraceReceived = 1;
inline constexpr std::uint8_t kTraceEvent = 2;

// What the workers trace: the kinds, and which bindings (numbers; a registrar). Trivially
// copyable: it crosses to the workers as words.
struct TraceFilter {
  static constexpr std::size_t kNumbers = 8;        // numbers traced at once, all sessions together
  static constexpr std::size_t kNumberLength = 31;  // longer numbers are not traced
  std::uint8_t kinds = 0;                           // kTraceMessages | kTraceEvents; 0: off
  std::uint8_t registrar = 0;                       // 1..6; 0: every registrar
  std::uint8_t count = 0;                           // numbers[0..count); 0: every number
  bool every_number = true;                         // false once a number is added
  char numbers[kNumbers][kNumberLength + 1] = {};

  // Adds `n` to the numbers traced; false (nothing changed) when full or too long.
  bool add_number(std::string_view n) {
    if (n.empty() || n.size() > kNumberLength) return false;
    for (std::size_t i = 0; i < count; ++i) {
      if (n == numbers[i]) {
        every_number = false;
        return true;
      }
    }
    if (count == kNumbers) return false;
    std::memcpy(numbers[count], n.data(), n.size());
    numbers[count][n.size()] = '\0';
    ++count;
    every_number = false;
    return true;
  }
  // True when a binding of `number` at registrar slot `slot` (0..5) is traced for `kind`.
  bool matches(std::uint8_t kind, std::string_view number, std::uint8_t slot) const {
    if ((kinds & kind) == 0) return false;
    if (registrar != 0 && registrar != slot + 1) return false;
    if (every_number) return true;
    for (std::size_t i = 0; i < count; ++i) {
      if (number == numbers[i]) return true;
    }
    return false;
  }
};

// A record as the control thread gets it (its text separately).
struct TraceRecord {
  std::uint64_t time_ms = 0;   // the engine's clock (monotonic ms)
  std::uint8_t kind = 0;       // kTraceMessages or kTraceEvents
  std::uint8_t direction = 0;  // kTraceSent, kTraceReceived, kTraceEvent
  std::uint8_t registrar = 0;  // slot 0..5
  char number[TraceFilter::kNumberLength + 1] = {};
};

class Tracer {
 public:
  static constexpr std::uint32_t kRingBytes = 64 * 1024;  // per worker: ~70 SIP messages
  static constexpr double kRecordsPerSecond = 500;        // per worker
  static constexpr double kRecordsBurst = 200;
  static constexpr std::size_t kMaxText = 4096;  // longer texts are cut

  Tracer() = default;
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // ---- control thread ----
  // Publishes the filter to the worker (it sees it at its next packet). kinds 0: off.
  void set_filter(const TraceFilter& f);
  // The oldest record and its text; false when none. `text` is assigned (the control thread
  // may allocate).
  bool pop(TraceRecord& r, std::string& text);
  // Records lost since the last call (ring full, or over the rate), and zero again.
  std::uint64_t take_lost();
  std::uint64_t lost_total() const { return lost_.load(std::memory_order_relaxed); }
  std::uint64_t recorded_total() const { return recorded_.load(std::memory_order_relaxed); }

  // ---- worker thread ----
  // One relaxed load when nothing of `kind` is traced.
  bool wants(std::uint8_t kind) const { return (state_.load(std::memory_order_relaxed) & kind) != 0; }
  // True when `number` at `slot` is traced for `kind` (re-reads the filter when it changed).
  bool matches(std::uint8_t kind, std::string_view number, std::uint8_t slot);
  // Writes a record whose text is `a` then `b` (a header line and a message, say); false when
  // dropped (counted).
  bool record(std::uint8_t kind, std::uint8_t direction, std::uint8_t slot, std::string_view number,
              std::uint64_t now_ms, std::string_view a, std::string_view b = {});

 private:
  struct Header {
    std::uint32_t size;  // bytes of this record in the ring: header and text, rounded up to 8
    std::uint32_t text;  // bytes of text
    TraceRecord rec;
  };
  static constexpr std::size_t kFilterWords = (sizeof(TraceFilter) + 7) / 8;
  void copy_in(std::uint32_t at, const void* src, std::size_t n);
  void copy_out(std::uint32_t at, void* dst, std::size_t n) const;

  // Control → worker: (generation << 8) | kinds, and the filter's words behind a sequence lock.
  std::atomic<std::uint32_t> state_{0};
  std::atomic<std::uint32_t> seq_{0};
  std::atomic<std::uint64_t> words_[kFilterWords] = {};
  std::uint32_t generation_ = 0;  // control thread's

  // Worker's copy of the filter and of the state it was read at.
  alignas(64) TraceFilter filter_;
  std::uint32_t filter_state_ = 0;
  double tokens_ = kRecordsBurst;
  std::uint64_t tokens_ms_ = 0;

  // Worker → control: a byte ring of free-running indices (the single producer writes tail_,
  // the single consumer head_), as SpscRing but with records of any size.
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> lost_{0};
  std::atomic<std::uint64_t> recorded_{0};
  std::uint64_t lost_reported_ = 0;  // control thread's
  alignas(64) unsigned char ring_[kRingBytes];
};

}  // namespace regfront::reg
