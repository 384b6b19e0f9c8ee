// regfront/common/spsc_ring.h — a fixed-capacity, lock-free single-producer single-consumer ring.
//
// For handing small, trivially copyable items from exactly one thread to exactly one other,
// e.g. from a worker (which must not lock, allocate or block) to the control thread. Storage is
// an array inside the object: nothing is allocated after construction. push() and pop() are
// wait-free: a full ring refuses the push (the producer decides what a drop means and counts
// it), an empty one refuses the pop.
//
// Indices are free-running 32-bit counters (the slot is index % Capacity): they wrap around
// 2^32, which Capacity (a power of two) divides, so `tail - head` is the fill level at any point
// of the wrap. Each index has one writer and sits on its own cache line; items are published
// with a release store of the index and picked up with an acquire load of it, as in DPDK's
// rte_ring (single-producer/single-consumer mode) or Folly's ProducerConsumerQueue.
//
//   SpscRing<Event, 64> ring;            // shared by the two threads, e.g. a member of both's owner
//   if (!ring.push(ev)) ++dropped;       // producer thread only
//   Event e;
//   while (ring.pop(e)) handle(e);       // consumer thread only
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace regfront {

template <class T, std::uint32_t Capacity>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "items are copied in and out as bytes");
  static_assert(Capacity > 0 && (Capacity & (Capacity - 1)) == 0, "Capacity is a power of two");
  static_assert(Capacity <= (1u << 31), "the 32-bit indices must tell full from empty");

 public:
  // An empty ring. `start_index` sets where both free-running indices begin; it changes nothing
  // observable and exists so that tests can place the indices just below the 2^32 wrap.
  explicit SpscRing(std::uint32_t start_index = 0) : head_(start_index), tail_(start_index) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // The number of slots.
  static constexpr std::uint32_t capacity() { return Capacity; }

  // Producer thread only. Copies `item` into the ring; returns false, and changes nothing, when
  // the ring is full.
  bool push(const T& item) {
    // Relaxed: tail_ is written by this thread only.
    const std::uint32_t t = tail_.v.load(std::memory_order_relaxed);
    // Acquire: pairs with the consumer's release of head_ in pop(), so its copy out of a slot
    // happens before we overwrite that slot.
    if (t - head_.v.load(std::memory_order_acquire) == Capacity) return false;
    slots_[t & kMask] = item;
    // Release: the slot's bytes are visible to a consumer that reads this tail_ with acquire.
    tail_.v.store(t + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only. Whether nothing is waiting (acquire: an item seen here is whole).
  bool empty() const { return head_.v.load(std::memory_order_relaxed) == tail_.v.load(std::memory_order_acquire); }

  // Consumer thread only. Moves the oldest item into `out`; returns false, leaving `out` as it
  // was, when the ring is empty.
  bool pop(T& out) {
    // Relaxed: head_ is written by this thread only.
    const std::uint32_t h = head_.v.load(std::memory_order_relaxed);
    // Acquire: pairs with the producer's release of tail_ in push(), so the slot's bytes
    // written before that store are visible here.
    if (h == tail_.v.load(std::memory_order_acquire)) return false;
    out = slots_[h & kMask];
    // Release: our copy out of the slot happens before the producer, reading this head_ with
    // acquire, may overwrite it.
    head_.v.store(h + 1, std::memory_order_release);
    return true;
  }

 private:
  static constexpr std::uint32_t kMask = Capacity - 1;
  // One cache line per index, so that the producer's stores of tail_ and the consumer's stores
  // of head_ do not contend for one line (false sharing) or for the slots' lines.
  struct alignas(64) Index {
    explicit Index(std::uint32_t v0) : v(v0) {}
    std::atomic<std::uint32_t> v;
  };

  T slots_[Capacity]{};  // value-initialised: a pop never copies indeterminate bytes
  Index head_;           // next slot to pop; written by the consumer only
  Index tail_;           // next slot to push; written by the producer only
};

}  // namespace regfront
