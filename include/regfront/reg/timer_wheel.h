// regfront/reg/timer_wheel.h — hierarchical timing wheel with intrusive 32-bit handles.
//
// One timer per id (a binding index). Shape: 4 levels × 256 slots with a 1 ms tick, so level 0
// covers 256 ms, level 1 65.5 s, level 2 4.66 h and level 3 49.7 days; anything further sits on
// an overflow list that is re-placed every 2^32 ms. A timer lives on the level given by the
// highest byte in which its due tick differs from the wheel's current tick, and cascades down
// as the wheel reaches that slot, so each timer moves at most three times. Schedule and cancel
// are O(1); advance() costs one step per occupied level-0 slot plus one per 256 ms crossed.
//
// Nodes are stored in one array (16 bytes per id) beside 4×256+1 list heads that live in the
// same index space, so lists are circular, doubly linked and need no "which list" field. The
// clock is injected: advance(now_ms) is the only way time moves, so tests own time.
//
//   TimerWheel w(1000, now_ms);
//   w.schedule(7, now_ms + 500);
//   w.advance(now_ms + 500, [](std::uint32_t id) { /* id 7 expired */ });
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace regfront::reg {

class TimerWheel {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;

  TimerWheel(std::uint32_t capacity, std::uint64_t now_ms)
      : capacity_(capacity), now_(now_ms), nodes_(capacity + kHeads) {
    for (std::uint32_t i = 0; i < capacity; ++i) nodes_[i] = Node{kNone, kNone, 0};
    for (std::uint32_t h = 0; h < kHeads; ++h) {
      const std::uint32_t idx = capacity + h;
      nodes_[idx] = Node{idx, idx, 0};
    }
  }

  std::uint32_t capacity() const { return capacity_; }
  std::uint64_t now() const { return now_; }
  bool armed(std::uint32_t id) const { return nodes_[id].next != kNone; }
  std::uint64_t due(std::uint32_t id) const { return nodes_[id].due; }
  std::size_t size() const { return size_; }

  // Arms (or re-arms) `id` to expire at `due_ms`. A due time in the past fires on the next tick.
  void schedule(std::uint32_t id, std::uint64_t due_ms) {
    if (armed(id)) {
      unlink(id);  // re-arm: already counted in size_
    } else {
      ++size_;
    }
    nodes_[id].due = due_ms <= now_ ? now_ + 1 : due_ms;
    place(id);
  }

  void cancel(std::uint32_t id) {
    if (!armed(id)) return;
    unlink(id);
    nodes_[id].next = nodes_[id].prev = kNone;
    --size_;
  }

  // Moves time to `now_ms`, calling on_expire(id) for every timer due at or before it, in due
  // order across ticks. on_expire may schedule or cancel any timer, including the one expiring.
  template <class F>
  void advance(std::uint64_t now_ms, F&& on_expire) {
    while (now_ < now_ms) {
      std::uint64_t t = now_ + 1;
      if ((t & kSlotMask) != 0) {
        // Skip empty level-0 slots up to the next occupied one or the next level-0 wrap.
        const int pos = next_bit(0, static_cast<unsigned>(t & kSlotMask));
        const std::uint64_t next_t = pos < 0 ? ((t | kSlotMask) + 1) : ((t & ~kSlotMask) | static_cast<std::uint64_t>(pos));
        if (next_t > now_ms) {
          now_ = now_ms;
          return;
        }
        t = next_t;
      }
      now_ = t;
      if ((t & kSlotMask) == 0) cascade(t);
      fire_slot(0, static_cast<unsigned>(t & kSlotMask), on_expire);
    }
  }

  // The earliest tick at which something may expire (a lower bound; kNone-like max when empty).
  // Used by pollers to bound their sleep.
  std::uint64_t next_hint() const {
    if (size_ == 0) return ~std::uint64_t{0};
    const int pos = next_bit(0, static_cast<unsigned>((now_ + 1) & kSlotMask));
    if (pos >= 0) return (now_ & ~kSlotMask) | static_cast<std::uint64_t>(pos);
    return (now_ | kSlotMask) + 1;
  }

 private:
  struct Node {
    std::uint32_t prev;
    std::uint32_t next;
    std::uint64_t due;
  };
  static constexpr unsigned kLevels = 4;
  static constexpr unsigned kSlots = 256;
  static constexpr std::uint64_t kSlotMask = kSlots - 1;
  static constexpr std::uint32_t kHeads = kLevels * kSlots + 1;  // + overflow list
  static constexpr std::uint32_t kOverflow = kLevels * kSlots;

  std::uint32_t head(unsigned level, unsigned slot) const { return capacity_ + level * kSlots + slot; }

  void place(std::uint32_t id) {
    const std::uint64_t due = nodes_[id].due;
    const std::uint64_t diff = due ^ now_;
    unsigned level;
    if (diff < (1ull << 8)) level = 0;
    else if (diff < (1ull << 16)) level = 1;
    else if (diff < (1ull << 24)) level = 2;
    else if (diff < (1ull << 32)) level = 3;
    else {
      link(id, capacity_ + kOverflow);
      return;
    }
    const unsigned slot = static_cast<unsigned>((due >> (8 * level)) & kSlotMask);
    link(id, head(level, slot));
    bits_[level][slot >> 6] |= 1ull << (slot & 63);
  }

  void link(std::uint32_t id, std::uint32_t h) {
    Node& n = nodes_[id];
    n.next = h;
    n.prev = nodes_[h].prev;
    nodes_[n.prev].next = id;
    nodes_[h].prev = id;
  }

  void unlink(std::uint32_t id) {
    Node& n = nodes_[id];
    nodes_[n.prev].next = n.next;
    nodes_[n.next].prev = n.prev;
  }

  // Next set bit at or after `from` in a level's occupancy bitmap (a hint: a set bit may cover
  // an emptied list, which costs one look), or -1.
  int next_bit(unsigned level, unsigned from) const {
    for (unsigned w = from >> 6; w < kSlots / 64; ++w) {
      std::uint64_t word = bits_[level][w];
      if (w == (from >> 6)) word &= ~0ull << (from & 63);
      if (word) return static_cast<int>(w * 64 + std::countr_zero(word));
    }
    return -1;
  }

  // Re-places the timers of the higher-level slots that tick `t` reaches.
  void cascade(std::uint64_t t) {
    if ((t & 0xffffffffull) == 0) reinsert(capacity_ + kOverflow);
    if ((t & 0xffffffull) == 0) reinsert_slot(3, static_cast<unsigned>((t >> 24) & kSlotMask));
    if ((t & 0xffffull) == 0) reinsert_slot(2, static_cast<unsigned>((t >> 16) & kSlotMask));
    reinsert_slot(1, static_cast<unsigned>((t >> 8) & kSlotMask));
  }

  void reinsert_slot(unsigned level, unsigned slot) {
    bits_[level][slot >> 6] &= ~(1ull << (slot & 63));
    reinsert(head(level, slot));
  }

  void reinsert(std::uint32_t h) {
    std::uint32_t id = nodes_[h].next;
    nodes_[h].next = nodes_[h].prev = h;
    while (id != h) {
      const std::uint32_t next = nodes_[id].next;
      place(id);
      id = next;
    }
  }

  template <class F>
  void fire_slot(unsigned level, unsigned slot, F& on_expire) {
    const std::uint32_t h = head(level, slot);
    bits_[level][slot >> 6] &= ~(1ull << (slot & 63));
    // Pop one at a time: a callback may cancel or re-arm any timer. A re-armed timer never
    // lands back in this slot (its due tick is after now_), so the loop ends.
    for (std::uint32_t id = nodes_[h].next; id != h; id = nodes_[h].next) {
      unlink(id);
      nodes_[id].next = nodes_[id].prev = kNone;
      --size_;
      on_expire(id);
    }
  }

  std::uint32_t capacity_;
  std::uint64_t now_;
  std::size_t size_ = 0;
  std::vector<Node> nodes_;
  std::uint64_t bits_[kLevels][kSlots / 64] = {};
};

}  // namespace regfront::reg
