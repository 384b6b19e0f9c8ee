// control/cli/pager.h — IOS's `--More--` for regfront-cli on a terminal.
//
// Output goes through as it arrives (nothing is kept: a show of a million rows costs no
// memory here); after each screenful of `length` - 1 rows the pager asks how to go on, as IOS
// does: a page more (space), one line more (Enter), or stop (q or any other key: the rest of
// the output is dropped). Rows count the lines a terminal of `width` columns wraps (width 0:
// no wrapping counted). Length 0 never pauses (`terminal length 0`).
//
//   Pager p(24, 80, [](std::string_view s) { fwrite(…); }, [] { return read_more_key(); });
//   while (chunk = next()) if (!p.feed(chunk)) drain();   // false: the operator stopped it
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace regfront::cli {

class Pager {
 public:
  enum class More { page, line, quit };
  using Write = std::function<void(std::string_view)>;
  using Ask = std::function<More()>;

  Pager(unsigned length, unsigned width, Write write, Ask ask)
      : length_(length), width_(width), write_(std::move(write)), ask_(std::move(ask)),
        rows_left_(length > 1 ? length - 1 : 1) {}

  // Shows `chunk` (any piece of the output: lines may span chunks). False once the operator
  // has stopped the output; everything fed from then on is dropped.
  bool feed(std::string_view chunk);
  bool stopped() const { return stopped_; }

 private:
  // Called before the byte that would start a row past the screen: asks, true to go on.
  bool next_screen();

  unsigned length_, width_;
  Write write_;
  Ask ask_;
  unsigned rows_left_;   // rows that may still be written before asking
  unsigned column_ = 0;  // of the row being written
  bool stopped_ = false;
};

}  // namespace regfront::cli
