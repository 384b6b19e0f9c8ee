// The --More-- pager: pauses after length - 1 rows and goes on by a page (space), a line
// (Enter) or stops (q); wrapped rows count; length 0 never pauses; it keeps nothing, whatever
// the size of the output or the pieces it comes in.
#include "pager.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace regfront::cli {
namespace {

using More = Pager::More;

struct Screen {
  std::string shown;
  std::deque<More> keys;
  int asked = 0;
  std::string at_ask;  // what was shown when last asked
  Pager make(unsigned length, unsigned width) {
    return Pager(
        length, width, [this](std::string_view s) { shown.append(s); },
        [this] {
          ++asked;
          at_ask = shown;
          if (keys.empty()) return More::quit;
          const More k = keys.front();
          keys.pop_front();
          return k;
        });
  }
};

std::string lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

TEST(Pager, PausesAfterLengthMinusOneRowsAndStopsOnQ) {
  Screen sc;
  sc.keys = {More::quit};
  Pager p = sc.make(24, 80);
  EXPECT_FALSE(p.feed(lines(1, 100)));
  EXPECT_TRUE(p.stopped());
  EXPECT_EQ(sc.asked, 1);
  EXPECT_EQ(sc.shown, lines(1, 23));
  EXPECT_FALSE(p.feed("more\n"));  // dropped once stopped
  EXPECT_EQ(sc.shown, lines(1, 23));
}

TEST(Pager, SpaceIsAPageEnterALine) {
  Screen sc;
  sc.keys = {More::line, More::page, More::quit};
  Pager p = sc.make(10, 80);
  p.feed(lines(1, 100));
  EXPECT_EQ(sc.asked, 3);
  EXPECT_EQ(sc.shown, lines(1, 9 + 1 + 9));
}

TEST(Pager, NoPauseWhenTheOutputFitsOrEndsAtTheScreen) {
  Screen sc;
  Pager p = sc.make(24, 80);
  EXPECT_TRUE(p.feed(lines(1, 23)));  // exactly a screenful: nothing more to ask about
  EXPECT_EQ(sc.asked, 0);
  EXPECT_EQ(sc.shown, lines(1, 23));
}

TEST(Pager, LengthZeroNeverPauses) {
  Screen sc;
  Pager p = sc.make(0, 80);
  EXPECT_TRUE(p.feed(lines(1, 100000)));
  EXPECT_EQ(sc.asked, 0);
  EXPECT_EQ(sc.shown, lines(1, 100000));
}

TEST(Pager, PiecesSplitAnywhere) {
  const std::string all = lines(1, 50);
  for (std::size_t piece : {1u, 3u, 7u, 64u}) {
    Screen sc;
    sc.keys = {More::page, More::quit};
    Pager p = sc.make(5, 0);
    for (std::size_t i = 0; i < all.size() && p.feed(std::string_view(all).substr(i, piece)); i += piece) {
    }
    EXPECT_EQ(sc.shown, lines(1, 8)) << piece;
    EXPECT_EQ(sc.asked, 2) << piece;
  }
}

TEST(Pager, WrappedRowsCount) {
  Screen sc;
  sc.keys = {More::quit};
  Pager p = sc.make(4, 10);
  // 25 characters wrap to 3 rows of a 10-column terminal; a line of exactly 10 is one row.
  p.feed(std::string(25, 'a') + "\n" + std::string(10, 'b') + "\nccc\n");
  EXPECT_EQ(sc.asked, 1);
  EXPECT_EQ(sc.at_ask, std::string(25, 'a') + "\n");
  sc = Screen{};
  sc.keys = {More::quit};
  Pager q = sc.make(3, 10);
  q.feed(std::string(10, 'b') + "\n" + std::string(10, 'b') + "\nccc\n");
  EXPECT_EQ(sc.at_ask, std::string(10, 'b') + "\n" + std::string(10, 'b') + "\n");
  // A row cut by the width pauses inside its line.
  sc = Screen{};
  sc.keys = {More::line, More::quit};
  Pager w = sc.make(2, 10);
  w.feed(std::string(30, 'x'));
  EXPECT_EQ(sc.asked, 2);
  EXPECT_EQ(sc.shown, std::string(20, 'x'));
}

}  // namespace
}  // namespace regfront::cli
