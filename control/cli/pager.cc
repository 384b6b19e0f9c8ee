// The --More-- pager (see pager.h).
#include "pager.h"

namespace regfront::cli {

bool Pager::next_screen() {
  switch (ask_()) {
    case More::page: rows_left_ = length_ > 1 ? length_ - 1 : 1; return true;
    case More::line: rows_left_ = 1; return true;
    case More::quit: break;
  }
  stopped_ = true;
  return false;
}

bool Pager::feed(std::string_view chunk) {
  if (stopped_) return false;
  if (length_ == 0) {
    write_(chunk);
    return true;
  }
  std::size_t from = 0;  // start of what is not written yet
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char ch = chunk[i];
    // A byte that starts a new row when the screen is full: write what came before, ask.
    const bool wraps = ch != '\n' && width_ != 0 && column_ == width_;
    if (wraps) {
      column_ = 0;
      --rows_left_;
    }
    if (rows_left_ == 0) {
      write_(chunk.substr(from, i - from));
      from = i;
      if (!next_screen()) return false;
    }
    if (ch == '\n') {
      column_ = 0;
      --rows_left_;
    } else {
      ++column_;
    }
  }
  write_(chunk.substr(from));
  return true;
}

}  // namespace regfront::cli
