// The snapshot RCU, both sides: a replaced snapshot is freed only after every online reader
// has left the read section it was pinned in; sleeping (offline) readers hold nothing up; the
// publisher never blocks unless kMaxRetired snapshots wait; and the engine cannot be asked to
// read a snapshot without a pin (checked by the compiler, and in debug builds at run time).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <type_traits>

#include "regfront/reg/engine.h"
#include "regfront/snapshot/publisher.h"
#include "regfront/worker/snapshot_reader.h"

namespace regfront::worker {
namespace {

// ---- what the compiler enforces ----

// A pin cannot be copied or moved out of the scope that made it...
static_assert(!std::is_copy_constructible_v<reg::SnapshotPin>);
static_assert(!std::is_move_constructible_v<reg::SnapshotPin>);
static_assert(!std::is_copy_constructible_v<ReadSection>);
static_assert(!std::is_move_constructible_v<ReadSection>);
// ...nor made by anyone but a reader (or an owner, explicitly).
static_assert(!std::is_constructible_v<reg::SnapshotPin, const reg::Snapshot*>);
static_assert(std::is_constructible_v<reg::OwnedSnapshotPin, const reg::Snapshot*>);
// ...and every engine operation that reads the snapshot needs one: after a section ends there is
// no pin in scope, so `engine.next_deadline_ms()` after the quiescent report does not compile.
template <class E> concept DeadlineWithoutPin = requires(const E& e) { e.next_deadline_ms(); };
template <class E> concept DeadlineWithPin = requires(const E& e, const reg::SnapshotPin& p) { e.next_deadline_ms(p); };
template <class E> concept DatagramWithoutPin = requires(E& e, std::string_view d) { e.on_datagram(d, std::uint64_t{}); };
template <class E> concept AdvanceWithoutPin = requires(E& e) { e.advance(std::uint64_t{}); };
template <class E> concept AdoptPointer = requires(E& e, const reg::Snapshot* s) { e.adopt(s, std::uint64_t{}); };
static_assert(!DeadlineWithoutPin<reg::Engine>);
static_assert(DeadlineWithPin<reg::Engine>);
static_assert(!DatagramWithoutPin<reg::Engine>);
static_assert(!AdvanceWithoutPin<reg::Engine>);
static_assert(!AdoptPointer<reg::Engine>);

std::unique_ptr<reg::Snapshot> snapshot(std::uint64_t version) {
  auto s = std::make_unique<reg::Snapshot>();
  s->version = version;
  s->plans.resize(1);
  return s;
}

// A reader on its own thread that holds a read section open until told to close it.
class HeldReader {
 public:
  explicit HeldReader(snapshot::Publisher& pub) : reader_(pub.qsbr(), 0, pub.current_ptr()) {
    thread_ = std::thread([this] {
      reader_.register_thread();
      {
        ReadSection pin(reader_);
        seen_ = pin.get()->version;
        opened_.store(true, std::memory_order_release);
        while (!close_.load(std::memory_order_acquire)) std::this_thread::yield();
      }
      closed_.store(true, std::memory_order_release);
      while (!leave_.load(std::memory_order_acquire)) std::this_thread::yield();
      reader_.unregister_thread();
    });
    while (!opened_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  ~HeldReader() {
    close();
    leave_.store(true, std::memory_order_release);
    thread_.join();
  }
  void close() {
    close_.store(true, std::memory_order_release);
    while (!closed_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  std::uint64_t seen() const { return seen_; }

 private:
  SnapshotReader reader_;
  std::thread thread_;
  std::uint64_t seen_ = 0;
  std::atomic<bool> opened_{false}, close_{false}, closed_{false}, leave_{false};
};

TEST(SnapshotRcu, ReplacedSnapshotWaitsForTheReaderThatPinnedIt) {
  snapshot::Publisher pub(1);
  pub.publish(snapshot(1));
  HeldReader r(pub);
  EXPECT_EQ(r.seen(), 1u);
  pub.publish(snapshot(2));
  EXPECT_EQ(pub.current()->version, 2u);
  EXPECT_EQ(pub.pending(), 1u) << "version 1 is still pinned";
  EXPECT_EQ(pub.reclaim(), 0u);
  r.close();  // the quiescent report
  EXPECT_EQ(pub.reclaim(), 1u);
  EXPECT_EQ(pub.pending(), 0u);
  EXPECT_EQ(pub.reclaimed(), 1u);
  EXPECT_EQ(pub.waited(), 0u);
}

TEST(SnapshotRcu, AnOfflineReaderHoldsNothingUp) {
  snapshot::Publisher pub(1);
  pub.publish(snapshot(1));
  SnapshotReader reader(pub.qsbr(), 0, pub.current_ptr());
  reader.register_thread();
  { ReadSection pin(reader); }
  {
    SnapshotReader::Offline sleeping(reader);
    pub.publish(snapshot(2));
    pub.reclaim();
    EXPECT_EQ(pub.reclaimed(), 1u) << "freed at once: nobody online";
  }
  {
    ReadSection pin(reader);
    EXPECT_EQ(pin.get()->version, 2u);
  }
  EXPECT_EQ(reader.quiescent_reports(), 2u);
  reader.unregister_thread();
}

TEST(SnapshotRcu, PublishWaitsOnlyWhenTheRetiredQueueIsFull) {
  snapshot::Publisher pub(1);
  pub.publish(snapshot(1));
  auto r = std::make_unique<HeldReader>(pub);
  for (std::uint64_t v = 2; v <= 1 + snapshot::Publisher::kMaxRetired; ++v) pub.publish(snapshot(v));
  EXPECT_EQ(pub.pending(), snapshot::Publisher::kMaxRetired);
  EXPECT_EQ(pub.waited(), 0u);
  // One more would exceed the bound: it waits for the reader, which closes its section soon.
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r->close();
  });
  pub.publish(snapshot(2 + snapshot::Publisher::kMaxRetired));
  closer.join();
  EXPECT_EQ(pub.waited(), 1u);
  EXPECT_LE(pub.pending(), snapshot::Publisher::kMaxRetired);
  r.reset();
  pub.drain();
  EXPECT_EQ(pub.pending(), 0u);
  EXPECT_EQ(pub.reclaimed(), 1u + snapshot::Publisher::kMaxRetired);
}

TEST(SnapshotRcu, ASectionPinsWhatWasCurrentWhenItOpened) {
  snapshot::Publisher pub(1);
  pub.publish(snapshot(7));
  SnapshotReader reader(pub.qsbr(), 0, pub.current_ptr());
  reader.register_thread();
  {
    ReadSection pin(reader);
    pub.publish(snapshot(8));  // same thread here: the reader's section is still open
    EXPECT_EQ(pin.get()->version, 7u);
    EXPECT_EQ(pub.reclaim(), 0u);
  }
  EXPECT_EQ(pub.reclaim(), 1u);
  reader.unregister_thread();
}

#ifndef NDEBUG
// Debug builds check at run time what the types cannot: that the pin an engine is handed is
// for the snapshot it adopted, and that sections do not overlap or span a sleep.
TEST(SnapshotRcuDeathTest, EngineRefusesAPinForAnotherSnapshot) {
  const auto a = snapshot(1), b = snapshot(2);
  reg::TxQueue tx(8);
  reg::EngineOptions o;
  o.capacity = 8;
  o.max_inflight = 8;
  reg::Engine e(o, tx);
  e.adopt(reg::OwnedSnapshotPin(a.get()), 0);
  EXPECT_DEATH(e.advance(reg::OwnedSnapshotPin(b.get()), 1), "check failed");
}

TEST(SnapshotRcuDeathTest, SleepingInsideASectionIsCaught) {
  EXPECT_DEATH(
      {
        snapshot::Publisher pub(1);
        SnapshotReader reader(pub.qsbr(), 0, pub.current_ptr());
        reader.register_thread();
        ReadSection pin(reader);
        SnapshotReader::Offline sleeping(reader);
      },
      "check failed");
}
#endif

}  // namespace
}  // namespace regfront::worker
