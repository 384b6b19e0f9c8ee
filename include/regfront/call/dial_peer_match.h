// regfront/call/dial_peer_match.h — Cisco IOS dial-peer number patterns
// (`destination-pattern`, `incoming called-number`), for routing calls by dial peer.
//
// translate_dial_pattern() checks an IOS pattern and gives the regular expression it stands for
// and what ranking dial peers needs: how many explicit digits it has, whether it must match the
// whole number, whether it matches every number.
//
//   auto t = translate_dial_pattern("1408555....");
//   // t->regex == "^1408555[0-9*][0-9*][0-9*][0-9*]", t->explicit_digits == 7
//
// IOS semantics, as this module implements them
// ----------------------------------------------
// Sources: the Cisco IOS Voice Command Reference (`incoming called-number`,
// `destination-pattern`: the character list), Cisco TechNote 14074 "Understanding Inbound and
// Outbound Dial Peers Matching on IOS Platforms" (one-stage/DID calls), Cisco TechNote 211306
// "Understand Cisco IOS and IOS XE Call Routing" (number-string hunting, `dial-peer hunt`), the
// Cisco Press CCNA Voice guide's destination-pattern wildcard table, and Syngress' AVVID dial
// plans chapter ("Matching variable-length dial peers").
//
//  * Characters. Digits 0-9, '*', '#' and the letters A-D (upper case) match themselves.
//    '.' matches one digit 0-9 or '*' (CCNA Voice's table); '[..]' one digit from a list or
//    range of digits 0-9 (the command reference allows only 0-9 inside), '[^..]' one digit or
//    '*' not listed ("[^1-3]22" matches "*22"). '(..)' groups. '%' repeats the element before
//    it zero or more times, '+' one or more, '?' zero or once. '\' makes the next dial
//    character literal. ',' is a dialling pause and matches nothing. A '+' first (after an
//    optional '^') is the E.164 plus: it matches the number's own leading '+' and is not a
//    repetition.
//  * Where a match may end. A SIP INVITE carries the whole number at once, which IOS treats as a
//    one-stage (DID) call: it matches the entire dial string, not digit by digit, and the
//    matching is variable-length by default (TechNote 14074): a pattern matches when it matches
//    a leading part of the number, and the digits after that are ignored — "555" matches
//    "5551212" (Syngress). A '$' at the end turns that off: the pattern must match the whole
//    number. Patterns are always matched from the number's first character; a leading '^' is
//    accepted and changes nothing.
//  * 'T' (last character only) means "and any further digits": it makes a difference only when
//    digits are collected one by one, so en bloc "555T" matches what "555" matches. A pattern
//    that can match no character at all ("T", "5%", "(12)?", each without '$') therefore matches
//    every number, the empty one included; ".T", which Cisco recommends, needs one digit.
//  * Numbers: an optional leading '+' and at most 32 dial characters (IOS's longest dial
//    string). Anything else matches no pattern. "+14085550100" is matched by "+1408T", not by
//    "1408T", nor by ".T" ('.' is not '+').
//  * Ranking (`dial-peer hunt 0`, IOS's default; TechNote 211306): the longest match first,
//    then the lower `preference` (0-9), then, where IOS picks at random, the lower dial-peer
//    tag, then the lower id. IOS allows any order among equals; a fixed one keeps every worker
//    and every test agreeing, and makes a hunt reproducible.
//  * "Longest match" is the count of explicit digits: "the most numbers in a sequence that
//    exactly match" the dialled string, so for "2001" "200." (3) beats "2..." (1) (TechNote
//    211306). Here: the dial characters every match consumes through literal pattern characters.
//    '.', brackets and the E.164 '+' count 0; a literal under '%' or '?' counts 0 (it may be
//    absent), under '+' once. It is a property of the pattern, so both engines agree without
//    reconstructing match paths. Consequence: "555" and "555...." tie (3 each) on "5551234" and
//    the preference decides, as IOS documents for equal match lengths.
//  * `huntstop` is the relay's business: the order returned is the hunt order, and a peer with
//    `huntstop` ends the hunt after it.
//  * Refused, with a plain message (invalid_argument, no '%'; the CLI adds it): the empty
//    pattern, one with no digits ("^", "$", ","), more than 64 characters, characters outside
//    the list (letters other than A-D and T, '|', spaces, lower case), 'T' or '$' anywhere but
//    last (so "T$" too) or inside parentheses, '^' other than first or right after '[', a
//    repetition with nothing before it or after another repetition ("5%%", "(%1)"), a repeated
//    E.164 '+', an escaped '+' anywhere but first, '\' at the end or before a non-dial
//    character, unclosed or empty '[' ']' and '(' ')', a stray ')', reversed ranges ("[5-3]"),
//    anything but digits, ranges and ',' inside brackets, parentheses nested deeper than 8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "regfront/common/status.h"

namespace regfront::call {

// What an IOS pattern becomes: the expression the Hyperscan engine compiles and what ranking
// needs.
struct TranslatedPattern {
  // PCRE/Hyperscan syntax, anchored at the start ("^"); ends in "\z" with '$'. Without '$' it
  // is matched against leading parts of the number.
  std::string regex;
  std::uint8_t explicit_digits = 0;   // the "longest match" weight (see above)
  bool whole_number = false;          // the pattern ended in '$'
  bool variable_length = false;       // the pattern ended in 'T'
  bool matches_every_number = false;  // no '$' and it can match no character ("T", "5%")
};

// Translates one IOS pattern. Fails with invalid_argument and a plain message such as
// "unclosed '[' at position 3".
StatusOr<TranslatedPattern> translate_dial_pattern(std::string_view pattern);

}  // namespace regfront::call
